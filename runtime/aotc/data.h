/* Data movement: PAD, PADV2, CONCATENATION, PACK, STRIDED_SLICE, SLICE, TRANSPOSE, TILE, BROADCAST_TO,
 * REVERSE_V2, SPLIT, SPLIT_V, UNPACK, FILL, DYNAMIC_UPDATE_SLICE; the moves of patch-based execution.
 *
 * Every index is computed at compile time. A copy is described by `geom`, an int32 table:
 *   geom[0] = ndim (<= AOTC_DATA_MAX_DIMS), then shape[ndim], in_stride[ndim], out_stride[ndim]
 * (strides in elements, possibly negative). The kernel walks the shape in row-major order reading
 * in[in_offset + sum idx*in_stride] and writing out[out_offset + sum idx*out_stride]; an innermost
 * dimension contiguous on both sides is copied with one memcpy. */
#ifndef AOTC_RUNTIME_DATA_H
#define AOTC_RUNTIME_DATA_H
#include "common.h"
#include <stdarg.h>
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#endif

#define AOTC_DATA_MAX_DIMS 8

AOTC_KERNEL void aotc_data__copy(const uint8_t *in, uint8_t *out, const int32_t *geom, int32_t in_offset,
                            int32_t out_offset, size_t elem)
{
    const int ndim = (int)geom[0];
    const int32_t *shape = geom + 1;
    const int32_t *is = shape + ndim;
    const int32_t *os = is + ndim;
    int32_t idx[AOTC_DATA_MAX_DIMS];
    ptrdiff_t ip = in_offset, op = out_offset;
    int d, last = ndim - 1;
    int32_t n, k;
    if (ndim == 0) {
        memcpy(out + (size_t)op * elem, in + (size_t)ip * elem, elem);
        return;
    }
    for (d = 0; d < ndim; ++d) {
        if (shape[d] == 0) {
            return;
        }
        idx[d] = 0;
    }
    n = shape[last];
    for (;;) {
        if (is[last] == 1 && os[last] == 1) {
            memcpy(out + (size_t)op * elem, in + (size_t)ip * elem, (size_t)n * elem);
        } else {
            ptrdiff_t i = ip, o = op;
            for (k = 0; k < n; ++k) {
                memcpy(out + (size_t)o * elem, in + (size_t)i * elem, elem);
                i += is[last];
                o += os[last];
            }
        }
        /* advance the outer dimensions like an odometer */
        for (d = last - 1; d >= 0; --d) {
            ip += is[d];
            op += os[d];
            if (++idx[d] < shape[d]) {
                break;
            }
            idx[d] = 0;
            ip -= (ptrdiff_t)is[d] * shape[d];
            op -= (ptrdiff_t)os[d] * shape[d];
        }
        if (d < 0) {
            return;
        }
    }
}

/* out = in rearranged (TRANSPOSE, STRIDED_SLICE, SLICE, TILE, BROADCAST_TO, REVERSE_V2): elem = bytes
 * per element; zero strides repeat an element, negative ones walk backwards */
AOTC_KERNEL void aotc_data_copy(const void *in, void *out, const int32_t *geom, int32_t in_offset,
                                int32_t elem)
{
    aotc_data__copy((const uint8_t *)in, (uint8_t *)out, geom, in_offset, 0, (size_t)elem);
}

/* PAD: fill all `out_count` elements with *value, then copy the input into the interior */
AOTC_KERNEL void aotc_data_pad(const void *in, void *out, const void *value, int32_t out_count,
                               const int32_t *geom, int32_t out_offset, int32_t elem)
{
    uint8_t *o = (uint8_t *)out;
    int32_t i;
    if (elem == 1) {
        memset(o, *(const uint8_t *)value, (size_t)out_count);
    } else {
        for (i = 0; i < out_count; ++i) {
            memcpy(o + (size_t)i * (size_t)elem, value, (size_t)elem);
        }
    }
    aotc_data__copy((const uint8_t *)in, o, geom, 0, out_offset, (size_t)elem);
}

/* CONCATENATION along an axis: out is `outer` rows of `out_row` elements; then `n` triples
 * (const T *input, int row, int offset): each input contributes `row` elements at `offset` in every
 * output row. The pointer type of the variadic arguments is T for each variant. */
#define AOTC_DATA_CONCAT(NAME, T)                                                               \
    AOTC_KERNEL void NAME(T *out, int32_t outer, int32_t out_row, int n, ...)                   \
    {                                                                                           \
        va_list ap;                                                                             \
        int i;                                                                                  \
        int32_t r;                                                                              \
        va_start(ap, n);                                                                        \
        for (i = 0; i < n; ++i) {                                                               \
            const T *in = va_arg(ap, const T *);                                                \
            const int row = va_arg(ap, int);                                                    \
            const int offset = va_arg(ap, int);                                                 \
            for (r = 0; r < outer; ++r) {                                                       \
                memcpy(out + (size_t)r * (size_t)out_row + (size_t)offset, in + (size_t)r * (size_t)row, \
                       (size_t)row * sizeof(T));                                                \
            }                                                                                   \
        }                                                                                       \
        va_end(ap);                                                                             \
    }

