/* avx2 variant: the shared bodies compiled inside a target-attribute region (no global flags). */
#if defined(__x86_64__)
#include "CKernels.h"
#include <string.h>
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define CK_ISA_NAME avx2
#define CK_MR 6
#define CK_NV 2
#define CK_VL 8
#ifndef CK_MC
#define CK_MC 120
#endif
#ifndef CK_KC
#define CK_KC 256
#endif
#ifndef CK_NC
#define CK_NC 1024
#endif
#define CK_KERNEL_SYMBOL ck_f32_gemm_6x16__avx2
#include "template/gemm_template.h"
#include "template/depthwise_template.h"
#include "template/winograd_template.h"
#pragma clang attribute pop
#endif
