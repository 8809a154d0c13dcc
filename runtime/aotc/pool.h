/* AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D (NHWC), bit-exact with TFLite's reference kernels. Only
 * the window elements inside the image take part; the quantized average rounds half away from zero:
 * (sum + n/2) / n for sum > 0, else (sum - n/2) / n, with n the number of in-bounds elements. */
#ifndef AOTC_RUNTIME_POOL_H
#define AOTC_RUNTIME_POOL_H
#include "common.h"
#include <float.h>

#define AOTC_POOL_GEOMETRY                                                                          \
    int batches, int in_h, int in_w, int ch, int out_h, int out_w, int f_h, int f_w, int stride_h, \
        int stride_w, int pad_h, int pad_w

#define AOTC_POOL_LOOPS(T, INIT, STEP, FINISH)                                                      \
    int b, oy, ox, c, fy, fx;                                                                      \
    for (b = 0; b < batches; ++b) {                                                                \
        for (oy = 0; oy < out_h; ++oy) {                                                           \
            const int y0 = oy * stride_h - pad_h;                                                  \
            const int fy0 = AOTC_MAX(0, -y0);                                                      \
            const int fy1 = AOTC_MIN(f_h, in_h - y0);                                              \
            for (ox = 0; ox < out_w; ++ox) {                                                       \
                const int x0 = ox * stride_w - pad_w;                                              \
                const int fx0 = AOTC_MAX(0, -x0);                                                  \
                const int fx1 = AOTC_MIN(f_w, in_w - x0);                                          \
                T *dst = out + (((size_t)b * (size_t)out_h + (size_t)oy) * (size_t)out_w + (size_t)ox) * (size_t)ch; \
                for (c = 0; c < ch; ++c) {                                                         \
                    INIT                                                                           \
                    for (fy = fy0; fy < fy1; ++fy) {                                               \
                        for (fx = fx0; fx < fx1; ++fx) {                                           \
                            const T v = in[(((size_t)b * (size_t)in_h + (size_t)(y0 + fy)) * (size_t)in_w + (size_t)(x0 + fx)) \
                                            * (size_t)ch + (size_t)c];                     \
                            STEP                                                                   \
                        }                                                                          \
                    }                                                                              \
                    FINISH                                                                         \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

#define AOTC_POOL_AVG_INT(T)                                                                        \
    AOTC_POOL_LOOPS(T, int32_t acc = 0; int n = 0;, acc += v; ++n;, {                               \
        if (n > 0) {                                                                               \
            acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;                                 \
        }                                                                                          \
        dst[c] = (T)AOTC_CLAMP(acc, act_min, act_max);                                             \
    })

#define AOTC_POOL_MAX(T, LOWEST)                                                                    \
    AOTC_POOL_LOOPS(T, T mx = LOWEST;, mx = AOTC_MAX(mx, v);, {                                     \
        mx = AOTC_MAX(mx, act_min);                                                                \
        dst[c] = AOTC_MIN(mx, act_max);                                                            \
    })

AOTC_KERNEL void aotc_pool_avg_s8(const int8_t *in, int8_t *out, AOTC_POOL_GEOMETRY,
                                  int32_t act_min, int32_t act_max)
{
    AOTC_POOL_AVG_INT(int8_t)
}

AOTC_KERNEL void aotc_pool_avg_s16(const int16_t *in, int16_t *out, AOTC_POOL_GEOMETRY,
                                   int32_t act_min, int32_t act_max)
{
    AOTC_POOL_AVG_INT(int16_t)
}

AOTC_KERNEL void aotc_pool_avg_f32(const float *in, float *out, AOTC_POOL_GEOMETRY,
                                   float act_min, float act_max)
{
    AOTC_POOL_LOOPS(float, float total = 0.0f; float n = 0.0f;, total += v; n += 1.0f;, {
        const float avg = total / n;
        dst[c] = AOTC_CLAMP(avg, act_min, act_max);
    })
}

AOTC_KERNEL void aotc_pool_max_s8(const int8_t *in, int8_t *out, AOTC_POOL_GEOMETRY,
                                  int8_t act_min, int8_t act_max)
{
    AOTC_POOL_MAX(int8_t, INT8_MIN)
}

AOTC_KERNEL void aotc_pool_max_s16(const int16_t *in, int16_t *out, AOTC_POOL_GEOMETRY,
                                   int16_t act_min, int16_t act_max)
{
    AOTC_POOL_MAX(int16_t, INT16_MIN)
}

AOTC_KERNEL void aotc_pool_max_f32(const float *in, float *out, AOTC_POOL_GEOMETRY,
                                   float act_min, float act_max)
{
    AOTC_POOL_MAX(float, -FLT_MAX)
}

/* L2_POOL_2D (float32 only in LiteRT): sqrt(sum of squares / in-bounds count), then the clamp */
AOTC_KERNEL void aotc_pool_l2_f32(const float *in, float *out, AOTC_POOL_GEOMETRY,
                                  float act_min, float act_max)
{
    AOTC_POOL_LOOPS(float, float sum_sq = 0.0f; int n = 0;, sum_sq += v * v; ++n;, {
        const float l2 = sqrtf(sum_sq / (float)n);
        dst[c] = AOTC_CLAMP(l2, act_min, act_max);
    })
}

#undef AOTC_POOL_AVG_INT
#undef AOTC_POOL_MAX
#undef AOTC_POOL_LOOPS

#endif
