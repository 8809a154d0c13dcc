/* SOFTMAX over the last dimension, bit-exact with TFLite's reference kernels.
 *
 * int8 input: exp(beta * s_in * (x - max)) depends only on max - x in [0, 255], so the compiler
 * tabulates gemmlowp's exp_on_negative_values (Q0.31, 0 where max - x is below diff_min) and the
 * kernel does the rest in gemmlowp fixed point: the Q12.19 sum, its reciprocal through
 * one_over_one_plus_x_for_x_in_0_1, and the rounding rescale to the output type.
 * int16: TFLite's SoftmaxInt16 with its two interpolated 513-entry tables (exp, 1 / (1 + x)). */
#ifndef AOTC_RUNTIME_SOFTMAX_H
#define AOTC_RUNTIME_SOFTMAX_H
#include "common.h"

static inline int aotc_softmax_clz32(uint32_t x)
{
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
}

#define AOTC_SOFTMAX_S8_BODY(OUT_T, OUT_BITS, OUT_MIN, OUT_MAX)                                   \
    int32_t i, c;                                                                               \
    for (i = 0; i < outer; ++i) {                                                               \
        const int8_t *row = in + (size_t)i * (size_t)depth;                                     \
        OUT_T *orow = out + (size_t)i * (size_t)depth;                                          \
        int32_t max_in_row = -128, sum = 0, num_bits_over_unit, exponent, shifted_scale;         \
        int headroom_plus_one;                                                                  \
        for (c = 0; c < depth; ++c) {                                                           \
            max_in_row = AOTC_MAX(max_in_row, (int32_t)row[c]);                                 \
        }                                                                                       \
        for (c = 0; c < depth; ++c) {                                                           \
            sum += aotc_rdbpot(exp_table[max_in_row - (int32_t)row[c]], 12);                    \
        }                                                                                       \
        headroom_plus_one = aotc_softmax_clz32((uint32_t)sum);                                  \
        num_bits_over_unit = 12 - headroom_plus_one;                                            \
        shifted_scale = aotc_one_over_one_plus_x(                                       \
            (int32_t)(((uint32_t)sum << headroom_plus_one) - ((uint32_t)1 << 31)));             \
        exponent = num_bits_over_unit + 31 - (OUT_BITS);                                        \
        for (c = 0; c < depth; ++c) {                                                           \
            const int32_t e = exp_table[max_in_row - (int32_t)row[c]];                          \
            const int32_t v = aotc_rdbpot(aotc_srdhm(shifted_scale, e), exponent) + (OUT_MIN);  \
            orow[c] = (OUT_T)AOTC_CLAMP(v, (OUT_MIN), (OUT_MAX));                               \
        }                                                                                       \
    }

AOTC_KERNEL void aotc_softmax_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t depth,
                                 const int32_t *exp_table)
{
    AOTC_SOFTMAX_S8_BODY(int8_t, 8, -128, 127)
}

AOTC_KERNEL void aotc_softmax_s8_s16(const int8_t *in, int16_t *out, int32_t outer, int32_t depth,
                                     const int32_t *exp_table)
{
    AOTC_SOFTMAX_S8_BODY(int16_t, 16, -32768, 32767)
}

/* TFLite LUTLookup for int16: 512 intervals, linear interpolation on the low 7 bits */
static inline int16_t aotc_softmax_lut16(int16_t value, const int16_t *lut)
{
    const int32_t index = 256 + ((int32_t)value >> 7);
    const int32_t offset = (int32_t)value & 0x7f;
    const int32_t base = lut[index];
    const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    const int32_t delta = ((int32_t)slope * offset + 64) >> 7;
    return (int16_t)(base + delta);
}

