/*
 * Winograd F(4x4, 3x3) transforms, instantiated per ISA after gemm_template.h (same CK_ISA_NAME,
 * its ck_v8 vector type and CK_FN).
 *
 * A 3x3 stride-1 convolution is computed on tiles of 4x4 output pixels, each reading a 6x6 input
 * patch. Per tile and channel the input transform gives 36 values V = B^T d B; the 36 products
 * M[xi] = U[xi] . V[xi] over input channels are ordinary GEMMs (U = G g G^T, the transformed
 * weights, packed once by the caller); the output transform Y = A^T M A gives the 4x4 pixels.
 * That is 36 multiplies per 16 outputs and channel pair instead of 144.
 *
 * Both transforms are separable and run 8 tiles at a time: the vertical half of the input
 * transform is a contiguous pass along an input row; the horizontal half splits each row into
 * its four column phases (x mod 4) with vector shuffles, so tile t's columns 4t + 0..5 are lanes
 * of six vectors. The output transform mirrors it and interleaves the four phases back.
 *
 * Chunk layout (the caller's scratch): V[xi][c][t] at v[(xi * channels + c) * pitch + t] and
 * M[xi][k][t] likewise, where t counts the tiles of the chunk's tile rows, row by row (tile row
 * r holds tiles (r - row_base) * tw ..< + tw). pitch >= the chunk's tiles + 8: a block of 8
 * tiles may spill its unused lanes into the next row's slots (overwritten when that row is
 * transformed, in increasing order by the same caller) or into the slack.
 */
#include "CKernels.h"
#include <string.h>

/* Floats of per-call scratch the input transform needs (six transformed rows and a zero row). */
static int64_t CK_FN(wino_row_floats)(const ck_winograd *g) {
    return (g->tw + 7) / 8 * 32 + 40;
}

size_t CK_FN(f32_winograd_input_scratch_floats)(const ck_winograd *g) {
    return (size_t)(6 * CK_FN(wino_row_floats)(g) + g->iw + 8);
}

/* Columns 0, 4, 8, ... of the 32 floats at p, then 1, 5, ..., 2, 6, ..., 3, 7, ...: q[c][j] = p[4j + c]. */
static inline __attribute__((always_inline)) void CK_FN(wino_phases)(const float *p, ck_v8 q[4]) {
    ck_v8 a0 = *(const ck_v8u *)(p), a1 = *(const ck_v8u *)(p + 8);
    ck_v8 a2 = *(const ck_v8u *)(p + 16), a3 = *(const ck_v8u *)(p + 24);
    ck_v8 t0 = __builtin_shufflevector(a0, a1, 0, 4, 8, 12, 1, 5, 9, 13);
    ck_v8 t1 = __builtin_shufflevector(a0, a1, 2, 6, 10, 14, 3, 7, 11, 15);
    ck_v8 t2 = __builtin_shufflevector(a2, a3, 0, 4, 8, 12, 1, 5, 9, 13);
    ck_v8 t3 = __builtin_shufflevector(a2, a3, 2, 6, 10, 14, 3, 7, 11, 15);
    q[0] = __builtin_shufflevector(t0, t2, 0, 1, 2, 3, 8, 9, 10, 11);
    q[1] = __builtin_shufflevector(t0, t2, 4, 5, 6, 7, 12, 13, 14, 15);
    q[2] = __builtin_shufflevector(t1, t3, 0, 1, 2, 3, 8, 9, 10, 11);
    q[3] = __builtin_shufflevector(t1, t3, 4, 5, 6, 7, 12, 13, 14, 15);
}

/* The inverse of wino_phases: p[4j + c] = q[c][j] for 32 floats. */
static inline __attribute__((always_inline)) void CK_FN(wino_interleave)(const ck_v8 q[4], ck_v8 out[4]) {
    ck_v8 t0 = __builtin_shufflevector(q[0], q[1], 0, 8, 1, 9, 2, 10, 3, 11);
    ck_v8 t1 = __builtin_shufflevector(q[0], q[1], 4, 12, 5, 13, 6, 14, 7, 15);
    ck_v8 t2 = __builtin_shufflevector(q[2], q[3], 0, 8, 1, 9, 2, 10, 3, 11);
    ck_v8 t3 = __builtin_shufflevector(q[2], q[3], 4, 12, 5, 13, 6, 14, 7, 15);
    out[0] = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 2, 3, 10, 11);
    out[1] = __builtin_shufflevector(t0, t2, 4, 5, 12, 13, 6, 7, 14, 15);
    out[2] = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 2, 3, 10, 11);
    out[3] = __builtin_shufflevector(t1, t3, 4, 5, 12, 13, 6, 7, 14, 15);
}

