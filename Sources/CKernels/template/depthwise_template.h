/*
 * Depthwise convolution body, instantiated per ISA next to gemm_template.h (same CK_ISA_NAME).
 *
 * Each channel's zero-padded input is split into s*s phase planes (stride s): phase (py, px)
 * holds padded pixels (y*s + py, x*s + px). Tap (kh, kw) then reads its phase plane at a fixed
 * offset from the output position, with unit stride, so the output is computed as one flat loop
 * over a virtual grid of oh rows x qw columns (qw >= ow; the extra columns are discarded). That
 * keeps small planes (7x7, 14x14) vectorised. 3x3 and 5x5 have single-pass unrolled bodies;
 * other shapes accumulate tap by tap. Undilated 3x3 and 5x5 kernels with column stride 1 or 2
 * (every depthwise layer of mobilenet_v2 and EfficientNet-Lite0) take the direct body of
 * depthwise_direct.h instead, which copies nothing.
 */
#include "CKernels.h"
#include <string.h>

#pragma clang fp contract(fast)

#ifndef CK_CAT
#define CK_CAT2(a, b) a##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_FN(name) CK_CAT(CK_CAT(ck_, name), CK_CAT(__, CK_ISA_NAME))
#endif

/* acc[u] = sum_t src[t][u] * w[t] for u < count (a multiple of 16: the planes and the
   accumulator have slack, so the rounded-up tail needs no scalar remainder loop). */
#define CK_DW_TAPS(K)                                                                                \
    static void CK_FN(dw_taps_##K##x##K)(const float *const *src, const float *w, int64_t count,     \
                                         float *restrict acc) {                                      \
        const float *s[K * K];                                                                       \
        float wk[K * K];                                                                             \
        for (int t = 0; t < K * K; t++) { s[t] = src[t]; wk[t] = w[t]; }                             \
        for (int64_t u0 = 0; u0 < count; u0 += 16) {                                                 \
            for (int64_t u = u0; u < u0 + 16; u++) {                                                 \
                float a = s[0][u] * wk[0];                                                           \
                _Pragma("clang loop unroll(full)") for (int t = 1; t < K * K; t++) a += s[t][u] * wk[t]; \
                acc[u] = a;                                                                          \
            }                                                                                        \
        }                                                                                            \
    }

CK_DW_TAPS(3)
CK_DW_TAPS(5)

static void CK_FN(dw_taps_general)(const float *const *src, const float *w, int64_t taps, int64_t count,
                                   float *restrict acc) {
    for (int64_t u = 0; u < count; u++) acc[u] = src[0][u] * w[0];
    for (int64_t t = 1; t < taps; t++) {
        const float *s = src[t];
        const float wt = w[t];
        for (int64_t u = 0; u < count; u++) acc[u] += s[u] * wt;
    }
}

/* dst[0 ..< n] = src[0 ..< n] for short rows; an ISA file may define a masked version. */
#ifndef CK_DW_COPY
#define CK_DW_COPY(dst, src, n) memcpy((dst), (src), sizeof(float) * (size_t)(n))
#endif

/* Geometry of the phase planes shared by the scratch-size query and the kernel. */
typedef struct {
    int64_t ph, pw;  /* padded extent actually read */
    int64_t qh, qw;  /* one phase plane: qh rows of qw, plus a tail of qw + 16 zeros */
    int64_t plane;   /* floats per phase plane including the tail */
} ck_dw_layout;

