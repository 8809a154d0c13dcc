/* Elementwise ops with NumPy broadcasting, bit-exact with TFLite's reference kernels: ADD, SUB, MUL,
 * DIV, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, FLOOR_DIV, FLOOR_MOD, POW, ADD_N, LOGICAL_AND/OR,
 * SELECT(_V2).
 *
 * Every kernel takes `n` (the number of output elements) and `bc`: NULL when all inputs have the
 * output's shape (a flat loop), otherwise int32 values precomputed by the compiler:
 * bc[0..5] the output dims (padded with leading 1s), bc[6..11] input 1 element strides,
 * bc[12..17] input 2 element strides (0 along broadcast dimensions) and, for the ternary SELECT,
 * bc[18..23] input 3 element strides.
 * Each kernel reads element o of every input that has the output's shape before it writes
 * element o of the output, and never afterwards, so the output may overwrite such an input. */
#ifndef AOTC_RUNTIME_ELEMENTWISE_H
#define AOTC_RUNTIME_ELEMENTWISE_H
#include "common.h"

/* Runs STMT for each output element with p (input 1 index), q (input 2 index), o (output index). */
#define AOTC_EW_LOOP(STMT)                                                                      \
    if (bc == NULL) {                                                                           \
        size_t o;                                                                               \
        for (o = 0; o < (size_t)n; ++o) {                                                       \
            const size_t p = o, q = o;                                                          \
            STMT;                                                                               \
        }                                                                                       \
    } else {                                                                                    \
        int32_t d0, d1, d2, d3, d4, d5;                                                         \
        size_t o = 0;                                                                           \
        (void)n;                                                                                \
        for (d0 = 0; d0 < bc[0]; ++d0)                                                          \
        for (d1 = 0; d1 < bc[1]; ++d1)                                                          \
        for (d2 = 0; d2 < bc[2]; ++d2)                                                          \
        for (d3 = 0; d3 < bc[3]; ++d3)                                                          \
        for (d4 = 0; d4 < bc[4]; ++d4)                                                          \
        for (d5 = 0; d5 < bc[5]; ++d5, ++o) {                                                   \
            const size_t p = (size_t)d0 * (size_t)bc[6] + (size_t)d1 * (size_t)bc[7]            \
                + (size_t)d2 * (size_t)bc[8] + (size_t)d3 * (size_t)bc[9]                        \
                + (size_t)d4 * (size_t)bc[10] + (size_t)d5 * (size_t)bc[11];                     \
            const size_t q = (size_t)d0 * (size_t)bc[12] + (size_t)d1 * (size_t)bc[13]          \
                + (size_t)d2 * (size_t)bc[14] + (size_t)d3 * (size_t)bc[15]                      \
                + (size_t)d4 * (size_t)bc[16] + (size_t)d5 * (size_t)bc[17];                     \
            STMT;                                                                               \
        }                                                                                       \
    }

/* Runs STMT for each output element with r (input 1), p (input 2), q (input 3) and o (output). */
#define AOTC_EW_LOOP3(STMT)                                                                     \
    if (bc == NULL) {                                                                           \
        size_t o;                                                                               \
        for (o = 0; o < (size_t)n; ++o) {                                                       \
            const size_t r = o, p = o, q = o;                                                   \
            STMT;                                                                               \
        }                                                                                       \
    } else {                                                                                    \
        int32_t d0, d1, d2, d3, d4, d5;                                                         \
        size_t o = 0;                                                                           \
        (void)n;                                                                                \
        for (d0 = 0; d0 < bc[0]; ++d0)                                                          \
        for (d1 = 0; d1 < bc[1]; ++d1)                                                          \
        for (d2 = 0; d2 < bc[2]; ++d2)                                                          \
        for (d3 = 0; d3 < bc[3]; ++d3)                                                          \
        for (d4 = 0; d4 < bc[4]; ++d4)                                                          \
        for (d5 = 0; d5 < bc[5]; ++d5, ++o) {                                                   \
            const size_t r = (size_t)d0 * (size_t)bc[6] + (size_t)d1 * (size_t)bc[7]            \
                + (size_t)d2 * (size_t)bc[8] + (size_t)d3 * (size_t)bc[9]                        \
                + (size_t)d4 * (size_t)bc[10] + (size_t)d5 * (size_t)bc[11];                     \
            const size_t p = (size_t)d0 * (size_t)bc[12] + (size_t)d1 * (size_t)bc[13]          \
                + (size_t)d2 * (size_t)bc[14] + (size_t)d3 * (size_t)bc[15]                      \
                + (size_t)d4 * (size_t)bc[16] + (size_t)d5 * (size_t)bc[17];                     \
            const size_t q = (size_t)d0 * (size_t)bc[18] + (size_t)d1 * (size_t)bc[19]          \
                + (size_t)d2 * (size_t)bc[20] + (size_t)d3 * (size_t)bc[21]                      \
                + (size_t)d4 * (size_t)bc[22] + (size_t)d5 * (size_t)bc[23];                     \
            STMT;                                                                               \
        }                                                                                       \
    }

