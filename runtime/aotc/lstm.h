/* UNIDIRECTIONAL_SEQUENCE_LSTM (plain: no CIFG, peephole, projection or layer norm).
 * Per batch row and time step: pre_k = b_k + W_k x + R_k h for the gates k = input, forget, cell,
 * output (in that order, as TFLite's reference accumulates them); i, f, o = sigmoid, g = act;
 * c = f * c + i * g (clipped to +-cell_clip when > 0); h = o * act(c); the output row is h.
 * h and c are the op's variable tensors, updated in place. Scratch: 4 * n_cell floats. */
#ifndef AOTC_RUNTIME_LSTM_H
#define AOTC_RUNTIME_LSTM_H
#include "common.h"
#include "normalization.h" /* aotc_normalization_inv_sqrt */

/* act: 0 none, 1 relu, 2 relu_n1_to_1, 3 relu6, 4 tanh (TFLite's fused activation codes) */
static inline float aotc_lstm_act_f32(float v, int act)
{
    switch (act) {
    case 1:
        return v < 0.0f ? 0.0f : v;
    case 2:
        return AOTC_CLAMP(v, -1.0f, 1.0f);
    case 3:
        return AOTC_CLAMP(v, 0.0f, 6.0f);
    case 4:
        return tanhf(v);
    default:
        return v;
    }
}

AOTC_KERNEL void aotc_lstm_f32(const float *in, const float *w_i, const float *w_f, const float *w_c,
                               const float *w_o, const float *r_i, const float *r_f, const float *r_c,
                               const float *r_o, const float *b_i, const float *b_f, const float *b_c,
                               const float *b_o, float *h, float *c, float *out, float *scratch,
                               int batches, int steps, int n_in, int n_cell, int time_major, int act,
                               float cell_clip)
{
    const float *w[4], *r[4], *bias[4];
    int b, t, k, u, d;
    w[0] = w_i; w[1] = w_f; w[2] = w_c; w[3] = w_o;
    r[0] = r_i; r[1] = r_f; r[2] = r_c; r[3] = r_o;
    bias[0] = b_i; bias[1] = b_f; bias[2] = b_c; bias[3] = b_o;
    for (b = 0; b < batches; ++b) {
        float *hb = h + (size_t)b * (size_t)n_cell;
        float *cb = c + (size_t)b * (size_t)n_cell;
        for (t = 0; t < steps; ++t) {
            const size_t row = time_major ? (size_t)t * (size_t)batches + (size_t)b
                                          : (size_t)b * (size_t)steps + (size_t)t;
            const float *x = in + row * (size_t)n_in;
            for (k = 0; k < 4; ++k) {
                float *g = scratch + (size_t)k * (size_t)n_cell;
                for (u = 0; u < n_cell; ++u) {
                    const float *wu = w[k] + (size_t)u * (size_t)n_in;
                    const float *ru = r[k] + (size_t)u * (size_t)n_cell;
                    float dx = 0.0f, dh = 0.0f, v;
                    for (d = 0; d < n_in; ++d) {
                        dx += wu[d] * x[d];
                    }
                    for (d = 0; d < n_cell; ++d) {
                        dh += ru[d] * hb[d];
                    }
                    v = bias[k][u] + dx;
                    v += dh;
                    g[u] = k == 2 ? aotc_lstm_act_f32(v, act) : 1.0f / (1.0f + expf(-v));
                }
            }
            for (u = 0; u < n_cell; ++u) {
                const float ig = scratch[u], fg = scratch[(size_t)n_cell + (size_t)u];
                const float cg = scratch[2u * (size_t)n_cell + (size_t)u];
                const float og = scratch[3u * (size_t)n_cell + (size_t)u];
                float cv = fg * cb[u];
                cv += ig * cg;
                if (cell_clip > 0.0f) {
                    cv = AOTC_CLAMP(cv, -cell_clip, cell_clip);
                }
                cb[u] = cv;
                hb[u] = og * aotc_lstm_act_f32(cv, act);
            }
            memcpy(out + row * (size_t)n_cell, hb, (size_t)n_cell * sizeof(float));
        }
    }
}