/* x < lo ? lo : x, then x > hi ? hi : x, as the GEMM epilogue: a NaN passes through. */
static inline ck_v8 CK_FN(wino_clamp)(ck_v8 x, float lo, float hi) {
    typedef int32_t ck_i8 __attribute__((vector_size(32)));
    ck_v8 l = {lo, lo, lo, lo, lo, lo, lo, lo}, u = {hi, hi, hi, hi, hi, hi, hi, hi};
    ck_i8 below = x < l;
    x = (ck_v8)((below & (ck_i8)l) | (~below & (ck_i8)x));
    ck_i8 above = x > u;
    return (ck_v8)((above & (ck_i8)u) | (~above & (ck_i8)x));
}

/* The six-point B^T of F(4, 3) (interpolation points 0, +-1, +-2 and infinity). */
#define CK_WINO_BT(d0, d1, d2, d3, d4, d5, o)                                        \
    do {                                                                             \
        o[0] = 4.0f * (d0) - 5.0f * (d2) + (d4);                                     \
        o[1] = ((d3) + (d4)) - 4.0f * ((d1) + (d2));                                 \
        o[2] = ((d4) - (d3)) + 4.0f * ((d1) - (d2));                                 \
        o[3] = ((d4) - (d2)) + 2.0f * ((d3) - (d1));                                 \
        o[4] = ((d4) - (d2)) - 2.0f * ((d3) - (d1));                                 \
        o[5] = 4.0f * (d1) - 5.0f * (d3) + (d5);                                     \
    } while (0)

void CK_FN(f32_winograd_input)(const ck_winograd *g, const float *input, int64_t image_stride,
                               int64_t c0, int64_t c1, int64_t r0, int64_t r1, int64_t row_base,
                               float *v, int64_t pitch, float *scratch) {
    const int64_t row_floats = CK_FN(wino_row_floats)(g);
    float *h = scratch;                   /* six rows of row_floats */
    float *zero = scratch + 6 * row_floats; /* one input row of zeros */
    memset(zero, 0, sizeof(float) * (size_t)(g->iw + 8));
    const int64_t span = 4 * g->tw + 2;   /* padded columns the tiles of a row read */
    int64_t lo = g->pl < span ? g->pl : span;
    int64_t hi = g->pl + g->iw < span ? g->pl + g->iw : span;
    if (hi < lo) hi = lo;
    /* Columns outside the image stay zero for every row. */
    for (int i = 0; i < 6; i++) {
        memset(h + i * row_floats, 0, sizeof(float) * (size_t)lo);
        memset(h + i * row_floats + hi, 0, sizeof(float) * (size_t)(row_floats - hi));
    }
    const int64_t plane = g->ih * g->iw;
    const int64_t blocks = (g->tw + 7) / 8;
    for (int64_t c = c0; c < c1; c++) {
        for (int64_t r = r0; r < r1; r++) {
            const int64_t image = r / g->th, ty = r % g->th;
            const float *src = input + image * image_stride + c * plane;
            const float *d[6];
            for (int k = 0; k < 6; k++) {
                int64_t y = 4 * ty - g->pt + k;
                d[k] = y >= 0 && y < g->ih ? src + y * g->iw : zero;
            }
            float *h0 = h, *h1 = h + row_floats, *h2 = h + 2 * row_floats;
            float *h3 = h + 3 * row_floats, *h4 = h + 4 * row_floats, *h5 = h + 5 * row_floats;
            /* Padded column x is input column x - pl; 8 columns at a time, then one by one. */
            h0 += lo; h1 += lo; h2 += lo; h3 += lo; h4 += lo; h5 += lo;
            const int64_t first = lo - g->pl, n = hi - lo;
            const float *d0 = d[0] + first, *d1 = d[1] + first, *d2 = d[2] + first;
            const float *d3 = d[3] + first, *d4 = d[4] + first, *d5 = d[5] + first;
            int64_t x = 0;
            for (; x + 8 <= n; x += 8) {
                ck_v8 o[6];
                CK_WINO_BT(*(const ck_v8u *)(d0 + x), *(const ck_v8u *)(d1 + x), *(const ck_v8u *)(d2 + x),
                           *(const ck_v8u *)(d3 + x), *(const ck_v8u *)(d4 + x), *(const ck_v8u *)(d5 + x), o);
                *(ck_v8u *)(h0 + x) = o[0]; *(ck_v8u *)(h1 + x) = o[1]; *(ck_v8u *)(h2 + x) = o[2];
                *(ck_v8u *)(h3 + x) = o[3]; *(ck_v8u *)(h4 + x) = o[4]; *(ck_v8u *)(h5 + x) = o[5];
            }
            for (; x < n; x++) {
                float o[6];
                CK_WINO_BT(d0[x], d1[x], d2[x], d3[x], d4[x], d5[x], o);
                h0[x] = o[0]; h1[x] = o[1]; h2[x] = o[2]; h3[x] = o[3]; h4[x] = o[4]; h5[x] = o[5];
            }
            float *dst = v + c * pitch + (r - row_base) * g->tw;
            const int64_t xi_stride = (int64_t)g->c * pitch;
            for (int i = 0; i < 6; i++) {
                const float *row = h + i * row_floats;
                for (int64_t b = 0; b < blocks; b++) {
                    ck_v8 q[6], p[4], o[6];
                    CK_FN(wino_phases)(row + 32 * b, q);
                    CK_FN(wino_phases)(row + 32 * b + 4, p);
                    q[4] = p[0];
                    q[5] = p[1];
                    CK_WINO_BT(q[0], q[1], q[2], q[3], q[4], q[5], o);
                    float *out = dst + (int64_t)(i * 6) * xi_stride + 8 * b;
#pragma clang loop unroll(full)
                    for (int j = 0; j < 6; j++) *(ck_v8u *)(out + j * xi_stride) = o[j];
                }
            }
        }
    }
}