/* TFLite MultiplyByQuantizedMultiplierSmallerThanOneExp (double rounding, shift <= 0) */
static inline int32_t aotc_mbqm_lt1(int32_t x, int32_t multiplier, int shift)
{
    return aotc_rdbpot(aotc_srdhm(x, multiplier), -shift);
}

/* ---- quantized ADD / SUB, the general path (int8: left_shift 20, int16: left_shift 15) ------- */

#define AOTC_EW_ADDSUB_Q(NAME, T, OPSIGN)                                                       \
AOTC_KERNEL void NAME(const T *in1, const T *in2, T *out, int32_t n, const int32_t *bc,         \
                      int32_t in1_off, int32_t in1_mult, int32_t in1_shift,                     \
                      int32_t in2_off, int32_t in2_mult, int32_t in2_shift,                     \
                      int32_t left_shift, int32_t out_mult, int32_t out_shift, int32_t out_off, \
                      int32_t act_min, int32_t act_max)                                         \
{                                                                                               \
    AOTC_EW_LOOP({                                                                              \
        const int32_t a = (int32_t)((uint32_t)((int32_t)in1[p] + in1_off) << left_shift);        \
        const int32_t b = (int32_t)((uint32_t)((int32_t)in2[q] + in2_off) << left_shift);        \
        const int32_t sa = aotc_mbqm_lt1(a, in1_mult, in1_shift);                                \
        const int32_t sb = aotc_mbqm_lt1(b, in2_mult, in2_shift);                                \
        const int32_t raw = aotc_mbqm_lt1(sa OPSIGN sb, out_mult, out_shift) + out_off;         \
        out[o] = (T)AOTC_CLAMP(raw, act_min, act_max);                                          \
    })                                                                                          \
}

AOTC_EW_ADDSUB_Q(aotc_elementwise_add_s8, int8_t, +)
AOTC_EW_ADDSUB_Q(aotc_elementwise_sub_s8, int8_t, -)
AOTC_EW_ADDSUB_Q(aotc_elementwise_add_s16, int16_t, +)
AOTC_EW_ADDSUB_Q(aotc_elementwise_sub_s16, int16_t, -)

/* ---- int8 ADD / SUB of same-shape inputs: each input's rescale (offset, left shift, multiplier)
 * depends on its byte only, so the compiler tabulates it (t1, t2: 256 int32 entries indexed by the
 * byte as uint8; t2 negated for SUB); one requantization per element remains. Helium: four lanes,
 * two table gathers, vqrdmulh-based requantization (bit-exact, see aotc_ew_mbqm_lt1_x4). */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
static inline int32x4_t aotc_ew_mbqm_lt1_x4(int32x4_t x, int32_t multiplier, int32_t shift)
{
    int32x4_t r = vqrdmulhq_n_s32(x, multiplier);
    if (shift == 0) {
        return r;
    }
    /* shift < 0: a rounding right shift by -shift; minus one first when negative makes VRSHL's
     * round-half-up round half away from zero, as RDBPOT does */
    return vrshlq_s32(vqaddq_s32(r, vshrq_n_s32(r, 31)), vdupq_n_s32(shift));
}
#endif

