"""Pictures of an arena plan: buffers as boxes, op steps across, arena addresses up.

SVG carries labels and a tooltip per buffer (tensor, bytes, offset, lifetime); PNG is the same boxes
without text, written with zlib so no imaging library is needed."""
from __future__ import annotations

import struct
import zlib
from html import escape

from . import Plan

STEP_W, HEIGHT, MARGIN_L, MARGIN_B, MARGIN_T = 28, 420, 70, 40, 40
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac"]
SCRATCH = "#7f7f7f"
LIMIT = "#d62728"


def _pool_bases(plan: Plan) -> dict[str, int]:
    """Where each memory pool starts on the picture's address axis: the arena, then the others
    stacked above it."""
    bases, top = {plan.arena_pool: 0, "arena": 0}, plan.arena_size
    for name, size in plan.pool_sizes.items():
        bases[name], top = top, top + size
    return bases


def _height(plan: Plan) -> int:
    return max(plan.arena_size + sum(plan.pool_sizes.values()), 1)


def _boxes(plan: Plan, steps: int):
    """(x0, y0, x1, y1, colour, buffer) per placed buffer, in picture coordinates (y down)."""
    scale = HEIGHT / _height(plan)
    bases = _pool_bases(plan)
    out = []
    for i, b in enumerate(sorted(plan.buffers, key=lambda b: (bases[b.pool], plan.offsets[b.name], b.first, b.name))):
        off = bases[b.pool] + plan.offsets[b.name]
        x0, x1 = MARGIN_L + b.first * STEP_W, MARGIN_L + (b.last + 1) * STEP_W
        y1 = MARGIN_T + HEIGHT - off * scale
        y0 = MARGIN_T + HEIGHT - (off + b.size) * scale
        colour = SCRATCH if b.tensor is None else PALETTE[i % len(PALETTE)]
        out.append((x0, y0, x1, max(y1, y0 + 1), colour, b))
    return out


