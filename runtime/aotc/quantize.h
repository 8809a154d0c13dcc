/* QUANTIZE and DEQUANTIZE, bit-exact with TFLite's reference kernels. */
#ifndef AOTC_RUNTIME_QUANTIZE_H
#define AOTC_RUNTIME_QUANTIZE_H
#include "common.h"

/* AffineQuantize: (int32)roundf(x / scale) + zp, clamped. Values beyond the int32 range saturate
 * (the conversion is undefined in C; the clamp makes the result the type's bound). */
#define AOTC_QUANTIZE_F32(NAME, OUT_T)                                                          \
AOTC_KERNEL void NAME(const float *in, OUT_T *out, int32_t n, float scale, int32_t zp,          \
                      int32_t qmin, int32_t qmax)                                               \
{                                                                                               \
    int32_t i;                                                                                  \
    for (i = 0; i < n; ++i) {                                                                   \
        const float r = roundf(in[i] / scale);                                                  \
        int32_t v;                                                                              \
        if (r >= 2147483520.0f) {                                                               \
            v = qmax;                                                                           \
        } else if (r <= -2147483520.0f) {                                                       \
            v = qmin;                                                                           \
        } else {                                                                                \
            const int64_t w = (int64_t)r + zp;                                                  \
            v = (int32_t)AOTC_CLAMP(w, (int64_t)qmin, (int64_t)qmax);                           \
        }                                                                                       \
        out[i] = (OUT_T)AOTC_CLAMP(v, qmin, qmax);                                              \
    }                                                                                           \
}

AOTC_QUANTIZE_F32(aotc_quantize_f32_s8, int8_t)
AOTC_QUANTIZE_F32(aotc_quantize_f32_u8, uint8_t)
AOTC_QUANTIZE_F32(aotc_quantize_f32_s16, int16_t)

/* Requantize: MultiplyByQuantizedMultiplier(q - zp_in) + zp_out, clamped */
#define AOTC_REQUANTIZE(NAME, IN_T, OUT_T)                                                      \
AOTC_KERNEL void NAME(const IN_T *in, OUT_T *out, int32_t n, int32_t in_zp, int32_t out_zp,     \
                      int32_t mult, int32_t shift, int32_t qmin, int32_t qmax)                  \
{                                                                                               \
    int32_t i;                                                                                  \
    for (i = 0; i < n; ++i) {                                                                   \
        const int32_t v = aotc_mbqm((int32_t)in[i] - in_zp, mult, shift) + out_zp;              \
        out[i] = (OUT_T)AOTC_CLAMP(v, qmin, qmax);                                              \
    }                                                                                           \
}

AOTC_REQUANTIZE(aotc_quantize_s8_s8, int8_t, int8_t)
AOTC_REQUANTIZE(aotc_quantize_s8_u8, int8_t, uint8_t)
AOTC_REQUANTIZE(aotc_quantize_s8_s16, int8_t, int16_t)
AOTC_REQUANTIZE(aotc_quantize_u8_s8, uint8_t, int8_t)
AOTC_REQUANTIZE(aotc_quantize_u8_u8, uint8_t, uint8_t)
AOTC_REQUANTIZE(aotc_quantize_u8_s16, uint8_t, int16_t)
AOTC_REQUANTIZE(aotc_quantize_s16_s8, int16_t, int8_t)
AOTC_REQUANTIZE(aotc_quantize_s16_s16, int16_t, int16_t)

/* Dequantize: (float)(scale * (q - zp)) with the product in double. The loop runs from the last
 * element down, so the output may start at the input's address (the planner puts the int8 input
 * inside the float output's bytes): out[i] only covers input elements that are already read. */
#define AOTC_DEQUANTIZE(NAME, IN_T)                                                             \
AOTC_KERNEL void NAME(const IN_T *in, float *out, int32_t n, double scale, int32_t zp)          \
{                                                                                               \
    int32_t i;                                                                                  \
    for (i = n - 1; i >= 0; --i) {                                                              \
        const IN_T q = in[i];                                                                   \
        out[i] = (float)(scale * (double)((int32_t)q - zp));                                    \
    }                                                                                           \
}

AOTC_DEQUANTIZE(aotc_quantize_dequantize_s8, int8_t)
AOTC_DEQUANTIZE(aotc_quantize_dequantize_u8, uint8_t)
AOTC_DEQUANTIZE(aotc_quantize_dequantize_s16, int16_t)

#endif
