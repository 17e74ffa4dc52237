/*
 * CKernels: per-ISA float32 GEMM and depthwise-convolution kernels behind a run-time dispatcher.
 *
 * Every entry point takes a ck_isa; the caller (Linalg) chooses it once with ck_isa_best() and
 * may force another one. An ISA the CPU lacks falls back to CK_ISA_GENERIC, so no call can
 * execute an unsupported instruction. All matrices are float32; strides are in elements.
 */
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { CK_ISA_GENERIC = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 } ck_isa;

/** 1 when this CPU (and build) can run the variant. */
int ck_isa_supported(ck_isa isa);
/** The fastest supported variant. */
ck_isa ck_isa_best(void);

/** Register tile and cache blocking of one variant. */
typedef struct {
    int mr, nr;       /* micro-kernel tile: rows of A, columns of B */
    int mc, kc, nc;   /* cache blocks; mc % mr == 0, nc % nr == 0 */
} ck_gemm_blocking;

/** The blocking the variant uses (the variant actually run, after fallback). */
ck_gemm_blocking ck_gemm_blocking_for(ck_isa isa);
/** The variant that runs when isa is requested (isa, or generic when unsupported). */
ck_isa ck_isa_effective(ck_isa isa);

typedef enum { CK_BIAS_NONE = 0, CK_BIAS_PER_ROW = 1, CK_BIAS_PER_COLUMN = 2 } ck_bias_kind;
typedef enum { CK_ACT_NONE = 0, CK_ACT_CLIP = 1 } ck_activation_kind;

/**
 * Applied once per output element after the full reduction, in this order:
 * v = acc (+ C if accumulate) + bias + residual; v = min(max(v, lo), hi) when act == CK_ACT_CLIP.
 * ReLU is CLIP with lo = 0, hi = +inf. The residual has the output's strides.
 */
typedef struct {
    ck_bias_kind bias_kind;
    const float *bias;
    const float *residual;
    ck_activation_kind act;
    float lo, hi;
} ck_epilogue;

typedef enum {
    CK_OPERAND_STRIDED = 0,  /* element (r, c) at data[r * rs + c * cs] */
    CK_OPERAND_PACKED = 1,   /* produced by ck_f32_pack_a / ck_f32_pack_b with the same isa */
    CK_OPERAND_IM2COL = 2,   /* B only: the im2col matrix of one NCHW image, never materialised */
    CK_OPERAND_SHIFTED = 3,  /* B only: element (k, j) at data[offsets[k] + j], unpacked; every row
                                must be readable up to column n rounded up to nr */
    CK_OPERAND_PIXEL_ROWS = 4 /* A only: row i is output pixel i of a stack of images, element (i, k) at
                                 data[offsets[k] + (i / plane) * image_stride + (i % plane) / width * pitch
                                 + (i % plane) % width]: the transposed shifted view, packed per call */
} ck_operand_kind;

/** Convolution geometry of one group, for CK_OPERAND_IM2COL (B is [cin*kh*kw x oh*ow]). */
typedef struct {
    int64_t cin, ih, iw, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow;
} ck_im2col;

typedef struct {
    ck_operand_kind kind;
    const float *data;  /* strided: element (0,0); packed: the packed buffer; im2col: image [cin][ih][iw] */
    ptrdiff_t rs, cs;
    const ck_im2col *conv;
    const int64_t *offsets;  /* CK_OPERAND_SHIFTED: k row offsets; CK_OPERAND_PIXEL_ROWS: k column offsets */
    int64_t width, pitch, plane, image_stride;  /* CK_OPERAND_PIXEL_ROWS: output width, grid pitch,
                                                   pixels per image, floats between images */
} ck_operand;