AOTC_DATA_CONCAT(aotc_data_concat_s8, int8_t)
AOTC_DATA_CONCAT(aotc_data_concat_u8, uint8_t)
AOTC_DATA_CONCAT(aotc_data_concat_s16, int16_t)
AOTC_DATA_CONCAT(aotc_data_concat_s32, int32_t)
AOTC_DATA_CONCAT(aotc_data_concat_s64, int64_t)
AOTC_DATA_CONCAT(aotc_data_concat_f32, float)

/* SPLIT, SPLIT_V, UNPACK: the input is `outer` rows of `in_row` elements; then `n` triples
 * (T *output, int row, int offset): each output takes `row` elements at `offset` of every input row. */
#define AOTC_DATA_SPLIT(NAME, T)                                                                \
    AOTC_KERNEL void NAME(const T *in, int32_t outer, int32_t in_row, int n, ...)              \
    {                                                                                           \
        va_list ap;                                                                             \
        int i;                                                                                  \
        int32_t r;                                                                              \
        va_start(ap, n);                                                                        \
        for (i = 0; i < n; ++i) {                                                               \
            T *out = va_arg(ap, T *);                                                           \
            const int row = va_arg(ap, int);                                                    \
            const int offset = va_arg(ap, int);                                                 \
            for (r = 0; r < outer; ++r) {                                                       \
                memcpy(out + (size_t)r * (size_t)row, in + (size_t)r * (size_t)in_row + (size_t)offset, \
                       (size_t)row * sizeof(T));                                                \
            }                                                                                   \
        }                                                                                       \
        va_end(ap);                                                                             \
    }

AOTC_DATA_SPLIT(aotc_data_split_s8, int8_t)
AOTC_DATA_SPLIT(aotc_data_split_u8, uint8_t)
AOTC_DATA_SPLIT(aotc_data_split_s16, int16_t)
AOTC_DATA_SPLIT(aotc_data_split_s32, int32_t)
AOTC_DATA_SPLIT(aotc_data_split_s64, int64_t)
AOTC_DATA_SPLIT(aotc_data_split_f32, float)
AOTC_DATA_SPLIT(aotc_data_split_b, bool)

/* FILL: all `count` elements of out = *value (elem bytes each; value may be a run-time tensor) */
AOTC_KERNEL void aotc_data_fill(void *out, const void *value, int32_t count, int32_t elem)
{
    uint8_t *o = (uint8_t *)out;
    int32_t i;
    if (elem == 1) {
        memset(o, *(const uint8_t *)value, (size_t)count);
        return;
    }
    for (i = 0; i < count; ++i) {
        memcpy(o + (size_t)i * (size_t)elem, value, (size_t)elem);
    }
}

/* DYNAMIC_UPDATE_SLICE: out = operand (`count` elements of `elem` bytes), then the update is copied in
 * by `geom` (update strides -> operand strides) at output element `offset`, plus, when `dims` is not
 * NULL, the run-time start indices (int32 or int64: index_bytes 4 or 8), each clamped to
 * [0, operand_dim - update_dim] as LiteRT's ClampStartIndices does.
 * dims = ndim, limit[ndim] (operand_dim - update_dim), stride[ndim] (operand strides in elements).
 * The output must not overlap the update (it may be the operand itself). */
AOTC_KERNEL void aotc_data_dynamic_update_slice(const void *operand, const void *update, void *out,
                                                const int32_t *geom, int32_t offset, const void *indices,
                                                int32_t index_bytes, const int32_t *dims, int32_t count,
                                                int32_t elem)
{
    if (out != operand) {
        memcpy(out, operand, (size_t)count * (size_t)elem);
    }
    if (dims != NULL) {
        const int ndim = (int)dims[0];
        int d;
        for (d = 0; d < ndim; ++d) {
            int64_t v = index_bytes == 8 ? ((const int64_t *)indices)[d]
                                         : (int64_t)((const int32_t *)indices)[d];
            if (v > (int64_t)dims[1 + d]) {
                v = (int64_t)dims[1 + d];
            }
            if (v < 0) {
                v = 0;
            }
            offset += (int32_t)v * dims[1 + ndim + d];
        }
    }
    aotc_data__copy((const uint8_t *)update, (uint8_t *)out, geom, 0, offset, (size_t)elem);
}

/* Line buffers of patch-based execution: n bytes to a lower address (dst < src, the ranges may
 * overlap), front to back. Helium copies 16 bytes a step (a low-overhead loop of 3 instructions): each
 * block is loaded before it is stored, and a store never reaches bytes not yet loaded as dst < src. */
AOTC_KERNEL void aotc_data_move_down(void *to, const void *from, size_t n)
{
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    uint8_t *dst = (uint8_t *)to;
    const uint8_t *src = (const uint8_t *)from;
    for (; n >= 16u; n -= 16u) {
        vst1q_u8(dst, vld1q_u8(src));
        dst += 16;
        src += 16;
    }
    if (n > 0u) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        vstrbq_p_u8(dst, vldrbq_z_u8(src, p), p);
    }
#else
    memmove(to, from, n);
#endif
}

#endif
