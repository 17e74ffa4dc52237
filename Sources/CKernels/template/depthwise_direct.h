/*
 * Direct depthwise body for square 3x3 and 5x5 kernels, undilated, column stride 1 or 2 (any
 * row stride, any padding): each output row is computed in 8-float vectors straight from the
 * input rows, with the epilogue applied in registers and the result stored once.
 *
 * Why not the phase planes of depthwise_template.h: those copy every channel into zero-padded
 * planes (for stride 2 one float at a time), run the taps over a flat accumulator, then make a
 * second pass for the epilogue and a third to copy rows out. Here nothing is copied: vectors
 * that reach past a row's ends (the padding, and the tail of a row narrower than a multiple of
 * 8) are loaded with the lanes outside the row zeroed (masked loads where the ISA has them),
 * rows above or below the image read a zero row kept in scratch, and stride 2 splits two
 * loaded vectors into even and odd columns in registers.
 *
 * Every output element is one fused multiply-add chain over the taps in (kh, kw) order from
 * zero, whichever vector, row or channel range it falls in, so results do not depend on how
 * channels are split between threads.
 */

/* 8-float vectors in every variant (two 4-lane registers in the generic one). */
typedef float ck_dw8 __attribute__((vector_size(32)));
typedef float ck_dw8u __attribute__((vector_size(32), aligned(4)));

/* v[l] = row[p + l] when 0 <= p + l < n, else 0. An ISA file may define a masked load
   (CK_DW_LOAD_PART); the default gathers lane by lane. */
#ifndef CK_DW_LOAD_PART
static inline ck_dw8 CK_FN(dw_load_part)(const float *row, int64_t p, int64_t n) {
    ck_dw8 v = {0};
    for (int l = 0; l < 8; l++) {
        const int64_t i = p + l;
        if (i >= 0 && i < n) v[l] = row[i];
    }
    return v;
}
#define CK_DW_LOAD_PART(row, p, n) CK_FN(dw_load_part)((row), (p), (n))
#endif

/* dst[0 ..< n] = v[0 ..< n], 0 < n < 8; an ISA file may define a masked store. */
#ifndef CK_DW_STORE_PART
static inline void CK_FN(dw_store_part)(float *dst, ck_dw8 v, int64_t n) {
    for (int l = 0; l < n; l++) dst[l] = v[l];
}
#define CK_DW_STORE_PART(dst, v, n) CK_FN(dw_store_part)((dst), (v), (n))
#endif

static inline ck_dw8 CK_FN(dw_splat8)(float x) { return (ck_dw8){x, x, x, x, x, x, x, x}; }

/* Columns [p, p + 8) of a row of n floats, zero outside; plain load when fully inside. */
static inline __attribute__((always_inline)) ck_dw8 CK_FN(dw_load8)(const float *row, int64_t p, int64_t n, int inside) {
    return inside ? *(const ck_dw8u *)(row + p) : CK_DW_LOAD_PART(row, p, n);
}

/* The even and odd columns of row[p ..< p + 16] (zero outside [0, n)). */
static inline __attribute__((always_inline)) void CK_FN(dw_split16)(const float *row, int64_t p, int64_t n, int inside,
                                                                    ck_dw8 *even, ck_dw8 *odd) {
    const ck_dw8 a = CK_FN(dw_load8)(row, p, n, inside), b = CK_FN(dw_load8)(row, p + 8, n, inside);
    *even = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
    *odd = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15);
}

/* The taps of one output vector at input column p: sum over (kh, kw) of w * in[kh][p * S + kw]
   (S == 2: columns p + 2j and p + 2j + 1 are the even and odd lanes of 16 loaded floats). */
