"""Page placement: model offsets of one line -> absolute points on the page (mm), and Pages.

This is the one place where strokes become absolute page coordinates (STYLE.md §1). Inputs are
float32 ``(N, 3)`` offsets ``[dx, dy, eos]`` in model units (y down); outputs are float32 ``(N, 3)``
points ``[x_mm, y_mm, eos]`` from the top-left page corner (y still down: only the PDF renderer
flips it).

Placement steps for one line (`place_line`):

1. ``to_points``: offsets -> absolute points in model units;
2. anchor: move the left-most ink to x = 0 and the estimated baseline to y = 0, scale to mm;
3. natural variation (optional): size, slant (shear) and drift (rotation) about that anchor;
4. fit: shrink uniformly if wider than the line's room, so ink never crosses the right margin;
5. translate to (line.x, line.baseline_y).

A page's lines set right or centred (`LayoutLine.align`) are then moved sideways as wholes by
`align_lines`, which measures their real ink: a right block's widest line ends at the right margin.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from ..strokes import body_height, estimate_baseline, split_strokes, to_points
from .layout import LayoutLine
from .options import PageOptions, baseline_y, color_rgb, lines_per_page

#: Target robust body height (10th-90th percentile of y per line, median over lines) as a
#: fraction of the line height. At 0.42 the x-height comes out near 0.28 line heights, so
#: ascenders and descenders stay well clear of the neighbouring lines.
BODY_FRACTION = 0.42

# Natural variation, drawn uniformly in +-these ranges for each line.
DRIFT_DEG = 0.6  # baseline rotation
SLANT_DEG = 3.0  # extra shear
SIZE_JITTER = 0.04  # relative size change
BASELINE_JITTER = 0.03  # vertical shift, in line heights
LEFT_JITTER = 0.08  # 0..this many line heights of extra left offset (a hand never starts on the exact margin)


# ----------------------------------------------------------------------------- measuring strokes
MAX_ABOVE = 2.5  # line heights of ink allowed above the baseline (tall capitals, ascenders)
MAX_BELOW = 1.5  # line heights of ink allowed below it (descenders)


def estimate_scale(offsets_list: Sequence[np.ndarray], line_height_mm: float) -> float:
    """One scale (mm per model unit) for a whole document, so the whole page looks like one hand.

    The median robust body height over lines (lines with fewer than 8 points, e.g. "-", are
    ignored when longer ones exist) is mapped to ``BODY_FRACTION * line_height_mm``.
    Returns 1.0 when no line has any height.
    """
    heights = []
    for off in offsets_list:
        if len(off) >= 2:
            heights.append((len(off), body_height(to_points(off))))
    long_enough = [h for n, h in heights if n >= 8 and h > 0]
    usable = long_enough or [h for _, h in heights if h > 0]
    if not usable:
        return 1.0
    return BODY_FRACTION * float(line_height_mm) / float(np.median(usable))


# Line-to-line size: a line's x-height (the median height of its small letters, found through the attention
# window) is pulled this far (as a power) towards the median of its page's lines, within SIZE_LIMITS. The
# network writes some lines of a page visibly smaller or larger than the rest (benchmarks/line_size.py).
SIZE_PULL = 0.5
SIZE_LIMITS = (0.8, 1.25)


def size_factors(heights: Sequence[float], pull: float = SIZE_PULL) -> list[float]:
    """Per-line size multipliers that pull each line's x-height (any unit; 0 = unknown, left as it is)
    towards the median of the page's known ones: ``(median / h) ** pull``, within `SIZE_LIMITS`.
    All 1.0 when fewer than two lines have a height."""
    known = [h for h in heights if h > 0]
    if len(known) < 2 or pull == 0:
        return [1.0] * len(heights)
    m = float(np.median(known))
    lo, hi = SIZE_LIMITS
    return [min(max((m / h) ** pull, lo), hi) if h > 0 else 1.0 for h in heights]


# ----------------------------------------------------------------------------- placing one line
def line_rng(opts: PageOptions, line: LayoutLine) -> np.random.Generator:
    """The generator `place_line` uses when given none: seeded by (seed, page, line), so a line's
    variation does not depend on the order lines are placed in."""
    return np.random.default_rng([opts.seed, line.page, line.index])


def place_line(offsets: np.ndarray, line: LayoutLine, scale: float, opts: PageOptions,
               rng: np.random.Generator | None = None) -> np.ndarray:
    """Offsets ``(N, 3)`` in model units -> absolute points ``(N, 3)`` [x_mm, y_mm, eos] on the page.

    The estimated baseline lands on ``line.baseline_y`` and the left-most ink on ``line.x``
    (plus a small jitter when natural); `scale` is mm per model unit (see `estimate_scale`).
    A line wider than ``line.max_width`` is shrunk uniformly to fit. With ``opts.natural`` the
    size, slant and drift come from `rng` (default: `line_rng`), deterministic for a given rng.
    """
    offsets = np.asarray(offsets, dtype=np.float32).reshape(-1, 3)
    if len(offsets) == 0:
        return np.zeros((0, 3), np.float32)
    pts = to_points(offsets)
    xy = pts[:, :2].astype(np.float64)
    # 2. anchor at (left-most ink, baseline), in mm
    xy -= (xy[:, 0].min(), estimate_baseline(pts))
    xy *= scale * line.size
    dx = dy = 0.0
    if opts.natural:
        rng = rng if rng is not None else line_rng(opts, line)
        size = 1.0 + rng.uniform(-SIZE_JITTER, SIZE_JITTER)
        slant = math.radians(rng.uniform(-SLANT_DEG, SLANT_DEG))
        drift = math.radians(rng.uniform(-DRIFT_DEG, DRIFT_DEG))
        dy = rng.uniform(-BASELINE_JITTER, BASELINE_JITTER) * opts.line_height
        dx = rng.uniform(0.0, LEFT_JITTER) * opts.line_height
        dx = min(dx, 0.1 * line.max_width)
        xy *= size
        xy[:, 0] -= math.tan(slant) * xy[:, 1]  # y is down: ink above the baseline leans right for slant > 0
        c, s = math.cos(drift), math.sin(drift)
        xy = xy @ np.array([[c, s], [-s, c]])
        xy[:, 0] -= xy[:, 0].min()  # shear/rotation moved the left edge; re-anchor it
    # 4. fit: uniform shrink about the left end of the baseline keeps the baseline in place
    room = max(line.max_width - dx, 1e-6)
    width = float(xy[:, 0].max())
    if width > room:
        xy *= room / width * (1 - 1e-6)
    # a runaway stroke must not leave the page or bury other lines: cap the ink above and below the baseline
    base = line.baseline_y + dy
    above = float(-xy[:, 1].min())
    below = float(xy[:, 1].max())
    max_above = max(min(MAX_ABOVE * opts.line_height, base), 1e-6)
    max_below = max(min(MAX_BELOW * opts.line_height, opts.page_mm[1] - base), 1e-6)
    shrink = min(1.0, max_above / above if above > 0 else 1.0, max_below / below if below > 0 else 1.0)
    if shrink < 1.0:
        xy *= shrink * (1 - 1e-6)
    xy += (line.x + dx, base)
    out = np.empty_like(pts)
    out[:, :2] = xy
    out[:, 2] = pts[:, 2]
    return out


# ----------------------------------------------------------------------------- pages
@dataclass
class Page:
    """One page ready to render. Lengths in mm, y down from the top-left corner."""

    number: int  # 0-based page number
    width_mm: float
    height_mm: float
    lines: list[np.ndarray] = field(default_factory=list)  # per line: absolute points (N, 3) [x, y, eos]
    rule_ys: list[float] = field(default_factory=list)  # y of each ruled line (mm); empty = plain paper
    margin_x: float | None = None  # x of the ruled margin line (mm); None = none drawn
    texts: list[str] = field(default_factory=list)  # what each of `lines` says (empty when not known)
    colors: list[str] = field(default_factory=list)  # ink of each of `lines` as #rrggbb (empty: all the page's)
    inks: list[str] = field(default_factory=list)  # the document's inks in pen order (colors.document_colors)

    def line_color(self, k: int, default: str) -> str:
        """The ink of line `k`: its own colour, else `default`."""
        return (self.colors[k] if k < len(self.colors) else "") or default

    def strokes(self) -> Iterator[np.ndarray]:
        """Every pen-down stroke on the page, each ``(n, 2)`` [x, y] mm (n = 1 is a dot)."""
        for pts in self.lines:
            yield from split_strokes(pts)


def align_lines(placed: Sequence[np.ndarray], lines: Sequence[LayoutLine]) -> list[np.ndarray]:
    """Placed lines of one page (as `place_line` left them, at their `x`) with the right and centred ones
    moved sideways by their real ink: a centred line is centred in [x, x + max_width]; the lines of a right
    block (same `block`) keep their left edges in line, the block's widest line ending at x + max_width.
    Left lines are returned as they are (the same arrays)."""
    out = list(placed)
    shift: dict[int, float] = {}
    for k, (pts, ln) in enumerate(zip(placed, lines)):
        if ln.align == "left" or len(pts) == 0:
            continue
        lo, hi = float(pts[:, 0].min()), float(pts[:, 0].max())
        if ln.align == "center":
            d = ln.x + (ln.max_width - (hi - lo)) / 2 - lo
            out[k] = pts + np.array([d, 0, 0], np.float32)
        else:
            key = ln.block if ln.block >= 0 else -1 - k
            shift[key] = min(shift.get(key, math.inf), ln.x + ln.max_width - hi)
    for k, (pts, ln) in enumerate(zip(placed, lines)):
        if ln.align == "right" and len(pts):
            d = max(shift[ln.block if ln.block >= 0 else -1 - k], 0.0)
            out[k] = pts + np.array([d, 0, 0], np.float32)
    return out


def build_page(number: int, placed_lines: Sequence[np.ndarray], opts: PageOptions,
               texts: Sequence[str] = (), colors: Sequence[str] = (), inks: Sequence[str] = ()) -> Page:
    """A Page from already placed lines (and their `texts`, and `colors` and the document's `inks` when a
    document has more than one ink: see colors.py); adds the ruling (every baseline + margin line) when ruled."""
    w, h = opts.page_mm
    page = Page(number=number, width_mm=w, height_mm=h, lines=list(placed_lines), texts=list(texts))
    if any(colors) or len(inks) > 1:  # every page of a document with several inks, even one all in the first
        from .colors import document_colors

        page.colors = ["#%02x%02x%02x" % color_rgb(c or opts.color) for c in colors]
        page.inks = list(inks) or document_colors(opts.color, colors)
    if opts.ruled:
        page.rule_ys = [baseline_y(opts, k) for k in range(lines_per_page(opts))]
        # the margin line sits a little left of the text, like on school paper
        page.margin_x = opts.text_left - min(3.0, opts.margin / 2)
    return page


# ----------------------------------------------------------------------------- curve geometry
def curve_controls(stroke: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Catmull-Rom spline through a stroke ``(n, 2)`` as cubic Beziers.

    Returns control points ``(c1, c2)``, each ``(n - 1, 2)``: segment i runs from stroke[i]
    through c1[i], c2[i] to stroke[i + 1]. The end points are repeated so the curve starts and
    ends on the stroke. Shared by the SVG, PDF and PNG renderers so all three draw the same curve.
    """
    p = np.asarray(stroke, dtype=np.float64)
    if len(p) < 2:
        return np.zeros((0, 2)), np.zeros((0, 2))
    ext = np.concatenate([p[:1], p, p[-1:]])
    c1 = p[:-1] + (ext[2:-1] - ext[:-3]) / 6.0
    c2 = p[1:] - (ext[3:] - ext[1:-2]) / 6.0
    return c1, c2
