/* Reductions: MEAN, SUM, REDUCE_PROD, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL, REDUCE_ANY; CUMSUM.
 *
 * `geom` (int32, computed at compile time) describes the walk:
 *   n_outer, n_inner, outer_shape[n_outer], outer_stride[n_outer],
 *   inner_shape[n_inner], inner_stride[n_inner]
 * The outer dimensions are the kept ones (row-major = output order), the inner ones the reduced ones,
 * both in input order, with strides in input elements. Each output accumulates its inputs in input
 * order, as LiteRT's reference Reduce does. */
#ifndef AOTC_RUNTIME_REDUCE_H
#define AOTC_RUNTIME_REDUCE_H
#include "common.h"
#include <float.h>

/* odometer step over `n` dims; returns 0 after the last position */
AOTC_KERNEL int aotc_reduce__next(int32_t *idx, const int32_t *shape, const int32_t *stride, int n,
                                  ptrdiff_t *pos)
{
    int d;
    for (d = n - 1; d >= 0; --d) {
        *pos += stride[d];
        if (++idx[d] < shape[d]) {
            return 1;
        }
        idx[d] = 0;
        *pos -= (ptrdiff_t)stride[d] * shape[d];
    }
    return 0;
}

#define AOTC_REDUCE_WALK(ACC_T, INIT, ACCUMULATE, STORE)                                        \
    const int no = (int)geom[0], ni = (int)geom[1];                                           \
    const int32_t *osh = geom + 2, *ost = osh + no, *ish = ost + no, *ist = ish + ni;         \
    int32_t oi[8], ii[8];                                                                     \
    ptrdiff_t base = 0;                                                                       \
    size_t o = 0;                                                                             \
    int d;                                                                                    \
    for (d = 0; d < no; ++d) {                                                                \
        oi[d] = 0;                                                                            \
    }                                                                                         \
    do {                                                                                      \
        ptrdiff_t p = base;                                                                   \
        ACC_T acc = INIT;                                                                     \
        for (d = 0; d < ni; ++d) {                                                            \
            ii[d] = 0;                                                                        \
        }                                                                                     \
        do {                                                                                  \
            ACCUMULATE;                                                                       \
        } while (aotc_reduce__next(ii, ish, ist, ni, &p));                                    \
        STORE;                                                                                \
        ++o;                                                                                  \
    } while (aotc_reduce__next(oi, osh, ost, no, &base));

/* QuantizedMeanOrSum: int32 sum (wrapping), minus zp_in * n (zpn), fixed-point rescale, + zp_out */
#define AOTC_REDUCE_QMEAN(NAME, T, QMIN, QMAX)                                                  \
    AOTC_KERNEL void NAME(const T *in, T *out, const int32_t *geom, int64_t zpn, int32_t mult,   \
                          int shift, int32_t out_zp)                                            \
    {                                                                                           \
        AOTC_REDUCE_WALK(uint32_t, 0u, { const int32_t x = in[p]; acc += (uint32_t)x; }, {    \
            const int32_t s = (int32_t)((int64_t)(int32_t)acc - zpn);                           \
            int32_t v = aotc_mbqm(s, mult, shift) + out_zp;                                     \
            out[o] = (T)AOTC_CLAMP(v, QMIN, QMAX);                                              \
        })                                                                                      \
    }

AOTC_REDUCE_QMEAN(aotc_reduce_mean_s8, int8_t, -128, 127)
AOTC_REDUCE_QMEAN(aotc_reduce_mean_s16, int16_t, -32768, 32767)
/* quantized SUM: the same arithmetic, the multiplier without the 1/n fold */
AOTC_REDUCE_QMEAN(aotc_reduce_sum_s8, int8_t, -128, 127)
AOTC_REDUCE_QMEAN(aotc_reduce_sum_s16, int16_t, -32768, 32767)

