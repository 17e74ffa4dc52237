/* CPU feature probe and the per-ISA dispatch of every public entry point. */
#include "CKernels.h"
#include <string.h>

#define CK_DECLARE(isa)                                                                              \
    size_t ck_f32_gemm_scratch_bytes__##isa(void);                                                   \
    ck_gemm_blocking ck_f32_gemm_blocking__##isa(void);                                              \
    void ck_f32_gemm__##isa(const ck_gemm_call *call, void *scratch);                               \
    void ck_f32_pack_a__##isa(int64_t m, int64_t k, const float *src, ptrdiff_t rs, ptrdiff_t cs,   \
                              float *dst);                                                          \
    void ck_f32_pack_b__##isa(int64_t k, int64_t n, const float *src, ptrdiff_t rs, ptrdiff_t cs,   \
                              float *dst);                                                          \
    size_t ck_f32_depthwise_scratch_floats__##isa(const ck_im2col *g);                              \
    void ck_f32_depthwise__##isa(const ck_im2col *g, int64_t c0, int64_t c1, const float *input,    \
                                 const float *weights, float *output, const ck_epilogue *e,         \
                                 float *scratch);                                                   \
    size_t ck_f32_winograd_input_scratch_floats__##isa(const ck_winograd *g);                        \
    void ck_f32_winograd_input__##isa(const ck_winograd *g, const float *input, int64_t image_stride, \
                                      int64_t c0, int64_t c1, int64_t r0, int64_t r1, int64_t row_base, \
                                      float *v, int64_t pitch, float *scratch);                     \
    void ck_f32_winograd_output__##isa(const ck_winograd *g, const float *m, int64_t pitch, int64_t k0, \
                                       int64_t k1, int64_t r0, int64_t r1, int64_t row_base,          \
                                       float *output, int64_t image_stride, const ck_epilogue *e);

CK_DECLARE(generic)
#if defined(__x86_64__)
CK_DECLARE(avx2)
CK_DECLARE(avx512)
#endif

int ck_isa_supported(ck_isa isa) {
    switch (isa) {
    case CK_ISA_GENERIC: return 1;
#if defined(__x86_64__)
    case CK_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CK_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("fma");
#endif
    default: return 0;
    }
}

ck_isa ck_isa_best(void) {
    if (ck_isa_supported(CK_ISA_AVX512)) return CK_ISA_AVX512;
    if (ck_isa_supported(CK_ISA_AVX2)) return CK_ISA_AVX2;
    return CK_ISA_GENERIC;
}

ck_isa ck_isa_effective(ck_isa isa) { return ck_isa_supported(isa) ? isa : CK_ISA_GENERIC; }

#if defined(__x86_64__)
#define CK_DISPATCH(call_generic, call_avx2, call_avx512)                                            \
    switch (ck_isa_effective(isa)) {                                                                 \
    case CK_ISA_AVX512: return call_avx512;                                                          \
    case CK_ISA_AVX2: return call_avx2;                                                              \
    default: return call_generic;                                                                    \
    }
#else
#define CK_DISPATCH(call_generic, call_avx2, call_avx512) return call_generic;
#endif

#define CK_ALL(fn, ...) CK_DISPATCH(fn##__generic(__VA_ARGS__), fn##__avx2(__VA_ARGS__), fn##__avx512(__VA_ARGS__))

ck_gemm_blocking ck_gemm_blocking_for(ck_isa isa) { CK_ALL(ck_f32_gemm_blocking) }
size_t ck_f32_gemm_scratch_bytes(ck_isa isa) { CK_ALL(ck_f32_gemm_scratch_bytes) }
void ck_f32_gemm(ck_isa isa, const ck_gemm_call *call, void *scratch) { CK_ALL(ck_f32_gemm, call, scratch) }

size_t ck_f32_packed_a_count(ck_isa isa, int64_t m, int64_t k) {
    ck_gemm_blocking b = ck_gemm_blocking_for(isa);
    return (size_t)((m + b.mr - 1) / b.mr * b.mr) * (size_t)k;
}

size_t ck_f32_packed_b_count(ck_isa isa, int64_t k, int64_t n) {
    ck_gemm_blocking b = ck_gemm_blocking_for(isa);
    return (size_t)((n + b.nr - 1) / b.nr * b.nr) * (size_t)k;
}

