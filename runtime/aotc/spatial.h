/* Spatial rearrangement and resizing: MIRROR_PAD, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND,
 * RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR (SPACE_TO_DEPTH and DEPTH_TO_SPACE use aotc_data_copy).
 *
 * Every index and weight is computed at compile time into small per-axis tables; the kernels only
 * gather. RESIZE_BILINEAR reproduces LiteRT's reference arithmetic bit for bit: float32 products in
 * the reference's order, or the integer kernel's 10-bit weights with round-half-away division. */
#ifndef AOTC_RUNTIME_SPATIAL_H
#define AOTC_RUNTIME_SPATIAL_H
#include "common.h"

#define AOTC_SPATIAL_MAX_DIMS 8

/* Copy one block of `bytes` bytes (the common element sizes without a memcpy call). */
static inline void aotc_spatial__copy(uint8_t *out, const uint8_t *in, size_t bytes)
{
    switch (bytes) {
    case 1:
        *out = *in;
        break;
    case 2:
        memcpy(out, in, 2);
        break;
    case 4:
        memcpy(out, in, 4);
        break;
    default:
        memcpy(out, in, bytes);
        break;
    }
}

/* MIRROR_PAD: the output is `ndim` padded dimensions (shape[]) of blocks of `block` bytes (the
 * unpadded trailing dimensions). `index` holds, for each dimension in turn, shape[d] entries: the
 * input offset (in blocks) of each output index along that dimension. */
AOTC_KERNEL void aotc_spatial_mirror_pad(const void *in, void *out, int32_t ndim, const int32_t *shape,
                                         const int32_t *index, int32_t block)
{
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    const int32_t *tab[AOTC_SPATIAL_MAX_DIMS];
    int32_t idx[AOTC_SPATIAL_MAX_DIMS];
    const size_t bsz = (size_t)block;
    int d, last = ndim - 1;
    int32_t k;
    if (ndim <= 0) {
        memcpy(dst, src, bsz);
        return;
    }
    tab[0] = index;
    for (d = 0; d < ndim; ++d) {
        if (d > 0) {
            tab[d] = tab[d - 1] + shape[d - 1];
        }
        idx[d] = 0;
    }
    for (;;) {
        int32_t base = 0;
        const int32_t *t = tab[last];
        for (d = 0; d < last; ++d) {
            base += tab[d][idx[d]];
        }
        for (k = 0; k < shape[last]; ++k) {
            aotc_spatial__copy(dst, src + (size_t)(base + t[k]) * bsz, bsz);
            dst += bsz;
        }
        for (d = last - 1; d >= 0; --d) {
            if (++idx[d] < shape[d]) {
                break;
            }
            idx[d] = 0;
        }
        if (d < 0) {
            return;
        }
    }
}

/* SPACE_TO_BATCH_ND (NHWC, 3-D inputs as NH1C): LiteRT's loop; padding pixels are memset to
 * `pad_byte` (the low byte of the output zero point). `pixel` = depth * element bytes. */
AOTC_KERNEL void aotc_spatial_space_to_batch(const void *in, void *out, int32_t in_b, int32_t in_h,
                                             int32_t in_w, int32_t out_b, int32_t out_h, int32_t out_w,
                                             int32_t block_h, int32_t block_w, int32_t top, int32_t left,
                                             int32_t pixel, int32_t pad_byte)
{
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    const size_t px = (size_t)pixel;
    int32_t ob, oh, ow;
    for (ob = 0; ob < out_b; ++ob) {
        const int32_t b = ob % in_b;
        const int32_t shift_w = (ob / in_b) % block_w;
        const int32_t shift_h = (ob / in_b) / block_w;
        for (oh = 0; oh < out_h; ++oh) {
            const int32_t ih = oh * block_h + shift_h - top;
            for (ow = 0; ow < out_w; ++ow) {
                const int32_t iw = ow * block_w + shift_w - left;
                if (ih < 0 || ih >= in_h || iw < 0 || iw >= in_w) {
                    memset(dst, pad_byte, px);
                } else {
                    memcpy(dst, src + (((size_t)b * (size_t)in_h + (size_t)ih) * (size_t)in_w + (size_t)iw) * px,
                           px);
                }
                dst += px;
            }
        }
    }
}

/* BATCH_TO_SPACE_ND (NHWC, 3-D inputs as NH1C): LiteRT's loop over input pixels; cropped ones are
 * skipped. `pixel` = depth * element bytes. */
AOTC_KERNEL void aotc_spatial_batch_to_space(const void *in, void *out, int32_t in_b, int32_t in_h,
                                             int32_t in_w, int32_t out_b, int32_t out_h, int32_t out_w,
                                             int32_t block_h, int32_t block_w, int32_t top, int32_t left,
                                             int32_t pixel)
{
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    const size_t px = (size_t)pixel;
    int32_t ib, ih, iw;
    for (ib = 0; ib < in_b; ++ib) {
        const int32_t ob = ib % out_b;
        const int32_t so = ib / out_b;
        for (ih = 0; ih < in_h; ++ih) {
            const int32_t oh = ih * block_h + so / block_w - top;
            if (oh < 0 || oh >= out_h) {
                continue;
            }
            for (iw = 0; iw < in_w; ++iw) {
                const int32_t ow = iw * block_w + so % block_w - left;
                if (ow < 0 || ow >= out_w) {
                    continue;
                }
                memcpy(dst + (((size_t)ob * (size_t)out_h + (size_t)oh) * (size_t)out_w + (size_t)ow) * px,
                       src + (((size_t)ib * (size_t)in_h + (size_t)ih) * (size_t)in_w + (size_t)iw) * px, px);
            }
        }
    }
}

