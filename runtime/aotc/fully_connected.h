/* FULLY_CONNECTED: out[b][u] = act(sum_d (in[b][d] + in_off) * (w[u][d] + w_off) + bias[u]) */
#ifndef AOTC_RUNTIME_FULLY_CONNECTED_H
#define AOTC_RUNTIME_FULLY_CONNECTED_H
#include "common.h"
#include "conv2d.h" /* aotc_dot_s8 */

#define AOTC_FC_INT_BODY(ACC_T, IN_T, OUT_T, BIAS_T, REQUANT)                                   \
    int b, u, d;                                                                              \
    for (b = 0; b < batches; ++b) {                                                           \
        const IN_T *row = in + (size_t)b * (size_t)depth;                                     \
        for (u = 0; u < units; ++u) {                                                         \
            const int8_t *wrow = w + (size_t)u * (size_t)depth;                               \
            ACC_T acc = 0;                                                                    \
            int32_t v;                                                                        \
            for (d = 0; d < depth; ++d) {                                                     \
                acc += (ACC_T)((int32_t)row[d] + in_off) * (ACC_T)((int32_t)wrow[d] + w_off); \
            }                                                                                 \
            if (bias) {                                                                       \
                acc += (ACC_T)((const BIAS_T *)bias)[u];                                      \
            }                                                                                 \
            v = REQUANT + out_off;                                                            \
            out[(size_t)b * (size_t)units + (size_t)u] = (OUT_T)AOTC_CLAMP(v, act_min, act_max);              \
        }                                                                                     \
    }

/* int8 with both offsets zero (the lowering folds in_off * sum(w[u]) into the bias when w_off == 0):
 * a plain int8 dot product; the caller keeps depth < 2^16, the bias is added modulo 2^32. */
#define AOTC_FC_S8_DOT(REQUANT)                                                                    \
    if (in_off == 0 && w_off == 0 && depth < 65536) {                                             \
        int b, u;                                                                                 \
        for (b = 0; b < batches; ++b) {                                                           \
            const int8_t *row = in + (size_t)b * (size_t)depth;                                   \
            for (u = 0; u < units; ++u) {                                                         \
                uint32_t sum = (uint32_t)aotc_dot_s8(row, w + (size_t)u * (size_t)depth, depth);  \
                int32_t acc, v;                                                                   \
                if (bias) {                                                                       \
                    sum += (uint32_t)bias[u];                                                     \
                }                                                                                 \
                acc = (int32_t)sum;                                                               \
                v = REQUANT + out_off;                                                            \
                out[(size_t)b * (size_t)units + (size_t)u] = (int8_t)AOTC_CLAMP(v, act_min, act_max); \
            }                                                                                     \
        }                                                                                         \
        return;                                                                                   \
    }

AOTC_KERNEL void aotc_fully_connected_s8(const int8_t *in, const int8_t *w, const int32_t *bias,
                                         int8_t *out, int batches, int depth, int units,
                                         int32_t in_off, int32_t w_off, int32_t out_off,
                                         const int32_t *mult, const int32_t *shift,
                                         int32_t act_min, int32_t act_max)
{
    AOTC_FC_S8_DOT(aotc_mbqm(acc, mult[u], shift[u]))
    {
        AOTC_FC_INT_BODY(int32_t, int8_t, int8_t, int32_t, aotc_mbqm(acc, mult[u], shift[u]))
    }
}

AOTC_KERNEL void aotc_fully_connected_s8_fp(const int8_t *in, const int8_t *w, const int32_t *bias,
                                            int8_t *out, int batches, int depth, int units,
                                            int32_t in_off, int32_t w_off, int32_t out_off,
                                            const double *scale, int32_t act_min, int32_t act_max)
{
    AOTC_FC_S8_DOT(aotc_requant_fp(acc, scale[u]))
    {
        AOTC_FC_INT_BODY(int32_t, int8_t, int8_t, int32_t, aotc_requant_fp(acc, scale[u]))
    }
}

AOTC_KERNEL void aotc_fully_connected_s16(const int16_t *in, const int8_t *w, const int64_t *bias,
                                          int16_t *out, int batches, int depth, int units,
                                          int32_t in_off, int32_t w_off, int32_t out_off,
                                          const int32_t *mult, const int32_t *shift,
                                          int32_t act_min, int32_t act_max)
{
    AOTC_FC_INT_BODY(int64_t, int16_t, int16_t, int64_t, aotc_mbqm64(acc, mult[u], shift[u]))
}

AOTC_KERNEL void aotc_fully_connected_s16_fp(const int16_t *in, const int8_t *w, const int64_t *bias,
                                             int16_t *out, int batches, int depth, int units,
                                             int32_t in_off, int32_t w_off, int32_t out_off,
                                             const double *scale, int32_t act_min, int32_t act_max)
{
    AOTC_FC_INT_BODY(int64_t, int16_t, int16_t, int64_t, aotc_requant_fp(acc, scale[u]))
}

AOTC_KERNEL void aotc_fully_connected_s16_b32(const int16_t *in, const int8_t *w, const int32_t *bias,
                                              int16_t *out, int batches, int depth, int units,
                                              int32_t in_off, int32_t w_off, int32_t out_off,
                                              const int32_t *mult, const int32_t *shift,
                                              int32_t act_min, int32_t act_max)
{
    AOTC_FC_INT_BODY(int64_t, int16_t, int16_t, int32_t, aotc_mbqm64(acc, mult[u], shift[u]))
}

AOTC_KERNEL void aotc_fully_connected_s16_b32_fp(const int16_t *in, const int8_t *w, const int32_t *bias,
                                                 int16_t *out, int batches, int depth, int units,
                                                 int32_t in_off, int32_t w_off, int32_t out_off,
                                                 const double *scale, int32_t act_min, int32_t act_max)
{
    AOTC_FC_INT_BODY(int64_t, int16_t, int16_t, int32_t, aotc_requant_fp(acc, scale[u]))
}

AOTC_KERNEL void aotc_fully_connected_f32(const float *in, const float *w, const float *bias, float *out,
                                          int batches, int depth, int units, float act_min, float act_max)
{
    int b, u, d;
    for (b = 0; b < batches; ++b) {
        for (u = 0; u < units; ++u) {
            float total = 0.0f;
            for (d = 0; d < depth; ++d) {
                total += in[(size_t)b * (size_t)depth + (size_t)d] * w[(size_t)u * (size_t)depth + (size_t)d];
            }
            total += bias ? bias[u] : 0.0f;
            out[(size_t)b * (size_t)units + (size_t)u] = AOTC_CLAMP(total, act_min, act_max);
        }
    }
}

#endif