AOTC_KERNEL void aotc_softmax_s16(const int16_t *in, int16_t *out, int32_t outer, int32_t depth,
                                  int32_t mult, int32_t shift, const int16_t *exp_lut,
                                  const int16_t *recip_lut)
{
    int32_t i, c;
    for (i = 0; i < outer; ++i) {
        const int16_t *row = in + (size_t)i * (size_t)depth;
        int16_t *orow = out + (size_t)i * (size_t)depth;
        int32_t max_in_row = -32768, sum = 0, shifted_sum, sym;
        int headroom_plus_one, right_shift;
        int16_t recip;
        for (c = 0; c < depth; ++c) {
            max_in_row = AOTC_MAX(max_in_row, (int32_t)row[c]);
        }
        for (c = 0; c < depth; ++c) {
            const int32_t scaled = aotc_mbqm((int32_t)row[c] - max_in_row, mult, shift) + 32767;
            orow[c] = aotc_softmax_lut16((int16_t)AOTC_CLAMP(scaled, -32768, 32767), exp_lut);
            sum += orow[c];
        }
        headroom_plus_one = aotc_softmax_clz32((uint32_t)sum);
        shifted_sum = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        sym = shifted_sum - ((1 << 15) + (1 << 16));
        recip = aotc_softmax_lut16((int16_t)AOTC_CLAMP(sym, -32768, 32767), recip_lut);
        right_shift = 31 - headroom_plus_one;
        for (c = 0; c < depth; ++c) {
            const int64_t round = (int64_t)1 << (right_shift - 1);
            const int32_t r = (int32_t)(((int64_t)orow[c] * (int64_t)recip + round) >> right_shift);
            orow[c] = (int16_t)AOTC_CLAMP(r, 0, 32767);
        }
    }
}

/* reference_ops::Softmax<float>: exp((x - max) * beta) / sum, in float */
AOTC_KERNEL void aotc_softmax_f32(const float *in, float *out, int32_t outer, int32_t depth, float beta)
{
    int32_t i, c;
    for (i = 0; i < outer; ++i) {
        const float *row = in + (size_t)i * (size_t)depth;
        float *orow = out + (size_t)i * (size_t)depth;
        float max = -3.40282347e38f, sum = 0.0f;
        for (c = 0; c < depth; ++c) {
            max = max < row[c] ? row[c] : max;
        }
        for (c = 0; c < depth; ++c) {
            const float e = expf((row[c] - max) * beta);
            orow[c] = e;
            sum += e;
        }
        for (c = 0; c < depth; ++c) {
            orow[c] = orow[c] / sum;
        }
    }
}

/* gemmlowp SaturatingRoundingMultiplyByPOT with a run-time exponent (TFLite's ...POTParam) */
static inline int32_t aotc_softmax_srmpot(int32_t x, int exponent)
{
    if (exponent > 0) {
        return aotc_sat_shl(x, exponent);
    }
    return exponent < 0 ? aotc_rdbpot(x, -exponent) : x;
}

static inline int32_t aotc_softmax_sat_add(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + (int64_t)b;
    return (int32_t)AOTC_CLAMP(s, (int64_t)INT32_MIN, (int64_t)INT32_MAX);
}

static inline int32_t aotc_softmax_sat_sub(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a - (int64_t)b;
    return (int32_t)AOTC_CLAMP(s, (int64_t)INT32_MIN, (int64_t)INT32_MAX);
}

