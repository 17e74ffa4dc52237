/* avx2 variant: the shared bodies compiled inside a target-attribute region (no global flags). */
#if defined(__x86_64__)
#include "CKernels.h"
#include <immintrin.h>
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
/* Depthwise vectors that reach past a row's ends: masked loads, which do not touch (or fault
   on) the masked-off lanes, in place of lane-by-lane copies. Not masked stores: AMD microcodes
   them (about ten times a plain store). */
typedef int32_t ck_dw_i8 __attribute__((vector_size(32)));
static inline __m256i ck_dw_mask__avx2(int64_t p, int64_t n) {
    const ck_dw_i8 idx = (ck_dw_i8){0, 1, 2, 3, 4, 5, 6, 7} + (int32_t)p;
    return (__m256i)((idx >= 0) & (idx < (int32_t)n));
}
#define CK_DW_LOAD_PART(row, p, n) ((ck_dw8)_mm256_maskload_ps((row) + (p), ck_dw_mask__avx2((p), (n))))
#include "template/gemm_template.h"
#include "template/depthwise_template.h"
#include "template/winograd_template.h"
#pragma clang attribute pop
#endif
