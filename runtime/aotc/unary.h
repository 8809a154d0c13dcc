/* Unary elementwise kernels: float32 math as TFLite's reference kernels compute it (libm float
 * functions), integer kernels bit-exact with TFLite's (int8 ones go through a compile-time table in
 * activation.h), int16 tables with TFLite's 513-entry interpolating lookup, and CAST. */
#ifndef AOTC_RUNTIME_UNARY_H
#define AOTC_RUNTIME_UNARY_H
#include "common.h"

#define AOTC_UNARY_F32(name, expr)                                                   \
    AOTC_KERNEL void aotc_unary_##name##_f32(const float *in, float *out, int32_t n) \
    {                                                                                \
        int32_t i;                                                                   \
        for (i = 0; i < n; ++i) {                                                    \
            const float v = in[i];                                                   \
            out[i] = (expr);                                                         \
        }                                                                            \
    }

AOTC_UNARY_F32(abs, fabsf(v))
AOTC_UNARY_F32(neg, -v)
AOTC_UNARY_F32(square, v * v)
AOTC_UNARY_F32(sqrt, sqrtf(v))
AOTC_UNARY_F32(rsqrt, 1.0f / sqrtf(v))
AOTC_UNARY_F32(exp, expf(v))
AOTC_UNARY_F32(log, logf(v))
AOTC_UNARY_F32(sin, sinf(v))
AOTC_UNARY_F32(cos, cosf(v))
AOTC_UNARY_F32(floor, floorf(v))
AOTC_UNARY_F32(ceil, ceilf(v))
AOTC_UNARY_F32(elu, v < 0.0f ? expm1f(v) : v)
AOTC_UNARY_F32(elu_tflm, v < 0.0f ? expf(v) - 1.0f : v)

/* reference_ops::RoundToNearest: half to even (diff == 0.5 only when |v| < 2^23, so the cast is safe) */
AOTC_KERNEL void aotc_unary_round_f32(const float *in, float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float fl = floorf(in[i]);
        const float diff = in[i] - fl;
        out[i] = (diff < 0.5f || (diff == 0.5f && (int32_t)fl % 2 == 0)) ? fl : fl + 1.0f;
    }
}

/* GELU: 0.5 x erfc(-x / sqrt(2)), or the tanh approximation */
AOTC_KERNEL void aotc_unary_gelu_f32(const float *in, float *out, int32_t n, int32_t approximate)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float v = in[i];
        if (approximate) {
            out[i] = 0.5f * v * (1.0f + tanhf(0.797884583473205566f * (v + 0.044715f * v * v * v)));
        } else {
            out[i] = 0.5f * v * erfcf(v * -0.707106769084930420f);
        }
    }
}

/* LEAKY_RELU float: v > 0 ? v : v * alpha */
AOTC_KERNEL void aotc_unary_leaky_relu_f32(const float *in, float *out, int32_t n, float alpha)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float v = in[i];
        out[i] = v > 0.0f ? v : v * alpha;
    }
}

/* TFLite LUTLookup for int16: 512 base values plus one for the last slope, 7 interpolation bits */
AOTC_KERNEL void aotc_unary_lut_s16(const int16_t *in, int16_t *out, int32_t n, const int16_t *lut)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t v = (int32_t)in[i];
        const int32_t index = 256 + (v >> 7);
        const int32_t offset = v & 0x7f;
        const int32_t base = (int32_t)lut[index];
        const int32_t slope = (int32_t)lut[index + 1] - base;
        const int32_t delta = (slope * offset + 64) >> 7;
        out[i] = (int16_t)(base + delta);
    }
}

/* ABS int16 with quantization (AbsEvalQuantized): |in - in_zp|, rescaled when the scales differ */
AOTC_KERNEL void aotc_unary_abs_s16(const int16_t *in, int16_t *out, int32_t n, int32_t in_zp, int32_t out_zp,
                                    int32_t rescale, int32_t mult, int32_t shift)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        int32_t v = (int32_t)in[i] - in_zp;
        v = v < 0 ? -v : v;
        v = (rescale ? aotc_mbqm(v, mult, shift) : v) + out_zp;
        out[i] = (int16_t)AOTC_CLAMP(v, -32768, 32767);
    }
}

