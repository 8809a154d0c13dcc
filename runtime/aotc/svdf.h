/* SVDF: state[b] ([filters][memory], persistent) shifts left by one element, the feature projection
 * of the input fills slot memory-1 of each filter, then
 *   out[b][u] = act(bias[u] + sum_{r<rank} sum_m w_time[u*rank+r][m] * state[b][u*rank+r][m]).
 * The shift moves the whole [batch * filters * memory] buffer by one element, as both references do
 * (the element that crosses into the previous filter's newest slot is overwritten right after). */
#ifndef AOTC_RUNTIME_SVDF_H
#define AOTC_RUNTIME_SVDF_H
#include "common.h"

AOTC_KERNEL void aotc_svdf_f32(const float *in, const float *w_feat, const float *w_time, const float *bias,
                               float *state, float *out, int batches, int n_in, int filters, int memory,
                               int rank, int act, float act_min, float act_max)
{
    const int units = filters / rank;
    int b, f, u, r, m, k;
    memmove(state, state + 1, ((size_t)batches * (size_t)filters * (size_t)memory - 1u) * sizeof(float));
    for (b = 0; b < batches; ++b) {
        const float *x = in + (size_t)b * (size_t)n_in;
        float *st = state + (size_t)b * (size_t)filters * (size_t)memory;
        for (f = 0; f < filters; ++f) {
            const float *w = w_feat + (size_t)f * (size_t)n_in;
            float dot = 0.0f;
            for (k = 0; k < n_in; ++k) {
                dot += w[k] * x[k];
            }
            st[(size_t)f * (size_t)memory + (size_t)memory - 1u] = dot;
        }
        for (u = 0; u < units; ++u) {
            float sum = 0.0f, v;
            for (r = 0; r < rank; ++r) {
                const size_t fi = (size_t)(u * rank + r) * (size_t)memory;
                float dot = 0.0f;
                for (m = 0; m < memory; ++m) {
                    dot += w_time[fi + (size_t)m] * st[fi + (size_t)m];
                }
                sum += dot;
            }
            v = bias ? sum + bias[u] : sum;
            if (act == 1) {
                v = tanhf(v);
            } else {
                v = AOTC_CLAMP(v, act_min, act_max);
            }
            out[(size_t)b * (size_t)units + (size_t)u] = v;
        }
    }
}

/* Full integer: int8 input and output, int16 state and time weights, int32 bias. The feature dot
 * product is requantized to the state scale (mult1/shift1) and saturated to int16; the time dot
 * products (int32, wrapping as the references' int32 sums) plus bias are requantized to the output
 * (mult2/shift2). No fused activation: neither reference applies one on this path. */
AOTC_KERNEL void aotc_svdf_s8(const int8_t *in, const int8_t *w_feat, const int16_t *w_time,
                              const int32_t *bias, int16_t *state, int8_t *out, int batches, int n_in,
                              int filters, int memory, int rank, int32_t in_zp, int32_t mult1, int32_t shift1,
                              int32_t mult2, int32_t shift2, int32_t out_zp)
{
    const int units = filters / rank;
    int b, f, u, r, m, k;
    memmove(state, state + 1, ((size_t)batches * (size_t)filters * (size_t)memory - 1u) * sizeof(int16_t));
    for (b = 0; b < batches; ++b) {
        const int8_t *x = in + (size_t)b * (size_t)n_in;
        int16_t *st = state + (size_t)b * (size_t)filters * (size_t)memory;
        for (f = 0; f < filters; ++f) {
            const int8_t *w = w_feat + (size_t)f * (size_t)n_in;
            int32_t dot = 0;
            for (k = 0; k < n_in; ++k) {
                dot += (int32_t)w[k] * ((int32_t)x[k] - in_zp);
            }
            dot = aotc_mbqm(dot, mult1, shift1);
            st[(size_t)f * (size_t)memory + (size_t)memory - 1u] = (int16_t)AOTC_CLAMP(dot, -32768, 32767);
        }
        for (u = 0; u < units; ++u) {
            uint32_t sum = (uint32_t)bias[u];
            int32_t v;
            for (r = 0; r < rank; ++r) {
                const size_t fi = (size_t)(u * rank + r) * (size_t)memory;
                for (m = 0; m < memory; ++m) {
                    sum += (uint32_t)((int32_t)w_time[fi + (size_t)m] * (int32_t)st[fi + (size_t)m]);
                }
            }
            v = aotc_mbqm((int32_t)sum, mult2, shift2) + out_zp;
            out[(size_t)b * (size_t)units + (size_t)u] = (int8_t)AOTC_CLAMP(v, -128, 127);
        }
    }
}

#endif
