/* CONV_2D (NHWC input, OHWI filter), bit-exact with TFLite's reference kernels:
 *   out[b][y][x][o] = act(requant(sum_{fy,fx,i} w[o][fy][fx][i] * (in[b][iy][ix][g*wc + i] + in_off)
 *                                 + bias[o]) + out_off)
 * where iy = y*stride_h - pad_h + fy*dil_h (likewise ix), taps outside the image are skipped and
 * g = o / (out_c / groups) is the group of output channel o (groups = in_c / wc). */
#ifndef AOTC_RUNTIME_CONV2D_H
#define AOTC_RUNTIME_CONV2D_H
#include "common.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#define AOTC_HAVE_MVE 1
#else
#define AOTC_HAVE_MVE 0
#endif

#if AOTC_HAVE_MVE
/* aotc_mbqm on four lanes, bit-exact: vqrdmulh is gemmlowp's SaturatingRoundingDoublingHighMul and the
 * fixup (-1 for negative values) turns vrshl's round-half-up into RoundingDivideByPOT's half-away. */
static inline int32x4_t aotc_mbqm_x4(int32x4_t x, int32x4_t m, int32x4_t s)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t right = vminq_s32(s, zero);
    int32x4_t r = vqrdmulhq_s32(vshlq_s32(x, vmaxq_s32(s, zero)), m);
    r = vqaddq_s32(r, vshrq_n_s32(vandq_s32(r, right), 31));
    return vrshlq_s32(r, right);
}
#endif

/* dst[i] = clamp(mbqm(acc[i], mult[i], shift[i]) + out_off, lo, hi) for i < n. */
static inline void aotc_requant_s8_row(const int32_t *acc, int8_t *dst, const int32_t *mult, const int32_t *shift,
                                       int n, int32_t out_off, int32_t lo, int32_t hi)
{
#if AOTC_HAVE_MVE
    const int32x4_t vlo = vdupq_n_s32(lo), vhi = vdupq_n_s32(hi);
    int i;
    for (i = 0; i < n; i += 4) {
        const mve_pred16_t p = vctp32q((uint32_t)(n - i));
        int32x4_t v = aotc_mbqm_x4(vldrwq_z_s32(acc + i, p), vldrwq_z_s32(mult + i, p), vldrwq_z_s32(shift + i, p));
        v = vminq_s32(vmaxq_s32(vaddq_n_s32(v, out_off), vlo), vhi);
        vstrbq_p_s32(dst + i, v, p);
    }
#else
    int i;
    for (i = 0; i < n; ++i) {
        const int32_t v = aotc_mbqm(acc[i], mult[i], shift[i]) + out_off;
        dst[i] = (int8_t)AOTC_CLAMP(v, lo, hi);
    }
#endif
}

/* sum_i a[i] * b[i] over n int8 pairs (|a*b| <= 2^14: exact in int32 for n < 2^17; callers keep
 * n*2^15 < 2^31). Helium: 16 products per instruction; lanes wrap, so no undefined behaviour. */
static inline int32_t aotc_dot_s8(const int8_t *a, const int8_t *b, int n)
{
    int32_t acc = 0;
#if AOTC_HAVE_MVE
    while (n >= 16) {
        acc = vmladavaq_s8(acc, vldrbq_s8(a), vldrbq_s8(b));
        a += 16;
        b += 16;
        n -= 16;
    }
    if (n > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        acc = vmladavaq_p_s8(acc, vldrbq_z_s8(a, p), vldrbq_z_s8(b, p), p);
    }
#else
    int i;
    for (i = 0; i < n; ++i) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
#endif
    return acc;
}