AOTC_KERNEL void aotc_elementwise_addsub_s8_lut(const int8_t *in1, const int8_t *in2, int8_t *out, int32_t n,
                                                const int32_t *t1, const int32_t *t2, int32_t out_mult,
                                                int32_t out_shift, int32_t out_off, int32_t act_min,
                                                int32_t act_max)
{
    int32_t i;
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    const int32x4_t vlo = vdupq_n_s32(act_min), vhi = vdupq_n_s32(act_max);
    const uint8_t *a = (const uint8_t *)in1, *b = (const uint8_t *)in2;
    int8_t *o = out;
    /* whole vectors unpredicated (a predicate costs a VPST per instruction), pointers post-incremented,
     * then one predicated tail */
    for (i = n; i >= 4; i -= 4) {
        const uint32x4_t u1 = vldrbq_u32(a);
        const uint32x4_t u2 = vldrbq_u32(b);
        const int32x4_t sum = vaddq_s32(vldrwq_gather_shifted_offset_s32(t1, u1),
                                        vldrwq_gather_shifted_offset_s32(t2, u2));
        const int32x4_t v = vaddq_n_s32(aotc_ew_mbqm_lt1_x4(sum, out_mult, out_shift), out_off);
        vstrbq_s32(o, vminq_s32(vmaxq_s32(v, vlo), vhi));
        a += 4;
        b += 4;
        o += 4;
    }
    if (i > 0) {
        const mve_pred16_t p = vctp32q((uint32_t)i);
        const uint32x4_t u1 = vldrbq_z_u32(a, p);
        const uint32x4_t u2 = vldrbq_z_u32(b, p);
        const int32x4_t sum = vaddq_s32(vldrwq_gather_shifted_offset_z_s32(t1, u1, p),
                                        vldrwq_gather_shifted_offset_z_s32(t2, u2, p));
        const int32x4_t v = vaddq_n_s32(aotc_ew_mbqm_lt1_x4(sum, out_mult, out_shift), out_off);
        vstrbq_p_s32(o, vminq_s32(vmaxq_s32(v, vlo), vhi), p);
    }
#else
    for (i = 0; i < n; ++i) {
        const int32_t sum = t1[(uint8_t)in1[i]] + t2[(uint8_t)in2[i]];
        const int32_t raw = aotc_mbqm_lt1(sum, out_mult, out_shift) + out_off;
        out[i] = (int8_t)AOTC_CLAMP(raw, act_min, act_max);
    }
#endif
}

/* ---- int16 ADD / SUB with power-of-two scales (pot_scale_int16): one input is rounding-shifted
 * right, then added to / subtracted from the other ----------------------------------------------- */

#define AOTC_EW_ADDSUB_POT(NAME, OPSIGN)                                                        \
AOTC_KERNEL void NAME(const int16_t *in1, const int16_t *in2, int16_t *out, int32_t n,          \
                      const int32_t *bc, int32_t in1_rshift, int32_t in2_rshift,                \
                      int32_t act_min, int32_t act_max)                                         \
{                                                                                               \
    AOTC_EW_LOOP({                                                                              \
        const int32_t a = aotc_rdbpot((int32_t)in1[p], in1_rshift);                              \
        const int32_t b = aotc_rdbpot((int32_t)in2[q], in2_rshift);                              \
        const int32_t raw = a OPSIGN b;                                                         \
        out[o] = (int16_t)AOTC_CLAMP(raw, act_min, act_max);                                    \
    })                                                                                          \
}

AOTC_EW_ADDSUB_POT(aotc_elementwise_add_s16_pot, +)
AOTC_EW_ADDSUB_POT(aotc_elementwise_sub_s16_pot, -)

/* ---- quantized MUL: MultiplyByQuantizedMultiplier((a + off1) * (b + off2)) + out_off ----------- */

#define AOTC_EW_MUL_Q(NAME, T)                                                                  \
AOTC_KERNEL void NAME(const T *in1, const T *in2, T *out, int32_t n, const int32_t *bc,         \
                      int32_t in1_off, int32_t in2_off, int32_t out_mult, int32_t out_shift,    \
                      int32_t out_off, int32_t act_min, int32_t act_max)                        \
{                                                                                               \
    AOTC_EW_LOOP({                                                                              \
        const int32_t a = (int32_t)in1[p] + in1_off;                                            \
        const int32_t b = (int32_t)in2[q] + in2_off;                                            \
        const int32_t raw = aotc_mbqm(a * b, out_mult, out_shift) + out_off;                    \
        out[o] = (T)AOTC_CLAMP(raw, act_min, act_max);                                          \
    })                                                                                          \
}

AOTC_EW_MUL_Q(aotc_elementwise_mul_s8, int8_t)
AOTC_EW_MUL_Q(aotc_elementwise_mul_s16, int16_t)

/* ---- float32 and int32 (no quantization): out = clamp(a op b) --------------------------------- */

