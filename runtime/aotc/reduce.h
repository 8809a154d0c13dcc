/* Reductions: MEAN, SUM, REDUCE_MAX, REDUCE_MIN.
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

AOTC_KERNEL void aotc_reduce_sum_f32(const float *in, float *out, const int32_t *geom)
{
    AOTC_REDUCE_WALK(float, 0.0f, acc += in[p], out[o] = acc)
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

AOTC_REDUCE_MINMAX(aotc_reduce_max_s8, int8_t, -128, >)
AOTC_REDUCE_MINMAX(aotc_reduce_max_s16, int16_t, -32768, >)
AOTC_REDUCE_MINMAX(aotc_reduce_max_s32, int32_t, INT32_MIN, >)
AOTC_REDUCE_MINMAX(aotc_reduce_max_f32, float, -FLT_MAX, >)
AOTC_REDUCE_MINMAX(aotc_reduce_min_s8, int8_t, 127, <)
AOTC_REDUCE_MINMAX(aotc_reduce_min_s16, int16_t, 32767, <)
AOTC_REDUCE_MINMAX(aotc_reduce_min_s32, int32_t, INT32_MAX, <)
AOTC_REDUCE_MINMAX(aotc_reduce_min_f32, float, FLT_MAX, <)

#endif
