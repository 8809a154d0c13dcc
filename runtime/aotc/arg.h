/* ARG_MAX / ARG_MIN over [outer][axis_size][inner]: the first index of the extreme value (strict
 * comparison, as LiteRT's and TFLM's ArgMinMax). float is NaN-aware: a NaN never replaces the current
 * value, a number always replaces a NaN. */
#ifndef AOTC_RUNTIME_ARG_H
#define AOTC_RUNTIME_ARG_H
#include "common.h"

#define AOTC_ARG_BODY(BETTER)                                                                   \
    int32_t o, i, k;                                                                            \
    for (o = 0; o < outer; ++o) {                                                               \
        for (i = 0; i < inner; ++i) {                                                           \
            const size_t base = (size_t)o * (size_t)axis_size * (size_t)inner + (size_t)i;      \
            int32_t best_k = 0;                                                                 \
            for (k = 1; k < axis_size; ++k) {                                                   \
                const size_t c = base + (size_t)k * (size_t)inner;                              \
                const size_t b = base + (size_t)best_k * (size_t)inner;                         \
                if (BETTER(in[c], in[b])) {                                                     \
                    best_k = k;                                                                 \
                }                                                                               \
            }                                                                                   \
            out[(size_t)o * (size_t)inner + (size_t)i] = best_k;                                \
        }                                                                                       \
    }

#define AOTC_ARG_GT(c, b) ((c) > (b))
#define AOTC_ARG_LT(c, b) ((c) < (b))
#define AOTC_ARG_GT_F(c, b) (!isnan(c) && (isnan(b) || (c) > (b)))
#define AOTC_ARG_LT_F(c, b) (!isnan(c) && (isnan(b) || (c) < (b)))

#define AOTC_ARG_KERNEL(NAME, T, OUT_T, BETTER)                                                 \
    AOTC_KERNEL void NAME(const T *in, OUT_T *out, int32_t outer, int32_t axis_size, int32_t inner) \
    {                                                                                           \
        AOTC_ARG_BODY(BETTER)                                                                   \
    }

#define AOTC_ARG_TYPES(SUF, T, GT, LT)                                                          \
    AOTC_ARG_KERNEL(aotc_arg_max_##SUF##_s32, T, int32_t, GT)                                   \
    AOTC_ARG_KERNEL(aotc_arg_max_##SUF##_s64, T, int64_t, GT)                                   \
    AOTC_ARG_KERNEL(aotc_arg_min_##SUF##_s32, T, int32_t, LT)                                   \
    AOTC_ARG_KERNEL(aotc_arg_min_##SUF##_s64, T, int64_t, LT)

AOTC_ARG_TYPES(f32, float, AOTC_ARG_GT_F, AOTC_ARG_LT_F)
AOTC_ARG_TYPES(s8, int8_t, AOTC_ARG_GT, AOTC_ARG_LT)
AOTC_ARG_TYPES(u8, uint8_t, AOTC_ARG_GT, AOTC_ARG_LT)
AOTC_ARG_TYPES(s32, int32_t, AOTC_ARG_GT, AOTC_ARG_LT)
AOTC_ARG_TYPES(b, bool, AOTC_ARG_GT, AOTC_ARG_LT)

#endif
