/*
 * GEMM body, instantiated once per ISA by a .c file that defines:
 *   CK_ISA_NAME (token: generic, avx2, avx512), CK_MR, CK_NV (vectors per tile row), CK_VL (lanes),
 *   CK_MC, CK_KC, CK_NC, and the micro-kernel symbol CK_KERNEL_SYMBOL (e.g. ck_f32_gemm_14x32__avx512).
 * The including file wraps this in its ISA's target attribute region. Loop nest (BLIS, with the
 * two innermost loops swapped, see the comment at that loop):
 * jc (NC columns) > pc (KC depth, packs B) > ic (MC rows, packs A) > ir (MR) > jr (NR) > kernel.
 */
#include "CKernels.h"
#include <string.h>

#pragma clang fp contract(fast)

#define CK_NR (CK_NV * CK_VL)
#define CK_CAT2(a, b) a##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_FN(name) CK_CAT(CK_CAT(ck_, name), CK_CAT(__, CK_ISA_NAME))

typedef float ck_vec __attribute__((vector_size(CK_VL * 4)));
typedef float ck_vecu __attribute__((vector_size(CK_VL * 4), aligned(4)));

static inline ck_vec ck_loadu(const float *p) { return *(const ck_vecu *)p; }
static inline void ck_storeu(float *p, ck_vec v) { *(ck_vecu *)p = v; }
typedef int32_t ck_ivec __attribute__((vector_size(CK_VL * 4)));

/* x < lo ? lo : x, then x > hi ? hi : x: one max and one min instruction; a NaN passes through. */
static inline ck_vec ck_clamp(ck_vec x, ck_vec lo, ck_vec hi) {
    ck_ivec below = x < lo;
    x = (ck_vec)((below & (ck_ivec)lo) | (~below & (ck_ivec)x));
    ck_ivec above = x > hi;
    return (ck_vec)((above & (ck_ivec)hi) | (~above & (ck_ivec)x));
}

static inline float ck_clamp1(float x, float lo, float hi) {
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

static inline ck_vec ck_splat(float x) {
    ck_vec v;
    for (int i = 0; i < CK_VL; i++) v[i] = x;
    return v;
}

/* Per-tile epilogue operands, already offset to the tile's first element. */
typedef struct {
    const float *row_bias;   /* MR values or NULL */
    const float *col_bias;   /* NR values or NULL */
    const float *residual;   /* row stride ldr, unit column stride, or NULL */
    ptrdiff_t ldr;
    int clip;
    float lo, hi;
} ck_tile_epilogue;

/*
 * The register tile: the first `rows` rows of c[MR x NR] (row stride ldc, unit column stride) =
 * (load_c ? c : 0) + a_panel . b_panel over kc steps, then the epilogue when epi != NULL.
 * a_panel is kc x MR (k-major, rows past `rows` ignored), b_panel kc x NR (k-major). Every
 * element sees the same sequence of fused multiply-adds whatever `rows` is, so row-remainder
 * tiles give bit-identical results to full ones.
 */
static inline __attribute__((always_inline)) void CK_FN(tile_body)(
    const int rows, int64_t kc, const float *restrict a, const float *restrict b, const int64_t *boff, float *c,
    ptrdiff_t ldc, int load_c, const ck_tile_epilogue *epi) {
    ck_vec acc[CK_MR][CK_NV];
#pragma clang loop unroll(full)
    for (int i = 0; i < CK_MR; i++)
#pragma clang loop unroll(full)
        for (int v = 0; v < CK_NV; v++) acc[i][v] = (ck_vec){0};
    if (load_c) {
#pragma clang loop unroll(full)
        for (int i = 0; i < CK_MR; i++)
            if (i < rows)
#pragma clang loop unroll(full)
                for (int v = 0; v < CK_NV; v++) acc[i][v] = ck_loadu(c + i * ldc + v * CK_VL);
    }
/* One depth step: B row at `brow`. */
#define CK_TILE_STEP(brow)                                                                  \
    do {                                                                                    \
        ck_vec bv[CK_NV];                                                                   \
        _Pragma("clang loop unroll(full)") for (int v = 0; v < CK_NV; v++)                  \
            bv[v] = ck_loadu((brow) + v * CK_VL);                                           \
        _Pragma("clang loop unroll(full)") for (int i = 0; i < CK_MR; i++) {                \
            if (i < rows) {                                                                 \
                ck_vec av = ck_splat(a[i]);                                                 \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < CK_NV; v++)          \
                    acc[i][v] = av * bv[v] + acc[i][v];                                     \
            }                                                                               \
        }                                                                                   \
        a += CK_MR;                                                                         \
    } while (0)
    if (boff) {
        /* Unpacked B: row k starts at b + boff[k] (a shifted view of a padded image). */
        for (int64_t k = 0; k < kc; k++) CK_TILE_STEP(b + boff[k]);
    } else {
        for (int64_t k = 0; k < kc; k++, b += CK_NR) CK_TILE_STEP(b);
    }
#undef CK_TILE_STEP
    if (epi) {
        if (epi->row_bias) {
#pragma clang loop unroll(full)
            for (int i = 0; i < CK_MR; i++) {
                if (i < rows) {
                    ck_vec bias = ck_splat(epi->row_bias[i]);
#pragma clang loop unroll(full)
                    for (int v = 0; v < CK_NV; v++) acc[i][v] += bias;
                }
            }
        }
        if (epi->col_bias) {
#pragma clang loop unroll(full)
            for (int v = 0; v < CK_NV; v++) {
                ck_vec bias = ck_loadu(epi->col_bias + v * CK_VL);
#pragma clang loop unroll(full)
                for (int i = 0; i < CK_MR; i++) acc[i][v] += bias;
            }
        }
        if (epi->residual) {
#pragma clang loop unroll(full)
            for (int i = 0; i < CK_MR; i++)
                if (i < rows)
#pragma clang loop unroll(full)
                    for (int v = 0; v < CK_NV; v++) acc[i][v] += ck_loadu(epi->residual + i * epi->ldr + v * CK_VL);
        }
        if (epi->clip) {
            ck_vec lo = ck_splat(epi->lo), hi = ck_splat(epi->hi);
#pragma clang loop unroll(full)
            for (int i = 0; i < CK_MR; i++)
#pragma clang loop unroll(full)
                for (int v = 0; v < CK_NV; v++) acc[i][v] = ck_clamp(acc[i][v], lo, hi);
        }
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < CK_MR; i++)
        if (i < rows)
#pragma clang loop unroll(full)
            for (int v = 0; v < CK_NV; v++) ck_storeu(c + i * ldc + v * CK_VL, acc[i][v]);
}

