"""Unrolled recurrent layers as Keras exports them (tf.keras.layers.LSTM/GRU(unroll=True), full-integer
quantization), written with aotc's own ModelBuilder: the input is UNPACKed into time steps; every
step runs FULLY_CONNECTED ops whose recurrent weights are ONE constant shared by all steps; each
recurrent product goes through a RESHAPE (a view: no code, no storage); gates go through SPLIT,
LOGISTIC/TANH, MUL, ADD and SUB; the states are PACKed, RESHAPEd and fed to a last dense layer.

Graphs like these broke the schedule search: the RESHAPE of a recurrent FULLY_CONNECTED was taken
as already produced and scheduled before it."""
from __future__ import annotations

import numpy as np

from aotc.tflite_writer import ModelBuilder

GATES = {"lstm": 4, "gru": 3}
SIGMOID_Q = (1 / 256, -128)     # the output quantization LiteRT requires of int8 LOGISTIC
TANH_Q = (1 / 128, 0)           # ... and of int8 TANH


class _Writer:
    """Small int8 building blocks over a ModelBuilder: each returns its output tensor's index."""

    def __init__(self, seed: int):
        self.mb = ModelBuilder()
        self.rng = np.random.default_rng(seed)

    def quant(self, t) -> tuple[float, int]:
        spec = self.mb.tensors[t]
        return spec.scale[0], spec.zero_point[0]

    def act(self, name, shape, q=(0.06, 3)):
        return self.mb.tensor(name, shape, "int8", scale=q[0], zero_point=q[1])

    def weights(self, name, rows, cols):
        return self.mb.tensor(name, (rows, cols), "int8", data=self.rng.integers(-90, 91, (rows, cols)),
                              scale=[0.01] * rows, axis=0)

    def bias(self, name, n, in_scale):
        return self.mb.tensor(name, (n,), "int32", data=self.rng.integers(-300, 301, n),
                              scale=[in_scale * 0.01] * n)

    def fc(self, x, w, b, name, q=(0.06, 3)):
        y = self.act(name, (1, self.mb.tensors[w].shape[0]), q)
        self.mb.op("FULLY_CONNECTED", [x, w, -1 if b is None else b], [y], {}, version=4)
        return y

    def reshape(self, x, name, shape=None):
        shape = tuple(shape or self.mb.tensors[x].shape)
        new_shape = self.mb.tensor(f"{name}_shape", (len(shape),), "int32", data=np.array(shape))
        y = self.act(name, shape, self.quant(x))
        self.mb.op("RESHAPE", [x, new_shape], [y], {"NewShape": list(shape)})
        return y

    def split(self, x, parts, name):
        shape = self.mb.tensors[x].shape
        axis = self.mb.tensor(f"{name}_axis", (), "int32", data=np.array(len(shape) - 1))
        part = shape[:-1] + (shape[-1] // parts,)
        outs = [self.act(f"{name}_{k}", part, self.quant(x)) for k in range(parts)]
        self.mb.op("SPLIT", [axis, x], outs, {"NumSplits": parts}, version=2)
        return outs

    def binary(self, kind, a, b, name, q):
        """a has the output's shape; b may broadcast against it."""
        y = self.act(name, self.mb.tensors[a].shape, q)
        self.mb.op(kind, [a, b], [y], {}, version=2)
        return y

    def sigmoid(self, x, name):
        y = self.act(name, self.mb.tensors[x].shape, SIGMOID_Q)
        self.mb.op("LOGISTIC", [x], [y], version=2)
        return y

    def tanh(self, x, name):
        y = self.act(name, self.mb.tensors[x].shape, TANH_Q)
        self.mb.op("TANH", [x], [y], version=2)
        return y

    def one_minus(self, z, name):
        """1 - z as Keras's graph computes it: SUB from a constant one."""
        one = self.mb.tensor(f"{name}_one", (1,), "int8", data=np.array([127]), scale=1 / 127, zero_point=0)
        y = self.act(name, self.mb.tensors[z].shape, SIGMOID_Q)
        self.mb.op("SUB", [one, z], [y], {}, version=2)
        return y


def _lstm_step(w: _Writer, t, pre, rec, c):
    z = w.binary("ADD", pre, rec, f"z{t}", (0.09, 0)) if rec is not None else pre
    i, f, g, o = w.split(z, 4, f"gates{t}")
    i, f, o = w.sigmoid(i, f"i{t}"), w.sigmoid(f, f"f{t}"), w.sigmoid(o, f"o{t}")
    ig = w.binary("MUL", i, w.tanh(g, f"g{t}"), f"ig{t}", (1 / 64, 0))
    if c is not None:
        ig = w.binary("ADD", ig, w.binary("MUL", f, c, f"fc{t}", (1 / 64, 0)), f"c{t}", (1 / 64, 0))
    return w.binary("MUL", o, w.tanh(ig, f"tc{t}"), f"h{t}", TANH_Q), ig


def _gru_step(w: _Writer, t, pre, rec, h):
    xz, xr, xh = w.split(pre, 3, f"xg{t}")
    if rec is None:
        z = w.sigmoid(xz, f"zg{t}")
        return w.binary("MUL", w.one_minus(z, f"omz{t}"), w.tanh(xh, f"hh{t}"), f"h{t}", TANH_Q)
    rz, rr, rh = w.split(rec, 3, f"rg{t}")
    z = w.sigmoid(w.binary("ADD", xz, rz, f"zs{t}", (0.09, 0)), f"zg{t}")
    r = w.sigmoid(w.binary("ADD", xr, rr, f"rs{t}", (0.09, 0)), f"rgate{t}")
    reset = w.binary("MUL", r, rh, f"rh{t}", (0.06, 3))
    hh = w.tanh(w.binary("ADD", xh, reset, f"hs{t}", (0.09, 0)), f"hh{t}")
    keep = w.binary("MUL", z, h, f"zh{t}", TANH_Q)
    new = w.binary("MUL", w.one_minus(z, f"omz{t}"), hh, f"nh{t}", TANH_Q)
    return w.binary("ADD", keep, new, f"h{t}", TANH_Q)


def unrolled_rnn(kind: str = "lstm", steps: int = 8, n_in: int = 5, n_h: int = 6, n_out: int = 4,
                 recurrent_bias: bool = False, seed: int = 0) -> bytes:
    """kind "lstm" (gates i, f, c~, o) or "gru" (z, r, h~, the reset applied after the recurrent
    product as Keras's reset_after=True does)."""
    gates = GATES[kind]
    w = _Writer(seed)
    mb = w.mb
    x = mb.tensor("x", (1, steps, n_in), "int8", scale=0.05, zero_point=-2)
    xs = [w.act(f"x{t}", (1, n_in), (0.05, -2)) for t in range(steps)]
    mb.op("UNPACK", [x], xs, {"Num": steps, "Axis": 1}, version=2)
    w_in = w.weights("kernel", gates * n_h, n_in)
    w_rec = w.weights("recurrent_kernel", gates * n_h, n_h)       # one constant for every step
    b_in = w.bias("bias", gates * n_h, 0.05)
    b_rec = w.bias("recurrent_bias", gates * n_h, TANH_Q[0]) if recurrent_bias else None
    h = c = None
    states = []
    for t in range(steps):
        pre = w.fc(xs[t], w_in, b_in, f"xw{t}")
        # Keras views the recurrent product as [units] before it meets the input's part
        rec = None if h is None else w.reshape(w.fc(h, w_rec, b_rec, f"hr{t}"), f"hr{t}_view", (gates * n_h,))
        if kind == "lstm":
            h, c = _lstm_step(w, t, pre, rec, c)
        else:
            h = _gru_step(w, t, pre, rec, h)
        states.append(h)
    seq = mb.tensor("seq", (1, steps, n_h), "int8", scale=TANH_Q[0], zero_point=TANH_Q[1])
    mb.op("PACK", states, [seq], {"ValuesCount": steps, "Axis": 1}, version=2)
    flat = w.reshape(seq, "flat", (1, steps * n_h))
    y = w.fc(flat, w.weights("dense", n_out, steps * n_h), w.bias("dense_bias", n_out, TANH_Q[0]), "y", (0.1, -5))
    return mb.build([x], [y])