/* LiteRT 2.3's reference int8 SUM (reduce.cc QuantizedMeanOrSum<T, kReference>) reads and writes the
 * tensors as uint8_t: the sum is of the bytes (0..255), the result is clamped to [0, 255] and its low
 * byte stored. Reproduced under rounding "litert" only. */
AOTC_KERNEL void aotc_reduce_sum_s8_as_u8(const int8_t *in, int8_t *out, const int32_t *geom, int64_t zpn,
                                          int32_t mult, int shift, int32_t out_zp)
{
    const uint8_t *in8 = (const uint8_t *)in;
    AOTC_REDUCE_WALK(uint32_t, 0u, acc += (uint32_t)in8[p], {
        const int32_t s = (int32_t)((int64_t)(int32_t)acc - zpn);
        int32_t v = aotc_mbqm(s, mult, shift) + out_zp;
        ((uint8_t *)out)[o] = (uint8_t)AOTC_CLAMP(v, 0, 255);
    })
}

/* QuantizedReduceProd: p = x0 - zp, then p = mbqm64(p * (x - zp)) for each further element,
 * out = clamp(mbqm64(p) + out_zp). INT64_MIN marks "no element yet". */
#define AOTC_REDUCE_QPROD(NAME, T, QMIN, QMAX)                                                  \
    AOTC_KERNEL void NAME(const T *in, T *out, const int32_t *geom, int32_t in_zp, int32_t mult, \
                          int shift, int32_t out_zp)                                            \
    {                                                                                           \
        AOTC_REDUCE_WALK(int64_t, INT64_MIN, {                                                  \
            const int32_t x = (int32_t)in[p] - in_zp;                                           \
            acc = acc == INT64_MIN ? (int64_t)x : (int64_t)aotc_mbqm64(acc * x, mult, shift);   \
        }, {                                                                                    \
            int32_t v = aotc_mbqm64(acc, mult, shift) + out_zp;                                 \
            out[o] = (T)AOTC_CLAMP(v, QMIN, QMAX);                                              \
        })                                                                                      \
    }

AOTC_REDUCE_QPROD(aotc_reduce_prod_s8, int8_t, -128, 127)
AOTC_REDUCE_QPROD(aotc_reduce_prod_s16, int16_t, -32768, 32767)

AOTC_KERNEL void aotc_reduce_prod_f32(const float *in, float *out, const int32_t *geom)
{
    AOTC_REDUCE_WALK(float, 1.0f, acc *= in[p], out[o] = acc)
}

AOTC_KERNEL void aotc_reduce_prod_s32(const int32_t *in, int32_t *out, const int32_t *geom)
{
    AOTC_REDUCE_WALK(uint32_t, 1u, acc *= (uint32_t)in[p], out[o] = (int32_t)acc)
}

/* float MEAN: sum in input order, divided by n */
AOTC_KERNEL void aotc_reduce_mean_f32(const float *in, float *out, const int32_t *geom, float n)
{
    AOTC_REDUCE_WALK(float, 0.0f, acc += in[p], out[o] = acc / n)
}

/* int32 MEAN: int64 sum, truncating division */
AOTC_KERNEL void aotc_reduce_mean_s32(const int32_t *in, int32_t *out, const int32_t *geom, int64_t n)
{
    AOTC_REDUCE_WALK(int64_t, 0, acc += in[p], out[o] = (int32_t)(acc / n))
}

/* from_first (one output only): start from the first element, as LiteRT's ReduceAllDims does */
AOTC_KERNEL void aotc_reduce_sum_f32(const float *in, float *out, const int32_t *geom, int from_first)
{
    int first = from_first;
    AOTC_REDUCE_WALK(float, 0.0f, if (first) { acc = in[p]; first = 0; } else { acc += in[p]; },
                     out[o] = acc)
}

AOTC_KERNEL void aotc_reduce_sum_s32(const int32_t *in, int32_t *out, const int32_t *geom)
{
    AOTC_REDUCE_WALK(uint32_t, 0u, acc += (uint32_t)in[p], out[o] = (int32_t)acc)
}