typedef void (*CK_FN(tile_fn))(int64_t, const float *restrict, const float *restrict, const int64_t *, float *, ptrdiff_t, int,
                               const ck_tile_epilogue *);

/* The full tile, exported under the kernel's documented symbol. */
void CK_KERNEL_SYMBOL(int64_t kc, const float *restrict a, const float *restrict b, const int64_t *boff, float *c,
                      ptrdiff_t ldc, int load_c, const ck_tile_epilogue *epi) {
    CK_FN(tile_body)(CK_MR, kc, a, b, boff, c, ldc, load_c, epi);
}

#define CK_ROWS_KERNEL(R)                                                                                  \
    static void CK_FN(tile_rows_##R)(int64_t kc, const float *restrict a, const float *restrict b,         \
                                     const int64_t *boff, float *c, ptrdiff_t ldc, int load_c,            \
                                     const ck_tile_epilogue *e) {                                          \
        CK_FN(tile_body)(R < CK_MR ? R : CK_MR, kc, a, b, boff, c, ldc, load_c, e);                        \
    }
#if CK_MR > 1
CK_ROWS_KERNEL(1)
#endif
#if CK_MR > 2
CK_ROWS_KERNEL(2)
#endif
#if CK_MR > 3
CK_ROWS_KERNEL(3)
#endif
#if CK_MR > 4
CK_ROWS_KERNEL(4)
#endif
#if CK_MR > 5
CK_ROWS_KERNEL(5)
#endif
#if CK_MR > 6
CK_ROWS_KERNEL(6)
#endif
#if CK_MR > 7
CK_ROWS_KERNEL(7)
#endif
#if CK_MR > 8
CK_ROWS_KERNEL(8)
#endif
#if CK_MR > 9
CK_ROWS_KERNEL(9)
#endif
#if CK_MR > 10
CK_ROWS_KERNEL(10)
#endif
#if CK_MR > 11
CK_ROWS_KERNEL(11)
#endif
#if CK_MR > 12
CK_ROWS_KERNEL(12)
#endif
#if CK_MR > 13
CK_ROWS_KERNEL(13)
#endif
#if CK_MR > 14
CK_ROWS_KERNEL(14)
#endif
#if CK_MR > 15
CK_ROWS_KERNEL(15)
#endif

