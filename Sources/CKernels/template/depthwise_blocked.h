/*
 * Depthwise body for small planes (the 7x7 to 28x28 layers of mobile networks), 8 channels at a
 * time in an interleaved layout: the block's input is transposed into a zero-padded scratch
 * plane of pixels, each pixel one 8-float vector holding the 8 channels; every tap is then a
 * plain vector load and one multiply-add, with no row edges, masks or stride shuffles; the
 * results are transposed back to the NCHW output with the epilogue.
 *
 * Why: along a row of 7 or 14 pixels, the direct body (depthwise_direct.h) has only partial
 * vectors, each with masked loads on both sides. Here a tap costs the same wherever it falls,
 * and the two 8x8 transposes cost about one shuffle per float each way.
 *
 * Same arithmetic as the direct body: for each output element, a multiply-add chain from zero
 * over the taps in (kh, kw) order (padding taps multiply a zero), then + bias, + residual, clamp.
 * So a channel's bits do not depend on which body computes it, or on how channels are split.
 */

/* Scratch plane geometry: rows [0, ph) x pixels [0, pw) of 8 floats, input pixel (iy, ix) at
   (iy + pt, ix + pl); only rows and columns that some tap reads are kept. */
typedef struct {
    int64_t ph, pw;
} ck_dw_blocked_layout;

static inline ck_dw_blocked_layout CK_FN(dw_blocked_layout)(const ck_im2col *g) {
    ck_dw_blocked_layout l = {(g->oh - 1) * g->sh + g->kh, (g->ow - 1) * g->sw + g->kw};
    return l;
}

/* Floats of scratch: the padded input plane and the staged output (8 per pixel each), plus slack. */
static inline int64_t CK_FN(dw_blocked_floats)(const ck_im2col *g) {
    const ck_dw_blocked_layout l = CK_FN(dw_blocked_layout)(g);
    return 8 * (l.ph * l.pw + g->oh * g->ow) + 64;
}

/* Output rows of at most 28: measured on one thread (AVX2, mobilenet_v2's 3x3 layers), this body
   against the direct one took 0.7x the time at 28x28, 0.5x at 14x14, 0.3x at 7x7 (where the
   direct rows are one partial vector), but 1.15x at 56x56 and 1.4x for 112x112 stride 2, whose
   scratch planes leave L2 and whose input transposes outweigh the masked edges. */
static inline int CK_FN(dw_blocked_applies)(const ck_im2col *g) {
    return CK_FN(dw_direct_applies)(g) && g->ow <= 28 && g->sh <= 2;
}

/* NP output pixels of one row, starting at padded column x0 * S, each 8 channels: the taps of
   row kh read padded columns S * i + kw (pixel i); each column is loaded once for all pixels. */
