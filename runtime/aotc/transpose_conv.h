/* TRANSPOSE_CONV (NHWC), bit-exact with LiteRT's reference kernels.
 *
 * The reference scatters: out[b][iy*sh - pad_h + fy][ix*sw - pad_w + fx][oc] +=
 * (in[b][iy][ix][ic] + in_off) * w[oc][fy][fx][ic] into a zeroed accumulator buffer, then adds the bias,
 * requantizes per channel and clamps. These kernels gather: for each output element they visit the
 * contributing inputs in the reference's order (iy, ix, ic ascending), accumulating in a register of the
 * reference's accumulator type, so no output-sized scratch buffer is needed and the sums are the same
 * (modulo 2^32 for int32, in the same order for float). */
#ifndef AOTC_RUNTIME_TRANSPOSE_CONV_H
#define AOTC_RUNTIME_TRANSPOSE_CONV_H
#include "common.h"

#define AOTC_TCONV_GEOMETRY                                                                         \
    int batches, int in_h, int in_w, int in_c, int out_h, int out_w, int out_c, int k_h, int k_w,  \
        int stride_h, int stride_w, int pad_h, int pad_w

/* Inputs iy contributing to output row oy: oy + pad_h - fy == iy * stride_h with 0 <= fy < k_h. */
#define AOTC_TCONV_RANGE(o, pad, k, stride, in_size, lo, hi, t)                                      \
    const int t = (o) + (pad);                                                                      \
    const int lo = t - (k) + 1 <= 0 ? 0 : (t - (k) + 1 + (stride) - 1) / (stride);                  \
    const int hi = AOTC_MIN((in_size) - 1, t / (stride));

#define AOTC_TCONV_LOOPS(IN_T, ACC_T, TERM, FINISH)                                                 \
    int b, oy, ox, oc, iy, ix, ic;                                                                  \
    for (b = 0; b < batches; ++b) {                                                                 \
        for (oy = 0; oy < out_h; ++oy) {                                                            \
            AOTC_TCONV_RANGE(oy, pad_h, k_h, stride_h, in_h, iy0, iy1, ty)                          \
            for (ox = 0; ox < out_w; ++ox) {                                                        \
                AOTC_TCONV_RANGE(ox, pad_w, k_w, stride_w, in_w, ix0, ix1, tx)                      \
                const size_t o = (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) \
                                 * (size_t)out_c;                                                   \
                for (oc = 0; oc < out_c; ++oc) {                                                    \
                    ACC_T acc = 0;                                                                  \
                    for (iy = iy0; iy <= iy1; ++iy) {                                               \
                        const int fy = ty - iy * stride_h;                                          \
                        for (ix = ix0; ix <= ix1; ++ix) {                                           \
                            const int fx = tx - ix * stride_w;                                      \
                            const IN_T *src = in + (((size_t)b * (size_t)in_h + (size_t)iy) * (size_t)in_w \
                                                    + (size_t)ix) * (size_t)in_c;                   \
                            const int8_t *wp = w + (((size_t)oc * (size_t)k_h + (size_t)fy) * (size_t)k_w \
                                                    + (size_t)fx) * (size_t)in_c;                   \
                            for (ic = 0; ic < in_c; ++ic) {                                         \
                                TERM                                                                \
                            }                                                                       \
                        }                                                                           \
                    }                                                                               \
                    FINISH                                                                          \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }

AOTC_KERNEL void aotc_transpose_conv_s8(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out,
                                        AOTC_TCONV_GEOMETRY, int32_t in_off, int32_t out_off,
                                        const int32_t *mult, const int32_t *shift,
                                        int32_t act_min, int32_t act_max)
{
    /* int32 wrap-around as in the reference's int32 scratch, without signed-overflow UB */
    AOTC_TCONV_LOOPS(int8_t, uint32_t,
                     acc += (uint32_t)(((int32_t)src[ic] + in_off) * (int32_t)wp[ic]);, {
        int32_t v;
        if (bias) {
            acc += (uint32_t)bias[oc];
        }
        v = aotc_mbqm((int32_t)acc, mult[oc], shift[oc]) + out_off;
        out[o + (size_t)oc] = (int8_t)AOTC_CLAMP(v, act_min, act_max);
    })
}

/* int16 activations, int8 filter, int64 accumulator and bias (LiteRT's default for 16x8) */
AOTC_KERNEL void aotc_transpose_conv_s16(const int16_t *in, const int8_t *w, const int64_t *bias,
                                         int16_t *out, AOTC_TCONV_GEOMETRY, const int32_t *mult,
                                         const int32_t *shift, int32_t act_min, int32_t act_max)
{
    AOTC_TCONV_LOOPS(int16_t, int64_t, acc += (int64_t)((int32_t)src[ic] * (int32_t)wp[ic]);, {
        int32_t v;
        if (bias) {
            acc += bias[oc];
        }
        v = aotc_mbqm64(acc, mult[oc], shift[oc]);
        out[o + (size_t)oc] = (int16_t)AOTC_CLAMP(v, act_min, act_max);
    })
}

/* int16 activations with quantized_bias_type INT32: int32 accumulator and bias, int32 requantization */
AOTC_KERNEL void aotc_transpose_conv_s16_b32(const int16_t *in, const int8_t *w, const int32_t *bias,
                                             int16_t *out, AOTC_TCONV_GEOMETRY, const int32_t *mult,
                                             const int32_t *shift, int32_t act_min, int32_t act_max)
{
    AOTC_TCONV_LOOPS(int16_t, uint32_t, acc += (uint32_t)((int32_t)src[ic] * (int32_t)wp[ic]);, {
        int32_t v;
        if (bias) {
            acc += (uint32_t)bias[oc];
        }
        v = aotc_mbqm((int32_t)acc, mult[oc], shift[oc]);
        out[o + (size_t)oc] = (int16_t)AOTC_CLAMP(v, act_min, act_max);
    })
}

AOTC_KERNEL void aotc_transpose_conv_f32(const float *in, const float *w, const float *bias, float *out,
                                         AOTC_TCONV_GEOMETRY, float act_min, float act_max)
{
    int b, oy, ox, oc, iy, ix, ic;
    for (b = 0; b < batches; ++b) {
        for (oy = 0; oy < out_h; ++oy) {
            AOTC_TCONV_RANGE(oy, pad_h, k_h, stride_h, in_h, iy0, iy1, ty)
            for (ox = 0; ox < out_w; ++ox) {
                AOTC_TCONV_RANGE(ox, pad_w, k_w, stride_w, in_w, ix0, ix1, tx)
                const size_t o = (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox)
                                 * (size_t)out_c;
                for (oc = 0; oc < out_c; ++oc) {
                    float acc = 0.0f;
                    for (iy = iy0; iy <= iy1; ++iy) {
                        const int fy = ty - iy * stride_h;
                        for (ix = ix0; ix <= ix1; ++ix) {
                            const int fx = tx - ix * stride_w;
                            const float *src = in + (((size_t)b * (size_t)in_h + (size_t)iy) * (size_t)in_w
                                                     + (size_t)ix) * (size_t)in_c;
                            const float *wp = w + (((size_t)oc * (size_t)k_h + (size_t)fy) * (size_t)k_w
                                                   + (size_t)fx) * (size_t)in_c;
                            for (ic = 0; ic < in_c; ++ic) {
                                const float p = src[ic] * wp[ic];
                                acc += p;
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    acc = AOTC_MAX(acc, act_min);
                    out[o + (size_t)oc] = AOTC_MIN(acc, act_max);
                }
            }
        }
    }
}

#undef AOTC_TCONV_LOOPS

#endif