/* Kernels by number of valid rows (index 1 ... MR). */
static const CK_FN(tile_fn) CK_FN(tiles)[CK_MR + 1] = {
    NULL,
#if CK_MR > 1
    CK_FN(tile_rows_1),
#endif
#if CK_MR > 2
    CK_FN(tile_rows_2),
#endif
#if CK_MR > 3
    CK_FN(tile_rows_3),
#endif
#if CK_MR > 4
    CK_FN(tile_rows_4),
#endif
#if CK_MR > 5
    CK_FN(tile_rows_5),
#endif
#if CK_MR > 6
    CK_FN(tile_rows_6),
#endif
#if CK_MR > 7
    CK_FN(tile_rows_7),
#endif
#if CK_MR > 8
    CK_FN(tile_rows_8),
#endif
#if CK_MR > 9
    CK_FN(tile_rows_9),
#endif
#if CK_MR > 10
    CK_FN(tile_rows_10),
#endif
#if CK_MR > 11
    CK_FN(tile_rows_11),
#endif
#if CK_MR > 12
    CK_FN(tile_rows_12),
#endif
#if CK_MR > 13
    CK_FN(tile_rows_13),
#endif
#if CK_MR > 14
    CK_FN(tile_rows_14),
#endif
#if CK_MR > 15
    CK_FN(tile_rows_15),
#endif
    CK_KERNEL_SYMBOL,
};
#if CK_MR > 16
#error "CK_MR above 16 needs more row-remainder kernels"
#endif


static inline int64_t ck_min64(int64_t a, int64_t b) { return a < b ? a : b; }

static inline int64_t ck_round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/*
 * 8 x 8 transposes for the packing of operands whose depth is their contiguous axis (dW = dY . colT
 * in a convolution's backward pass): eight 8-float loads, three rounds of shuffles, eight 8-float
 * stores, in place of 64 single-float stores. Plain data movement, so bit-identical to the scalar
 * loops.
 */
typedef float ck_v8 __attribute__((vector_size(32)));
typedef float ck_v8u __attribute__((vector_size(32), aligned(4)));