/* ---- int8 (LiteRT's 8x8_16 integer LSTM, lstm_eval.cc EvalInteger8x8_16) --------------------------
 * gemmlowp's 16-bit fixed point (FixedPoint<int16_t, N>): the int16 sigmoid and tanh LiteRT applies
 * to the gates (tensor_utils::ApplySigmoid / ApplyTanh -> gemmlowp::logistic / gemmlowp::tanh).
 * int16 Add/Sub/Neg wrap as gemmlowp's do (C++ int16 arithmetic converted back to int16). */
static inline int16_t aotc_lstm_w16(int32_t v)
{
    return (int16_t)(uint16_t)(uint32_t)v;
}

static inline int16_t aotc_lstm_sat16(int32_t v)
{
    return (int16_t)AOTC_CLAMP(v, -32768, 32767);
}

static inline int16_t aotc_lstm_srdhm16(int16_t a, int16_t b)
{
    const int32_t ab = (int32_t)a * (int32_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)((ab + nudge) / (1 << 15));
}

static inline int16_t aotc_lstm_rdbpot16(int16_t x, int exponent)
{
    const int32_t mask = (1 << exponent) - 1;
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

/* SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0 (a saturating left shift) */
static inline int16_t aotc_lstm_sat_shl16(int16_t x, int exponent)
{
    const int32_t threshold = (1 << (15 - exponent)) - 1;
    if (x > threshold) {
        return INT16_MAX;
    }
    if (x < -threshold) {
        return INT16_MIN;
    }
    return aotc_lstm_sat16((int32_t)x * (1 << exponent));
}

/* exp(x) for x in [-1/4, 0), Q0.15 */
static inline int16_t aotc_lstm_exp_quarter16(int16_t a)
{
    const int16_t constant_term = 28918, one_third = 10923;
    const int16_t x = aotc_lstm_w16(a + (1 << 12));
    const int16_t x2 = aotc_lstm_srdhm16(x, x);
    const int16_t x3 = aotc_lstm_srdhm16(x2, x);
    const int16_t x4 = aotc_lstm_srdhm16(x2, x2);
    const int16_t x4_over_4 = aotc_lstm_rdbpot16(x4, 2);
    const int16_t poly = aotc_lstm_rdbpot16(
        aotc_lstm_w16(aotc_lstm_srdhm16(aotc_lstm_w16(x4_over_4 + x3), one_third) + x2), 1);
    return aotc_lstm_sat16(constant_term + aotc_lstm_srdhm16(constant_term, aotc_lstm_w16(x + poly)));
}

/* gemmlowp exp_on_negative_values for FixedPoint<int16_t, ib> -> Q0.15 */
static inline int16_t aotc_lstm_exp_neg16(int16_t a, int ib)
{
    static const int16_t mult[7] = {25520, 19875, 12055, 4435, 600, 11, 0}; /* exp(-2^e), e = -2..4 */
    const int fb = 15 - ib;
    const int32_t quarter = 1 << (fb - 2);
    const int16_t amq = aotc_lstm_w16((a & (quarter - 1)) - quarter);
    const int16_t remainder = aotc_lstm_w16(amq - a);
    int16_t result = aotc_lstm_exp_quarter16(ib > 0 ? aotc_lstm_sat_shl16(amq, ib) : amq);
    int e;
    for (e = -2; e <= 4; ++e) {
        if (ib > e && (remainder & (1 << (fb + e))) != 0) {
            result = aotc_lstm_srdhm16(result, mult[e + 2]);
        }
    }
    if (ib > 5 && a < -(1 << (20 - ib))) {
        result = 0;
    }
    return a == 0 ? INT16_MAX : result;
}

/* Newton-Raphson 1/(1 + x) (logistic) or (1 - x)/(1 + x) (tanh) for x in (0, 1), Q0.15 */
static inline int16_t aotc_lstm_nr16(int16_t a, int tanh_variant)
{
    const int32_t sum = (int32_t)a + INT16_MAX;
    const int16_t half_den = (int16_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int16_t x = aotc_lstm_w16(23130 + aotc_lstm_srdhm16(half_den, -15420));
    int i;
    for (i = 0; i < 3; ++i) {
        const int16_t one_minus = aotc_lstm_w16((1 << 13) - aotc_lstm_srdhm16(half_den, x));
        x = aotc_lstm_w16(x + aotc_lstm_sat_shl16(aotc_lstm_srdhm16(x, one_minus), 2));
    }
    return tanh_variant ? aotc_lstm_sat_shl16(aotc_lstm_w16(x - (1 << 13)), 2) : aotc_lstm_sat_shl16(x, 1);
}

/* gemmlowp::logistic(FixedPoint<int16_t, 3>) -> Q0.15 */
static inline int16_t aotc_lstm_sigmoid16(int16_t a)
{
    const int16_t abs_a = a > 0 ? a : aotc_lstm_w16(-a);
    const int16_t pos = aotc_lstm_nr16(aotc_lstm_exp_neg16(aotc_lstm_w16(-abs_a), 3), 0);
    if (a == 0) {
        return 1 << 14;
    }
    return a > 0 ? pos : aotc_lstm_w16(INT16_MAX - pos);
}

/* gemmlowp::tanh(FixedPoint<int16_t, ib>) -> Q0.15 */
static inline int16_t aotc_lstm_tanh16(int16_t a, int ib)
{
    const int16_t n = a < 0 ? a : aotc_lstm_w16(-a);
    const int16_t t = aotc_lstm_nr16(aotc_lstm_exp_neg16(n, ib + 1), 1);
    if (a == 0) {
        return 0;
    }
    return a < 0 ? aotc_lstm_w16(-t) : t;
}

/* scales[]: (multiplier, shift) pairs: 0-3 input-to-gate, 4-7 recurrent-to-gate (gates i, f, c, o),
 * 8-10 cell-to-gate (peephole i, f, o), 11-14 layer norm (i, f, c, o), 15 hidden, 16 projection;
 * then scales[34 + k] the layer-norm variance guard of gate k. */
#define AOTC_LSTM_MULT(j) scales[2 * (j)]
#define AOTC_LSTM_SHIFT(j) ((int)scales[2 * (j) + 1])

/* One gate of one batch row (CalculateLstmGateInteger8x8_16): saturating int16 sums of the requantized
 * input and recurrent products (biases hold LiteRT's zero point x row sum folds), the peephole term,
 * layer norm, then sigmoid (k != 2) or tanh with 3 integer bits (k == 2). */
static void aotc_lstm_s8_gate(int k, const int8_t *x, const int8_t *w, const int8_t *hb, const int8_t *r,
                              const int16_t *cb, const int16_t *peep, int peep_idx, const int16_t *ln_w,
                              const int32_t *ln_b, const int32_t *bias, const int32_t *scales, int n_in,
                              int n_cell, int n_out, int16_t *g)
{
    int u, d;
    for (u = 0; u < n_cell; ++u) {
        const int8_t *wu = w + (size_t)u * (size_t)n_in;
        const int8_t *ru = r + (size_t)u * (size_t)n_out;
        int32_t acc = bias[(size_t)k * (size_t)n_cell + (size_t)u], v;
        for (d = 0; d < n_in; ++d) {
            acc += (int32_t)x[d] * (int32_t)wu[d];
        }
        v = aotc_lstm_sat16(aotc_mbqm(acc, AOTC_LSTM_MULT(k), AOTC_LSTM_SHIFT(k)));
        acc = bias[(size_t)(4 + k) * (size_t)n_cell + (size_t)u];
        for (d = 0; d < n_out; ++d) {
            acc += (int32_t)hb[d] * (int32_t)ru[d];
        }
        v = aotc_lstm_sat16(aotc_mbqm(acc, AOTC_LSTM_MULT(4 + k), AOTC_LSTM_SHIFT(4 + k)) + v);
        if (peep) {
            const int32_t prod = (int32_t)peep[u] * (int32_t)cb[u];
            v = aotc_lstm_sat16(aotc_mbqm(prod, AOTC_LSTM_MULT(8 + peep_idx), AOTC_LSTM_SHIFT(8 + peep_idx)) + v);
        }
        g[u] = (int16_t)v;
    }
    if (ln_w) { /* ApplyLayerNorm */
        int64_t sum = 0, sum_sq = 0, variance;
        int32_t mean, temp, variance2, inv_a;
        int inv_b;
        for (u = 0; u < n_cell; ++u) {
            const int32_t val = g[u];
            sum += val;
            sum_sq += val * val;
        }
        mean = (int32_t)(sum * 1024 / n_cell);
        temp = (1 << 20) / n_cell;
        variance = sum_sq * temp - (int64_t)mean * (int64_t)mean;
        variance2 = (int32_t)(variance / (1 << 20));
        if (variance2 < 1) {
            variance2 = scales[34 + k];
        }
        aotc_normalization_inv_sqrt(variance2, &inv_a, &inv_b);
        for (u = 0; u < n_cell; ++u) {
            const int32_t shifted = 1024 * (int32_t)g[u] - mean;
            const int32_t rescaled = aotc_mbqm(shifted, inv_a, inv_b);
            /* int32 arithmetic (wrapping) as LiteRT's, widened afterwards */
            const int64_t val3 = (int32_t)((uint32_t)rescaled * (uint32_t)(int32_t)ln_w[u] + (uint32_t)ln_b[u]);
            const int32_t val4 = (int32_t)((val3 > 0 ? val3 + 512 : val3 - 512) / 1024);
            const int32_t val5 = aotc_mbqm(val4, AOTC_LSTM_MULT(11 + k), AOTC_LSTM_SHIFT(11 + k) + 12);
            g[u] = aotc_lstm_sat16(val5);
        }
    }
    for (u = 0; u < n_cell; ++u) {
        g[u] = k == 2 ? aotc_lstm_tanh16(g[u], 3) : aotc_lstm_sigmoid16(g[u]);
    }
}

/* int8 LSTM (LiteRT 8x8_16): int8 input, weights and output state h, int16 cell state c with scale
 * 2^cell_scale, int16 gates in Q3.12 (or the layer-norm intermediates' scales), Q0.15 activations.
 * w_i, r_i, ln_* and p_* are NULL when absent (CIFG, no layer norm, no peephole); proj_w NULL without
 * projection. Scratch: 5 * n_cell int16 + n_cell int8. */
AOTC_KERNEL void aotc_lstm_s8(const int8_t *in, const int8_t *w_i, const int8_t *w_f, const int8_t *w_c,
                              const int8_t *w_o, const int8_t *r_i, const int8_t *r_f, const int8_t *r_c,
                              const int8_t *r_o, const int16_t *p_i, const int16_t *p_f, const int16_t *p_o,
                              const int16_t *ln_i, const int16_t *ln_f, const int16_t *ln_c,
                              const int16_t *ln_o, const int32_t *lb_i, const int32_t *lb_f,
                              const int32_t *lb_c, const int32_t *lb_o, const int8_t *proj_w,
                              const int32_t *proj_b, const int32_t *bias, const int32_t *scales, int8_t *h,
                              int16_t *c, int8_t *out, int16_t *scratch, int batches, int steps, int n_in,
                              int n_cell, int n_out, int time_major, int cell_scale, int cell_clip,
                              int proj_clip, int32_t hidden_zp, int32_t out_zp)
{
    int16_t *gi = scratch, *gf = scratch + n_cell, *gc = scratch + 2 * n_cell;
    int16_t *go = scratch + 3 * n_cell, *th = scratch + 4 * n_cell;
    int8_t *hid = (int8_t *)(void *)(scratch + 5 * n_cell);
    int b, t, u, d;
    for (b = 0; b < batches; ++b) {
        int8_t *hb = h + (size_t)b * (size_t)n_out;
        int16_t *cb = c + (size_t)b * (size_t)n_cell;
        for (t = 0; t < steps; ++t) {
            const size_t row = time_major ? (size_t)t * (size_t)batches + (size_t)b
                                          : (size_t)b * (size_t)steps + (size_t)t;
            const int8_t *x = in + row * (size_t)n_in;
            if (w_i) {
                aotc_lstm_s8_gate(0, x, w_i, hb, r_i, cb, p_i, 0, ln_i, lb_i, bias, scales, n_in, n_cell,
                                  n_out, gi);
            }
            aotc_lstm_s8_gate(1, x, w_f, hb, r_f, cb, p_f, 1, ln_f, lb_f, bias, scales, n_in, n_cell, n_out,
                              gf);
            aotc_lstm_s8_gate(2, x, w_c, hb, r_c, cb, NULL, 0, ln_c, lb_c, bias, scales, n_in, n_cell, n_out,
                              gc);
            for (u = 0; u < n_cell; ++u) { /* UpdateLstmCellInteger */
                const int16_t fc = aotc_lstm_w16(aotc_rdbpot((int32_t)gf[u] * (int32_t)cb[u], 15));
                const int16_t ig = w_i ? gi[u] : (int16_t)(INT16_MAX - gf[u]);
                const int16_t add = aotc_lstm_w16(aotc_rdbpot((int32_t)ig * (int32_t)gc[u], 30 + cell_scale));
                int32_t v = aotc_lstm_sat16((int32_t)fc + (int32_t)add);
                if (cell_clip > 0) {
                    v = AOTC_CLAMP(v, -cell_clip, cell_clip);
                }
                cb[u] = (int16_t)v;
            }
            aotc_lstm_s8_gate(3, x, w_o, hb, r_o, cb, p_o, 2, ln_o, lb_o, bias, scales, n_in, n_cell, n_out,
                              go);
            for (u = 0; u < n_cell; ++u) { /* CalculateLstmOutputInteger8x8_16 */
                th[u] = aotc_lstm_tanh16(cb[u], 15 + cell_scale);
            }
            if (proj_w) {
                for (u = 0; u < n_cell; ++u) {
                    /* LiteRT passes -hidden_zp here and folds +hidden_zp into the projection bias */
                    const int32_t v = aotc_mbqm((int32_t)go[u] * (int32_t)th[u], AOTC_LSTM_MULT(15),
                                                AOTC_LSTM_SHIFT(15)) - hidden_zp;
                    hid[u] = (int8_t)AOTC_CLAMP(v, -128, 127);
                }
                for (u = 0; u < n_out; ++u) {
                    const int8_t *pu = proj_w + (size_t)u * (size_t)n_cell;
                    int32_t acc = proj_b[u], v;
                    for (d = 0; d < n_cell; ++d) {
                        acc += (int32_t)hid[d] * (int32_t)pu[d];
                    }
                    v = aotc_mbqm(acc, AOTC_LSTM_MULT(16), AOTC_LSTM_SHIFT(16)) + out_zp;
                    v = AOTC_CLAMP(v, -128, 127);
                    if (proj_clip > 0) {
                        v = AOTC_CLAMP(v, -proj_clip, proj_clip);
                    }
                    hb[u] = (int8_t)v;
                }
            } else {
                for (u = 0; u < n_cell; ++u) {
                    const int32_t v = aotc_mbqm((int32_t)go[u] * (int32_t)th[u], AOTC_LSTM_MULT(15),
                                                AOTC_LSTM_SHIFT(15)) + hidden_zp;
                    hb[u] = (int8_t)AOTC_CLAMP(v, -128, 127);
                }
            }
            memcpy(out + row * (size_t)n_out, hb, (size_t)n_out);
        }
    }
}

#undef AOTC_LSTM_MULT
#undef AOTC_LSTM_SHIFT

#endif
