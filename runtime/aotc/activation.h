/* Unary activations: int8 through a compile-time 256-entry table, int16 RELU/RELU6 through
 * TFLite's QuantizedReluX requantization, float32 as TFLite's reference kernels compute them. */
#ifndef AOTC_RUNTIME_ACTIVATION_H
#define AOTC_RUNTIME_ACTIVATION_H
#include "common.h"

/* out[i] = lut[in[i] + 128] */
AOTC_KERNEL void aotc_activation_lut_s8(const int8_t *in, int8_t *out, int32_t n, const int8_t *lut)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = lut[(int32_t)in[i] + 128];
    }
}

/* QuantizedReluX: clamp(out_zp + MultiplyByQuantizedMultiplier(in - in_zp), lo, hi) */
AOTC_KERNEL void aotc_activation_relu_s16(const int16_t *in, int16_t *out, int32_t n, int32_t in_zp,
                                          int32_t out_zp, int32_t mult, int32_t shift, int32_t act_min,
                                          int32_t act_max)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t v = out_zp + aotc_mbqm((int32_t)in[i] - in_zp, mult, shift);
        out[i] = (int16_t)AOTC_CLAMP(v, act_min, act_max);
    }
}

/* TFLM Relu6Quantized: a clamp in the input's quantization, no rescaling */
AOTC_KERNEL void aotc_activation_clamp_s16(const int16_t *in, int16_t *out, int32_t n, int32_t lo, int32_t hi)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t v = (int32_t)in[i];
        out[i] = (int16_t)(v > hi ? hi : (v < lo ? lo : v));
    }
}

/* RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1 (hi = INFINITY for RELU) */
AOTC_KERNEL void aotc_activation_relu_f32(const float *in, float *out, int32_t n, float lo, float hi)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float v = in[i];
        out[i] = v > hi ? hi : (v < lo ? lo : v);
    }
}

/* reference_ops::Logistic<float>: cutoffs at 16.619047 and -9, else 1 / (1 + exp(-x)) */
AOTC_KERNEL void aotc_activation_logistic_f32(const float *in, float *out, int32_t n)
{
    const float cutoff_upper = 16.619047164916992188f;
    const float cutoff_lower = -9.0f;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float v = in[i];
        float r;
        if (v > cutoff_upper) {
            r = 1.0f;
        } else if (v < cutoff_lower) {
            r = expf(v);
        } else {
            r = 1.0f / (1.0f + expf(-v));
        }
        out[i] = r;
    }
}

AOTC_KERNEL void aotc_activation_tanh_f32(const float *in, float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = tanhf(in[i]);
    }
}

/* reference_ops::HardSwish<float>: x * min(6, max(0, x + 3)) / 6 */
AOTC_KERNEL void aotc_activation_hard_swish_f32(const float *in, float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float v = in[i];
        const float r = v + 3.0f;
        const float c = r < 0.0f ? 0.0f : r;
        out[i] = v * (c > 6.0f ? 6.0f : c) / 6.0f;
    }
}

/* reference_integer_ops::Logistic (int16): rescale the input to 1/(3*4096) units, interpolate the
 * sigmoid(i/24) table (0.16) on |x|, mirror for negative x, round to Q0.15. */
AOTC_KERNEL void aotc_activation_logistic_s16(const int16_t *in, int16_t *out, int32_t n, int32_t mult,
                                              int32_t shift, const uint16_t *table)
{
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t x = ((int32_t)in[i] * mult + round) >> shift;
        const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
        const uint32_t uh = ax >> 9;
        uint32_t r;
        if (uh >= 255u) {
            r = 0x7FFFu << 10;
        } else {
            const uint32_t ua = table[uh];
            const uint32_t ub = table[uh + 1u];
            r = (ua << 9) + (ax & 0x1FFu) * (ub - ua);
        }
        r = x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
        out[i] = (int16_t)(r >> 10);
    }
}

/* reference_integer_ops::Tanh (int16): tanh(x) = 2 sigmoid(2x) - 1 on the same table */
AOTC_KERNEL void aotc_activation_tanh_s16(const int16_t *in, int16_t *out, int32_t n, int32_t mult,
                                          int32_t shift, const uint16_t *table)
{
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t x = ((int32_t)in[i] * mult + round) >> shift;
        const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
        const uint32_t uh = ax >> 8;
        int32_t r;
        if (uh >= 255u) {
            r = (int32_t)(0xFFFFu << 8);
        } else {
            const uint32_t ua = table[uh];
            const uint32_t ub = table[uh + 1u];
            r = (int32_t)((ua << 8) + (ax & 0xFFu) * (ub - ua));
        }
        r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
        out[i] = (int16_t)(r >> 8);
    }
}

#endif