#define AOTC_EW_PLAIN(NAME, T, EXPR)                                                            \
AOTC_KERNEL void NAME(const T *in1, const T *in2, T *out, int32_t n, const int32_t *bc,         \
                      T act_min, T act_max)                                                     \
{                                                                                               \
    AOTC_EW_LOOP({                                                                              \
        const T a = in1[p];                                                                     \
        const T b = in2[q];                                                                     \
        const T r = EXPR;                                                                       \
        const T lo = r < act_min ? act_min : r;            /* std::max(r, act_min) */          \
        out[o] = act_max < lo ? act_max : lo;              /* std::min(lo, act_max) */         \
    })                                                                                          \
}

AOTC_EW_PLAIN(aotc_elementwise_add_f32, float, a + b)
AOTC_EW_PLAIN(aotc_elementwise_sub_f32, float, a - b)
AOTC_EW_PLAIN(aotc_elementwise_mul_f32, float, a * b)
/* int32 arithmetic wraps like the reference's two's complement hardware (computed unsigned) */
AOTC_EW_PLAIN(aotc_elementwise_add_s32, int32_t, (int32_t)((uint32_t)a + (uint32_t)b))
AOTC_EW_PLAIN(aotc_elementwise_sub_s32, int32_t, (int32_t)((uint32_t)a - (uint32_t)b))
AOTC_EW_PLAIN(aotc_elementwise_mul_s32, int32_t, (int32_t)((uint32_t)a * (uint32_t)b))

/* ---- MAXIMUM / MINIMUM on the stored values (el1 > el2 ? el1 : el2, as the reference) --------- */

#define AOTC_EW_BIN(NAME, TI, TO, EXPR)                                                         \
AOTC_KERNEL void NAME(const TI *in1, const TI *in2, TO *out, int32_t n, const int32_t *bc)      \
{                                                                                               \
    AOTC_EW_LOOP({                                                                              \
        const TI a = in1[p];                                                                    \
        const TI b = in2[q];                                                                    \
        out[o] = (TO)(EXPR);                                                                    \
    })                                                                                          \
}

