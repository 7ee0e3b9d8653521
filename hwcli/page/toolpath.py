"""Toolpaths for pen plotters: which strokes a machine draws, in which order and direction.

Everything is in page millimetres, y down from the top-left corner (the machine's own axes are
applied by each writer: G-code, HPGL). A page's strokes become a `PagePlan` in three named steps:

1. ``collect``: every pen-down stroke of the page in writing order, ``(n, 2)`` float64 mm;
2. ``simplify``: Ramer-Douglas-Peucker per stroke within `tolerance` mm (a dot stays a dot);
3. ``order``: greedy nearest neighbour over both ends of every stroke (a stroke may be drawn
   backwards), then 2-opt moves on the sequence (reversing a run of strokes also reverses each
   stroke in it), as vpype's ``linesort`` and saxi do. The result is never worse than the writing
   order: if it were, the 2-opt pass is run from the writing order instead.

Pen-up travel is the straight-line length of every move with the pen up: from `start` (the
machine's park position, page coordinates) to the first stroke, between strokes, and back to
`start` after the last one. Ordering changes neither what is drawn nor the pen-down path length.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import numpy as np

from ..errors import OptionError
from ..strokes import split_strokes
from .placement import Page

DEFAULT_TOLERANCE = 0.05  # mm: a tenth of the default 0.5 mm pen; saves ~18% of the points of sampled handwriting
MAX_TOLERANCE = 1.0  # mm: beyond this simplification visibly changes letters
TWO_OPT_PASSES = 4  # improvement passes at most: on an A4 page passes 5-6 gain under 2% more, for 25% more time
TWO_OPT_WINDOW = 100_000  # longest run of strokes a 2-opt move reverses (a page has ~1000 strokes: no limit)


@dataclass(frozen=True)
class PlanOptions:
    """How a page becomes a toolpath."""

    tolerance: float = DEFAULT_TOLERANCE  # RDP simplification tolerance in mm (0 = keep every point)
    keep_order: bool = False  # draw strokes in writing order and direction (no optimisation)
    start: tuple[float, float] = (0.0, 0.0)  # pen park position in page mm (y down), where travel starts and ends
    rotate: bool = False  # turn the page 90 degrees clockwise first (onto a bed it fits only that way)
    join: float = 0.0  # mm: draw a stroke that starts within this of the previous one's end without lifting

    def __post_init__(self) -> None:
        tol = self.tolerance
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not math.isfinite(tol):
            raise OptionError(f"simplify tolerance must be a number of mm, got {tol!r}")
        if not 0 <= tol <= MAX_TOLERANCE:
            raise OptionError(f"simplify tolerance must be between 0 and {MAX_TOLERANCE:g} mm, got {tol:g}")
        if isinstance(self.join, bool) or not isinstance(self.join, (int, float)) or not 0 <= self.join <= 5:
            raise OptionError(f"join distance must be between 0 and 5 mm, got {self.join!r}")


@dataclass
class PagePlan:
    """One page's toolpath: strokes in drawing order and direction, with what it cost and saved."""

    number: int  # 0-based page number
    width_mm: float
    height_mm: float
    strokes: list[np.ndarray]  # drawing order, each (n, 2) float64 mm, y down; n = 1 is a dot
    start: tuple[float, float]  # park position (page mm)
    travel_before: float  # pen-up travel (mm) in writing order
    travel_after: float  # pen-up travel (mm) in drawing order
    points_before: int  # points before simplification
    points_after: int  # points after simplification
    rotated: bool = False  # the page was turned 90 degrees clockwise (width_mm, height_mm are the turned sheet's)
    joined: int = 0  # pen lifts saved by joining strokes that end where the next begins
    colors: list[str] = field(default_factory=list)  # ink of each stroke (#rrggbb); empty: one ink
    inks: list[str] = field(default_factory=list)  # the document's inks in pen order (pen n = inks[n - 1])

    def layers(self) -> list[tuple[str, list[np.ndarray]]]:
        """(ink, strokes) runs in drawing order: one per ink on the page, [("", strokes)] for a one-ink page."""
        if not self.colors:
            return [("", self.strokes)]
        out: list[tuple[str, list[np.ndarray]]] = []
        for c, st in zip(self.colors, self.strokes):
            if not out or out[-1][0] != c:
                out.append((c, []))
            out[-1][1].append(st)
        return out

    def pen_runs(self) -> list[tuple[int, str, list[np.ndarray], bool, bool]]:
        """`layers` with what a plotter does before each: (pen number, ink, strokes, return to the start corner
        first, ask for that pen). Pen n of the carousel draws the document's n-th ink; every layer after the
        first starts from the start corner; the first asks for its pen only when it is not pen 1."""
        out = []
        for k, (ink, strokes) in enumerate(self.layers()):
            pen = (self.inks.index(ink) + 1 if ink in self.inks else k + 1) if ink else 1
            out.append((pen, ink, strokes, bool(ink) and k > 0, bool(ink) and (k > 0 or pen != 1)))
        return out

    @cached_property
    def draw_length(self) -> float:
        """Pen-down path length (mm)."""
        if not self.strokes:
            return 0.0
        p = np.concatenate(self.strokes)
        seg = np.hypot(*np.diff(p, axis=0).T)
        ends = np.cumsum([len(s) for s in self.strokes])[:-1] - 1  # the jumps from one stroke to the next
        seg[ends] = 0.0
        return float(seg.sum())