/* out[q][i] = r[i][q] for q, i < 8 (also the depthwise kernels' layout change). */
static inline __attribute__((always_inline)) void CK_FN(transpose8_regs)(const ck_v8 r[8], ck_v8 out[8]) {
    ck_v8 t[8], u[8];
#pragma clang loop unroll(full)
    for (int i = 0; i < 4; i++) {
        t[2 * i] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[2 * i + 1] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
#pragma clang loop unroll(full)
    for (int h = 0; h < 2; h++) {
        /* t[4h + 0..3] hold rows 4h..4h+3 interleaved in pairs. */
        u[4 * h + 0] = __builtin_shufflevector(t[4 * h + 0], t[4 * h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[4 * h + 1] = __builtin_shufflevector(t[4 * h + 0], t[4 * h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[4 * h + 2] = __builtin_shufflevector(t[4 * h + 1], t[4 * h + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[4 * h + 3] = __builtin_shufflevector(t[4 * h + 1], t[4 * h + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    /* u[q] (q < 4) holds columns q (low half) and q + 4 (high half) of rows 0..3; u[4 + q] of rows 4..7. */
#pragma clang loop unroll(full)
    for (int q = 0; q < 4; q++) {
        out[q] = __builtin_shufflevector(u[q], u[4 + q], 0, 1, 2, 3, 8, 9, 10, 11);
        out[q + 4] = __builtin_shufflevector(u[q], u[4 + q], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/* out[q][i] = in[i][q] for q, i < 8: in[i] at src + i * ld (8 floats each). */
static inline __attribute__((always_inline)) void CK_FN(transpose8)(const float *src, ptrdiff_t ld, ck_v8 out[8]) {
    ck_v8 r[8];
#pragma clang loop unroll(full)
    for (int i = 0; i < 8; i++) r[i] = *(const ck_v8u *)(src + i * ld);
    CK_FN(transpose8_regs)(r, out);
}

/* Eight lines of `src` (`stride` apart, each read along depth 0..kc-1) into eight adjacent
   columns of a panel `width` floats wide: panel[k * width + r] = src[r * stride + k]. The A pack
   (lines = rows, width MR) and the B pack (lines = columns, width NR) share it. */
static inline void CK_FN(pack8_by_depth)(const float *src, ptrdiff_t stride, int64_t kc, float *panel, int64_t width) {
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) {
        ck_v8 out[8];
        CK_FN(transpose8)(src + k, stride, out);
#pragma clang loop unroll(full)
        for (int q = 0; q < 8; q++) *(ck_v8u *)(panel + (k + q) * width) = out[q];
    }
    for (int64_t r = 0; r < 8; r++)
        for (int64_t kk = k; kk < kc; kk++) panel[kk * width + r] = src[r * stride + kk];
}

/* Packs rows [i0, i0 + mc) x depth [p0, p0 + kc) of a strided A into MR-row panels, zero rows past m. */
static void CK_FN(pack_a_block)(int64_t m, const float *src, ptrdiff_t rs, ptrdiff_t cs, int64_t i0,
                                int64_t mc, int64_t p0, int64_t kc, float *restrict dst) {
    for (int64_t ir = 0; ir < mc; ir += CK_MR) {
        float *panel = dst + ir * kc;
        int64_t rows = ck_min64(CK_MR, m - (i0 + ir));
        if (rows < CK_MR) memset(panel, 0, sizeof(float) * (size_t)(kc * CK_MR));
        int64_t i = 0;
        if (cs == 1) {
            /* Groups of 8 rows, 8 depths at a time: panel[k][i .. i+7] from rows i .. i+7. */
            for (; i + 8 <= rows; i += 8) CK_FN(pack8_by_depth)(src + (i0 + ir + i) * rs + p0, rs, kc, panel + i, CK_MR);
#if CK_MR % 8 != 0
            /* A group of MR mod 8 rows (the tile's last rows): rows past `rows` read as zero. */
            if (i + (CK_MR % 8) == CK_MR && rows == CK_MR) {
                enum { W = CK_MR % 8 };
                const float *row = src + (i0 + ir + i) * rs + p0;
                int64_t k = 0;
                for (; k + 8 <= kc; k += 8) {
                    float block[8][8];
#pragma clang loop unroll(full)
                    for (int r = 0; r < 8; r++)
                        *(ck_v8u *)block[r] = r < W ? *(const ck_v8u *)(row + r * rs + k) : (ck_v8){0};
                    ck_v8 out[8];
                    CK_FN(transpose8)(&block[0][0], 8, out);
#pragma clang loop unroll(full)
                    for (int q = 0; q < 8; q++) memcpy(panel + (k + q) * CK_MR + i, &out[q], sizeof(float) * W);
                }
                for (int64_t r = 0; r < W; r++)
                    for (int64_t kk = k; kk < kc; kk++) panel[kk * CK_MR + i + r] = row[r * rs + kk];
                i += W;
            }
#endif
        }
        for (; i < rows; i++) {
            const float *row = src + (i0 + ir + i) * rs + p0 * cs;
            if (cs == 1) {
                for (int64_t k = 0; k < kc; k++) panel[k * CK_MR + i] = row[k];
            } else {
                for (int64_t k = 0; k < kc; k++) panel[k * CK_MR + i] = row[k * cs];
            }
        }
    }
}

/* Packs depth [p0, p0 + kc) x columns [j0, j0 + nc) of a strided B into NR-column panels. */
static void CK_FN(pack_b_block)(int64_t n, const float *src, ptrdiff_t rs, ptrdiff_t cs, int64_t j0,
                                int64_t nc, int64_t p0, int64_t kc, float *restrict dst) {
    for (int64_t jr = 0; jr < nc; jr += CK_NR) {
        float *panel = dst + jr * kc;
        int64_t cols = ck_min64(CK_NR, n - (j0 + jr));
        const float *base = src + p0 * rs + (j0 + jr) * cs;
        if (cs == 1 && cols == CK_NR) {
            for (int64_t k = 0; k < kc; k++) memcpy(panel + k * CK_NR, base + k * rs, sizeof(float) * CK_NR);
        } else if (rs == 1) {
            if (cols < CK_NR) memset(panel, 0, sizeof(float) * (size_t)(kc * CK_NR));
            int64_t j = 0;
            /* Groups of 8 columns, 8 depths at a time (see transpose8). */
            for (; j + 8 <= cols; j += 8) CK_FN(pack8_by_depth)(base + j * cs, cs, kc, panel + j, CK_NR);
            for (; j < cols; j++) {
                const float *column = base + j * cs;
                for (int64_t k = 0; k < kc; k++) panel[k * CK_NR + j] = column[k];
            }
        } else {
            for (int64_t k = 0; k < kc; k++) {
                float *out = panel + k * CK_NR;
                const float *row = base + k * rs;
                int64_t j = 0;
                for (; j < cols; j++) out[j] = row[j * cs];
                for (; j < CK_NR; j++) out[j] = 0;
            }
        }
    }
}

/*
 * Packs depth [p0, p0 + kc) x columns [j0, j0 + nc) of the implicit im2col matrix of one image:
 * row k = (ic, kh, kw), column j = (oh, ow). A panel's columns are cut into runs sharing one
 * output row; which input row a run reads depends only on kh, and which columns are inside the
 * image only on kw, so both are tabulated once per panel (kernels up to CK_TAB wide) and the
 * per-k work is a zero fill plus one unit- or constant-stride copy per run, with no division.
 */
#define CK_TAB 11

/* o[t] = src[t] for t in [lo, hi), hi - lo <= NR. An ISA file may define a masked version; the
   default copies whole vectors and then single floats. */
#ifndef CK_COPY_RUN
#define CK_COPY_RUN(o, src, lo, hi)                                                       \
    do {                                                                                  \
        int32_t t_ = (lo);                                                                \
        for (; t_ + CK_VL <= (hi); t_ += CK_VL) ck_storeu((o) + t_, ck_loadu((src) + t_)); \
        for (; t_ < (hi); t_++) (o)[t_] = (src)[t_];                                      \
    } while (0)
#endif
#define CK_RUNS (CK_NR + 1)

/*
 * Packs rows [i0, i0 + mc) x depth [p0, p0 + kc) of a CK_OPERAND_PIXEL_ROWS A into MR-row panels.
 * A panel's pixels are cut into runs that share one output row of one image; a run is contiguous
 * in every column k (a shifted view of the phase planes), so each k costs one short copy per run.
 */
static void CK_FN(pack_a_pixel_rows)(int64_t m, const ck_operand *a, int64_t i0, int64_t mc, int64_t p0,
                                     int64_t kc, float *restrict dst) {
    const int64_t *offsets = a->offsets + p0;
    for (int64_t ir = 0; ir < mc; ir += CK_MR) {
        float *panel = dst + ir * kc;
        const int64_t first = i0 + ir, rows = ck_min64(CK_MR, m - first);
        if (rows < CK_MR) memset(panel, 0, sizeof(float) * (size_t)(kc * CK_MR));
        int64_t run_base[CK_MR];
        int32_t run_at[CK_MR + 1];
        int runs = 0;
        for (int64_t t = 0; t < rows;) {
            const int64_t i = first + t, image = i / a->plane, p = i % a->plane;
            const int64_t y = p / a->width, x = p % a->width;
            const int64_t len = ck_min64(a->width - x, rows - t);
            run_base[runs] = image * a->image_stride + y * a->pitch + x;
            run_at[runs] = (int32_t)t;
            runs++;
            t += len;
        }
        run_at[runs] = (int32_t)rows;
        for (int64_t k = 0; k < kc; k++) {
            float *out = panel + k * CK_MR;
            const float *src = a->data + offsets[k];
            for (int r = 0; r < runs; r++) {
                const float *s = src + run_base[r] - run_at[r];
                CK_COPY_RUN(out, s, run_at[r], run_at[r + 1]);
            }
        }
    }
}



typedef struct {
    int64_t row[CK_TAB][CK_RUNS];      /* ih * iw of the run's input row, or -1 outside the image */
    int32_t lo[CK_TAB][CK_RUNS];       /* valid run positions [lo, hi) for this kw */
    int32_t hi[CK_TAB][CK_RUNS];
    int64_t col[CK_TAB][CK_RUNS];      /* input column of run position 0 for this kw */
} ck_im2col_tables;

static void CK_FN(im2col_row_entry)(const ck_im2col *g, const int64_t *run_oh, int runs, int64_t kh,
                                    int64_t *row) {
    for (int r = 0; r < runs; r++) {
        const int64_t ih = run_oh[r] * g->sh - g->pt + kh * g->dh;
        row[r] = ih < 0 || ih >= g->ih ? -1 : ih * g->iw;
    }
}

static void CK_FN(im2col_col_entry)(const ck_im2col *g, const int64_t *run_ow, const int64_t *run_len, int runs,
                                    int64_t kw, int32_t *lo, int32_t *hi, int64_t *col) {
    for (int r = 0; r < runs; r++) {
        const int64_t base = run_ow[r] * g->sw + kw * g->dw - g->pl, len = run_len[r];
        /* valid t: 0 <= base + t * sw < iw */
        int64_t t_lo = base >= 0 ? 0 : (-base + g->sw - 1) / g->sw;
        int64_t t_hi = base > g->iw - 1 ? 0 : (g->iw - 1 - base) / g->sw + 1;
        if (t_lo > len) t_lo = len;
        if (t_hi > len) t_hi = len;
        if (t_hi < t_lo) t_hi = t_lo;
        lo[r] = (int32_t)t_lo;
        hi[r] = (int32_t)t_hi;
        col[r] = base;
    }
}

static void CK_FN(pack_b_im2col)(const ck_im2col *g, const float *image, int64_t j0, int64_t nc,
                                 int64_t p0, int64_t kc, float *restrict dst) {
    const int64_t n = g->oh * g->ow, khw = g->kh * g->kw, plane_size = g->ih * g->iw, sw = g->sw;
    const int tabled = g->kh <= CK_TAB && g->kw <= CK_TAB;
    ck_im2col_tables tab;
    for (int64_t jr = 0; jr < nc; jr += CK_NR) {
        float *panel = dst + jr * kc;
        const int64_t first = j0 + jr;
        const int64_t cols = ck_min64(CK_NR, n - first);
        int64_t run_oh[CK_RUNS], run_ow[CK_RUNS], run_len[CK_RUNS], run_at[CK_RUNS];
        int runs = 0;
        for (int64_t j = 0; j < cols;) {
            const int64_t col = first + j, oh = col / g->ow, ow = col % g->ow;
            const int64_t len = ck_min64(g->ow - ow, cols - j);
            run_oh[runs] = oh; run_ow[runs] = ow; run_len[runs] = len; run_at[runs] = j;
            runs++;
            j += len;
        }
        if (tabled) {
            for (int64_t kh = 0; kh < g->kh; kh++) CK_FN(im2col_row_entry)(g, run_oh, runs, kh, tab.row[kh]);
            for (int64_t kw = 0; kw < g->kw; kw++)
                CK_FN(im2col_col_entry)(g, run_ow, run_len, runs, kw, tab.lo[kw], tab.hi[kw], tab.col[kw]);
        }
        int64_t ic = p0 / khw, kh = (p0 / g->kw) % g->kh, kw = p0 % g->kw;
        for (int64_t k = 0; k < kc; k++) {
            float *out = panel + k * CK_NR;
            const float *plane = image + ic * plane_size;
            int64_t th = kh, tw = kw;
            if (!tabled) {
                th = tw = 0;
                CK_FN(im2col_row_entry)(g, run_oh, runs, kh, tab.row[0]);
                CK_FN(im2col_col_entry)(g, run_ow, run_len, runs, kw, tab.lo[0], tab.hi[0], tab.col[0]);
            }
#pragma clang loop unroll(full)
            for (int v = 0; v < CK_NV; v++) ck_storeu(out + v * CK_VL, (ck_vec){0});
            for (int r = 0; r < runs; r++) {
                const int64_t row = tab.row[th][r];
                const int32_t lo = tab.lo[tw][r], hi = tab.hi[tw][r];
                if (row < 0 || lo >= hi) continue;
                float *o = out + run_at[r];
                const float *src = plane + row + tab.col[tw][r];
                if (sw == 1) {
                    CK_COPY_RUN(o, src, lo, hi);
                } else if (sw == 2) {
                    /* 8 outputs from 16 consecutive floats while those stay inside the input row
                       (src[i] is in the row for i < in_row): a stem's packing was mostly this loop. */
                    const int64_t in_row = g->iw - tab.col[tw][r];
                    int32_t t = lo;
                    for (; t + 8 <= hi && 2 * (int64_t)t + 16 <= in_row; t += 8) {
                        const ck_v8 a = *(const ck_v8u *)(src + 2 * t), b = *(const ck_v8u *)(src + 2 * t + 8);
                        *(ck_v8u *)(o + t) = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
                    }
                    for (; t < hi; t++) o[t] = src[2 * t];
                } else {
                    for (int32_t t = lo; t < hi; t++) o[t] = src[t * sw];
                }
            }
            if (++kw == g->kw) {
                kw = 0;
                if (++kh == g->kh) { kh = 0; ic++; }
            }
        }
    }
}

size_t CK_FN(f32_gemm_scratch_bytes)(void) {
    size_t floats = (size_t)CK_MC * CK_KC + (size_t)CK_KC * CK_NC + (size_t)CK_MR * CK_NR + 64;
    return floats * sizeof(float);
}

ck_gemm_blocking CK_FN(f32_gemm_blocking)(void) {
    ck_gemm_blocking b = {CK_MR, CK_NR, CK_MC, CK_KC, CK_NC};
    return b;
}

void CK_FN(f32_pack_a)(int64_t m, int64_t k, const float *src, ptrdiff_t rs, ptrdiff_t cs, float *dst) {
    const int64_t mpad = ck_round_up(m, CK_MR);
    for (int64_t p0 = 0; p0 < k; p0 += CK_KC) {
        int64_t kc = ck_min64(CK_KC, k - p0);
        CK_FN(pack_a_block)(m, src, rs, cs, 0, mpad, p0, kc, dst + p0 * mpad);
    }
}

void CK_FN(f32_pack_b)(int64_t k, int64_t n, const float *src, ptrdiff_t rs, ptrdiff_t cs, float *dst) {
    const int64_t npad = ck_round_up(n, CK_NR);
    for (int64_t p0 = 0; p0 < k; p0 += CK_KC) {
        int64_t kc = ck_min64(CK_KC, k - p0);
        CK_FN(pack_b_block)(n, src, rs, cs, 0, npad, p0, kc, dst + p0 * npad);
    }
}

/*
 * Epilogue and store of a partial tile computed into `tile` (MR x NR, row stride NR). The
 * branches sit outside the loops: a per-element `if (residual)` would vectorise into masked
 * loads from a NULL pointer, which take a fault assist on every row.
 */
static void CK_FN(store_edge)(const ck_gemm_call *call, const float *tile, int64_t i0, int64_t j0,
                              int64_t rows, int64_t cols, int last) {
    const ck_epilogue *e = &call->epilogue;
    const ptrdiff_t rsc = call->rsc, csc = call->csc;
    const int clip = last && e->act == CK_ACT_CLIP;
    const float lo = clip ? e->lo : -__builtin_inff(), hi = clip ? e->hi : __builtin_inff();
    const float *col_bias = last && e->bias_kind == CK_BIAS_PER_COLUMN ? e->bias + j0 : NULL;
    for (int64_t i = 0; i < rows; i++) {
        const float *t = tile + i * CK_NR;
        float *c = call->c + (i0 + i) * rsc + j0 * csc;
        const float *r = last && e->residual ? e->residual + (i0 + i) * rsc + j0 * csc : NULL;
        if (!last) {
            for (int64_t j = 0; j < cols; j++) c[j * csc] = t[j];
        } else if (e->bias_kind == CK_BIAS_PER_ROW) {
            const float rb = e->bias[i0 + i];
            if (r) for (int64_t j = 0; j < cols; j++) c[j * csc] = ck_clamp1(t[j] + rb + r[j * csc], lo, hi);
            else for (int64_t j = 0; j < cols; j++) c[j * csc] = ck_clamp1(t[j] + rb, lo, hi);
        } else if (col_bias) {
            if (r) for (int64_t j = 0; j < cols; j++) c[j * csc] = ck_clamp1(t[j] + col_bias[j] + r[j * csc], lo, hi);
            else for (int64_t j = 0; j < cols; j++) c[j * csc] = ck_clamp1(t[j] + col_bias[j], lo, hi);
        } else {
            if (r) for (int64_t j = 0; j < cols; j++) c[j * csc] = ck_clamp1(t[j] + r[j * csc], lo, hi);
            else for (int64_t j = 0; j < cols; j++) c[j * csc] = ck_clamp1(t[j], lo, hi);
        }
    }
}

void CK_FN(f32_gemm)(const ck_gemm_call *in_call, void *scratch) {
    /* A residual that is C itself is C's initial value: accumulate into it instead, since the
       partial sums of earlier depth blocks overwrite C before the epilogue would read it. */
    ck_gemm_call aliased;
    const ck_gemm_call *call = in_call;
    if (in_call->epilogue.residual == in_call->c && !in_call->accumulate) {
        aliased = *in_call;
        aliased.accumulate = 1;
        aliased.epilogue.residual = NULL;
        call = &aliased;
    }
    const int64_t m = call->m, n = call->n, k = call->k;
    const int64_t m1 = ck_min64(call->m1, m), n1 = ck_min64(call->n1, n);
    if (call->m0 >= m1 || call->n0 >= n1) return;
    const int64_t mpad = ck_round_up(m, CK_MR), npad = ck_round_up(n, CK_NR);
    float *abuf = (float *)scratch;
    float *bbuf = abuf + (size_t)CK_MC * CK_KC;
    float *tile = bbuf + (size_t)CK_KC * CK_NC;
    const ck_epilogue *e = &call->epilogue;
    const int full_store_ok = call->csc == 1;
    for (int64_t jc = call->n0; jc < n1; jc += CK_NC) {
        const int64_t nc = ck_min64(CK_NC, n1 - jc);
        int64_t p0 = 0;
        do {
            const int64_t kc = ck_min64(CK_KC, k - p0);
            const int first = p0 == 0, last = p0 + kc >= k;
            const float *bblk;
            const int64_t *boff = NULL;
            if (call->b.kind == CK_OPERAND_SHIFTED) {
                bblk = call->b.data + jc;
                boff = call->b.offsets + p0;
            } else if (call->b.kind == CK_OPERAND_PACKED) {
                bblk = call->b.data + p0 * npad + jc * kc;
            } else if (call->b.kind == CK_OPERAND_IM2COL) {
                CK_FN(pack_b_im2col)(call->b.conv, call->b.data, jc, ck_round_up(nc, CK_NR), p0, kc, bbuf);
                bblk = bbuf;
            } else {
                CK_FN(pack_b_block)(n, call->b.data, call->b.rs, call->b.cs, jc, ck_round_up(nc, CK_NR), p0, kc, bbuf);
                bblk = bbuf;
            }
            for (int64_t ic = call->m0; ic < m1; ic += CK_MC) {
                const int64_t mc = ck_min64(CK_MC, m1 - ic);
                const float *ablk;
                if (call->a.kind == CK_OPERAND_PACKED) {
                    ablk = call->a.data + p0 * mpad + ic * kc;
                } else if (call->a.kind == CK_OPERAND_PIXEL_ROWS) {
                    CK_FN(pack_a_pixel_rows)(m, &call->a, ic, ck_round_up(mc, CK_MR), p0, kc, abuf);
                    ablk = abuf;
                } else {
                    CK_FN(pack_a_block)(m, call->a.data, call->a.rs, call->a.cs, ic, ck_round_up(mc, CK_MR), p0, kc, abuf);
                    ablk = abuf;
                }
                /* Row tile outer, columns inner: the A micro-panel stays in L1 and each row tile
                   writes MR sequential streams. Measured against the BLIS order (B micro-panel
                   outer): 1.75x faster on shallow, store-bound products (16->96 pointwise at
                   112x112), equal or better on deep ones (GEMM 1024^3, resnet18 3x3 stages). */
                for (int64_t ir = 0; ir < mc; ir += CK_MR) {
                    for (int64_t jr = 0; jr < nc; jr += CK_NR) {
                        const int64_t j = jc + jr, cols = ck_min64(CK_NR, n1 - j);
                        const float *bp = boff ? bblk + jr : bblk + jr * kc;
                        const int64_t i = ic + ir, rows = ck_min64(CK_MR, m1 - i);
                        const float *ap = ablk + ir * kc;
                        const int load_c = !first || call->accumulate;
                        float *cp = call->c + i * call->rsc + j * call->csc;
                        if (cols == CK_NR && full_store_ok) {
                            ck_tile_epilogue te;
                            const ck_tile_epilogue *tep = NULL;
                            if (last) {
                                te.row_bias = e->bias_kind == CK_BIAS_PER_ROW ? e->bias + i : NULL;
                                te.col_bias = e->bias_kind == CK_BIAS_PER_COLUMN ? e->bias + j : NULL;
                                te.residual = e->residual ? e->residual + i * call->rsc + j : NULL;
                                te.ldr = call->rsc;
                                te.clip = e->act == CK_ACT_CLIP;
                                te.lo = e->lo;
                                te.hi = e->hi;
                                tep = &te;
                            }
                            CK_FN(tiles)[rows](kc, ap, bp, boff, cp, call->rsc, load_c, tep);
                        } else {
                            if (load_c) {
                                for (int64_t r = 0; r < rows; r++)
                                    for (int64_t s = 0; s < CK_NR; s++)
                                        tile[r * CK_NR + s] = s < cols ? cp[r * call->rsc + s * call->csc] : 0;
                            }
                            CK_FN(tiles)[rows](kc, ap, bp, boff, tile, CK_NR, load_c, NULL);
                            CK_FN(store_edge)(call, tile, i, j, rows, cols, last);
                        }
                    }
                }
            }
            p0 += kc;
        } while (p0 < k);
    }
}