#define AOTC_EW_MINMAX(SFX, T)                                                                  \
    AOTC_EW_BIN(aotc_elementwise_max_##SFX, T, T, a > b ? a : b)                                 \
    AOTC_EW_BIN(aotc_elementwise_min_##SFX, T, T, a < b ? a : b)

AOTC_EW_MINMAX(f32, float)
AOTC_EW_MINMAX(s8, int8_t)
AOTC_EW_MINMAX(s16, int16_t)
AOTC_EW_MINMAX(s32, int32_t)
AOTC_EW_MINMAX(s64, int64_t)

AOTC_EW_BIN(aotc_elementwise_logical_and, bool, bool, a && b)
AOTC_EW_BIN(aotc_elementwise_logical_or, bool, bool, a || b)

/* ---- FLOOR_DIV: floor(double(a) / double(b)) converted to T. A zero divisor (which the reference
 * rejects) gives 0; an int32 quotient of 2^31 converts to INT32_MIN as x86 does. -------------- */

static inline int32_t aotc_ew_floordiv_int(int32_t a, int32_t b)
{
    double f;
    if (b == 0) {
        return 0;
    }
    f = floor((double)a / (double)b);
    return f >= 2147483648.0 ? INT32_MIN : (int32_t)f;
}

/* FLOOR_MOD: the truncated remainder moved to the divisor's sign (b == -1 cannot trap here) */
static inline int32_t aotc_ew_floormod_int(int32_t a, int32_t b)
{
    int32_t m;
    if (b == 0 || b == -1) {
        return 0;
    }
    m = a % b;
    return (m != 0 && ((b < 0) != (m < 0))) ? m + b : m;
}

static inline float aotc_ew_floormod_f32(float a, float b)
{
    const float m = fmodf(a, b);
    return (m != 0 && ((b < 0) != (m < 0))) ? m + b : m;
}

AOTC_EW_BIN(aotc_elementwise_floordiv_f32, float, float, floor((double)a / (double)b))
AOTC_EW_BIN(aotc_elementwise_floordiv_s8, int8_t, int8_t, aotc_ew_floordiv_int(a, b))
AOTC_EW_BIN(aotc_elementwise_floordiv_s16, int16_t, int16_t, aotc_ew_floordiv_int(a, b))
AOTC_EW_BIN(aotc_elementwise_floordiv_s32, int32_t, int32_t, aotc_ew_floordiv_int(a, b))
AOTC_EW_BIN(aotc_elementwise_floormod_f32, float, float, aotc_ew_floormod_f32(a, b))
AOTC_EW_BIN(aotc_elementwise_floormod_s8, int8_t, int8_t, aotc_ew_floormod_int(a, b))
AOTC_EW_BIN(aotc_elementwise_floormod_s16, int16_t, int16_t, aotc_ew_floormod_int(a, b))
AOTC_EW_BIN(aotc_elementwise_floormod_s32, int32_t, int32_t, aotc_ew_floormod_int(a, b))

/* ---- POW: std::pow; int32 goes through double pow (out-of-range results give INT32_MIN as x86's
 * conversion does) -------------------------------------------------------------------------- */

static inline int32_t aotc_ew_pow_s32(int32_t a, int32_t b)
{
    const double f = pow((double)a, (double)b);
    return (f >= -2147483648.0 && f < 2147483648.0) ? (int32_t)f : INT32_MIN;
}

AOTC_EW_BIN(aotc_elementwise_pow_f32, float, float, powf(a, b))
AOTC_EW_BIN(aotc_elementwise_pow_s32, int32_t, int32_t, aotc_ew_pow_s32(a, b))

/* ---- SQUARED_DIFFERENCE ---------------------------------------------------------------------- */

AOTC_EW_BIN(aotc_elementwise_sqdiff_f32, float, float, (a - b) * (a - b))
AOTC_EW_BIN(aotc_elementwise_sqdiff_s32, int32_t, int32_t,
            (int32_t)((uint32_t)((uint32_t)a - (uint32_t)b) * (uint32_t)((uint32_t)a - (uint32_t)b)))

/* quantized: both inputs rescaled to twice the larger scale (after a left shift), the difference
 * squared and rescaled to the output (MultiplyByQuantizedMultiplier, which equals the reference's
 * SmallerThanOneExp variant for multipliers below 1) */
#define AOTC_EW_SQDIFF_Q(NAME, T, LO, HI)                                                       \
AOTC_KERNEL void NAME(const T *in1, const T *in2, T *out, int32_t n, const int32_t *bc,         \
                      int32_t in1_off, int32_t in1_mult, int32_t in1_shift,                     \
                      int32_t in2_off, int32_t in2_mult, int32_t in2_shift,                     \
                      int32_t left_shift, int32_t out_mult, int32_t out_shift, int32_t out_off) \
{                                                                                               \
    AOTC_EW_LOOP({                                                                              \
        const int32_t a = ((int32_t)in1[p] + in1_off) * (1 << left_shift);                      \
        const int32_t b = ((int32_t)in2[q] + in2_off) * (1 << left_shift);                      \
        const int32_t d = aotc_mbqm_lt1(a, in1_mult, in1_shift) - aotc_mbqm_lt1(b, in2_mult, in2_shift); \
        const int32_t raw = aotc_mbqm(d * d, out_mult, out_shift) + out_off;                    \
        out[o] = (T)AOTC_CLAMP(raw, LO, HI);                                                    \
    })                                                                                          \
}

AOTC_EW_SQDIFF_Q(aotc_elementwise_sqdiff_s8, int8_t, -128, 127)
AOTC_EW_SQDIFF_Q(aotc_elementwise_sqdiff_s16, int16_t, -32768, 32767)

/* ---- DIV ------------------------------------------------------------------------------------- */

AOTC_EW_PLAIN(aotc_elementwise_div_f32, float, a / b)

/* int32 truncates; a zero divisor (rejected by the reference) gives 0, INT32_MIN / -1 wraps */
static inline int32_t aotc_ew_div_s32(int32_t a, int32_t b)
{
    if (b == 0) {
        return 0;
    }
    if (b == -1) {
        return (int32_t)(0u - (uint32_t)a);
    }
    return a / b;
}

AOTC_EW_PLAIN(aotc_elementwise_div_s32, int32_t, aotc_ew_div_s32(a, b))

/* TFLite CountLeadingSignBits for int32 (31 for 0) */
static inline int aotc_ew_clrsb(int32_t x)
{
    uint32_t u = x < 0 ? ~(uint32_t)x : (uint32_t)x;
    int n = 0;
    while (n < 32 && (u & 0x80000000u) == 0) {
        u <<= 1;
        ++n;
    }
    return n - 1;
}

/* quantized DIV (TFLite DivElementwise) on offset values: the divisor's reciprocal by
 * GetReciprocal(b, 31), the dividend shifted left by its headroom, then rescaled; the compiler
 * guarantees total_shift <= 0. A zero divisor (rejected by the reference) saturates. */
static inline int32_t aotc_ew_div_q(int32_t a, int32_t b, int32_t out_mult, int32_t out_shift,
                                    int32_t act_min, int32_t act_max)
{
    int hp1 = 0, headroom, total_shift;
    int32_t inv, unscaled;
    if (b == 0) {
        return a >= 0 ? act_max : act_min;
    }
    if (b < 0) {
        a = -a;
        b = -b;
    }
    while ((((uint32_t)b << hp1) & 0x80000000u) == 0) {
        ++hp1;
    }
    inv = aotc_one_over_one_plus_x((int32_t)(((uint32_t)b << hp1) - 0x80000000u));
    headroom = aotc_ew_clrsb(a);
    unscaled = aotc_srdhm((int32_t)((uint32_t)a << headroom), inv);
    total_shift = out_shift - (31 - hp1) - headroom;
    return aotc_rdbpot(aotc_srdhm(unscaled, out_mult), -total_shift);
}

#define AOTC_EW_DIV_Q(NAME, T)                                                                  \
AOTC_KERNEL void NAME(const T *in1, const T *in2, T *out, int32_t n, const int32_t *bc,         \
                      int32_t in1_off, int32_t in2_off, int32_t out_mult, int32_t out_shift,    \
                      int32_t out_off, int32_t act_min, int32_t act_max)                        \
{                                                                                               \
    AOTC_EW_LOOP({                                                                              \
        const int32_t raw = aotc_ew_div_q((int32_t)in1[p] + in1_off, (int32_t)in2[q] + in2_off, \
                                          out_mult, out_shift, act_min - out_off,               \
                                          act_max - out_off) + out_off;                         \
        out[o] = (T)AOTC_CLAMP(raw, act_min, act_max);                                          \
    })                                                                                          \
}

AOTC_EW_DIV_Q(aotc_elementwise_div_s8, int8_t)
AOTC_EW_DIV_Q(aotc_elementwise_div_s16, int16_t)

/* ---- ADD_N: x = 0; x += in_j[i] for each input j in order (up to 8 inputs, unused ones NULL) -- */

#define AOTC_EW_ADDN(NAME, T, ADD)                                                              \
AOTC_KERNEL void NAME(const T *in0, const T *in1, const T *in2, const T *in3, const T *in4,     \
                      const T *in5, const T *in6, const T *in7, T *out, int32_t n, int32_t k)   \
{                                                                                               \
    const T *ins[8];                                                                            \
    int32_t i, j;                                                                               \
    ins[0] = in0; ins[1] = in1; ins[2] = in2; ins[3] = in3;                                     \
    ins[4] = in4; ins[5] = in5; ins[6] = in6; ins[7] = in7;                                     \
    for (i = 0; i < n; ++i) {                                                                   \
        T x = 0;                                                                                \
        for (j = 0; j < k; ++j) {                                                               \
            const T v = ins[j][i];                                                              \
            x = ADD;                                                                            \
        }                                                                                       \
        out[i] = x;                                                                             \
    }                                                                                           \
}

AOTC_EW_ADDN(aotc_elementwise_addn_f32, float, x + v)
AOTC_EW_ADDN(aotc_elementwise_addn_s32, int32_t, (int32_t)((uint32_t)x + (uint32_t)v))

/* ---- SELECT / SELECT_V2: out = cond ? x : y (bc holds cond, x, y strides) --------------------- */

#define AOTC_EW_SELECT(NAME, T)                                                                 \
AOTC_KERNEL void NAME(const bool *cond, const T *x, const T *y, T *out, int32_t n,              \
                      const int32_t *bc)                                                        \
{                                                                                               \
    AOTC_EW_LOOP3({ out[o] = cond[r] ? x[p] : y[q]; })                                          \
}

AOTC_EW_SELECT(aotc_elementwise_select_f32, float)
AOTC_EW_SELECT(aotc_elementwise_select_s8, int8_t)
AOTC_EW_SELECT(aotc_elementwise_select_u8, uint8_t)
AOTC_EW_SELECT(aotc_elementwise_select_s16, int16_t)
AOTC_EW_SELECT(aotc_elementwise_select_s32, int32_t)
AOTC_EW_SELECT(aotc_elementwise_select_s64, int64_t)
AOTC_EW_SELECT(aotc_elementwise_select_b, bool)

#endif
