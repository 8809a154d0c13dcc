/* ADD, SUB, MUL with NumPy broadcasting, bit-exact with TFLite's reference kernels.
 *
 * Every kernel takes `n` (the number of output elements) and `bc`: NULL when both inputs have the
 * output's shape (a flat loop), otherwise 18 int32 values precomputed by the compiler:
 * bc[0..5] the output dims (padded with leading 1s), bc[6..11] input 1 element strides and
 * bc[12..17] input 2 element strides (0 along broadcast dimensions). */
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

#endif