/**
 * C[M x N] (element (i, j) at c[i * rsc + j * csc]) = A[M x K] . B[K x N], epilogue applied.
 * Only the block rows [m0, m1) and columns [n0, n1) are computed, so threads can split the
 * output; m0 must be a multiple of mr when A is packed, n0 a multiple of nr when B is packed.
 * Each element is reduced in the same order whatever the block split (bit-identical results).
 * scratch must hold ck_f32_gemm_scratch_bytes(isa) bytes, 64-byte aligned.
 */
typedef struct {
    int64_t m, n, k;
    ck_operand a, b;
    float *c;
    ptrdiff_t rsc, csc;
    int accumulate;
    ck_epilogue epilogue;
    int64_t m0, m1, n0, n1;
} ck_gemm_call;

size_t ck_f32_gemm_scratch_bytes(ck_isa isa);
void ck_f32_gemm(ck_isa isa, const ck_gemm_call *call, void *scratch);

/** Floats needed to pack a rows x cols A (or B) operand for isa. */
size_t ck_f32_packed_a_count(ck_isa isa, int64_t m, int64_t k);
size_t ck_f32_packed_b_count(ck_isa isa, int64_t k, int64_t n);
/** Packs a whole operand once (e.g. constant weights); src is CK_OPERAND_STRIDED. */
void ck_f32_pack_a(ck_isa isa, int64_t m, int64_t k, const float *src, ptrdiff_t rs, ptrdiff_t cs, float *dst);
void ck_f32_pack_b(ck_isa isa, int64_t k, int64_t n, const float *src, ptrdiff_t rs, ptrdiff_t cs, float *dst);

/**
 * Depthwise convolution (one filter per channel, multiplier 1) of channels [c0, c1) of one NCHW
 * image: out[c][oh][ow] = epilogue(sum_{kh,kw} in[c][oh*sh - pt + kh*dh][ow*sw - pl + kw*dw] *
 * w[c][kh][kw]), zero padding. The epilogue's bias is per channel (CK_BIAS_PER_ROW) and its
 * residual has the output's layout. scratch holds ck_f32_depthwise_scratch_floats floats.
 */
size_t ck_f32_depthwise_scratch_floats(const ck_im2col *geometry);
void ck_f32_depthwise(ck_isa isa, const ck_im2col *geometry, int64_t c0, int64_t c1,
                      const float *input, const float *weights, float *output,
                      const ck_epilogue *epilogue, float *scratch);

/**
 * Convolution as a GEMM on a shifted view of zero-padded, stride-phase-split planes.
 *
 * ck_f32_phase_planes writes, for channels [c0, c1) of an NCHW image (ih x iw), sh*sw phase
 * planes of qh x qw each (channel-major, then phase py*sw + px): phase (py, px) holds padded
 * pixel (yy*sh + py, xx*sw + px), where the padded image has the input at (pt, pl) and zeros
 * elsewhere (also past its bottom/right edge). With qw = ceil(pw / sw) and
 * B(k = (ic, kh, kw), u) = planes[(ic*sh*sw + ((kh*dh) % sh)*sw + (kw*dw) % sw)*qh*qw
 *                                + ((kh*dh) / sh)*qw + (kw*dw) / sw + u],
 * the product W . B is the convolution on a virtual grid of oh x qw columns (u = y*qw + x,
 * x < ow valid). ck_f32_conv_compact then writes virtual columns [u0, u1) of rows [0, m) (row
 * stride ldv, grid pitch pw = qw) to the real output (m x oh*ow, also the residual's layout)
 * with the epilogue (bias per row). Both are plain C, shared by every variant.
 */
void ck_f32_phase_planes(const float *input, int64_t c0, int64_t c1, int64_t ih, int64_t iw, int64_t pt,
                         int64_t pl, int64_t sh, int64_t sw, int64_t qh, int64_t qw, float *planes);
void ck_f32_conv_compact(const float *virtual_out, ptrdiff_t ldv, int64_t m, int64_t oh, int64_t ow, int64_t pw,
                         int64_t u0, int64_t u1, float *output, const ck_epilogue *epilogue);

