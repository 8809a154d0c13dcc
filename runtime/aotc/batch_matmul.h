/* BATCH_MATMUL: out[b][i][j] = sum_k (lhs[b][i][k] + lhs_off) * (rhs[b][k][j] + rhs_off), requantized.
 *
 * Batches: up to three broadcast batch dimensions d0 x d1 x d2 (the output's, row-major); ls* / rs*
 * are the element strides of lhs / rhs per batch dimension (0 where that input broadcasts).
 * Inside one batch: lhs element (i, k) is at i * l_is + k * l_ks, rhs element (k, j) at
 * k * r_ks + j * r_js, so adj_x / adj_y (and a constant RHS the compiler pre-transposed) are only
 * strides. The sum runs over k in ascending order from 0, as TFLite's reference kernel does. */
#ifndef AOTC_RUNTIME_BATCH_MATMUL_H
#define AOTC_RUNTIME_BATCH_MATMUL_H
#include "common.h"

#define AOTC_BMM_LOOP(IN_T, OUT_T, ACC_T, LHS_OFF, RHS_OFF, STORE)                                \
    int b0, b1, b2, i, j, k;                                                                      \
    OUT_T *o = out;                                                                               \
    for (b0 = 0; b0 < d0; ++b0) {                                                                 \
        for (b1 = 0; b1 < d1; ++b1) {                                                             \
            for (b2 = 0; b2 < d2; ++b2) {                                                         \
                const IN_T *l = lhs + (size_t)b0 * (size_t)ls0 + (size_t)b1 * (size_t)ls1         \
                                + (size_t)b2 * (size_t)ls2;                                       \
                const IN_T *r = rhs + (size_t)b0 * (size_t)rs0 + (size_t)b1 * (size_t)rs1         \
                                + (size_t)b2 * (size_t)rs2;                                       \
                for (i = 0; i < rows; ++i) {                                                      \
                    const IN_T *li = l + (size_t)i * (size_t)l_is;                                \
                    for (j = 0; j < cols; ++j) {                                                  \
                        const IN_T *rj = r + (size_t)j * (size_t)r_js;                            \
                        ACC_T acc = 0;                                                            \
                        for (k = 0; k < depth; ++k) {                                             \
                            acc += ((ACC_T)li[(size_t)k * (size_t)l_ks] LHS_OFF)                  \
                                   * ((ACC_T)rj[(size_t)k * (size_t)r_ks] RHS_OFF);               \
                        }                                                                         \
                        STORE;                                                                    \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }

#define AOTC_BMM_PARAMS(IN_T, OUT_T)                                                             \
    const IN_T *lhs, const IN_T *rhs, OUT_T *out, int d0, int d1, int d2, int ls0, int ls1, int ls2, \
        int rs0, int rs1, int rs2, int rows, int depth, int cols, int l_is, int l_ks, int r_ks, int r_js

AOTC_KERNEL void aotc_batch_matmul_f32(AOTC_BMM_PARAMS(float, float))
{
    AOTC_BMM_LOOP(float, float, float, , , *o++ = acc)
}

AOTC_KERNEL void aotc_batch_matmul_s8(AOTC_BMM_PARAMS(int8_t, int8_t), int32_t lhs_off, int32_t rhs_off,
                                      int32_t out_off, int32_t mult, int32_t shift)
{
    AOTC_BMM_LOOP(int8_t, int8_t, int32_t, + lhs_off, + rhs_off, {
        int32_t v = aotc_mbqm(acc, mult, shift) + out_off;
        *o++ = (int8_t)AOTC_CLAMP(v, -128, 127);
    })
}

AOTC_KERNEL void aotc_batch_matmul_s16(AOTC_BMM_PARAMS(int16_t, int16_t), int32_t mult, int32_t shift)
{
    AOTC_BMM_LOOP(int16_t, int16_t, int64_t, , , {
        int32_t v = aotc_mbqm64(acc, mult, shift);
        *o++ = (int16_t)AOTC_CLAMP(v, -32768, 32767);
    })
}

#endif
