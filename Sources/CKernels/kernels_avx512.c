/* avx512 variant: the shared bodies compiled inside a target-attribute region (no global flags). */
#if defined(__x86_64__)
#include "CKernels.h"
#include <immintrin.h>
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
/* im2col runs: at most two masked 16-lane moves instead of a scalar tail of up to 15 floats. */
#define CK_COPY_RUN(o, src, lo, hi)                                                         \
    do {                                                                                    \
        for (int32_t t_ = (lo); t_ < (hi); t_ += 16) {                                      \
            int32_t n_ = (hi) - t_ < 16 ? (hi) - t_ : 16;                                   \
            __mmask16 m_ = (__mmask16)((1u << n_) - 1u);                                    \
            _mm512_mask_storeu_ps((o) + t_, m_, _mm512_maskz_loadu_ps(m_, (src) + t_));     \
        }                                                                                   \
    } while (0)
/* Depthwise rows (often 7 or 14 floats): masked 16-lane moves instead of memcpy calls. */
#define CK_DW_COPY(dst, src, n)                                                              \
    do {                                                                                     \
        for (int64_t t_ = 0; t_ < (n); t_ += 16) {                                           \
            int64_t n_ = (n) - t_ < 16 ? (n) - t_ : 16;                                      \
            __mmask16 m_ = (__mmask16)((1u << n_) - 1u);                                     \
            _mm512_mask_storeu_ps((dst) + t_, m_, _mm512_maskz_loadu_ps(m_, (src) + t_));    \
        }                                                                                    \
    } while (0)
/* Depthwise vectors that reach past a row's ends: 8-lane masked loads and stores. */
static inline __mmask8 ck_dw_mask__avx512(int64_t p, int64_t n) {
    unsigned m = 0;
    for (int l = 0; l < 8; l++) m |= (unsigned)(p + l >= 0 && p + l < n) << l;
    return (__mmask8)m;
}
#define CK_DW_LOAD_PART(row, p, n) ((ck_dw8)_mm256_maskz_loadu_ps(ck_dw_mask__avx512((p), (n)), (row) + (p)))
#define CK_DW_STORE_PART(dst, v, n) _mm256_mask_storeu_ps((dst), ck_dw_mask__avx512(0, (n)), (__m256)(v))
#include "template/gemm_template.h"
#include "template/depthwise_template.h"
#include "template/winograd_template.h"
#pragma clang attribute pop
#endif
