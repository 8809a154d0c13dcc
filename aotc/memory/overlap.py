"""Overlapping an op's output with its input: how far below the input the output may start.

A kernel that walks its output pixels in raster order, and reads for each output pixel only a window
of input pixels that never moves backwards, leaves dead input behind it as it goes. Its output can
then share bytes with its input, provided the output starts far enough below the input that no write
reaches an input byte some later output pixel still reads: the input starts `trail` bytes above the
output (TinyEngine and vMCU overlap depthwise outputs this way). The backend knows its kernels' order
of reads and writes and declares the trail (KernelCall.trails); the planners let such a pair overlap
(Buffer.trails) and the plan check verifies the same rule."""
from __future__ import annotations

import numpy as np


def raster_trail(in_shape, out_shape, in_itemsize: int, out_itemsize: int, stride=(1, 1), pad=(0, 0),
                 batch: int = 1) -> int:
    """The smallest byte distance from the output's start up to the input's start that is safe for a
    kernel that writes output pixels in raster order (NHWC, one batch) and reads, for output pixel q,
    input rows from max(0, oy*stride_h - pad_top) and columns from max(0, ox*stride_w - pad_left).
    The kernel may interleave reads and writes within one pixel and read the input of up to `batch`
    consecutive output pixels (aligned groups) while writing any of them, so output pixel p must not
    write over input still read by pixels from the start of its group on."""
    _, in_h, in_w, in_c = in_shape
    _, out_h, out_w, out_c = out_shape
    q = np.arange(out_h * out_w, dtype=np.int64)
    oy, ox = np.divmod(q, out_w)
    rows = np.maximum(0, oy * stride[0] - pad[0])
    cols = np.maximum(0, ox * stride[1] - pad[1])
    lowest = rows * in_w + cols                                  # first input pixel output pixel q reads
    still_read = np.minimum.accumulate(lowest[::-1])[::-1]       # ... or any pixel after it
    group_start = (q // batch) * batch
    written_end = (q + 1) * out_c * out_itemsize
    return max(0, int((written_end - still_read[group_start] * in_c * in_itemsize).max()))
