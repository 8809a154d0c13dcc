/* CONV_2D (NHWC input, OHWI filter), bit-exact with TFLite's reference kernels:
 *   out[b][y][x][o] = act(requant(sum_{fy,fx,i} w[o][fy][fx][i] * (in[b][iy][ix][g*wc + i] + in_off)
 *                                 + bias[o]) + out_off)
 * where iy = y*stride_h - pad_h + fy*dil_h (likewise ix), taps outside the image are skipped and
 * g = o / (out_c / groups) is the group of output channel o (groups = in_c / wc). */
#ifndef AOTC_RUNTIME_CONV2D_H
#define AOTC_RUNTIME_CONV2D_H
#include "common.h"

/* The filter taps [*start, *end) whose input coordinate origin + k*dil lies in [0, size). */
static inline void aotc_conv_tap_range(int origin, int size, int dil, int taps, int *start, int *end)
{
    int s = 0, e;
    if (origin < 0) {
        s = (-origin + dil - 1) / dil;
    }
    e = size - origin > 0 ? (size - origin + dil - 1) / dil : 0;
    *start = AOTC_MIN(s, taps);
    *end = AOTC_MIN(e, taps);
}

#define AOTC_CONV2D_LOOPS(ACC_T, IN_T, OUT_T, TERM, FINISH)                                           \
    const int groups = in_c / wc;                                                                    \
    const int per_group = out_c / groups;                                                            \
    int b, oy, ox, o, fy, fx, i;                                                                     \
    for (b = 0; b < batches; ++b) {                                                                  \
        for (oy = 0; oy < out_h; ++oy) {                                                             \
            const int y0 = oy * stride_h - pad_h;                                                    \
            int fy0, fy1;                                                                            \
            aotc_conv_tap_range(y0, in_h, dil_h, k_h, &fy0, &fy1);                                   \
            for (ox = 0; ox < out_w; ++ox) {                                                         \
                const int x0 = ox * stride_w - pad_w;                                                \
                int fx0, fx1;                                                                        \
                OUT_T *dst = out + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c; \
                aotc_conv_tap_range(x0, in_w, dil_w, k_w, &fx0, &fx1);                               \
                for (o = 0; o < out_c; ++o) {                                                        \
                    const int cbase = (o / per_group) * wc;                                          \
                    ACC_T acc = 0;                                                                   \
                    for (fy = fy0; fy < fy1; ++fy) {                                                 \
                        const int iy = y0 + fy * dil_h;                                              \
                        for (fx = fx0; fx < fx1; ++fx) {                                             \
                            const int ix = x0 + fx * dil_w;                                          \
                            const IN_T *src = in + (((size_t)b * (size_t)in_h + (size_t)iy) * (size_t)in_w + (size_t)ix) * (size_t)in_c + (size_t)cbase; \
                            const int8_t *wp = w + (((size_t)o * (size_t)k_h + (size_t)fy) * (size_t)k_w + (size_t)fx) * (size_t)wc; \
                            for (i = 0; i < wc; ++i) {                                               \
                                acc += TERM;                                                         \
                            }                                                                        \
                        }                                                                            \
                    }                                                                                \
                    FINISH                                                                           \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    }

#define AOTC_CONV2D_GEOMETRY                                                                          \
    int batches, int in_h, int in_w, int in_c, int out_h, int out_w, int out_c, int k_h, int k_w,   \
        int wc, int stride_h, int stride_w, int dil_h, int dil_w, int pad_h, int pad_w

/* int8 activations, int8 filter (zero point 0), int32 bias, per-channel double-rounding requant. */
AOTC_KERNEL void aotc_conv2d_s8(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out,
                                AOTC_CONV2D_GEOMETRY, int32_t in_off, int32_t out_off,
                                const int32_t *mult, const int32_t *shift, int32_t act_min, int32_t act_max)
{
    AOTC_CONV2D_LOOPS(int32_t, int8_t, int8_t, (int32_t)wp[i] * ((int32_t)src[i] + in_off), {
        int32_t v;
        if (bias) {
            acc += bias[o];
        }
        v = aotc_mbqm(acc, mult[o], shift[o]) + out_off;
        dst[o] = (int8_t)AOTC_CLAMP(v, act_min, act_max);
    })
}

/* 16x8: int16 activations (zero point 0), int8 filter, int64 bias and accumulator. */
AOTC_KERNEL void aotc_conv2d_s16(const int16_t *in, const int8_t *w, const int64_t *bias, int16_t *out,
                                 AOTC_CONV2D_GEOMETRY, const int32_t *mult, const int32_t *shift,
                                 int32_t act_min, int32_t act_max)
{
    AOTC_CONV2D_LOOPS(int64_t, int16_t, int16_t, (int64_t)((int32_t)wp[i] * (int32_t)src[i]), {
        int32_t v;
        if (bias) {
            acc += bias[o];
        }
        v = aotc_mbqm64(acc, mult[o], shift[o]);
        dst[o] = (int16_t)AOTC_CLAMP(v, act_min, act_max);
    })
}

/* 16x8 with an int32 bias (quantized_bias_type INT32): TFLite accumulates in int32 then. */
AOTC_KERNEL void aotc_conv2d_s16_b32(const int16_t *in, const int8_t *w, const int32_t *bias, int16_t *out,
                                     AOTC_CONV2D_GEOMETRY, const int32_t *mult, const int32_t *shift,
                                     int32_t act_min, int32_t act_max)
{
    AOTC_CONV2D_LOOPS(int32_t, int16_t, int16_t, (int32_t)wp[i] * (int32_t)src[i], {
        int32_t v;
        if (bias) {
            acc += bias[o];
        }
        v = aotc_mbqm(acc, mult[o], shift[o]);
        dst[o] = (int16_t)AOTC_CLAMP(v, act_min, act_max);
    })
}

#undef AOTC_CONV2D_LOOPS

/* float32: total over (fy, fx, i) in order, then + bias, then the activation clamp. */
AOTC_KERNEL void aotc_conv2d_f32(const float *in, const float *w, const float *bias, float *out,
                                 AOTC_CONV2D_GEOMETRY, float act_min, float act_max)
{
    const int groups = in_c / wc;
    const int per_group = out_c / groups;
    int b, oy, ox, o, fy, fx, i;
    for (b = 0; b < batches; ++b) {
        for (oy = 0; oy < out_h; ++oy) {
            const int y0 = oy * stride_h - pad_h;
            int fy0, fy1;
            aotc_conv_tap_range(y0, in_h, dil_h, k_h, &fy0, &fy1);
            for (ox = 0; ox < out_w; ++ox) {
                const int x0 = ox * stride_w - pad_w;
                int fx0, fx1;
                float *dst = out + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c;
                aotc_conv_tap_range(x0, in_w, dil_w, k_w, &fx0, &fx1);
                for (o = 0; o < out_c; ++o) {
                    const int cbase = (o / per_group) * wc;
                    float total = 0.0f;
                    for (fy = fy0; fy < fy1; ++fy) {
                        const int iy = y0 + fy * dil_h;
                        for (fx = fx0; fx < fx1; ++fx) {
                            const int ix = x0 + fx * dil_w;
                            const float *src = in + (((size_t)b * (size_t)in_h + (size_t)iy) * (size_t)in_w + (size_t)ix) * (size_t)in_c
                                               + (size_t)cbase;
                            const float *wp = w + (((size_t)o * (size_t)k_h + (size_t)fy) * (size_t)k_w + (size_t)fx) * (size_t)wc;
                            for (i = 0; i < wc; ++i) {
                                total += src[i] * wp[i];
                            }
                        }
                    }
                    total += bias ? bias[o] : 0.0f;
                    dst[o] = AOTC_CLAMP(total, act_min, act_max);
                }
            }
        }
    }
}

#endif
