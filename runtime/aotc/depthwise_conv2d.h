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

/* int8 with depth_mult == 1 or in_c == 1, vectorised over output channels. bias_eff[o] = bias[o] + in_off * sum_taps w[.][.][o] (mod 2^32)
 * serves pixels whose taps all lie inside the image; border pixels add in_off per tap. Sums are formed
 * modulo 2^32, equal to TFLite's int32 total whenever that is defined. */
#define AOTC_DW_BLOCK 8
AOTC_KERNEL void aotc_depthwise_conv2d_s8_fast(const int8_t *in, const int8_t *w, const int32_t *bias,
                                               int8_t *out, AOTC_DW_GEOMETRY, int32_t in_off, int32_t out_off,
                                               const int32_t *bias_eff, const int32_t *mult, const int32_t *shift,
                                               int32_t act_min, int32_t act_max)
{
    const int out_c = in_c * depth_mult;
    int32_t accs[AOTC_DW_BLOCK];
    int b, oy, ox, o, j, fy, fx;
    for (b = 0; b < batches; ++b) {
        for (oy = 0; oy < out_h; ++oy) {
            const int y0 = oy * stride_h - pad_h;
            int fy0, fy1;
            aotc_conv_tap_range(y0, in_h, dil_h, k_h, &fy0, &fy1);
            for (ox = 0; ox < out_w; ++ox) {
                const int x0 = ox * stride_w - pad_w;
                int fx0, fx1, full;
                int8_t *dst = out + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c;
                aotc_conv_tap_range(x0, in_w, dil_w, k_w, &fx0, &fx1);
                full = fy0 == 0 && fy1 == k_h && fx0 == 0 && fx1 == k_w;
                for (o = 0; o < out_c; o += AOTC_DW_BLOCK) {
                    const int n = AOTC_MIN(AOTC_DW_BLOCK, out_c - o);
                    const int32_t off = full ? 0 : in_off;
#if AOTC_HAVE_MVE
                    int32x4_t a[AOTC_DW_BLOCK / 4];
                    for (j = 0; j < AOTC_DW_BLOCK / 4; ++j) {
                        const mve_pred16_t p = vctp32q((uint32_t)AOTC_MAX(n - 4 * j, 0));
                        a[j] = full ? vldrwq_z_s32(bias_eff + o + 4 * j, p)
                                    : (bias ? vldrwq_z_s32(bias + o + 4 * j, p) : vdupq_n_s32(0));
                    }
#else
                    for (j = 0; j < n; ++j) {
                        accs[j] = full ? bias_eff[o + j] : (bias ? bias[o + j] : 0);
                    }
#endif
                    for (fy = fy0; fy < fy1; ++fy) {
                        const size_t iy = (size_t)(y0 + fy * dil_h);
                        for (fx = fx0; fx < fx1; ++fx) {
                            const size_t ix = (size_t)(x0 + fx * dil_w);
                            const int8_t *src = in + (((size_t)b * (size_t)in_h + iy) * (size_t)in_w + ix) * (size_t)in_c;
                            const int8_t *wp = w + ((size_t)fy * (size_t)k_w + (size_t)fx) * (size_t)out_c + (size_t)o;
#if AOTC_HAVE_MVE
                            if (depth_mult == 1) {
                                for (j = 0; j < AOTC_DW_BLOCK / 4; ++j) {
                                    const mve_pred16_t p = vctp32q((uint32_t)AOTC_MAX(n - 4 * j, 0));
                                    const int32x4_t xv = vaddq_n_s32(vldrbq_z_s32(src + o + 4 * j, p), off);
                                    a[j] = vaddq_s32(a[j], vmulq_s32(xv, vldrbq_z_s32(wp + 4 * j, p)));
                                }
                            } else { /* in_c == 1: one input value for every output channel */
                                const int32_t xv = (int32_t)src[0] + off;
                                for (j = 0; j < AOTC_DW_BLOCK / 4; ++j) {
                                    const mve_pred16_t p = vctp32q((uint32_t)AOTC_MAX(n - 4 * j, 0));
                                    a[j] = vmlaq_n_s32(a[j], vldrbq_z_s32(wp + 4 * j, p), xv);
                                }
                            }
#else
                            for (j = 0; j < n; ++j) {
                                const int32_t xv = (int32_t)src[depth_mult == 1 ? o + j : 0] + off;
                                accs[j] = (int32_t)((uint32_t)accs[j] + (uint32_t)((int32_t)wp[j] * xv));
                            }
#endif
                        }
                    }
#if AOTC_HAVE_MVE
                    for (j = 0; j < AOTC_DW_BLOCK / 4; ++j) {
                        vstrwq_s32(accs + 4 * j, a[j]);
                    }
#endif
                    aotc_requant_s8_row(accs, dst + o, mult + o, shift + o, n, out_off, act_min, act_max);
                }
            }
        }
    }
}
#undef AOTC_DW_BLOCK
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