/* ABS int16 without quantization: static_cast<int16_t>(abs(int32)) (-32768 stays -32768) */
AOTC_KERNEL void aotc_unary_abs_raw_s16(const int16_t *in, int16_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t v = (int32_t)in[i];
        out[i] = (int16_t)(uint16_t)(uint32_t)(v < 0 ? -v : v);
    }
}

AOTC_KERNEL void aotc_unary_abs_s32(const int32_t *in, int32_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const uint32_t u = (uint32_t)in[i];
        out[i] = (int32_t)(in[i] < 0 ? 0u - u : u);
    }
}

/* NEG on integers: two's complement negation (the most negative value maps to itself) */
#define AOTC_UNARY_NEG_INT(sfx, T, U)                                           \
    AOTC_KERNEL void aotc_unary_neg_##sfx(const T *in, T *out, int32_t n)       \
    {                                                                           \
        int32_t i;                                                              \
        for (i = 0; i < n; ++i) {                                               \
            out[i] = (T)(0u - (U)in[i]);                                        \
        }                                                                       \
    }

AOTC_UNARY_NEG_INT(s8, int8_t, uint8_t)
AOTC_UNARY_NEG_INT(s16, int16_t, uint16_t)
AOTC_UNARY_NEG_INT(s32, int32_t, uint32_t)
AOTC_UNARY_NEG_INT(s64, int64_t, uint64_t)

/* SqrtEvalQuantized<int16_t>: (int)(sqrtf(s_in * (in - zp_in)) / s_out) + zp_out, clamped (the
 * conversion truncates); negative inputs are an error in LiteRT, here they give the minimum. */
AOTC_KERNEL void aotc_unary_sqrt_s16(const int16_t *in, int16_t *out, int32_t n, float in_scale, int32_t in_zp,
                                     float out_scale, int32_t out_zp)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float d = in_scale * (float)((int32_t)in[i] - in_zp);
        int32_t q;
        if (!(d >= 0.0f)) {
            q = -32768;
        } else {
            const float r = sqrtf(d) / out_scale;
            q = (r >= 65536.0f ? 65536 : (int32_t)r) + out_zp;
        }
        out[i] = (int16_t)AOTC_CLAMP(q, -32768, 32767);
    }
}

/* LEAKY_RELU int16 (QuantizeLeakyRelu): identity and alpha multipliers on either side of the zero point */
AOTC_KERNEL void aotc_unary_leaky_relu_s16(const int16_t *in, int16_t *out, int32_t n, int32_t in_zp, int32_t out_zp,
                                           int32_t mult_id, int32_t shift_id, int32_t mult_alpha,
                                           int32_t shift_alpha, int32_t negate_alpha)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t v = (int32_t)in[i] - in_zp;
        int32_t r;
        if (v >= 0) {
            r = aotc_mbqm(v, mult_id, shift_id);
        } else {
            r = aotc_mbqm(v, mult_alpha, shift_alpha);
            r = negate_alpha ? -r : r;
        }
        r += out_zp;
        out[i] = (int16_t)AOTC_CLAMP(r, -32768, 32767);
    }
}

/* PRELU: alpha[i % alpha_n] (alpha repeats along the trailing dimensions) */
AOTC_KERNEL void aotc_unary_prelu_f32(const float *in, const float *alpha, float *out, int32_t n, int32_t alpha_n)
{
    int32_t i, a = 0;
    for (i = 0; i < n; ++i) {
        const float v = in[i];
        out[i] = v >= 0.0f ? v : v * alpha[a];
        a = a + 1 == alpha_n ? 0 : a + 1;
    }
}

#define AOTC_UNARY_PRELU_Q(sfx, T, LO, HI)                                                                   \
    AOTC_KERNEL void aotc_unary_prelu_##sfx(const T *in, const int8_t *alpha, T *out, int32_t n,             \
                                            int32_t alpha_n, int32_t in_zp, int32_t alpha_zp, int32_t out_zp, \
                                            int32_t mult1, int32_t shift1, int32_t mult2, int32_t shift2)    \
    {                                                                                                        \
        int32_t i, a = 0;                                                                                    \
        for (i = 0; i < n; ++i) {                                                                            \
            const int32_t v = (int32_t)in[i] - in_zp;                                                        \
            int32_t r;                                                                                       \
            if (v >= 0) {                                                                                    \
                r = aotc_mbqm(v, mult1, shift1);                                                             \
            } else {                                                                                         \
                r = aotc_mbqm(v * ((int32_t)alpha[a] - alpha_zp), mult2, shift2);                            \
            }                                                                                                \
            r += out_zp;                                                                                     \
            out[i] = (T)AOTC_CLAMP(r, LO, HI);                                                               \
            a = a + 1 == alpha_n ? 0 : a + 1;                                                                \
        }                                                                                                    \
    }