# ----------------------------------------------------------------------------- simplification
def simplify_stroke(stroke: np.ndarray, tolerance: float) -> np.ndarray:
    """Ramer-Douglas-Peucker: the fewest points of `stroke` ``(n, 2)`` whose polyline stays within
    `tolerance` (same units) of every dropped point. End points are always kept.

    Plain Python on lists: strokes of handwriting have ~10 points, where numpy's per-call cost
    would be most of the time.
    """
    p = np.asarray(stroke, dtype=np.float64)
    n = len(p)
    if n <= 2 or tolerance <= 0:
        return p.copy()
    xs, ys = p[:, 0].tolist(), p[:, 1].tolist()
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    tol2 = tolerance * tolerance
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        ax, ay, sx, sy = xs[a], ys[a], xs[b] - xs[a], ys[b] - ys[a]
        ss = sx * sx + sy * sy
        worst, at = -1.0, -1
        for k in range(a + 1, b):
            rx, ry = xs[k] - ax, ys[k] - ay
            if ss < 1e-24:
                d2 = rx * rx + ry * ry  # closed loop: distance to the shared end point
            else:
                u = (rx * sx + ry * sy) / ss
                if u < 0:
                    d2 = rx * rx + ry * ry
                elif u > 1:
                    d2 = (xs[k] - xs[b]) ** 2 + (ys[k] - ys[b]) ** 2
                else:
                    c = rx * sy - ry * sx
                    d2 = c * c / ss
            if d2 > worst:
                worst, at = d2, k
        if worst > tol2:
            keep[at] = True
            stack.append((a, at))
            stack.append((at, b))
    return p[np.array(keep)]


# ----------------------------------------------------------------------------- ordering
def travel_length(strokes: Sequence[np.ndarray], start: tuple[float, float] = (0.0, 0.0)) -> float:
    """Pen-up travel (mm) to draw `strokes` in the given order and direction, from and back to `start`."""
    if not strokes:
        return 0.0
    s = np.asarray(start, dtype=np.float64)
    heads = np.array([st[0] for st in strokes])
    tails = np.array([st[-1] for st in strokes])
    frm = np.vstack([s[None], tails])
    to = np.vstack([heads, s[None]])
    return float(np.linalg.norm(to - frm, axis=1).sum())


