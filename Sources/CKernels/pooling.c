/* Max pooling over NCHW planes: one plain C body, compiled for the baseline and, on x86-64,
   again for AVX-512, where the stride-2 reads and the compare-and-select vectorise 16 wide
   (resnet18's pool at batch 16, one thread: 11.9 ms baseline). */
#include "CKernels.h"

static inline __attribute__((always_inline)) void ck_max_pool_body(const ck_pool *g, int64_t p0, int64_t p1,
                                                                   const float *input, float *output) {
    const int64_t in_plane = g->ih * g->iw, out_plane = g->oh * g->ow;
    const float lowest = -__builtin_inff();
    for (int64_t p = p0; p < p1; p++) {
        const float *in = input + p * in_plane;
        float *out = output + p * out_plane;
        for (int64_t y = 0; y < g->oh; y++) {
            float *row = out + y * g->ow;
            for (int64_t x = 0; x < g->ow; x++) row[x] = lowest;
            for (int64_t ky = 0; ky < g->kh; ky++) {
                const int64_t iy = y * g->sh - g->pt + ky * g->dh;
                if (iy < 0 || iy >= g->ih) continue;
                const float *src_row = in + iy * g->iw;
                for (int64_t kx = 0; kx < g->kw; kx++) {
                    /* Output columns x whose input column ix = x*sw + off lies in [0, iw). */
                    const int64_t off = kx * g->dw - g->pl;
                    int64_t x_lo = off >= 0 ? 0 : (-off + g->sw - 1) / g->sw;
                    int64_t x_hi = g->iw - off <= 0 ? 0 : (g->iw - off + g->sw - 1) / g->sw;
                    if (x_hi > g->ow) x_hi = g->ow;
                    if (x_lo >= x_hi) continue;
                    const float *src = src_row + off;
                    /* v >= best ? v : best, tap by tap in (ky, kx) order: the element-wise
                       rule of the reference kernel, so the bits match it (NaN inputs skipped). */
                    if (g->sw == 1) {
                        for (int64_t x = x_lo; x < x_hi; x++) { const float v = src[x]; row[x] = v >= row[x] ? v : row[x]; }
                    } else if (g->sw == 2) {
                        for (int64_t x = x_lo; x < x_hi; x++) { const float v = src[2 * x]; row[x] = v >= row[x] ? v : row[x]; }
                    } else {
                        for (int64_t x = x_lo; x < x_hi; x++) { const float v = src[x * g->sw]; row[x] = v >= row[x] ? v : row[x]; }
                    }
                }
            }
        }
    }
}

static void ck_max_pool_generic(const ck_pool *g, int64_t p0, int64_t p1, const float *input, float *output) {
    ck_max_pool_body(g, p0, p1, input, output);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
static void ck_max_pool_avx512(const ck_pool *g, int64_t p0, int64_t p1, const float *input, float *output) {
    ck_max_pool_body(g, p0, p1, input, output);
}
#endif

void ck_f32_max_pool(const ck_pool *g, int64_t p0, int64_t p1, const float *input, float *output) {
#if defined(__x86_64__)
    if (ck_isa_supported(CK_ISA_AVX512)) {
        ck_max_pool_avx512(g, p0, p1, input, output);
        return;
    }
#endif
    ck_max_pool_generic(g, p0, p1, input, output);
}
