/* Index-driven copies: GATHER, GATHER_ND, EMBEDDING_LOOKUP.
 *
 * The indices may be run-time values. LiteRT's reference kernels fail the invoke when an index is
 * negative or not below the dimension size; these kernels have no error path, so they check every
 * index and fill the selected slice with zero bytes instead: they never read outside the input. */
#ifndef AOTC_RUNTIME_GATHER_H
#define AOTC_RUNTIME_GATHER_H
#include "common.h"

/* GATHER: input [batch, outer, axis_size, inner], indices [batch, coords] ->
 * output [batch, outer, coords, inner]; inner_bytes = inner elements * element size */
#define AOTC_GATHER(NAME, I)                                                                    \
    AOTC_KERNEL void NAME(const void *in, const I *idx, void *out, int32_t batch, int32_t outer, \
                          int32_t axis_size, int32_t coords, int32_t inner_bytes)               \
    {                                                                                           \
        const uint8_t *x = (const uint8_t *)in;                                                 \
        uint8_t *y = (uint8_t *)out;                                                            \
        const size_t n = (size_t)inner_bytes;                                                   \
        int32_t b, o, i;                                                                        \
        for (b = 0; b < batch; ++b) {                                                           \
            for (o = 0; o < outer; ++o) {                                                       \
                const size_t row = (size_t)b * (size_t)outer + (size_t)o;                       \
                for (i = 0; i < coords; ++i) {                                                  \
                    const int64_t c = (int64_t)idx[(size_t)b * (size_t)coords + (size_t)i];     \
                    uint8_t *dst = y + (row * (size_t)coords + (size_t)i) * n;                  \
                    if (c < 0 || c >= (int64_t)axis_size) {                                     \
                        memset(dst, 0, n);                                                      \
                    } else {                                                                    \
                        memcpy(dst, x + (row * (size_t)axis_size + (size_t)c) * n, n);          \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

AOTC_GATHER(aotc_gather_i16, int16_t)
AOTC_GATHER(aotc_gather_i32, int32_t)
AOTC_GATHER(aotc_gather_i64, int64_t)

/* GATHER_ND: n_slices index tuples of nd coordinates; geom = [dims[nd], strides[nd]] (strides in
 * elements); each tuple selects slice_elems contiguous elements of elem bytes. */
#define AOTC_GATHER_ND(NAME, I)                                                                 \
    AOTC_KERNEL void NAME(const void *in, const I *idx, void *out, int32_t n_slices, int32_t nd, \
                          const int32_t *geom, int32_t slice_elems, int32_t elem)               \
    {                                                                                           \
        const uint8_t *x = (const uint8_t *)in;                                                 \
        uint8_t *y = (uint8_t *)out;                                                            \
        const size_t n = (size_t)slice_elems * (size_t)elem;                                    \
        int32_t s, j;                                                                           \
        for (s = 0; s < n_slices; ++s) {                                                        \
            uint8_t *dst = y + (size_t)s * n;                                                   \
            size_t from = 0;                                                                    \
            int ok = 1;                                                                         \
            for (j = 0; j < nd; ++j) {                                                          \
                const int64_t c = (int64_t)idx[(size_t)s * (size_t)nd + (size_t)j];             \
                if (c < 0 || c >= (int64_t)geom[j]) {                                           \
                    ok = 0;                                                                     \
                    break;                                                                      \
                }                                                                               \
                from += (size_t)c * (size_t)geom[nd + j];                                       \
            }                                                                                   \
            if (ok) {                                                                           \
                memcpy(dst, x + from * (size_t)elem, n);                                        \
            } else {                                                                            \
                memset(dst, 0, n);                                                              \
            }                                                                                   \
        }                                                                                       \
    }

AOTC_GATHER_ND(aotc_gather_nd_i16, int16_t)
AOTC_GATHER_ND(aotc_gather_nd_i32, int32_t)
AOTC_GATHER_ND(aotc_gather_nd_i64, int64_t)

/* EMBEDDING_LOOKUP of int8 rows into float32 (LiteRT's hybrid path): out[i][j] = value[idx[i]][j] *
 * scale, with scale = scales[idx[i]] when per_row, else scales[0]; an out-of-range row gives zeros. */
AOTC_KERNEL void aotc_gather_embedding_s8_f32(const int8_t *value, const int32_t *idx, float *out,
                                              int32_t n, int32_t rows, int32_t cols,
                                              const float *scales, int32_t per_row)
{
    int32_t i, j;
    for (i = 0; i < n; ++i) {
        const int32_t r = idx[i];
        float *dst = out + (size_t)i * (size_t)cols;
        if (r < 0 || r >= rows) {
            for (j = 0; j < cols; ++j) {
                dst[j] = 0.0f;
            }
        } else {
            const int8_t *src = value + (size_t)r * (size_t)cols;
            const float scale = per_row ? scales[r] : scales[0];
            for (j = 0; j < cols; ++j) {
                dst[j] = (float)src[j] * scale;
            }
        }
    }
}

#endif