#define AOTC_REDUCE_MINMAX(NAME, T, INIT, CMP)                                                  \
    AOTC_KERNEL void NAME(const T *in, T *out, const int32_t *geom)                              \
    {                                                                                           \
        AOTC_REDUCE_WALK(T, INIT, if (in[p] CMP acc) { acc = in[p]; }, out[o] = acc)            \
    }

/* float: from_first as for the sum (differs from the init value for -inf and NaN inputs) */
#define AOTC_REDUCE_MINMAX_F32(NAME, INIT, CMP)                                                 \
    AOTC_KERNEL void NAME(const float *in, float *out, const int32_t *geom, int from_first)     \
    {                                                                                           \
        int first = from_first;                                                                 \
        AOTC_REDUCE_WALK(float, INIT, if (first) { acc = in[p]; first = 0; }                    \
                         else if (in[p] CMP acc) { acc = in[p]; }, out[o] = acc)                \
    }

AOTC_REDUCE_MINMAX(aotc_reduce_max_s8, int8_t, -128, >)
AOTC_REDUCE_MINMAX(aotc_reduce_max_s16, int16_t, -32768, >)
AOTC_REDUCE_MINMAX(aotc_reduce_max_s32, int32_t, INT32_MIN, >)
AOTC_REDUCE_MINMAX_F32(aotc_reduce_max_f32, -FLT_MAX, >)
AOTC_REDUCE_MINMAX(aotc_reduce_min_s8, int8_t, 127, <)
AOTC_REDUCE_MINMAX(aotc_reduce_min_s16, int16_t, 32767, <)
AOTC_REDUCE_MINMAX(aotc_reduce_min_s32, int32_t, INT32_MAX, <)
AOTC_REDUCE_MINMAX_F32(aotc_reduce_min_f32, FLT_MAX, <)

/* REDUCE_ALL / REDUCE_ANY: logical and / or of bool inputs, in input order */
AOTC_KERNEL void aotc_reduce_all_b(const bool *in, bool *out, const int32_t *geom)
{
    AOTC_REDUCE_WALK(bool, true, if (!in[p]) { acc = false; }, out[o] = acc)
}

AOTC_KERNEL void aotc_reduce_any_b(const bool *in, bool *out, const int32_t *geom)
{
    AOTC_REDUCE_WALK(bool, false, if (in[p]) { acc = true; }, out[o] = acc)
}

/* CUMSUM over [outer][depth][inner]: accumulate along depth in the input type (int32 wraps), forward
 * or reversed, inclusive or exclusive. Each element is read before its output is written (in place). */
#define AOTC_REDUCE_CUMSUM(NAME, T, ACC_T)                                                      \
    AOTC_KERNEL void NAME(const T *in, T *out, int32_t outer, int32_t depth, int32_t inner,      \
                          int exclusive, int reverse)                                           \
    {                                                                                           \
        int32_t o, i, d;                                                                        \
        for (o = 0; o < outer; ++o) {                                                           \
            for (i = 0; i < inner; ++i) {                                                       \
                ACC_T acc = 0;                                                                  \
                for (d = 0; d < depth; ++d) {                                                   \
                    const int32_t dd = reverse ? depth - 1 - d : d;                             \
                    const size_t k = ((size_t)o * (size_t)depth + (size_t)dd) * (size_t)inner   \
                                     + (size_t)i;                                               \
                    const T x = in[k];                                                          \
                    if (exclusive) {                                                            \
                        out[k] = (T)acc;                                                        \
                        acc += (ACC_T)x;                                                        \
                    } else {                                                                    \
                        acc += (ACC_T)x;                                                        \
                        out[k] = (T)acc;                                                        \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

AOTC_REDUCE_CUMSUM(aotc_reduce_cumsum_f32, float, float)
AOTC_REDUCE_CUMSUM(aotc_reduce_cumsum_s32, int32_t, uint32_t)

#endif