def svg(plan: Plan, calls, title: str = "") -> str:
    steps = max(len(calls), 1)
    width = MARGIN_L + steps * STEP_W + 20
    height = MARGIN_T + HEIGHT + MARGIN_B
    scale = HEIGHT / _height(plan)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="10">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{MARGIN_L}" y="16" font-size="12">{escape(title)} arena {plan.arena_size:,} bytes, '
             f'lower bound {plan.lower_bound:,} ({escape(plan.planner)})</text>']
    for x0, y0, x1, y1, colour, b in _boxes(plan, steps):
        t = b.tensor
        what = f'tensor {t.index} "{t.name}"' if t is not None else f"scratch of step {b.first}"
        pool = f" of pool {b.pool}" if plan.pool_sizes else ""
        tip = (f"{what}: {b.size:,} bytes at offset {plan.offsets[b.name]:,}{pool}, "
               f"steps {b.first}-{b.last}")
        parts.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
                     f'fill="{colour}" fill-opacity="0.8" stroke="black" stroke-width="0.5">'
                     f'<title>{escape(tip)}</title></rect>')
        if y1 - y0 > 12 and x1 - x0 > 40:
            label = t.name if t is not None else "scratch"
            parts.append(f'<text x="{x0 + 2:.1f}" y="{y0 + 11:.1f}" fill="white">'
                         f'{escape(label[: int((x1 - x0) / 6)])}</text>')
    lb_y = MARGIN_T + HEIGHT - plan.lower_bound * scale
    parts.append(f'<line x1="{MARGIN_L}" x2="{width - 20}" y1="{lb_y:.1f}" y2="{lb_y:.1f}" stroke="{LIMIT}" '
                 f'stroke-dasharray="4 3"><title>lower bound {plan.lower_bound:,} bytes</title></line>')
    base = MARGIN_T + HEIGHT
    for name, start in _pool_bases(plan).items():
        if start and name != "arena":   # where each further memory pool begins
            y = base - start * scale
            parts.append(f'<line x1="{MARGIN_L}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="black" '
                         f'stroke-dasharray="1 2"/><text x="{width - 22}" y="{y - 3:.1f}" text-anchor="end">'
                         f'{escape(name)}</text>')
    parts.append(f'<line x1="{MARGIN_L}" x2="{width - 20}" y1="{base}" y2="{base}" stroke="black"/>')
    parts.append(f'<line x1="{MARGIN_L}" x2="{MARGIN_L}" y1="{MARGIN_T}" y2="{base}" stroke="black"/>')
    for step, call in enumerate(calls):
        x = MARGIN_L + step * STEP_W + STEP_W / 2
        parts.append(f'<text x="{x:.1f}" y="{base + 12}" text-anchor="middle">{step}'
                     f'<title>{escape(call.op.kind)} (op {call.op.index})</title></text>')
    parts.append(f'<text x="{MARGIN_L + steps * STEP_W / 2:.1f}" y="{base + 30}" text-anchor="middle">op step</text>')
    for frac in (0, 0.5, 1):
        y = base - frac * HEIGHT
        parts.append(f'<text x="{MARGIN_L - 4}" y="{y + 3:.1f}" text-anchor="end">'
                     f'{int(_height(plan) * frac):,}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def png(plan: Plan, calls) -> bytes:
    steps = max(len(calls), 1)
    width = MARGIN_L + steps * STEP_W + 20
    height = MARGIN_T + HEIGHT + MARGIN_B
    pixels = [bytearray(b"\xff" * (3 * width)) for _ in range(height)]

    def fill(x0, y0, x1, y1, rgb):
        x0, x1 = max(int(x0), 0), min(int(x1), width)
        for y in range(max(int(y0), 0), min(int(y1), height)):
            pixels[y][3 * x0:3 * x1] = bytes(rgb) * (x1 - x0)

    for x0, y0, x1, y1, colour, _ in _boxes(plan, steps):
        rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        fill(x0, y0, x1, y1, (0, 0, 0))                      # outline
        fill(x0 + 1, y0 + 1, x1 - 1, y1 - 1, rgb)
    base = MARGIN_T + HEIGHT
    fill(MARGIN_L, base, width - 20, base + 1, (0, 0, 0))
    fill(MARGIN_L, MARGIN_T, MARGIN_L + 1, base, (0, 0, 0))
    lb_y = base - plan.lower_bound * HEIGHT / _height(plan)
    for x in range(MARGIN_L, width - 20, 8):
        fill(x, lb_y, x + 4, lb_y + 1, (0xd6, 0x27, 0x28))
    for name, start in _pool_bases(plan).items():
        if start and name != "arena":   # where each further memory pool begins: a dotted black line
            y = base - start * HEIGHT / _height(plan)
            for x in range(MARGIN_L, width - 20, 4):
                fill(x, y, x + 2, y + 1, (0, 0, 0))
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _short(name: str, n: int = 48) -> str:
    return name if len(name) <= n else name[:n - 3] + "..."


def table(plan: Plan, calls) -> str:
    """The plan as text: one line per buffer by offset, then the totals."""
    lines = [f"{'offset':>8} {'bytes':>8}  {'steps':<9} buffer"]
    bases = _pool_bases(plan)
    for b in sorted(plan.buffers, key=lambda b: (bases[b.pool], plan.offsets[b.name], b.first, b.name)):
        t = b.tensor
        if t is None:
            what = f"scratch of step {b.first} {calls[b.first].op.kind}"
        elif t.index < 0:   # made by the compiler (line buffers, bands): its suffix says which
            what = f'"{t.name}"' if len(t.name) <= 48 else f'"...{t.name[-45:]}"'
        else:
            what = f't{t.index} "{_short(t.name)}"'
        if t is not None and t.variable:
            what += " (state)"
        if plan.pool_sizes:
            what += f" [{b.pool}]"
        lines.append(f"{plan.offsets[b.name]:>8,} {b.size:>8,}  {f'{b.first}-{b.last}':<9} {what}")
    for u in plan.reuses:
        lines.append(f"reuse: step {u['step']} {u['kind']} {u['rule']} ({u['bytes']:,} bytes)")
    external = sorted(plan.external.items(), key=lambda kv: kv[1])
    for t, (kind, pos) in external:
        lines.append(f"caller's {kind} {pos}: t{t.index} \"{t.name}\" ({t.nbytes:,} bytes, outside the arena)")
    total = plan.arena_size + sum(plan.pool_sizes.values())
    over = f" (all pools {total:,})" if plan.pool_sizes else ""
    lines.append(f"arena {plan.arena_size:,} bytes{over} ({plan.planner}), lower bound {plan.lower_bound:,}, "
                 f"gap {total - plan.lower_bound:,}")
    for name, size in plan.pool_sizes.items():
        lines.append(f"pool {name} {size:,} bytes (the arena above is pool {plan.arena_pool})")
    if plan.candidates:
        lines.append("planners: " + ", ".join(f"{k} {v:,}" for k, v in plan.candidates.items()))
    return "\n".join(lines) + "\n"
