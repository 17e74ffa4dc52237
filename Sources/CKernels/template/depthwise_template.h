/*
 * Depthwise convolution body, instantiated per ISA next to gemm_template.h (same CK_ISA_NAME).
 * Each channel's input is first copied into a zero-bordered plane covering exactly the receptive
 * field, so the inner loops have no bounds checks and vectorise along the output width.
 * 3x3 and 5x5 with stride 1 or 2 and dilation 1 have unrolled bodies; other shapes accumulate
 * tap by tap into a row buffer.
 */
#include "CKernels.h"
#include <string.h>

#pragma clang fp contract(fast)

#ifndef CK_CAT
#define CK_CAT2(a, b) a##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_FN(name) CK_CAT(CK_CAT(ck_, name), CK_CAT(__, CK_ISA_NAME))
#endif

static inline int64_t ck_dw_plane_h(const ck_im2col *g) { return (g->oh - 1) * g->sh + (g->kh - 1) * g->dh + 1; }
static inline int64_t ck_dw_plane_w(const ck_im2col *g) { return (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1; }

/* One output row with a K x K filter, stride S, dilation 1: rows[kh] point at the plane rows. */
#define CK_DW_ROW(K, S)                                                                              \
    static void CK_FN(dw_row_##K##x##K##s##S)(const float *plane, int64_t pw, const float *w,       \
                                              int64_t ow_count, float *restrict out) {              \
        float wk[K * K];                                                                            \
        for (int t = 0; t < K * K; t++) wk[t] = w[t];                                               \
        for (int64_t ow = 0; ow < ow_count; ow++) {                                                 \
            const float *p = plane + ow * S;                                                        \
            float acc = p[0] * wk[0];                                                               \
            _Pragma("clang loop unroll(full)") for (int t = 1; t < K * K; t++)                      \
                acc += p[(t / K) * pw + (t % K)] * wk[t];                                           \
            out[ow] = acc;                                                                          \
        }                                                                                           \
    }

CK_DW_ROW(3, 1)
CK_DW_ROW(3, 2)
CK_DW_ROW(5, 1)
CK_DW_ROW(5, 2)

static void CK_FN(dw_row_general)(const float *plane, int64_t pw, const float *w, const ck_im2col *g,
                                  float *restrict out) {
    for (int64_t ow = 0; ow < g->ow; ow++) out[ow] = 0;
    for (int64_t kh = 0; kh < g->kh; kh++) {
        for (int64_t kw = 0; kw < g->kw; kw++) {
            const float wt = w[kh * g->kw + kw];
            const float *p = plane + kh * g->dh * pw + kw * g->dw;
            const int64_t sw = g->sw;
            for (int64_t ow = 0; ow < g->ow; ow++) out[ow] += p[ow * sw] * wt;
        }
    }
}

void CK_FN(f32_depthwise)(const ck_im2col *g, int64_t c0, int64_t c1, const float *input,
                          const float *weights, float *output, const ck_epilogue *e, float *scratch) {
    const int64_t ph = ck_dw_plane_h(g), pw = ck_dw_plane_w(g);
    const int64_t khw = g->kh * g->kw, out_plane = g->oh * g->ow, in_plane = g->ih * g->iw;
    float *plane = scratch;
    float *acc = scratch + ((ph * pw + 15) / 16) * 16;
    const int dil1 = g->dh == 1 && g->dw == 1;
    const int square = g->kh == g->kw;
    for (int64_t c = c0; c < c1; c++) {
        const float *src = input + c * in_plane;
        /* plane[y][x] = src[y - pt][x - pl], zero outside */
        for (int64_t y = 0; y < ph; y++) {
            float *row = plane + y * pw;
            const int64_t iy = y - g->pt;
            if (iy < 0 || iy >= g->ih) {
                memset(row, 0, sizeof(float) * (size_t)pw);
                continue;
            }
            int64_t x_lo = g->pl < 0 ? 0 : g->pl;
            if (x_lo > pw) x_lo = pw;
            int64_t x_hi = g->pl + g->iw;
            if (x_hi > pw) x_hi = pw;
            if (x_hi < x_lo) x_hi = x_lo;
            for (int64_t x = 0; x < x_lo; x++) row[x] = 0;
            for (int64_t x = x_lo; x < x_hi; x++) row[x] = src[iy * g->iw + x - g->pl];
            for (int64_t x = x_hi; x < pw; x++) row[x] = 0;
        }
        const float *w = weights + c * khw;
        float *dst = output + c * out_plane;
        const float bias = e->bias_kind == CK_BIAS_PER_ROW ? e->bias[c] : 0.0f;
        const int has_bias = e->bias_kind == CK_BIAS_PER_ROW;
        const float *res = e->residual ? e->residual + c * out_plane : NULL;
        for (int64_t oh = 0; oh < g->oh; oh++) {
            const float *prow = plane + oh * g->sh * pw;
            float *out = dst + oh * g->ow;
            /* The row is built in scratch first: the residual may be the output itself. */
            if (dil1 && square && g->kh == 3 && g->sw == 1) CK_FN(dw_row_3x3s1)(prow, pw, w, g->ow, acc);
            else if (dil1 && square && g->kh == 3 && g->sw == 2) CK_FN(dw_row_3x3s2)(prow, pw, w, g->ow, acc);
            else if (dil1 && square && g->kh == 5 && g->sw == 1) CK_FN(dw_row_5x5s1)(prow, pw, w, g->ow, acc);
            else if (dil1 && square && g->kh == 5 && g->sw == 2) CK_FN(dw_row_5x5s2)(prow, pw, w, g->ow, acc);
            else CK_FN(dw_row_general)(prow, pw, w, g, acc);
            if (has_bias)
                for (int64_t ow = 0; ow < g->ow; ow++) acc[ow] += bias;
            if (res) {
                const float *r = res + oh * g->ow;
                for (int64_t ow = 0; ow < g->ow; ow++) acc[ow] += r[ow];
            }
            if (e->act == CK_ACT_CLIP) {
                const float lo = e->lo, hi = e->hi;
                for (int64_t ow = 0; ow < g->ow; ow++)
                    acc[ow] = __builtin_elementwise_min(__builtin_elementwise_max(acc[ow], lo), hi);
            }
            memcpy(out, acc, sizeof(float) * (size_t)g->ow);
        }
    }
}
