/* UNIDIRECTIONAL_SEQUENCE_LSTM (plain: no CIFG, peephole, projection or layer norm).
 * Per batch row and time step: pre_k = b_k + W_k x + R_k h for the gates k = input, forget, cell,
 * output (in that order, as TFLite's reference accumulates them); i, f, o = sigmoid, g = act;
 * c = f * c + i * g (clipped to +-cell_clip when > 0); h = o * act(c); the output row is h.
 * h and c are the op's variable tensors, updated in place. Scratch: 4 * n_cell floats. */
#ifndef AOTC_RUNTIME_LSTM_H
#define AOTC_RUNTIME_LSTM_H
#include "common.h"

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

#endif