void ck_f32_pack_a(ck_isa isa, int64_t m, int64_t k, const float *src, ptrdiff_t rs, ptrdiff_t cs, float *dst) {
    CK_ALL(ck_f32_pack_a, m, k, src, rs, cs, dst)
}

void ck_f32_pack_b(ck_isa isa, int64_t k, int64_t n, const float *src, ptrdiff_t rs, ptrdiff_t cs, float *dst) {
    CK_ALL(ck_f32_pack_b, k, n, src, rs, cs, dst)
}

size_t ck_f32_depthwise_scratch_floats(const ck_im2col *g) {
    return ck_f32_depthwise_scratch_floats__generic(g);
}

void ck_f32_depthwise(ck_isa isa, const ck_im2col *g, int64_t c0, int64_t c1, const float *input,
                      const float *weights, float *output, const ck_epilogue *e, float *scratch) {
    CK_ALL(ck_f32_depthwise, g, c0, c1, input, weights, output, e, scratch)
}

size_t ck_f32_winograd_input_scratch_floats(const ck_winograd *g) {
    return ck_f32_winograd_input_scratch_floats__generic(g);
}

void ck_f32_winograd_input(ck_isa isa, const ck_winograd *g, const float *input, int64_t image_stride,
                           int64_t c0, int64_t c1, int64_t r0, int64_t r1, int64_t row_base,
                           float *v, int64_t pitch, float *scratch) {
    CK_ALL(ck_f32_winograd_input, g, input, image_stride, c0, c1, r0, r1, row_base, v, pitch, scratch)
}

void ck_f32_winograd_output(ck_isa isa, const ck_winograd *g, const float *m, int64_t pitch, int64_t k0,
                            int64_t k1, int64_t r0, int64_t r1, int64_t row_base, float *output,
                            int64_t image_stride, const ck_epilogue *e) {
    CK_ALL(ck_f32_winograd_output, g, m, pitch, k0, k1, r0, r1, row_base, output, image_stride, e)
}

void ck_cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void ck_f32_phase_planes(const float *input, int64_t c0, int64_t c1, int64_t ih, int64_t iw, int64_t pt,
                         int64_t pl, int64_t sh, int64_t sw, int64_t qh, int64_t qw, float *planes) {
    const int64_t plane = qh * qw;
    for (int64_t c = c0; c < c1; c++) {
        const float *src = input + c * ih * iw;
        for (int64_t py = 0; py < sh; py++) {
            for (int64_t px = 0; px < sw; px++) {
                float *dst = planes + (c * sh * sw + py * sw + px) * plane;
                /* columns xx with 0 <= xx*sw + px - pl < iw */
                int64_t x_lo = pl - px <= 0 ? 0 : (pl - px + sw - 1) / sw;
                int64_t x_hi = pl + iw - px <= 0 ? 0 : (pl + iw - px + sw - 1) / sw;
                if (x_lo > qw) x_lo = qw;
                if (x_hi > qw) x_hi = qw;
                if (x_hi < x_lo) x_hi = x_lo;
                for (int64_t yy = 0; yy < qh; yy++) {
                    float *row = dst + yy * qw;
                    const int64_t iy = yy * sh + py - pt;
                    if (iy < 0 || iy >= ih || x_lo == x_hi) {
                        memset(row, 0, sizeof(float) * (size_t)qw);
                        continue;
                    }
                    const float *s = src + iy * iw + x_lo * sw + px - pl;
                    memset(row, 0, sizeof(float) * (size_t)x_lo);
                    if (sw == 1) {
                        memcpy(row + x_lo, s, sizeof(float) * (size_t)(x_hi - x_lo));
                    } else {
                        for (int64_t xx = x_lo; xx < x_hi; xx++) row[xx] = s[(xx - x_lo) * sw];
                    }
                    memset(row + x_hi, 0, sizeof(float) * (size_t)(qw - x_hi));
                }
            }
        }
    }
}