AOTC_UNARY_PRELU_Q(s8, int8_t, -128, 127)
AOTC_UNARY_PRELU_Q(s16, int16_t, -32768, 32767)

AOTC_KERNEL void aotc_unary_logical_not_b(const bool *in, bool *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = !in[i];
    }
}

AOTC_KERNEL void aotc_unary_zeros(void *out, size_t bytes)
{
    memset(out, 0, bytes);
}

/* ---- CAST ------------------------------------------------------------------------------------ */

/* integer -> integer / float: C conversion (narrowing wraps, as static_cast does) */
#define AOTC_CAST_PLAIN(from, to, FT, TT)                                              \
    AOTC_KERNEL void aotc_unary_cast_##from##_##to(const FT *in, TT *out, int32_t n)   \
    {                                                                                  \
        int32_t i;                                                                     \
        for (i = 0; i < n; ++i) {                                                      \
            out[i] = (TT)in[i];                                                        \
        }                                                                              \
    }

/* x -> bool: x != 0 */
#define AOTC_CAST_BOOL(from, FT)                                                       \
    AOTC_KERNEL void aotc_unary_cast_##from##_b(const FT *in, bool *out, int32_t n)    \
    {                                                                                  \
        int32_t i;                                                                     \
        for (i = 0; i < n; ++i) {                                                      \
            out[i] = in[i] != 0;                                                       \
        }                                                                              \
    }

/* float -> integer: saturating (SafeCast); NaN gives nan_value */
#define AOTC_CAST_F2I(to, TT, LO, HI, LO_F, HI_EXCL_F)                                                  \
    AOTC_KERNEL void aotc_unary_cast_f32_##to(const float *in, TT *out, int32_t n, TT nan_value)        \
    {                                                                                                   \
        int32_t i;                                                                                      \
        for (i = 0; i < n; ++i) {                                                                       \
            const float v = in[i];                                                                      \
            out[i] = v != v ? nan_value : (v < (LO_F) ? (LO) : (v >= (HI_EXCL_F) ? (HI) : (TT)v));      \
        }                                                                                               \
    }

AOTC_CAST_F2I(s8, int8_t, INT8_MIN, INT8_MAX, -128.0f, 128.0f)
AOTC_CAST_F2I(u8, uint8_t, 0, UINT8_MAX, 0.0f, 256.0f)
AOTC_CAST_F2I(s16, int16_t, INT16_MIN, INT16_MAX, -32768.0f, 32768.0f)
AOTC_CAST_F2I(s32, int32_t, INT32_MIN, INT32_MAX, -2147483648.0f, 2147483648.0f)
AOTC_CAST_F2I(s64, int64_t, INT64_MIN, INT64_MAX, -9223372036854775808.0f, 9223372036854775808.0f)
AOTC_CAST_BOOL(f32, float)
AOTC_CAST_PLAIN(f32, f32, float, float)

#define AOTC_CAST_FROM_INT(from, FT)          \
    AOTC_CAST_PLAIN(from, f32, FT, float)     \
    AOTC_CAST_PLAIN(from, s8, FT, int8_t)     \
    AOTC_CAST_PLAIN(from, u8, FT, uint8_t)    \
    AOTC_CAST_PLAIN(from, s16, FT, int16_t)   \
    AOTC_CAST_PLAIN(from, s32, FT, int32_t)   \
    AOTC_CAST_PLAIN(from, s64, FT, int64_t)   \
    AOTC_CAST_BOOL(from, FT)

AOTC_CAST_FROM_INT(s8, int8_t)
AOTC_CAST_FROM_INT(u8, uint8_t)
AOTC_CAST_FROM_INT(s16, int16_t)
AOTC_CAST_FROM_INT(s32, int32_t)
AOTC_CAST_FROM_INT(s64, int64_t)
AOTC_CAST_FROM_INT(b, bool)

#endif
