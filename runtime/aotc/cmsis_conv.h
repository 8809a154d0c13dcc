/* CONV_2D int8 on Helium through CMSIS-NN's own GEMM, with the im2col specialised by aotc.
 *
 * arm_convolve_s8 (Helium path) gathers the windows of 4 output pixels into a buffer of rows of
 * aligned_rhs_cols bytes (rhs_cols rounded up to 4) and hands them to arm_nn_mat_mult_nt_t_s8, which
 * does all the arithmetic. Its gather copies one input pixel (in_c bytes) per call of arm_memcpy_s8,
 * which dominates when in_c is small (the first layer of a vision model: about 400 instructions per
 * output pixel with 3 channels). This kernel gathers whole kernel rows (k_w * in_c contiguous bytes)
 * where they lie inside the image, then makes the same GEMM calls with the same arguments, so the
 * results are CMSIS-NN's, bit for bit, in the same raster order of 4-pixel groups. The m55 backend
 * uses it for kernel rows of at most 48 bytes (GATHER_ROW_BYTES in aotc/backends/cmsis_nn.py).
 * Needs CMSIS-NN's headers (arm_nnsupportfunctions.h) on the include path. */
#ifndef AOTC_RUNTIME_CMSIS_CONV_H
#define AOTC_RUNTIME_CMSIS_CONV_H
#include "common.h"
#include "arm_nnsupportfunctions.h"
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#endif

/* n bytes from src to dst (apart); one predicated 16-byte step per 16 bytes on Helium */
static inline void aotc_cmsis_copy(int8_t *dst, const int8_t *src, int32_t n)
{
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    for (; n > 0; n -= 16) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        vstrbq_p_s8(dst, vldrbq_z_s8(src, p), p);
        dst += 16;
        src += 16;
    }
#else
    memcpy(dst, src, (size_t)n);
#endif
}

static inline void aotc_cmsis_fill(int8_t *dst, int8_t v, int32_t n)
{
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    const int8x16_t vv = vdupq_n_s8(v);
    for (; n > 0; n -= 16) {
        vstrbq_p_s8(dst, vv, vctp8q((uint32_t)n));
        dst += 16;
    }
#else
    memset(dst, v, (size_t)n);
#endif
}

#define AOTC_CMSIS_CONV_MAX_KH 16

/* geom: in_h, in_w, in_c, out_h, out_w, out_c, k_h (<= AOTC_CMSIS_CONV_MAX_KH), k_w, stride_h, stride_w,
 * pad_h, pad_w, dil_h, dil_w; q: input offset, output offset, activation min, activation max (as in
 * cmsis_nn_conv_params). The input rows of a window are found once per output row, so the pixel loop
 * keeps few values live (most calls are not inlined: the bands of patch-based execution). */
AOTC_KERNEL void aotc_cmsis_conv_s8(const int8_t *in, const int8_t *filter, const int32_t *bias, int8_t *out,
                                    const int32_t *mult, const int32_t *shift, int8_t *buf,
                                    const int32_t *geom, const int32_t *q)
{
    const int32_t in_h = geom[0], in_w = geom[1], in_c = geom[2], out_h = geom[3], out_w = geom[4];
    const int32_t out_c = geom[5], k_h = geom[6], k_w = geom[7], stride_h = geom[8], stride_w = geom[9];
    const int32_t pad_h = geom[10], pad_w = geom[11], dil_h = geom[12], dil_w = geom[13];
    const int32_t rhs_cols = k_h * k_w * in_c;
    const int32_t aligned = (rhs_cols + 3) & ~3;
    const int32_t row_bytes = k_w * in_c;
    const int8_t pad_value = (int8_t)-q[0];
    const int8_t *src_rows[AOTC_CMSIS_CONV_MAX_KH];
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    const mve_pred16_t row_pred = vctp8q((uint32_t)row_bytes);
    const int8x16_t pad_vec = vdupq_n_s8(pad_value);
#endif
    int8_t *col = buf;
    int32_t rows = 0;
    int32_t y, x, ky, kx;
    for (y = 0; y < out_h; ++y) {
        for (ky = 0; ky < k_h; ++ky) {   /* NULL: a row of padding */
            const int32_t iy = y * stride_h - pad_h + ky * dil_h;
            src_rows[ky] = (iy >= 0 && iy < in_h) ? in + iy * in_w * in_c : NULL;
        }
        for (x = 0; x < out_w; ++x) {
            const int32_t base_x = x * stride_w - pad_w;
            int8_t *dst = col;
            if (dil_w == 1 && base_x >= 0 && base_x + k_w <= in_w) {   /* whole kernel rows */
                const int32_t skip = base_x * in_c;
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
                if (row_bytes <= 16) {   /* one predicated load and store a row */
                    for (ky = 0; ky < k_h; ++ky, dst += row_bytes) {
                        const int8x16_t v = src_rows[ky] != NULL ? vldrbq_z_s8(src_rows[ky] + skip, row_pred) : pad_vec;
                        vstrbq_p_s8(dst, v, row_pred);
                    }
                } else
#endif
                for (ky = 0; ky < k_h; ++ky, dst += row_bytes) {
                    if (src_rows[ky] != NULL) {
                        aotc_cmsis_copy(dst, src_rows[ky] + skip, row_bytes);
                    } else {
                        aotc_cmsis_fill(dst, pad_value, row_bytes);
                    }
                }
            } else {
                for (ky = 0; ky < k_h; ++ky) {
                    for (kx = 0; kx < k_w; ++kx, dst += in_c) {
                        const int32_t ix = base_x + kx * dil_w;
                        if (src_rows[ky] != NULL && ix >= 0 && ix < in_w) {
                            aotc_cmsis_copy(dst, src_rows[ky] + ix * in_c, in_c);
                        } else {
                            aotc_cmsis_fill(dst, pad_value, in_c);
                        }
                    }
                }
            }
            col += aligned;
            if (++rows == 4) {
                (void)arm_nn_mat_mult_nt_t_s8(buf, filter, bias, out, mult, shift, rows, out_c, rhs_cols, q[0], q[1],
                                              q[2], q[3], out_c, aligned);
                out += rows * out_c;
                rows = 0;
                col = buf;
            }
        }
    }
    if (rows != 0) {
        (void)arm_nn_mat_mult_nt_t_s8(buf, filter, bias, out, mult, shift, rows, out_c, rhs_cols, q[0], q[1], q[2],
                                      q[3], out_c, aligned);
    }
}

#endif
