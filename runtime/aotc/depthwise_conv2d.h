/* DEPTHWISE_CONV_2D (NHWC input, [1][k_h][k_w][out_c] filter), bit-exact with TFLite's reference kernels:
 *   out[b][y][x][c*mult + m] = act(requant(sum_{fy,fx} w[fy][fx][c*mult + m] * (in[b][iy][ix][c] + in_off)
 *                                          + bias[c*mult + m]) + out_off)
 * with iy = y*stride_h - pad_h + fy*dil_h (likewise ix); taps outside the image are skipped. */
#ifndef AOTC_RUNTIME_DEPTHWISE_CONV2D_H
#define AOTC_RUNTIME_DEPTHWISE_CONV2D_H
#include "common.h"
#include "conv2d.h" /* aotc_conv_tap_range */

#define AOTC_DW_LOOPS(ACC_T, IN_T, OUT_T, TERM, FINISH)                                             \
    const int out_c = in_c * depth_mult;                                                           \
    int b, oy, ox, c, m, fy, fx;                                                                   \
    for (b = 0; b < batches; ++b) {                                                                \
        for (oy = 0; oy < out_h; ++oy) {                                                           \
            const int y0 = oy * stride_h - pad_h;                                                  \
            int fy0, fy1;                                                                          \
            aotc_conv_tap_range(y0, in_h, dil_h, k_h, &fy0, &fy1);                                 \
            for (ox = 0; ox < out_w; ++ox) {                                                       \
                const int x0 = ox * stride_w - pad_w;                                              \
                int fx0, fx1;                                                                      \
                OUT_T *dst = out + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c; \
                aotc_conv_tap_range(x0, in_w, dil_w, k_w, &fx0, &fx1);                             \
                for (c = 0; c < in_c; ++c) {                                                       \
                    for (m = 0; m < depth_mult; ++m) {                                             \
                        const int o = c * depth_mult + m;                                          \
                        ACC_T acc = 0;                                                             \
                        for (fy = fy0; fy < fy1; ++fy) {                                           \
                            const int iy = y0 + fy * dil_h;                                        \
                            for (fx = fx0; fx < fx1; ++fx) {                                       \
                                const int ix = x0 + fx * dil_w;                                    \
                                const IN_T xv = in[(((size_t)b * (size_t)in_h + (size_t)iy) * (size_t)in_w + (size_t)ix) * (size_t)in_c + (size_t)c]; \
                                const W_T wv = w[((size_t)fy * (size_t)k_w + (size_t)fx) * (size_t)out_c + (size_t)o]; \
                                acc += TERM;                                                       \
                            }                                                                      \
                        }                                                                          \
                        FINISH                                                                     \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

#define AOTC_DW_GEOMETRY                                                                            \
    int batches, int in_h, int in_w, int in_c, int out_h, int out_w, int depth_mult, int k_h,     \
        int k_w, int stride_h, int stride_w, int dil_h, int dil_w, int pad_h, int pad_w

#define W_T int8_t
/* int8 activations, int8 filter (zero point 0), int32 bias, per-channel double-rounding requant. */
AOTC_KERNEL void aotc_depthwise_conv2d_s8(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out,
                                          AOTC_DW_GEOMETRY, int32_t in_off, int32_t out_off,
                                          const int32_t *mult, const int32_t *shift,
                                          int32_t act_min, int32_t act_max)
{
    AOTC_DW_LOOPS(int32_t, int8_t, int8_t, (int32_t)wv * ((int32_t)xv + in_off), {
        int32_t v;
        if (bias) {
            acc += bias[o];
        }
        v = aotc_mbqm(acc, mult[o], shift[o]) + out_off;
        dst[o] = (int8_t)AOTC_CLAMP(v, act_min, act_max);
    })
}

/* 16x8: int16 activations (zero point 0), int8 filter, int64 bias and accumulator. */
AOTC_KERNEL void aotc_depthwise_conv2d_s16(const int16_t *in, const int8_t *w, const int64_t *bias,
                                           int16_t *out, AOTC_DW_GEOMETRY, const int32_t *mult,
                                           const int32_t *shift, int32_t act_min, int32_t act_max)
{
    AOTC_DW_LOOPS(int64_t, int16_t, int16_t, (int64_t)((int32_t)wv * (int32_t)xv), {
        int32_t v;
        if (bias) {
            acc += bias[o];
        }
        v = aotc_mbqm64(acc, mult[o], shift[o]);
        dst[o] = (int16_t)AOTC_CLAMP(v, act_min, act_max);
    })
}
#undef W_T

#define W_T float
/* float32: total over (fy, fx) in order, then + bias, then the activation clamp. */
AOTC_KERNEL void aotc_depthwise_conv2d_f32(const float *in, const float *w, const float *bias, float *out,
                                           AOTC_DW_GEOMETRY, float act_min, float act_max)
{
    AOTC_DW_LOOPS(float, float, float, xv * wv, {
        acc += bias ? bias[o] : 0.0f;
        dst[o] = AOTC_CLAMP(acc, act_min, act_max);
    })
}
#undef W_T
#undef AOTC_DW_LOOPS

#endif