#define CK_DW_VECTOR(K, S, inside)                                                                      \
    static inline __attribute__((always_inline)) ck_dw8 CK_FN(dw_vec_##K##_s##S##_##inside)(           \
        const float *const *rows, int64_t p, int64_t iw, const ck_dw8 *wv) {                           \
        ck_dw8 acc = {0};                                                                               \
        _Pragma("clang loop unroll(full)") for (int kh = 0; kh < K; kh++) {                             \
            const float *row = rows[kh];                                                                \
            if (S == 1) {                                                                               \
                _Pragma("clang loop unroll(full)") for (int kw = 0; kw < K; kw++)                       \
                    acc = wv[kh * K + kw] * CK_FN(dw_load8)(row, p + kw, iw, inside) + acc;             \
            } else {                                                                                    \
                _Pragma("clang loop unroll(full)") for (int kw = 0; kw < K; kw += 2) {                  \
                    ck_dw8 even, odd;                                                                   \
                    CK_FN(dw_split16)(row, p + kw, iw, inside, &even, &odd);                            \
                    acc = wv[kh * K + kw] * even + acc;                                                 \
                    if (kw + 1 < K) acc = wv[kh * K + kw + 1] * odd + acc;                              \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
        return acc;                                                                                     \
    }

/* Rows of the output plane of one channel. rows[kh] of output row y is input row
   y * sh - pt + kh, or `zeros` (a row of zeros as long as an input row) outside the image.
   Vectors are at columns 0, 8, 16, ...; those whose loads stay inside the row (a contiguous
   range) take plain loads, the others masked ones. */
#define CK_DW_DIRECT(K, S)                                                                                     \
    CK_DW_VECTOR(K, S, 0)                                                                                      \
    CK_DW_VECTOR(K, S, 1)                                                                                      \
    static void CK_FN(dw_direct_##K##x##K##_s##S)(const ck_im2col *g, const float *in, const float *w,         \
                                                  float *out, const float *res, float bias, float lo, float hi, \
                                                  const float *zeros) {                                        \
        /* Floats a vector's loads span past its first column: S == 2 splits 16-float pairs. */                \
        enum { SPAN = S == 1 ? 8 + K - 1 : ((K - 1) & ~1) + 16 };                                              \
        ck_dw8 wv[K * K];                                                                                      \
        for (int t = 0; t < K * K; t++) wv[t] = CK_FN(dw_splat8)(w[t]);                                        \
        const ck_dw8 bv = CK_FN(dw_splat8)(bias), lov = CK_FN(dw_splat8)(lo), hiv = CK_FN(dw_splat8)(hi);     \
        const int64_t iw = g->iw, ow = g->ow, pl = g->pl;                                                      \
        /* Inside vectors: x = 8i with x * S >= pl and x * S - pl + SPAN <= iw. */                             \
        int64_t x_in = (pl + 8 * S - 1) / (8 * S) * 8, x_out = x_in;                                           \
        while (x_out < ow && x_out * S - pl + SPAN <= iw) x_out += 8;                                          \
        if (x_out > ow) x_out = ow;                                                                            \
        if (x_in > x_out) x_in = x_out;                                                                        \
        for (int64_t y = 0; y < g->oh; y++) {                                                                  \
            const float *rows[K];                                                                              \
            for (int kh = 0; kh < K; kh++) {                                                                   \
                const int64_t iy = y * g->sh - g->pt + kh;                                                     \
                rows[kh] = iy >= 0 && iy < g->ih ? in + iy * iw : zeros;                                       \
            }                                                                                                  \
            float *o = out + y * ow;                                                                           \
            const float *r = res ? res + y * ow : NULL;                                                        \
            const int last_row = y + 1 == g->oh;                                                               \
            for (int64_t x = 0; x < ow; x += 8) {                                                              \
                ck_dw8 acc;                                                                                    \
                if (x >= x_in && x < x_out) {                                                                  \
                    /* The inside run, in a loop of its own (plain loads, whole stores). */                    \
                    for (; x + 8 <= x_out; x += 8) {                                                           \
                        ck_dw8 v = CK_FN(dw_vec_##K##_s##S##_1)(rows, x * S - pl, iw, wv) + bv;                \
                        if (r) v = v + *(const ck_dw8u *)(r + x);                                              \
                        *(ck_dw8u *)(o + x) = (ck_dw8)ck_clamp8(v, lov, hiv);                                  \
                    }                                                                                          \
                    if (x >= ow) break;                                                                        \
                    acc = x < x_out ? CK_FN(dw_vec_##K##_s##S##_1)(rows, x * S - pl, iw, wv)                   \
                                    : CK_FN(dw_vec_##K##_s##S##_0)(rows, x * S - pl, iw, wv);                  \
                } else {                                                                                       \
                    acc = CK_FN(dw_vec_##K##_s##S##_0)(rows, x * S - pl, iw, wv);                              \
                }                                                                                              \
                const int64_t n = ow - x < 8 ? ow - x : 8;                                                     \
                /* A short vector before the plane's last row is stored whole: its extra lanes land   \
                   in the next row, written after it. Not when the residual is the output (they      \
                   would overwrite residual values not yet read). */                                   \
                const int whole = n == 8 || (!last_row && r != o);                                             \
                ck_dw8 v = acc + bv;                                                                           \
                if (r) v = v + (n == 8 || !last_row ? *(const ck_dw8u *)(r + x) : CK_DW_LOAD_PART(r + x, 0, n)); \
                v = (ck_dw8)ck_clamp8(v, lov, hiv);                                                            \
                if (whole) *(ck_dw8u *)(o + x) = v;                                                            \
                else CK_DW_STORE_PART(o + x, v, n);                                                            \
            }                                                                                                  \
        }                                                                                                      \
    }

/* x < lo ? lo : x, then x > hi ? hi : x (max and min instructions; a NaN passes through). */
static inline ck_dw8 ck_clamp8_impl(ck_dw8 x, ck_dw8 lo, ck_dw8 hi) {
    typedef int32_t i8v __attribute__((vector_size(32)));
    i8v below = x < lo;
    x = (ck_dw8)((below & (i8v)lo) | (~below & (i8v)x));
    i8v above = x > hi;
    return (ck_dw8)((above & (i8v)hi) | (~above & (i8v)x));
}
#define ck_clamp8 ck_clamp8_impl

CK_DW_DIRECT(3, 1)
CK_DW_DIRECT(3, 2)
CK_DW_DIRECT(5, 1)
CK_DW_DIRECT(5, 2)

/* Whether the direct body handles this geometry. */
static inline int CK_FN(dw_direct_applies)(const ck_im2col *g) {
    return g->kh == g->kw && (g->kh == 3 || g->kh == 5) && g->dh == 1 && g->dw == 1 && (g->sw == 1 || g->sw == 2);
}

/* Scratch of the direct body: one zero row. Plain loads stay inside [0, iw) and partial ones
   read only lanes inside it, so iw floats (plus alignment slack) suffice. */
static inline int64_t CK_FN(dw_direct_zero_floats)(const ck_im2col *g) {
    return g->iw + 16;
}

static void CK_FN(dw_direct_channels)(const ck_im2col *g, int64_t c0, int64_t c1, const float *input,
                                      const float *weights, float *output, const ck_epilogue *e, float *scratch) {
    const int64_t in_plane = g->ih * g->iw, out_plane = g->oh * g->ow, taps = g->kh * g->kw;
    const int64_t zero_floats = CK_FN(dw_direct_zero_floats)(g);
    memset(scratch, 0, sizeof(float) * (size_t)zero_floats);
    const float *zeros = scratch;
    const int clip = e->act == CK_ACT_CLIP;
    const float lo = clip ? e->lo : -__builtin_inff(), hi = clip ? e->hi : __builtin_inff();
    for (int64_t c = c0; c < c1; c++) {
        const float *in = input + c * in_plane, *w = weights + c * taps;
        float *out = output + c * out_plane;
        const float *res = e->residual ? e->residual + c * out_plane : NULL;
        const float bias = e->bias_kind == CK_BIAS_PER_ROW ? e->bias[c] : 0.0f;
        if (g->kh == 3 && g->sw == 1) CK_FN(dw_direct_3x3_s1)(g, in, w, out, res, bias, lo, hi, zeros);
        else if (g->kh == 3) CK_FN(dw_direct_3x3_s2)(g, in, w, out, res, bias, lo, hi, zeros);
        else if (g->sw == 1) CK_FN(dw_direct_5x5_s1)(g, in, w, out, res, bias, lo, hi, zeros);
        else CK_FN(dw_direct_5x5_s2)(g, in, w, out, res, bias, lo, hi, zeros);
    }
}