#define CK_DW_PIXELS(K, S, NP)                                                                          \
    static inline __attribute__((always_inline)) void CK_FN(dw_pixels_##K##_s##S##_##NP)(              \
        const float *prow, int64_t row_floats, const ck_dw8 *wv, ck_dw8 bias, float *stage) {          \
        ck_dw8 acc[NP];                                                                                 \
        _Pragma("clang loop unroll(full)") for (int i = 0; i < NP; i++) acc[i] = (ck_dw8){0};           \
        _Pragma("clang loop unroll(full)") for (int kh = 0; kh < K; kh++) {                             \
            const float *p = prow + kh * row_floats;                                                    \
            _Pragma("clang loop unroll(full)") for (int j = 0; j < S * (NP - 1) + K; j++) {             \
                const ck_dw8 d = *(const ck_dw8u *)(p + 8 * j);                                         \
                _Pragma("clang loop unroll(full)") for (int i = 0; i < NP; i++) {                       \
                    const int kw = j - S * i;                                                           \
                    if (kw >= 0 && kw < K) acc[i] = wv[kh * K + kw] * d + acc[i];                       \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
        _Pragma("clang loop unroll(full)") for (int i = 0; i < NP; i++)                                 \
            *(ck_dw8u *)(stage + 8 * i) = acc[i] + bias;                                                \
    }

#define CK_DW_BLOCKED(K, S)                                                                                   \
    CK_DW_PIXELS(K, S, 4)                                                                                     \
    CK_DW_PIXELS(K, S, 1)                                                                                     \
    static void CK_FN(dw_blocked_taps_##K##_s##S)(const ck_im2col *g, const float *plane, int64_t pw,        \
                                                   const ck_dw8 *wv, ck_dw8 bias, float *stage) {             \
        for (int64_t y = 0; y < g->oh; y++) {                                                                 \
            const float *prow = plane + y * g->sh * pw * 8;                                                   \
            float *srow = stage + y * g->ow * 8;                                                              \
            int64_t x = 0;                                                                                    \
            for (; x + 4 <= g->ow; x += 4)                                                                    \
                CK_FN(dw_pixels_##K##_s##S##_4)(prow + x * S * 8, pw * 8, wv, bias, srow + x * 8);            \
            for (; x < g->ow; x++)                                                                            \
                CK_FN(dw_pixels_##K##_s##S##_1)(prow + x * S * 8, pw * 8, wv, bias, srow + x * 8);            \
        }                                                                                                     \
    }

CK_DW_BLOCKED(3, 1)
CK_DW_BLOCKED(3, 2)
CK_DW_BLOCKED(5, 1)
CK_DW_BLOCKED(5, 2)

/* Channels [c0, c0 + nc), nc <= 8, of one image. Lanes past nc repeat the last channel (read,
   computed, never stored). `plane` holds the padded plane with its borders already zero. */
static void CK_FN(dw_blocked_block)(const ck_im2col *g, const ck_dw_blocked_layout *l, int64_t c0, int64_t nc,
                                    const float *input, const float *weights, float *output,
                                    const ck_epilogue *e, float *plane, float *stage) {
    const int64_t in_plane = g->ih * g->iw, out_plane = g->oh * g->ow, taps = g->kh * g->kw;
    const float *src[8];
    for (int j = 0; j < 8; j++) src[j] = input + (c0 + (j < nc ? j : nc - 1)) * in_plane;
    /* Input rows into the padded plane, 8 pixels at a time; only pixels a tap reads are stored.
       The last row of a plane loads its tail masked (the next float may be past the tensor). */
    for (int64_t iy = 0; iy < g->ih; iy++) {
        const int64_t py = iy + g->pt;
        if (py < 0 || py >= l->ph) continue;
        float *prow = plane + py * l->pw * 8;
        for (int64_t ix = 0; ix < g->iw; ix += 8) {
            int64_t first = g->pl + ix < 0 ? -(g->pl + ix) : 0;
            int64_t count = g->iw - ix < 8 ? g->iw - ix : 8;
            if (l->pw - (g->pl + ix) < count) count = l->pw - (g->pl + ix);
            if (count <= first) continue;
            ck_dw8 rows[8], pixels[8];
            const int64_t at = iy * g->iw + ix;
            if (ix + 8 > g->iw && iy + 1 == g->ih) {
                for (int j = 0; j < 8; j++) rows[j] = CK_DW_LOAD_PART(src[j] + at, 0, g->iw - ix);
            } else if (nc == 8) {
#pragma clang loop unroll(full)
                for (int j = 0; j < 8; j++) rows[j] = *(const ck_dw8u *)(src[0] + j * in_plane + at);
            } else {
                for (int j = 0; j < 8; j++) rows[j] = *(const ck_dw8u *)(src[j] + at);
            }
            CK_FN(transpose8_regs)(rows, pixels);
            float *dst = prow + (g->pl + ix) * 8;
            if (first == 0 && count == 8) {
#pragma clang loop unroll(full)
                for (int q = 0; q < 8; q++) *(ck_dw8u *)(dst + q * 8) = pixels[q];
            } else {
                for (int64_t q = first; q < count; q++) *(ck_dw8u *)(dst + q * 8) = pixels[q];
            }
        }
    }
    ck_dw8 wv[25];
    for (int64_t t = 0; t < taps; t++)
        for (int j = 0; j < 8; j++) wv[t][j] = weights[(c0 + (j < nc ? j : nc - 1)) * taps + t];
    ck_dw8 bias = {0};
    if (e->bias_kind == CK_BIAS_PER_ROW)
        for (int j = 0; j < 8; j++) bias[j] = e->bias[c0 + (j < nc ? j : nc - 1)];
    if (g->kh == 3 && g->sw == 1) CK_FN(dw_blocked_taps_3_s1)(g, plane, l->pw, wv, bias, stage);
    else if (g->kh == 3) CK_FN(dw_blocked_taps_3_s2)(g, plane, l->pw, wv, bias, stage);
    else if (g->sw == 1) CK_FN(dw_blocked_taps_5_s1)(g, plane, l->pw, wv, bias, stage);
    else CK_FN(dw_blocked_taps_5_s2)(g, plane, l->pw, wv, bias, stage);
    /* Staged pixels back to channel planes, 8 consecutive pixels of the plane at a time. */
    const int clip = e->act == CK_ACT_CLIP;
    const ck_dw8 lo = CK_FN(dw_splat8)(clip ? e->lo : -__builtin_inff()), hi = CK_FN(dw_splat8)(clip ? e->hi : __builtin_inff());
    for (int64_t p = 0; p < out_plane; p += 8) {
        const int64_t n = out_plane - p < 8 ? out_plane - p : 8;
        ck_dw8 pix[8], ch[8];
        for (int q = 0; q < 8; q++) pix[q] = q < n ? *(const ck_dw8u *)(stage + (p + q) * 8) : (ck_dw8){0};
        CK_FN(transpose8_regs)(pix, ch);
        for (int64_t j = 0; j < nc; j++) {
            float *o = output + (c0 + j) * out_plane + p;
            ck_dw8 v = ch[j];
            if (e->residual) {
                const float *r = e->residual + (c0 + j) * out_plane + p;
                v = v + (n == 8 ? *(const ck_dw8u *)r : CK_DW_LOAD_PART(r, 0, n));
            }
            v = ck_clamp8(v, lo, hi);
            if (n == 8) *(ck_dw8u *)o = v;
            else CK_DW_STORE_PART(o, v, n);
        }
    }
}

static void CK_FN(dw_blocked_channels)(const ck_im2col *g, int64_t c0, int64_t c1, const float *input,
                                       const float *weights, float *output, const ck_epilogue *e, float *scratch) {
    const ck_dw_blocked_layout l = CK_FN(dw_blocked_layout)(g);
    float *plane = scratch, *stage = scratch + 8 * l.ph * l.pw;
    memset(plane, 0, sizeof(float) * (size_t)(8 * l.ph * l.pw));
    for (int64_t c = c0; c < c1; c += 8) {
        const int64_t nc = c1 - c < 8 ? c1 - c : 8;
        CK_FN(dw_blocked_block)(g, &l, c, nc, input, weights, output, e, plane, stage);
    }
}