void ck_f32_conv_compact(const float *virtual_out, ptrdiff_t ldv, int64_t m, int64_t oh, int64_t ow, int64_t pw,
                         int64_t u0, int64_t u1, float *output, const ck_epilogue *e) {
    const int clip = e->act == CK_ACT_CLIP;
    const float lo = clip ? e->lo : -__builtin_inff(), hi = clip ? e->hi : __builtin_inff();
    const int64_t plane = oh * ow;
    int64_t r0 = u0 / pw, r1 = (u1 + pw - 1) / pw;
    if (r1 > oh) r1 = oh;
    for (int64_t i = 0; i < m; i++) {
        const float *v = virtual_out + i * ldv;
        float *out = output + i * plane;
        const float *res = e->residual ? e->residual + i * plane : NULL;
        const int has_bias = e->bias_kind == CK_BIAS_PER_ROW;
        const float bias = has_bias ? e->bias[i] : 0.0f;
        for (int64_t r = r0; r < r1; r++) {
            int64_t a = u0 - r * pw, b = u1 - r * pw;
            if (a < 0) a = 0;
            if (b > ow) b = ow;
            if (a >= b) continue;
            const float *src = v + r * pw;
            float *dst = out + r * ow;
            /* Branches outside the loops (see the GEMM edge store). */
            if (res) {
                const float *rr = res + r * ow;
                if (has_bias) for (int64_t x = a; x < b; x++) { float t = src[x] + bias + rr[x]; t = t < lo ? lo : t; dst[x] = t > hi ? hi : t; }
                else for (int64_t x = a; x < b; x++) { float t = src[x] + rr[x]; t = t < lo ? lo : t; dst[x] = t > hi ? hi : t; }
            } else {
                if (has_bias) for (int64_t x = a; x < b; x++) { float t = src[x] + bias; t = t < lo ? lo : t; dst[x] = t > hi ? hi : t; }
                else for (int64_t x = a; x < b; x++) { float t = src[x]; t = t < lo ? lo : t; dst[x] = t > hi ? hi : t; }
            }
        }
    }
}

void ck_f32_conv_compact_pixel_rows(const float *ct, ptrdiff_t ldct, int64_t m, int64_t plane, int64_t out_image,
                                    int64_t i0, int64_t i1, float *output, const ck_epilogue *e) {
    const int clip = e->act == CK_ACT_CLIP;
    const float lo = clip ? e->lo : -__builtin_inff(), hi = clip ? e->hi : __builtin_inff();
    const int has_bias = e->bias_kind == CK_BIAS_PER_ROW;
    /* Pixel runs inside one image; channels in blocks of 16 so that each pixel row of ct is read
       one cache line at a time while 16 output rows are written. */
    for (int64_t i = i0; i < i1;) {
        const int64_t image = i / plane, p0 = i % plane;
        const int64_t p1 = plane < p0 + (i1 - i) ? plane : p0 + (i1 - i);
        const float *rows = ct + (i - p0) * ldct;
        float *out = output + image * out_image;
        const float *res = e->residual ? e->residual + image * out_image : NULL;
        for (int64_t j0 = 0; j0 < m; j0 += 16) {
            const int64_t j1 = j0 + 16 < m ? j0 + 16 : m;
            for (int64_t j = j0; j < j1; j++) {
                const float bias = has_bias ? e->bias[j] : 0.0f;
                float *dst = out + j * plane;
                const float *src = rows + j;
                /* Branches outside the loops (see the GEMM edge store). */
                if (res) {
                    const float *rr = res + j * plane;
                    if (has_bias) for (int64_t p = p0; p < p1; p++) { float t = src[p * ldct] + bias + rr[p]; t = t < lo ? lo : t; dst[p] = t > hi ? hi : t; }
                    else for (int64_t p = p0; p < p1; p++) { float t = src[p * ldct] + rr[p]; t = t < lo ? lo : t; dst[p] = t > hi ? hi : t; }
                } else {
                    if (has_bias) for (int64_t p = p0; p < p1; p++) { float t = src[p * ldct] + bias; t = t < lo ? lo : t; dst[p] = t > hi ? hi : t; }
                    else for (int64_t p = p0; p < p1; p++) { float t = src[p * ldct]; t = t < lo ? lo : t; dst[p] = t > hi ? hi : t; }
                }
            }
        }
        i += p1 - p0;
    }
}