static inline int32_t aotc_softmax_wadd(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t aotc_softmax_wsub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* TFLite log_x_for_x_greater_than_or_equal_to_1<5>(FixedPoint<int32, 12>): Q12.19 in, Q5.26 out
 * (accumulated with 6 integer bits) */
static inline int32_t aotc_softmax_log_q12_to_q5(int32_t z_a)
{
    const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
    const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769, alpha_f = 638450708;
    const int32_t shifted_quarter = aotc_rdbpot(536870912, 6);
    const int z_a_headroom_plus_1 = aotc_softmax_clz32((uint32_t)z_a);
    const int32_t r_a_tmp = aotc_softmax_srmpot(z_a, z_a_headroom_plus_1 - 1);
    const int32_t r_a_raw = aotc_softmax_srmpot(aotc_srdhm(r_a_tmp, sqrt_half), 1);
    const int32_t z_a_pow_2_adj = aotc_softmax_sat_add(
        aotc_softmax_srmpot((int32_t)(12 - z_a_headroom_plus_1), 31 - 6), shifted_quarter);
    const int32_t z_b = aotc_srdhm(z_a, sqrt_half);
    const int z_b_headroom = aotc_softmax_clz32((uint32_t)z_b) - 1;
    const int32_t r_b_raw = aotc_softmax_srmpot(z_a, z_b_headroom);
    const int32_t z_b_pow_2_adj = aotc_softmax_sat_sub(
        aotc_softmax_srmpot((int32_t)(12 - z_b_headroom), 31 - 6), shifted_quarter);
    const int32_t r = AOTC_MIN(r_a_raw, r_b_raw);
    const int32_t z_pow_2_adj = AOTC_MAX(z_a_pow_2_adj, z_b_pow_2_adj);
    const int64_t half_sum = (int64_t)r + (int64_t)sqrt_sqrt_half;
    const int32_t p = (int32_t)((half_sum + (half_sum >= 0 ? 1 : -1)) / 2);
    int32_t q, common_sq, num, denom_minus_one_0, recip_denom, num_scaled;
    q = aotc_softmax_wsub(r, sqrt_sqrt_half);
    q = aotc_softmax_wadd(q, q);
    common_sq = aotc_srdhm(q, q);
    num = aotc_softmax_wadd(aotc_srdhm(q, r), aotc_srdhm(aotc_srdhm(q, common_sq), alpha_n));
    denom_minus_one_0 = aotc_softmax_wadd(
        aotc_srdhm(p, aotc_softmax_wadd(aotc_softmax_wadd(alpha_i, q), aotc_srdhm(alpha_d, common_sq))),
        aotc_srdhm(alpha_f, q));
    recip_denom = aotc_one_over_one_plus_x(denom_minus_one_0);
    num_scaled = aotc_rdbpot(num, 6);
    return aotc_softmax_srmpot(
        aotc_softmax_wadd(aotc_srdhm(z_pow_2_adj, log_2), aotc_srdhm(num_scaled, recip_denom)), 1);
}

/* reference_integer_ops::LogSoftmax. exp_table[d] = exp_on_negative_values(mbqm(-d, mult, left_shift))
 * in Q0.31 (computed at compile time); rev_shift is the (non-positive) exponent of the reverse scaling. */
AOTC_KERNEL void aotc_softmax_log_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t depth,
                                     const int32_t *exp_table, int32_t mult, int32_t left_shift,
                                     int32_t diff_min, int32_t rev_mult, int32_t rev_shift)
{
    int32_t i, c;
    for (i = 0; i < outer; ++i) {
        const int8_t *row = in + (size_t)i * (size_t)depth;
        int8_t *orow = out + (size_t)i * (size_t)depth;
        int32_t max_in_row = -128, sum = 0, log_sum, adjusted_diff_min;
        for (c = 0; c < depth; ++c) {
            max_in_row = AOTC_MAX(max_in_row, (int32_t)row[c]);
        }
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)row[c] - max_in_row;
            if (diff >= diff_min) {
                sum = aotc_softmax_wadd(sum, aotc_rdbpot(exp_table[-diff], 12));
            }
        }
        log_sum = aotc_softmax_log_q12_to_q5(sum);
        adjusted_diff_min = AOTC_MAX(diff_min - 1, aotc_mbqm(aotc_softmax_wadd(log_sum, INT32_MIN), rev_mult, rev_shift));
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)row[c] - max_in_row;
            if (diff > adjusted_diff_min) {
                const int32_t q5 = aotc_mbqm(diff, mult, (int)left_shift);
                const int32_t v = aotc_rdbpot(aotc_softmax_wsub(q5, log_sum), 31 - 5 - 4) + 127;
                orow[c] = (int8_t)AOTC_CLAMP(v, -128, 127);
            } else {
                orow[c] = -128;
            }
        }
    }
}

/* reference_ops::LogSoftmax<float>: x - max - log(sum(exp(x - max))) */
AOTC_KERNEL void aotc_softmax_log_f32(const float *in, float *out, int32_t outer, int32_t depth)
{
    int32_t i, c;
    for (i = 0; i < outer; ++i) {
        const float *row = in + (size_t)i * (size_t)depth;
        float *orow = out + (size_t)i * (size_t)depth;
        float max = -3.40282347e38f, sum = 0.0f, log_sum;
        for (c = 0; c < depth; ++c) {
            max = max < row[c] ? row[c] : max;
        }
        for (c = 0; c < depth; ++c) {
            sum += expf(row[c] - max);
        }
        log_sum = logf(sum);
        for (c = 0; c < depth; ++c) {
            orow[c] = row[c] - max - log_sum;
        }
    }
}

#endif