void CK_FN(f32_winograd_output)(const ck_winograd *g, const float *m, int64_t pitch, int64_t k0, int64_t k1,
                                int64_t r0, int64_t r1, int64_t row_base, float *output, int64_t image_stride,
                                const ck_epilogue *e) {
    const int clip = e->act == CK_ACT_CLIP;
    const float lo = clip ? e->lo : -__builtin_inff(), hi = clip ? e->hi : __builtin_inff();
    const int64_t plane = g->oh * g->ow;
    const int64_t blocks = (g->tw + 7) / 8;
    const int64_t xi_stride = (int64_t)g->c * pitch;
    for (int64_t k = k0; k < k1; k++) {
        const float bias = e->bias_kind == CK_BIAS_PER_ROW ? e->bias[k] : 0.0f;
        for (int64_t r = r0; r < r1; r++) {
            const int64_t image = r / g->th, ty = r % g->th;
            const float *src = m + k * pitch + (r - row_base) * g->tw;
            const int64_t out_offset = image * image_stride + k * plane;
            for (int64_t b = 0; b < blocks; b++) {
                /* s[i][o] = sum_j A^T[o][j] M[i][j], then y[rr][o] = sum_i A^T[rr][i] s[i][o]. */
                ck_v8 s[6][4];
#pragma clang loop unroll(full)
                for (int i = 0; i < 6; i++) {
                    const float *p = src + (int64_t)(i * 6) * xi_stride + 8 * b;
                    /* M does not fit in L2 and its 36 rows defeat the hardware prefetcher. */
#pragma clang loop unroll(full)
                    for (int j = 0; j < 6; j++) __builtin_prefetch(p + j * xi_stride + 64, 0, 3);
                    ck_v8 m0 = *(const ck_v8u *)p, m1 = *(const ck_v8u *)(p + xi_stride);
                    ck_v8 m2 = *(const ck_v8u *)(p + 2 * xi_stride), m3 = *(const ck_v8u *)(p + 3 * xi_stride);
                    ck_v8 m4 = *(const ck_v8u *)(p + 4 * xi_stride), m5 = *(const ck_v8u *)(p + 5 * xi_stride);
                    ck_v8 a = m1 + m2, bb = m1 - m2, cc = m3 + m4, dd = m3 - m4;
                    s[i][0] = m0 + a + cc;
                    s[i][1] = bb + 2.0f * dd;
                    s[i][2] = a + 4.0f * cc;
                    s[i][3] = bb + 8.0f * dd + m5;
                }
                const int64_t x0 = 32 * b;
                int64_t count = g->ow - x0;
                if (count > 32) count = 32;
#pragma clang loop unroll(full)
                for (int rr = 0; rr < 4; rr++) {
                    const int64_t oy = 4 * ty + rr;
                    if (oy >= g->oh) break;
                    ck_v8 y[4], row[4];
#pragma clang loop unroll(full)
                    for (int o = 0; o < 4; o++) {
                        ck_v8 a = s[1][o] + s[2][o], bb = s[1][o] - s[2][o];
                        ck_v8 cc = s[3][o] + s[4][o], dd = s[3][o] - s[4][o];
                        if (rr == 0) y[o] = s[0][o] + a + cc;
                        else if (rr == 1) y[o] = bb + 2.0f * dd;
                        else if (rr == 2) y[o] = a + 4.0f * cc;
                        else y[o] = bb + 8.0f * dd + s[5][o];
                    }
                    CK_FN(wino_interleave)(y, row);
                    float *out = output + out_offset + oy * g->ow + x0;
                    const float *res = e->residual ? e->residual + out_offset + oy * g->ow + x0 : NULL;
                    /* Whole vectors while they fit in the row, then the last < 8 pixels one by one. */
                    int q = 0;
                    for (; q < 4 && 8 * q + 8 <= count; q++) {
                        ck_v8 val = row[q] + bias;
                        if (res) val += *(const ck_v8u *)(res + 8 * q);
                        *(ck_v8u *)(out + 8 * q) = CK_FN(wino_clamp)(val, lo, hi);
                    }
                    if (q < 4 && 8 * q < count) {
                        float tmp[8];
                        *(ck_v8u *)tmp = row[q];
                        for (int64_t x = 8 * q; x < count; x++) {
                            float val = tmp[x - 8 * q] + bias;
                            if (res) val += res[x];
                            val = val < lo ? lo : val;
                            val = val > hi ? hi : val;
                            out[x] = val;
                        }
                    }
                }
            }
        }
    }
}