def _greedy(heads: np.ndarray, tails: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest neighbour: from the pen's position, the unused stroke with the nearest end next.
    Returns (order, flipped): stroke indices and whether each is drawn from its tail."""
    n = len(heads)
    used = np.zeros(n, bool)
    order = np.empty(n, np.int64)
    flipped = np.zeros(n, bool)
    pos = start
    for k in range(n):
        dh = np.hypot(heads[:, 0] - pos[0], heads[:, 1] - pos[1])
        dt = np.hypot(tails[:, 0] - pos[0], tails[:, 1] - pos[1])
        dh[used] = np.inf
        dt[used] = np.inf
        i_h, i_t = int(np.argmin(dh)), int(np.argmin(dt))
        if dt[i_t] < dh[i_h]:
            i, flip = i_t, True
        else:
            i, flip = i_h, False
        order[k], flipped[k], used[i] = i, flip, True
        pos = heads[i] if flip else tails[i]
    return order, flipped


def _two_opt(order: np.ndarray, flipped: np.ndarray, heads: np.ndarray, tails: np.ndarray,
             start: np.ndarray, passes: int = TWO_OPT_PASSES, window: int = TWO_OPT_WINDOW
             ) -> tuple[np.ndarray, np.ndarray]:
    """Improve a stroke sequence by reversing runs i..j (which also flips every stroke in the run)
    whenever that shortens the travel. Each accepted move strictly shortens it, so it never gets worse.

    Only the two pen-up moves at the run's ends change: before ``end(i-1) -> start(i)`` and
    ``end(j) -> start(j+1)``; after ``end(i-1) -> end(j)`` and ``start(i) -> start(j+1)``.
    For each i the gains of every j up to `window` strokes later are computed at once (nearest
    neighbour leaves mostly local detours; the window keeps a pass O(n * window)).
    Points are complex numbers here: ``abs(a - b)`` is the distance.
    """
    order, flipped = order.copy(), flipped.copy()
    n = len(order)
    if n < 2:
        return order, flipped
    h = heads[:, 0] + 1j * heads[:, 1]
    t = tails[:, 0] + 1j * tails[:, 1]
    park = complex(start[0], start[1])
    first = np.where(flipped, t[order], h[order])  # where each stroke in the sequence starts
    last = np.where(flipped, h[order], t[order])  # where it ends
    for _ in range(passes):
        improved = False
        for i in range(n):
            j_end = min(n, i + window)
            prev = park if i == 0 else last[i - 1]
            nxt = np.empty(j_end - i, complex)
            nxt[:-1] = first[i + 1:j_end]
            nxt[-1] = first[j_end] if j_end < n else park
            lj = last[i:j_end]
            gain = (abs(first[i] - prev) + np.abs(nxt - lj)) - (np.abs(lj - prev) + np.abs(nxt - first[i]))
            k = int(np.argmax(gain))
            if gain[k] > 1e-9:
                jj = i + k + 1
                order[i:jj] = order[i:jj][::-1].copy()
                flipped[i:jj] = ~flipped[i:jj][::-1]
                first[i:jj], last[i:jj] = last[i:jj][::-1].copy(), first[i:jj][::-1].copy()
                improved = True
        if not improved:
            break
    return order, flipped


def order_strokes(strokes: Sequence[np.ndarray], start: tuple[float, float] = (0.0, 0.0)
                  ) -> tuple[list[int], list[bool]]:
    """Drawing order for `strokes` (each ``(n, 2)``): (indices, reversed flags), with pen-up travel
    from and back to `start` never longer than in the given order."""
    n = len(strokes)
    if n == 0:
        return [], []
    heads = np.array([s[0] for s in strokes], np.float64)
    tails = np.array([s[-1] for s in strokes], np.float64)
    s0 = np.asarray(start, np.float64)
    order, flipped = _two_opt(*_greedy(heads, tails, s0), heads, tails, s0)

    def cost(o: np.ndarray, f: np.ndarray) -> float:
        return travel_length([strokes[i][::-1] if fl else strokes[i] for i, fl in zip(o, f)], start)

    identity = (np.arange(n), np.zeros(n, bool))
    if cost(order, flipped) > cost(*identity):
        order, flipped = _two_opt(*identity, heads, tails, s0)
    return order.tolist(), flipped.tolist()


# ----------------------------------------------------------------------------- pages
def plan_page(page: Page, opts: PlanOptions = PlanOptions()) -> PagePlan:
    """The toolpath of one placed page (see the module docstring for the steps). A page whose lines have
    inks of their own (``page.colors``) is planned one ink after the other, in the document's pen order,
    each from and back to the start corner (where the pen is changed)."""
    groups: dict[str, list[np.ndarray]] = {}
    for k, pts in enumerate(page.lines):  # 1. collect
        ink = page.colors[k] if k < len(page.colors) else ""
        groups.setdefault(ink, []).extend(np.asarray(s, np.float64) for s in split_strokes(pts))
    w, h = page.width_mm, page.height_mm
    if opts.rotate:  # clockwise: the page's top-left corner goes to the turned sheet's top-right
        groups = {c: [np.column_stack([h - s[:, 1], s[:, 0]]) for s in g] for c, g in groups.items()}
        w, h = h, w
    order = {c: i for i, c in enumerate(page.inks)}
    drawn: list[np.ndarray] = []
    colors: list[str] = []
    points_before = joined = 0
    before = after = 0.0
    for ink in sorted(groups, key=lambda c: order.get(c, len(order))):
        strokes = groups[ink]
        points_before += sum(len(s) for s in strokes)
        simple = [simplify_stroke(s, opts.tolerance) for s in strokes]  # 2. simplify
        before += travel_length(simple, opts.start)
        if opts.keep_order:
            mine = simple
        else:  # 3. order
            idx, rev = order_strokes(simple, opts.start)
            mine = [simple[i][::-1] if r else simple[i] for i, r in zip(idx, rev)]
        n = len(mine)
        mine = join_strokes(mine, opts.join)  # 4. join
        joined += n - len(mine)
        after += travel_length(mine, opts.start)
        drawn += mine
        colors += [ink] * len(mine)
    many = len(groups) > 1 or bool(page.colors)
    return PagePlan(number=page.number, width_mm=w, height_mm=h, strokes=drawn, start=tuple(opts.start),
                    travel_before=before, travel_after=after, points_before=points_before,
                    points_after=sum(len(s) for s in drawn), rotated=opts.rotate, joined=joined,
                    colors=colors if many else [], inks=list(page.inks) if many else [])


def join_strokes(strokes: Sequence[np.ndarray], distance: float) -> list[np.ndarray]:
    """Strokes in drawing order, each one that starts within `distance` mm of the previous one's end drawn
    on from it without a pen lift (the pen crosses the gap: under a pen width it is inside the ink)."""
    if distance <= 0 or not strokes:
        return list(strokes)
    out = [strokes[0]]
    for s in strokes[1:]:
        if float(np.hypot(*(s[0] - out[-1][-1]))) <= distance:
            out[-1] = np.vstack([out[-1], s])
        else:
            out.append(s)
    return out