/* acc[k] += sum_i a[i] * b[k * bstride + i] for k < 4 (four filters sharing one input run). */
static inline void aotc_dot4_s8(const int8_t *a, const int8_t *b, size_t bstride, int n, int32_t *acc)
{
#if AOTC_HAVE_MVE
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    const int8_t *b1 = b + bstride, *b2 = b1 + bstride, *b3 = b2 + bstride;
    while (n >= 16) {
        const int8x16_t va = vldrbq_s8(a);
        s0 = vmladavaq_s8(s0, va, vldrbq_s8(b));
        s1 = vmladavaq_s8(s1, va, vldrbq_s8(b1));
        s2 = vmladavaq_s8(s2, va, vldrbq_s8(b2));
        s3 = vmladavaq_s8(s3, va, vldrbq_s8(b3));
        a += 16;
        b += 16;
        b1 += 16;
        b2 += 16;
        b3 += 16;
        n -= 16;
    }
    if (n > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        const int8x16_t va = vldrbq_z_s8(a, p);
        s0 = vmladavaq_p_s8(s0, va, vldrbq_z_s8(b, p), p);
        s1 = vmladavaq_p_s8(s1, va, vldrbq_z_s8(b1, p), p);
        s2 = vmladavaq_p_s8(s2, va, vldrbq_z_s8(b2, p), p);
        s3 = vmladavaq_p_s8(s3, va, vldrbq_z_s8(b3, p), p);
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
#else
    int k;
    for (k = 0; k < 4; ++k) {
        acc[k] += aotc_dot_s8(a, b + (size_t)k * bstride, n);
    }
#endif
}

/* As aotc_dot_s8, also adding sum_i b[i] to *bsum. */
static inline int32_t aotc_dot_sum_s8(const int8_t *a, const int8_t *b, int n, int32_t *bsum)
{
    int32_t acc = 0, s = *bsum;
#if AOTC_HAVE_MVE
    while (n >= 16) {
        const int8x16_t vb = vldrbq_s8(b);
        acc = vmladavaq_s8(acc, vldrbq_s8(a), vb);
        s = vaddvaq_s8(s, vb);
        a += 16;
        b += 16;
        n -= 16;
    }
    if (n > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        const int8x16_t vb = vldrbq_z_s8(b, p);
        acc = vmladavaq_p_s8(acc, vldrbq_z_s8(a, p), vb, p);
        s = vaddvaq_p_s8(s, vb, p);
    }
#else
    int i;
    for (i = 0; i < n; ++i) {
        acc += (int32_t)a[i] * (int32_t)b[i];
        s += (int32_t)b[i];
    }
#endif
    *bsum = s;
    return acc;
}

/* sum_i a[i] * b[i] over n (int16, int8) pairs, in int64 (exact for any n). */
static inline int64_t aotc_dot_s16s8(const int16_t *a, const int8_t *b, int n)
{
    int64_t acc = 0;
#if AOTC_HAVE_MVE
    while (n >= 8) {
        acc = vmlaldavaq_s16(acc, vldrhq_s16(a), vldrbq_s16(b));
        a += 8;
        b += 8;
        n -= 8;
    }
    if (n > 0) {
        const mve_pred16_t p = vctp16q((uint32_t)n);
        acc = vmlaldavaq_p_s16(acc, vldrhq_z_s16(a, p), vldrbq_z_s16(b, p), p);
    }
#else
    int i;
    for (i = 0; i < n; ++i) {
        acc += (int64_t)((int32_t)a[i] * (int32_t)b[i]);
    }
#endif
    return acc;
}

/* The filter taps [*start, *end) whose input coordinate origin + k*dil lies in [0, size). aotc's op
 * checks (expect_window_fits) guarantee that size - origin + dil and origin + taps*dil fit in int. */
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

#define AOTC_CONV_BLOCK 16

/* int8 fast path, same arithmetic as aotc_conv2d_s8. The caller guarantees k_h*k_w*wc < 2^16 and passes
 * bias_eff[o] = bias[o] + in_off * sum(w[o]) (mod 2^32): pixels whose taps all lie inside the image
 * need only the int8 dot product; border pixels add in_off * (sum of the valid taps' weights).
 * The final sums are formed modulo 2^32, which equals TFLite's int32 total whenever that is defined. */
AOTC_KERNEL void aotc_conv2d_s8_fast(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out,
                                     AOTC_CONV2D_GEOMETRY, int32_t in_off, int32_t out_off,
                                     const int32_t *bias_eff, const int32_t *mult, const int32_t *shift,
                                     int32_t act_min, int32_t act_max)
{
    const int groups = in_c / wc;
    const int per_group = out_c / groups;
    const size_t ktot = (size_t)k_h * (size_t)k_w * (size_t)wc;
    const int merge = wc == in_c && dil_w == 1; /* the taps of one filter row are contiguous */
    int32_t accs[AOTC_CONV_BLOCK];
    int b, oy, ox, o, fy, fx;
    for (b = 0; b < batches; ++b) {
        for (oy = 0; oy < out_h; ++oy) {
            const int y0 = oy * stride_h - pad_h;
            int fy0, fy1;
            aotc_conv_tap_range(y0, in_h, dil_h, k_h, &fy0, &fy1);
            for (ox = 0; ox < out_w; ++ox) {
                const int x0 = ox * stride_w - pad_w;
                int fx0, fx1;
                int8_t *dst = out + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c;
                int full;
                aotc_conv_tap_range(x0, in_w, dil_w, k_w, &fx0, &fx1);
                full = fy0 == 0 && fy1 == k_h && fx0 == 0 && fx1 == k_w;
                o = 0;
                if (full && merge) {
                    /* interior pixel, filter rows contiguous: four output channels per input pass */
                    for (; o + 4 <= out_c && (o / per_group) == ((o + 3) / per_group); o += 4) {
                        const int j = o % AOTC_CONV_BLOCK;
                        const size_t cbase = (size_t)((o / per_group) * wc);
                        const int8_t *wo = w + (size_t)o * ktot;
                        int k;
                        accs[j] = accs[j + 1] = accs[j + 2] = accs[j + 3] = 0;
                        for (fy = 0; fy < k_h; ++fy) {
                            const size_t iy = (size_t)(y0 + fy * dil_h);
                            const int8_t *src = in + (((size_t)b * (size_t)in_h + iy) * (size_t)in_w + (size_t)x0) * (size_t)in_c + cbase;
                            aotc_dot4_s8(src, wo + (size_t)fy * (size_t)k_w * (size_t)wc, ktot, k_w * wc, accs + j);
                        }
                        for (k = 0; k < 4; ++k) {
                            accs[j + k] = (int32_t)((uint32_t)bias_eff[o + k] + (uint32_t)accs[j + k]);
                        }
                        if (j + 4 == AOTC_CONV_BLOCK || o + 4 == out_c) {
                            aotc_requant_s8_row(accs, dst + (o + 4 - (j + 4)), mult + (o + 4 - (j + 4)),
                                                shift + (o + 4 - (j + 4)), j + 4, out_off, act_min, act_max);
                        }
                    }
                }
                for (; o < out_c; ++o) {
                    const int j = o % AOTC_CONV_BLOCK;
                    const size_t cbase = (size_t)((o / per_group) * wc);
                    const int8_t *wo = w + (size_t)o * ktot;
                    int32_t dot = 0, wsum = 0;
                    uint32_t acc;
                    for (fy = fy0; fy < fy1; ++fy) {
                        const size_t iy = (size_t)(y0 + fy * dil_h);
                        const int8_t *wrow = wo + ((size_t)fy * (size_t)k_w + (size_t)fx0) * (size_t)wc;
                        const int8_t *row = in + ((size_t)b * (size_t)in_h + iy) * (size_t)in_w * (size_t)in_c + cbase;
                        if (merge) {
                            const int8_t *src = row + (size_t)(x0 + fx0) * (size_t)in_c;
                            const int n = (fx1 - fx0) * wc;
                            dot += full ? aotc_dot_s8(src, wrow, n) : aotc_dot_sum_s8(src, wrow, n, &wsum);
                        } else {
                            for (fx = fx0; fx < fx1; ++fx) {
                                const int8_t *src = row + (size_t)(x0 + fx * dil_w) * (size_t)in_c;
                                const int8_t *wp = wrow + (size_t)(fx - fx0) * (size_t)wc;
                                dot += full ? aotc_dot_s8(src, wp, wc) : aotc_dot_sum_s8(src, wp, wc, &wsum);
                            }
                        }
                    }
                    if (full) {
                        acc = (uint32_t)bias_eff[o] + (uint32_t)dot;
                    } else {
                        acc = (uint32_t)(bias ? bias[o] : 0) + (uint32_t)dot + (uint32_t)(in_off * wsum);
                    }
                    accs[j] = (int32_t)acc;
                    if (j == AOTC_CONV_BLOCK - 1 || o == out_c - 1) {
                        aotc_requant_s8_row(accs, dst + (o - j), mult + (o - j), shift + (o - j), j + 1, out_off,
                                            act_min, act_max);
                    }
                }
            }
        }
    }
}

/* 16x8 with an int64 bias: int64 dot products over contiguous channel runs. */
AOTC_KERNEL void aotc_conv2d_s16_fast(const int16_t *in, const int8_t *w, const int64_t *bias, int16_t *out,
                                      AOTC_CONV2D_GEOMETRY, const int32_t *mult, const int32_t *shift,
                                      int32_t act_min, int32_t act_max)
{
    const int groups = in_c / wc;
    const int per_group = out_c / groups;
    const size_t ktot = (size_t)k_h * (size_t)k_w * (size_t)wc;
    const int merge = wc == in_c && dil_w == 1;
    int b, oy, ox, o, fy, fx;
    for (b = 0; b < batches; ++b) {
        for (oy = 0; oy < out_h; ++oy) {
            const int y0 = oy * stride_h - pad_h;
            int fy0, fy1;
            aotc_conv_tap_range(y0, in_h, dil_h, k_h, &fy0, &fy1);
            for (ox = 0; ox < out_w; ++ox) {
                const int x0 = ox * stride_w - pad_w;
                int fx0, fx1;
                int16_t *dst = out + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)out_c;
                aotc_conv_tap_range(x0, in_w, dil_w, k_w, &fx0, &fx1);
                for (o = 0; o < out_c; ++o) {
                    const size_t cbase = (size_t)((o / per_group) * wc);
                    const int8_t *wo = w + (size_t)o * ktot;
                    int64_t acc = 0;
                    int32_t v;
                    for (fy = fy0; fy < fy1; ++fy) {
                        const size_t iy = (size_t)(y0 + fy * dil_h);
                        const int8_t *wrow = wo + ((size_t)fy * (size_t)k_w + (size_t)fx0) * (size_t)wc;
                        const int16_t *row = in + ((size_t)b * (size_t)in_h + iy) * (size_t)in_w * (size_t)in_c + cbase;
                        if (merge) {
                            acc += aotc_dot_s16s8(row + (size_t)(x0 + fx0) * (size_t)in_c, wrow, (fx1 - fx0) * wc);
                        } else {
                            for (fx = fx0; fx < fx1; ++fx) {
                                acc += aotc_dot_s16s8(row + (size_t)(x0 + fx * dil_w) * (size_t)in_c,
                                                      wrow + (size_t)(fx - fx0) * (size_t)wc, wc);
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[o];
                    }
                    v = aotc_mbqm64(acc, mult[o], shift[o]);
                    dst[o] = (int16_t)AOTC_CLAMP(v, act_min, act_max);
                }
            }
        }
    }
}

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
