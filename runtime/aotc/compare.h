/* EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL with NumPy broadcasting and a bool
 * output, bit-exact with TFLite's reference kernels. `n` and `bc` as in elementwise.h.
 * Quantized inputs (int8; int16 with quantization parameters) are compared after TFLite's
 * ComparisonWithScaling: ((x - zp) << left_shift) times the input's own scale as a Q31 multiplier. */
#ifndef AOTC_RUNTIME_COMPARE_H
#define AOTC_RUNTIME_COMPARE_H
#include "common.h"
#include "elementwise.h"

#define AOTC_CMP_PLAIN(NAME, T, OP)                                                             \
AOTC_KERNEL void NAME(const T *in1, const T *in2, bool *out, int32_t n, const int32_t *bc)      \
{                                                                                               \
    AOTC_EW_LOOP({                                                                              \
        const T a = in1[p];                                                                     \
        const T b = in2[q];                                                                     \
        out[o] = a OP b;                                                                        \
    })                                                                                          \
}

#define AOTC_CMP_SCALED(NAME, T, OP)                                                            \
AOTC_KERNEL void NAME(const T *in1, const T *in2, bool *out, int32_t n, const int32_t *bc,      \
                      int32_t left_shift, int32_t in1_off, int32_t in1_mult, int32_t in1_shift, \
                      int32_t in2_off, int32_t in2_mult, int32_t in2_shift)                     \
{                                                                                               \
    AOTC_EW_LOOP({                                                                              \
        const int32_t a = aotc_mbqm_lt1(((int32_t)in1[p] + in1_off) * (1 << left_shift),        \
                                        in1_mult, in1_shift);                                   \
        const int32_t b = aotc_mbqm_lt1(((int32_t)in2[q] + in2_off) * (1 << left_shift),        \
                                        in2_mult, in2_shift);                                   \
        out[o] = a OP b;                                                                        \
    })                                                                                          \
}

#define AOTC_CMP_ALL(OPNAME, OP)                                                                \
    AOTC_CMP_PLAIN(aotc_compare_##OPNAME##_f32, float, OP)                                      \
    AOTC_CMP_PLAIN(aotc_compare_##OPNAME##_s16, int16_t, OP)                                    \
    AOTC_CMP_PLAIN(aotc_compare_##OPNAME##_s32, int32_t, OP)                                    \
    AOTC_CMP_PLAIN(aotc_compare_##OPNAME##_s64, int64_t, OP)                                    \
    AOTC_CMP_SCALED(aotc_compare_##OPNAME##_s8, int8_t, OP)                                     \
    AOTC_CMP_SCALED(aotc_compare_##OPNAME##_s16q, int16_t, OP)

AOTC_CMP_ALL(eq, ==)
AOTC_CMP_ALL(ne, !=)
AOTC_CMP_ALL(gt, >)
AOTC_CMP_ALL(ge, >=)
AOTC_CMP_ALL(lt, <)
AOTC_CMP_ALL(le, <=)
AOTC_CMP_PLAIN(aotc_compare_eq_b, bool, ==)
AOTC_CMP_PLAIN(aotc_compare_ne_b, bool, !=)

#endif
