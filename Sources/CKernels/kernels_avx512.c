/* avx512 variant: the shared bodies compiled inside a target-attribute region (no global flags). */
#if defined(__x86_64__)
#include "CKernels.h"
#include <string.h>
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#define CK_ISA_NAME avx512
#ifndef CK_MR
#define CK_MR 14
#endif
#ifndef CK_NV
#define CK_NV 2
#endif
#define CK_VL 16
#ifndef CK_MC
#define CK_MC 168
#endif
#ifndef CK_KC
#define CK_KC 256
#endif
#ifndef CK_NC
#define CK_NC 1024
#endif
#define CK_KERNEL_SYMBOL ck_f32_gemm_14x32__avx512
#include "template/gemm_template.h"
#include "template/depthwise_template.h"
#pragma clang attribute pop
#endif
