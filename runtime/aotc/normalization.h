/* L2_NORMALIZATION over the last dimension, bit-exact with TFLite's reference kernels. */
#ifndef AOTC_RUNTIME_NORMALIZATION_H
#define AOTC_RUNTIME_NORMALIZATION_H
#include "common.h"
#include "softmax.h" /* aotc_softmax_clz32, aotc_sat_shl */

/* TFLite GetInvSqrtQuantizedMultiplierExp(input, kReverseShift = -1): 1/sqrt(input) as a Q0.31
 * multiplier and a left shift, by five Newton-Raphson steps in Q3.28 */
static inline void aotc_normalization_inv_sqrt(int32_t input, int32_t *mult, int *shift)
{
    int s = 11, left_pairs, i;
    int32_t half_input, x;
    const int32_t half_three = (1 << 28) + (1 << 27);
    if (input <= 1) {
        *mult = INT32_MAX;
        *shift = 0;
        return;
    }
    while (input >= (1 << 29)) {
        input /= 4;
        ++s;
    }
    left_pairs = (aotc_softmax_clz32((uint32_t)input) - 1) / 2 - 1;
    s -= left_pairs;
    input = (int32_t)((uint32_t)input << (2 * left_pairs));
    half_input = aotc_rdbpot(input >> 1, 1);
    x = 1 << 28;
    for (i = 0; i < 5; ++i) {
        const int32_t x3 = aotc_sat_shl(aotc_srdhm(aotc_srdhm(x, x), x), 6);
        x = aotc_sat_shl(
            (int32_t)((uint32_t)aotc_srdhm(half_three, x) - (uint32_t)aotc_srdhm(half_input, x3)), 3);
    }
    x = aotc_srdhm(x, 1518500250);
    if (s < 0) {
        x = (int32_t)((uint32_t)x << -s);
        s = 0;
    }
    *mult = x;
    *shift = -s;
}

AOTC_KERNEL void aotc_normalization_l2_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t depth,
                                          int32_t in_zp)
{
    int32_t i, c;
    for (i = 0; i < outer; ++i) {
        const int8_t *row = in + (size_t)i * (size_t)depth;
        int8_t *orow = out + (size_t)i * (size_t)depth;
        uint32_t acc = 0;
        int32_t mult;
        int shift;
        for (c = 0; c < depth; ++c) {
            const int32_t v = (int32_t)row[c] - in_zp;
            acc += (uint32_t)(v * v);
        }
        aotc_normalization_inv_sqrt((int32_t)acc, &mult, &shift);
        for (c = 0; c < depth; ++c) {
            const int32_t v = aotc_mbqm((int32_t)row[c] - in_zp, mult, shift + 7);
            orow[c] = (int8_t)AOTC_CLAMP(v, -128, 127);
        }
    }
}

/* reference_ops::L2Normalization<float>: x / max(sqrt(sum x^2), 1e-6) */
AOTC_KERNEL void aotc_normalization_l2_f32(const float *in, float *out, int32_t outer, int32_t depth)
{
    int32_t i, c;
    for (i = 0; i < outer; ++i) {
        const float *row = in + (size_t)i * (size_t)depth;
        float *orow = out + (size_t)i * (size_t)depth;
        float sq = 0.0f, norm;
        for (c = 0; c < depth; ++c) {
            sq += row[c] * row[c];
        }
        norm = sqrtf(sq);
        norm = norm < 1e-6f ? 1e-6f : norm;
        for (c = 0; c < depth; ++c) {
            orow[c] = row[c] / norm;
        }
    }
}

#endif
