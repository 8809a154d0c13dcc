"""What a backend hands to codegen: one KernelCall per emitted op, all arithmetic precomputed."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ir import Op, Tensor, c_type


@dataclass(frozen=True, eq=False)
class TensorRef:
    """A pointer to a tensor's data; codegen renders it as an arena offset or a weight symbol."""
    tensor: Tensor
    const: bool = False          # render as a pointer to const

    @property
    def ctype(self) -> str:
        return c_type(self.tensor.dtype)


@dataclass(frozen=True, eq=False)
class ScratchRef:
    """A pointer to this op's scratch buffer in the arena."""
    ctype: str = "void"


@dataclass(frozen=True, eq=False)
class ConstArray:
    """A compile-time table (multipliers, shifts, lookup tables, repacked weights) placed in flash."""
    suffix: str                  # symbol is <model>_op<k>_<suffix>
    ctype: str
    values: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)

    @property
    def key(self) -> tuple:
        """Equal keys, equal tables: codegen emits one array for all of them."""
        v = np.ascontiguousarray(self.values)
        return (self.ctype, v.dtype.str, v.shape, v.tobytes())


def table_bytes(calls) -> int:
    """Flash bytes of the calls' compile-time tables, each distinct table counted once."""
    return sum({c.key: c.nbytes for call in calls for c in call.consts}.values())


@dataclass
class KernelCall:
    """One emitted call. `args` are C expressions or refs, in the kernel's parameter order."""
    op: Op
    backend: str
    function: str
    args: list[Any]
    template: str = "call.c.j2"
    scratch_bytes: int = 0
    consts: list[ConstArray] = field(default_factory=list)
    macs: int = 0
    alias: bool = False          # no code: the output is a view of input 0 (RESHAPE, SQUEEZE)
    inplace: tuple[int, ...] = ()  # op inputs the output may overwrite: the kernel reads element i of
                                   # such an input (same shape and type size as the output) before it
                                   # writes element i, and nothing else of it afterwards
    trails: dict[int, int] = field(default_factory=dict)   # op input -> bytes: the kernel writes
                                   # its output in an order that lets the output start that far below
                                   # the input and overlap it (memory/overlap.py)
    note: str = ""               # why this backend was chosen, for the report
    includes: tuple[str, ...] = ()   # headers of an external kernel library (e.g. "arm_nnfunctions.h")
    scratch_check: str | None = None  # C expression of the scratch bytes the library itself asks for;
                                      # a -D<NAME>_DEBUG build of init checks the plan against it
    requires: tuple[str, ...] = ()   # CPU features the emitted call assumes (e.g. "mve": Helium kernel
                                     # sums, bias not passed); the generated file refuses other Arm builds

    @property
    def const_bytes(self) -> int:
        return sum(c.nbytes for c in self.consts)


def same_layout_inputs(op: Op) -> tuple[int, ...]:
    """Positions of the op's activation inputs with the output's shape and element type: the ones an
    elementwise kernel may overwrite with its output."""
    y = op.outputs[0]
    return tuple(i for i, t in enumerate(op.inputs)
                 if t is not None and not t.is_const and t.shape == y.shape and t.dtype == y.dtype)


def lowering_registry():
    """A backend's table of lowerings and the decorator that fills it:
    @lowering("KIND", ..., supports=fn, inplace=True) registers fn(op, options) -> KernelCall for those
    op kinds, with an optional supports(op) -> (ok, reason). `inplace=True` declares an elementwise
    kernel (element i of each input is read before element i of the output is written), so the
    planner may put the output over any input of the same layout (KernelCall.inplace)."""
    table: dict = {}

    def lowering(*kinds: str, supports=None, inplace: bool = False):
        def register(fn):
            def with_inplace(op, options):
                call = fn(op, options)
                call.inplace = same_layout_inputs(op)
                return call
            entry = fn
            if inplace:
                entry = with_inplace
                entry.__name__, entry.__doc__ = fn.__name__, fn.__doc__
            if supports is not None:
                entry.supports = supports
            for k in kinds:
                table[k] = entry
            return fn
        return register
    return table, lowering


class Backend:
    """A kernel library. Subclasses register lowerings per op kind."""
    name = ""
    lowerings: dict = {}

    def supports(self, op: Op) -> tuple[bool, str]:
        fn = self.lowerings.get(op.kind)
        if fn is None:
            return False, f"no {self.name} kernel for {op.kind}"
        check = getattr(fn, "supports", None)
        return check(op) if check else (True, "")

    def lower(self, op: Op, options) -> KernelCall:
        return self.lowerings[op.kind](op, options)


def c_literal(v) -> str:
    """A C literal for a Python/numpy scalar (floats exactly as float32, with the f suffix)."""
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        v = int(v)
        if v == -2**31:
            return "(-2147483647 - 1)"
        if v < -2**31 or v > 2**31 - 1:
            return f"INT64_C({v})"
        return str(v)
    f = float(np.float32(v))
    if f == float("inf"):
        return "INFINITY"
    if f == float("-inf"):
        return "-INFINITY"
    return f"{np.format_float_scientific(np.float32(f), unique=True, trim='0')}f".replace("e+", "e")