static ck_dw_layout CK_FN(dw_layout)(const ck_im2col *g) {
    ck_dw_layout l;
    l.ph = (g->oh - 1) * g->sh + (g->kh - 1) * g->dh + 1;
    l.pw = (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1;
    l.qh = (l.ph + g->sh - 1) / g->sh;
    l.qw = (l.pw + g->sw - 1) / g->sw;
    l.plane = (l.qh * l.qw + l.qw + 16 + 15) / 16 * 16;
    return l;
}

static void CK_FN(dw_phase_columns)(const ck_im2col *g, const ck_dw_layout *l, int64_t px, int64_t *lo, int64_t *hi) {
    int64_t x_lo = g->pl, x_hi = g->pl + g->iw;
    if (x_hi > l->pw) x_hi = l->pw;
    if (x_hi < x_lo) x_hi = x_lo;
    *lo = x_lo <= px ? 0 : (x_lo - px + g->sw - 1) / g->sw;
    *hi = x_hi <= px ? 0 : (x_hi - px + g->sw - 1) / g->sw;
    if (*hi < *lo) *hi = *lo;
}

/* Accumulator floats of one pipelined channel (the whole virtual grid plus vector slack). */
static inline int64_t CK_FN(dw_acc_floats)(const ck_im2col *g, const ck_dw_layout *l) {
    return (g->oh * l->qw + 15) / 16 * 16 + 32;
}

/* Planes whose whole virtual grid fits one accumulator chunk take the pipelined loop. */
static inline int CK_FN(dw_pipelined)(const ck_im2col *g, const ck_dw_layout *l) {
    return g->oh * l->qw <= 2048 && g->kh * g->kw <= 64 && g->sw <= 16;
}

/* Their helpers pass 8-float vectors; they are internal and inlined, so the generic variant's
   warning about the ABI of such arguments is moot. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
#include "depthwise_direct.h"
#include "depthwise_blocked.h"
#pragma clang diagnostic pop

size_t CK_FN(f32_depthwise_scratch_floats)(const ck_im2col *g) {
    if (CK_FN(dw_blocked_applies)(g)) return (size_t)CK_FN(dw_blocked_floats)(g);
    if (CK_FN(dw_direct_applies)(g)) return (size_t)CK_FN(dw_direct_zero_floats)(g);
    ck_dw_layout l = CK_FN(dw_layout)(g);
    size_t plane_loop = (size_t)(g->sh * g->sw * l.plane + (g->oh * l.qw + 32) + g->kh * g->kw * 4 + 64);
    size_t pipelined = (size_t)(2 * g->sh * g->sw * l.plane + 2 * CK_FN(dw_acc_floats)(g, &l) + 64);
    return CK_FN(dw_pipelined)(g, &l) && pipelined > plane_loop ? pipelined : plane_loop;
}

/* Phase planes of one channel: padded pixel (y, x) = in[y - pt][x - pl]; zero borders stay zero. */
static inline void CK_FN(dw_copy_in)(const ck_im2col *g, const ck_dw_layout *l, const float *in, float *planes,
                                     const int64_t *phase_lo, const int64_t *phase_hi, int tabled) {
    const int64_t sh = g->sh, sw = g->sw;
    for (int64_t y = 0, py = 0, yy = 0; y < l->ph; y++) {
        const int64_t iy = y - g->pt;
        if (iy >= 0 && iy < g->ih) {
            const float *row = in + iy * g->iw;
            for (int64_t px = 0; px < sw; px++) {
                float *dst = planes + (py * sw + px) * l->plane + yy * l->qw;
                int64_t xx0, xx1;
                if (tabled) { xx0 = phase_lo[px]; xx1 = phase_hi[px]; }
                else CK_FN(dw_phase_columns)(g, l, px, &xx0, &xx1);
                const float *s = row + xx0 * sw + px - g->pl;
                if (sw == 1) {
                    if (xx1 > xx0) CK_DW_COPY(dst + xx0, s, xx1 - xx0);
                } else if (sw == 2) {
                    for (int64_t xx = xx0; xx < xx1; xx++) dst[xx] = s[2 * (xx - xx0)];
                } else {
                    for (int64_t xx = xx0; xx < xx1; xx++) dst[xx] = s[(xx - xx0) * sw];
                }
            }
        }
        if (++py == sh) { py = 0; yy++; }
    }
}

static inline void CK_FN(dw_taps)(const ck_im2col *g, const float *const *cs, const float *w, int64_t count, float *acc) {
    const int64_t taps = g->kh * g->kw;
    if (g->dh == 1 && g->dw == 1 && g->kh == 3 && g->kw == 3) CK_FN(dw_taps_3x3)(cs, w, count, acc);
    else if (g->dh == 1 && g->dw == 1 && g->kh == 5 && g->kw == 5) CK_FN(dw_taps_5x5)(cs, w, count, acc);
    else CK_FN(dw_taps_general)(cs, w, taps, count, acc);
}

/*
 * Small planes (the whole virtual grid in one accumulator: 7x7 to 28x28), software-pipelined
 * over channels with two plane and two accumulator buffers: channel c + 1's planes are copied
 * in before channel c's taps run, and channel c - 1's rows are stored after. Row-sized
 * (masked) stores followed at once by vector loads that straddle them cannot be forwarded and
 * stall, which dominated these layers; with a channel of work in between they have left the
 * store buffer. The arithmetic is the plane loop's, in the same order (same bits).
 */
static void CK_FN(dw_pipelined_channels)(const ck_im2col *g, const ck_dw_layout *l, int64_t c0, int64_t c1,
                                         const float *input, const float *weights, float *output,
                                         const ck_epilogue *e, float *scratch, const int64_t *phase_lo,
                                         const int64_t *phase_hi) {
    const int64_t phases = g->sh * g->sw, taps = g->kh * g->kw;
    const int64_t in_plane = g->ih * g->iw, out_plane = g->oh * g->ow;
    const int64_t count = (g->oh * l->qw + 15) / 16 * 16;
    float *planes[2] = {scratch, scratch + phases * l->plane};
    float *accs[2] = {planes[1] + phases * l->plane, planes[1] + phases * l->plane + CK_FN(dw_acc_floats)(g, l)};
    memset(scratch, 0, sizeof(float) * (size_t)(2 * phases * l->plane));
    const float *srcs[2][64];
    for (int b = 0; b < 2; b++) {
        for (int64_t kh = 0, t = 0; kh < g->kh; kh++) {
            for (int64_t kw = 0; kw < g->kw; kw++, t++) {
                int64_t y = kh * g->dh, x = kw * g->dw;
                srcs[b][t] = planes[b] + ((y % g->sh) * g->sw + (x % g->sw)) * l->plane + (y / g->sh) * l->qw + (x / g->sw);
            }
        }
    }
    const int clip = e->act == CK_ACT_CLIP;
    const float lo = clip ? e->lo : -__builtin_inff(), hi = clip ? e->hi : __builtin_inff();
    CK_FN(dw_copy_in)(g, l, input + c0 * in_plane, planes[0], phase_lo, phase_hi, 1);
    for (int64_t c = c0; c <= c1; c++) {
        const int b = (int)((c - c0) & 1);
        if (c < c1) {
            if (c + 1 < c1) CK_FN(dw_copy_in)(g, l, input + (c + 1) * in_plane, planes[b ^ 1], phase_lo, phase_hi, 1);
            float *acc = accs[b];
            CK_FN(dw_taps)(g, srcs[b], weights + c * taps, count, acc);
            if (!e->residual) {
                const float bias = e->bias_kind == CK_BIAS_PER_ROW ? e->bias[c] : 0.0f;
                for (int64_t u = 0; u < count; u++) {
                    float v = acc[u] + bias;
                    v = v < lo ? lo : v;
                    acc[u] = v > hi ? hi : v;
                }
            }
        }
        if (c > c0) {
            /* Store channel c - 1 from the other accumulator. */
            const int64_t p = c - 1;
            const float *acc = accs[b ^ 1];
            float *dst = output + p * out_plane;
            if (!e->residual) {
                for (int64_t oh = 0; oh < g->oh; oh++) CK_DW_COPY(dst + oh * g->ow, acc + oh * l->qw, g->ow);
            } else {
                const float bias = e->bias_kind == CK_BIAS_PER_ROW ? e->bias[p] : 0.0f;
                const float *res = e->residual + p * out_plane;
                for (int64_t oh = 0; oh < g->oh; oh++) {
                    const float *a = acc + oh * l->qw, *r = res + oh * g->ow;
                    float *out = dst + oh * g->ow;
                    for (int64_t ow = 0; ow < g->ow; ow++) {
                        float v = a[ow] + bias + r[ow];
                        v = v < lo ? lo : v;
                        out[ow] = v > hi ? hi : v;
                    }
                }
            }
        }
    }
}

void CK_FN(f32_depthwise)(const ck_im2col *g, int64_t c0, int64_t c1, const float *input,
                          const float *weights, float *output, const ck_epilogue *e, float *scratch) {
    if (CK_FN(dw_blocked_applies)(g)) {
        CK_FN(dw_blocked_channels)(g, c0, c1, input, weights, output, e, scratch);
        return;
    }
    if (CK_FN(dw_direct_applies)(g)) {
        CK_FN(dw_direct_channels)(g, c0, c1, input, weights, output, e, scratch);
        return;
    }
    const ck_dw_layout l = CK_FN(dw_layout)(g);
    const int64_t sh = g->sh, sw = g->sw, phases = sh * sw;
    const int64_t taps = g->kh * g->kw, out_plane = g->oh * g->ow, in_plane = g->ih * g->iw;
    const int64_t count = g->oh * l.qw;
    float *planes = scratch;
    float *acc = planes + phases * l.plane;
    const float *src[64];
    const float **srcs = taps <= 64 ? src : (const float **)(acc + ((count + 15) / 16) * 16 + 16);
    for (int64_t kh = 0, t = 0; kh < g->kh; kh++) {
        for (int64_t kw = 0; kw < g->kw; kw++, t++) {
            int64_t y = kh * g->dh, x = kw * g->dw;
            srcs[t] = planes + ((y % sh) * sw + (x % sw)) * l.plane + (y / sh) * l.qw + (x / sw);
        }
    }
    memset(planes, 0, sizeof(float) * (size_t)(phases * l.plane));
    /* Column range of each phase px: plane columns xx with x = xx * sw + px in [pl, pl + iw). */
    int64_t phase_lo[16], phase_hi[16];
    const int tabled = sw <= 16;
    for (int64_t px = 0; tabled && px < sw; px++) CK_FN(dw_phase_columns)(g, &l, px, &phase_lo[px], &phase_hi[px]);
    if (CK_FN(dw_pipelined)(g, &l) && c1 > c0) {
        CK_FN(dw_pipelined_channels)(g, &l, c0, c1, input, weights, output, e, scratch, phase_lo, phase_hi);
        return;
    }
    for (int64_t c = c0; c < c1; c++) {
        CK_FN(dw_copy_in)(g, &l, input + c * in_plane, planes, phase_lo, phase_hi, tabled);
        const float *w = weights + c * taps;
        float *dst = output + c * out_plane;
        const float bias = e->bias_kind == CK_BIAS_PER_ROW ? e->bias[c] : 0.0f;
        const float *res = e->residual ? e->residual + c * out_plane : NULL;
        const int clip = e->act == CK_ACT_CLIP;
        const float lo = clip ? e->lo : -__builtin_inff(), hi = clip ? e->hi : __builtin_inff();
        /* Rows in chunks whose accumulators stay in L1 between the taps and the epilogue. */
        int64_t chunk = 2048 / l.qw;
        if (chunk < 1) chunk = 1;
        for (int64_t oh0 = 0; oh0 < g->oh; oh0 += chunk) {
            const int64_t rows = oh0 + chunk <= g->oh ? chunk : g->oh - oh0;
            const float *chunk_src[64];
            const float **cs = taps <= 64 ? chunk_src : srcs + taps;
            for (int64_t t = 0; t < taps; t++) cs[t] = srcs[t] + oh0 * l.qw;
            const int64_t chunk_count = (rows * l.qw + 15) / 16 * 16;
            if (g->dh == 1 && g->dw == 1 && g->kh == 3 && g->kw == 3) CK_FN(dw_taps_3x3)(cs, w, chunk_count, acc);
            else if (g->dh == 1 && g->dw == 1 && g->kh == 5 && g->kw == 5) CK_FN(dw_taps_5x5)(cs, w, chunk_count, acc);
            else CK_FN(dw_taps_general)(cs, w, taps, chunk_count, acc);
            if (!res) {
                /* No residual: bias and clamp over the flat grid, then copy the valid columns. */
                for (int64_t u = 0; u < chunk_count; u++) {
                    float v = acc[u] + bias;
                    v = v < lo ? lo : v;
                    acc[u] = v > hi ? hi : v;
                }
                for (int64_t oh = oh0; oh < oh0 + rows; oh++)
                    CK_DW_COPY(dst + oh * g->ow, acc + (oh - oh0) * l.qw, g->ow);
                continue;
            }
            for (int64_t oh = oh0; oh < oh0 + rows; oh++) {
                const float *a = acc + (oh - oh0) * l.qw;
                float *out = dst + oh * g->ow;
                const float *r = res ? res + oh * g->ow : NULL;
                /* Branches stay outside the loops: a vectorised loop with a per-lane condition
                   becomes masked loads from the NULL residual, which fault-assist on every row.
                   The clamp is written so that it compiles to max/min instructions; NaN passes. */
                const int64_t n = g->ow;
                if (r) {
                    for (int64_t ow = 0; ow < n; ow++) {
                        float v = a[ow] + bias + r[ow];
                        v = v < lo ? lo : v;
                        out[ow] = v > hi ? hi : v;
                    }
                } else {
                    for (int64_t ow = 0; ow < n; ow++) {
                        float v = a[ow] + bias;
                        v = v < lo ? lo : v;
                        out[ow] = v > hi ? hi : v;
                    }
                }
            }
        }
    }
}