/**
 * The transposed compaction of the pixel-rows path: ct holds output pixels as rows (row stride
 * ldct) and channels as columns. Writes pixels [i0, i1) of channels [0, m) to the NCHW output
 * (pixel i is pixel i % plane of image i / plane; image stride out_image floats, the residual
 * has the output's layout) with the epilogue (bias per channel, CK_BIAS_PER_ROW), in the
 * order of the GEMM epilogue: (v + bias) + residual, then the clamp. Plain C.
 */
void ck_f32_conv_compact_pixel_rows(const float *ct, ptrdiff_t ldct, int64_t m, int64_t plane, int64_t out_image,
                                    int64_t i0, int64_t i1, float *output, const ck_epilogue *epilogue);

/**
 * Winograd F(4x4, 3x3) for 3x3, stride-1, dilation-1 convolutions (template/winograd_template.h
 * says how). One image is ih x iw in, oh x ow out, with zero padding pt (top) and pl (left); it
 * has th rows of tw tiles of 4x4 output pixels. Tile rows are numbered across the batch
 * (r = image * th + ty). c is the channel count of the transformed matrices: input channels for
 * the input transform, output channels for the output transform.
 *
 * ck_f32_winograd_input writes V[xi][ch][t] = (B^T d B)[xi] for channels [c0, c1) and tile rows
 * [r0, r1) at v[(xi * c + ch) * pitch + (r - row_base) * tw + tx]; pitch must leave 8 floats of
 * slack after the chunk's last tile, and rows of one channel must be transformed in increasing
 * order by one caller. scratch holds ck_f32_winograd_input_scratch_floats floats.
 * ck_f32_winograd_output reads M (same layout, c = output channels) and writes the pixels of
 * output channels [k0, k1) and tile rows [r0, r1) with the epilogue (bias per channel; the
 * residual has the output's layout and may be the output itself).
 */
typedef struct {
    int64_t c, ih, iw, oh, ow, pt, pl, th, tw;
} ck_winograd;

size_t ck_f32_winograd_input_scratch_floats(const ck_winograd *g);
void ck_f32_winograd_input(ck_isa isa, const ck_winograd *g, const float *input, int64_t image_stride,
                           int64_t c0, int64_t c1, int64_t r0, int64_t r1, int64_t row_base,
                           float *v, int64_t pitch, float *scratch);
void ck_f32_winograd_output(ck_isa isa, const ck_winograd *g, const float *m, int64_t pitch, int64_t k0,
                            int64_t k1, int64_t r0, int64_t r1, int64_t row_base, float *output,
                            int64_t image_stride, const ck_epilogue *epilogue);

/** Pooling window geometry over one NCHW plane (ih x iw in, oh x ow out). */
typedef struct {
    int64_t ih, iw, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow;
} ck_pool;

/**
 * Max pooling of planes [p0, p1) (each ih*iw in, oh*ow out, consecutive): out[y][x] = the
 * maximum of in[y*sh - pt + ky*dh][x*sw - pl + kx*dw] over the taps inside the plane (padding
 * is ignored; -inf when no tap is inside), taken tap by tap in (ky, kx) order as
 * best = v >= best ? v : best, so a NaN input is skipped. Plain C (compiled for AVX-512 too).
 */
void ck_f32_max_pool(const ck_pool *geometry, int64_t p0, int64_t p1, const float *input, float *output);

/**
 * Makes the C allocator keep freed memory for reuse: with glibc, blocks of any size come from
 * the heap instead of fresh mmap regions, and the heap is never trimmed. Returns 1 when the
 * policy is in effect, 0 when this C library does not support it (nothing changes then).
 */
int ck_retain_freed_memory(void);

/** A spin-wait hint (x86 `pause`, arm64 `yield`) for the worker pool's short busy waits. */
void ck_cpu_relax(void);

#ifdef __cplusplus
}
#endif
#endif