/* RESIZE_NEAREST_NEIGHBOR: rows[y] / cols[x] are the source row / column of each output pixel. */
AOTC_KERNEL void aotc_spatial_resize_nearest(const void *in, void *out, int32_t batches, int32_t in_h,
                                             int32_t in_w, int32_t out_h, int32_t out_w,
                                             const int32_t *rows, const int32_t *cols, int32_t pixel)
{
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    const size_t px = (size_t)pixel;
    int32_t b, y, x;
    for (b = 0; b < batches; ++b) {
        const uint8_t *img = src + (size_t)b * (size_t)in_h * (size_t)in_w * px;
        for (y = 0; y < out_h; ++y) {
            const uint8_t *row = img + (size_t)rows[y] * (size_t)in_w * px;
            for (x = 0; x < out_w; ++x) {
                aotc_spatial__copy(dst, row + (size_t)cols[x] * px, px);
                dst += px;
            }
        }
    }
}

/* RESIZE_BILINEAR: rows_i[2y], rows_i[2y+1] are the two source rows of output row y and rows_w[2y],
 * rows_w[2y+1] their weights (1 - dy, dy); likewise for columns. */
AOTC_KERNEL void aotc_spatial_resize_bilinear_f32(const float *in, float *out, int32_t batches, int32_t in_h,
                                                  int32_t in_w, int32_t depth, int32_t out_h, int32_t out_w,
                                                  const int32_t *rows_i, const float *rows_w,
                                                  const int32_t *cols_i, const float *cols_w)
{
    int32_t b, y, x, c;
    for (b = 0; b < batches; ++b) {
        const float *img = in + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)depth;
        for (y = 0; y < out_h; ++y) {
            const float *r0 = img + (size_t)rows_i[2 * y] * (size_t)in_w * (size_t)depth;
            const float *r1 = img + (size_t)rows_i[2 * y + 1] * (size_t)in_w * (size_t)depth;
            const float oy = rows_w[2 * y], dy = rows_w[2 * y + 1];
            for (x = 0; x < out_w; ++x) {
                const size_t c0 = (size_t)cols_i[2 * x] * (size_t)depth;
                const size_t c1 = (size_t)cols_i[2 * x + 1] * (size_t)depth;
                const float ox = cols_w[2 * x], dx = cols_w[2 * x + 1];
                for (c = 0; c < depth; ++c) {
                    /* LiteRT's expression, evaluated left to right in float */
                    float v = r0[c0 + (size_t)c] * oy * ox;
                    v = v + r1[c0 + (size_t)c] * dy * ox;
                    v = v + r0[c1 + (size_t)c] * oy * dx;
                    v = v + r1[c1 + (size_t)c] * dy * dx;
                    *out++ = v + 0.0f;
                }
            }
        }
    }
}

/* Integer RESIZE_BILINEAR (LiteRT's ResizeBilinearInteger): weights are in 1/1024ths, the sum of the
 * four products (scaled by 2^20) is divided by 2^20 rounding half away from zero. */
#define AOTC_SPATIAL_BILINEAR_INT(NAME, T, ACC_T)                                                        \
    AOTC_KERNEL void NAME(const T *in, T *out, int32_t batches, int32_t in_h, int32_t in_w, int32_t depth,  \
                          int32_t out_h, int32_t out_w, const int32_t *rows_i, const int16_t *rows_w,      \
                          const int32_t *cols_i, const int16_t *cols_w)                                     \
    {                                                                                                   \
        int32_t b, y, x, c;                                                                             \
        for (b = 0; b < batches; ++b) {                                                                 \
            const T *img = in + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)depth;                \
            for (y = 0; y < out_h; ++y) {                                                               \
                const T *r0 = img + (size_t)rows_i[2 * y] * (size_t)in_w * (size_t)depth;               \
                const T *r1 = img + (size_t)rows_i[2 * y + 1] * (size_t)in_w * (size_t)depth;           \
                const ACC_T wy0 = rows_w[2 * y], wy1 = rows_w[2 * y + 1];                               \
                for (x = 0; x < out_w; ++x) {                                                           \
                    const size_t c0 = (size_t)cols_i[2 * x] * (size_t)depth;                            \
                    const size_t c1 = (size_t)cols_i[2 * x + 1] * (size_t)depth;                        \
                    const ACC_T wx0 = cols_w[2 * x], wx1 = cols_w[2 * x + 1];                           \
                    for (c = 0; c < depth; ++c) {                                                       \
                        const ACC_T top = (ACC_T)r0[c0 + (size_t)c] * wx0 + (ACC_T)r0[c1 + (size_t)c] * wx1; \
                        const ACC_T bot = (ACC_T)r1[c0 + (size_t)c] * wx0 + (ACC_T)r1[c1 + (size_t)c] * wx1; \
                        const ACC_T v = top * wy0 + bot * wy1;                                          \
                        *out++ = (T)((v + (v > 0 ? (ACC_T)(1 << 19) : -(ACC_T)(1 << 19))) / (ACC_T)(1 << 20)); \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

AOTC_SPATIAL_BILINEAR_INT(aotc_spatial_resize_bilinear_s8, int8_t, int32_t)
AOTC_SPATIAL_BILINEAR_INT(aotc_spatial_resize_bilinear_s16, int16_t, int64_t)

#endif
