/* aotc generic runtime: shared definitions and TFLite's fixed-point primitives.
 *
 * The kernels are header-only and `static`: each generated model compiles them into its own
 * translation unit, so two models never clash at link time and the compiler sees the constant
 * shapes of every call (loop bounds, offsets) and can specialise or inline.
 * All arithmetic mirrors TFLite's reference kernels (gemmlowp rounding, saturation) bit for bit. */
#ifndef AOTC_RUNTIME_COMMON_H
#define AOTC_RUNTIME_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <math.h>

#if defined(__GNUC__) || defined(__clang__)
#define AOTC_KERNEL static __attribute__((unused))
#define AOTC_ALIGNED(n) __attribute__((aligned(n)))
#else
#define AOTC_KERNEL static
#define AOTC_ALIGNED(n)
#endif

#define AOTC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define AOTC_MAX(a, b) ((a) > (b) ? (a) : (b))
#define AOTC_CLAMP(x, lo, hi) AOTC_MIN(AOTC_MAX((x), (lo)), (hi))

/* gemmlowp SaturatingRoundingDoublingHighMul */
static inline int32_t aotc_srdhm(int32_t a, int32_t b)
{
    int64_t ab, nudge;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? (1LL << 30) : (1 - (1LL << 30));
    return (int32_t)((ab + nudge) / (1LL << 31));
}

/* gemmlowp RoundingDivideByPOT: round half away from zero */
static inline int32_t aotc_rdbpot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)((1LL << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier (int32 accumulator, double rounding) */
static inline int32_t aotc_mbqm(int32_t x, int32_t multiplier, int shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    return aotc_rdbpot(aotc_srdhm((int32_t)((uint32_t)x << left), multiplier), right);
}

/* TFLite MultiplyByQuantizedMultiplier (int64 accumulator, used by the 16x8 kernels) */
static inline int32_t aotc_mbqm64(int64_t x, int32_t multiplier, int shift)
{
    const int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int total_shift = 15 - shift;
    const int64_t r = x * (int64_t)reduced + ((int64_t)1 << (total_shift - 1));
    return (int32_t)(r >> total_shift);
}

/* LiteRT 2.3 reference requantization in floating point: round half away from zero of
 * double(acc) * scale, saturated to int32 before the conversion. */
static inline int32_t aotc_requant_fp(int64_t acc, double scale)
{
    double v = (double)acc * scale;
    v = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
    if (v > 2147483647.0) {
        return INT32_MAX;
    }
    if (v < -2147483648.0) {
        return INT32_MIN;
    }
    return (int32_t)v;
}

/* gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0 */
static inline int32_t aotc_sat_shl(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)((1LL << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1 (Q0.31 in, Q0.31 out) */
static inline int32_t aotc_one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + (int64_t)INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48_17 = 1515870810;       /* 48/17 in Q2.29 */
    const int32_t cneg32_17 = -1010580540;   /* -32/17 in Q2.29 */
    int32_t x = c48_17 + aotc_srdhm(half_denominator, cneg32_17);
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t hd_x = aotc_srdhm(half_denominator, x);
        const int32_t one_minus = (int32_t)(1 << 29) - hd_x;
        x = x + aotc_sat_shl(aotc_srdhm(x, one_minus), 2);
    }
    return aotc_sat_shl(x, 1);
}

#endif
