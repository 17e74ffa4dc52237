/* Portable variant: plain C vectors, compiled for the build's baseline (SSE2 on x86-64, NEON on arm64). */
#define CK_ISA_NAME generic
#define CK_MR 6
#define CK_NV 2
#define CK_VL 4
#ifndef CK_MC
#define CK_MC 120
#endif
#ifndef CK_KC
#define CK_KC 256
#endif
#ifndef CK_NC
#define CK_NC 1024
#endif
#define CK_KERNEL_SYMBOL ck_f32_gemm_6x8__generic
#include "template/gemm_template.h"
#include "template/depthwise_template.h"
#include "template/winograd_template.h"
