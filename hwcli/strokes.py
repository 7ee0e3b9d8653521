"""Pure numpy stroke maths. No torch, no I/O.

Conventions (STYLE.md §1):
- *points*: float32 ``(N, 3)`` rows ``[x, y, eos]`` in absolute coordinates, ``eos = 1`` on the last
  point of each pen-down stroke;
- *offsets*: float32 ``(N, 3)`` rows ``[dx, dy, eos]``; ``offsets[0]`` holds ``(0, 0)`` and the
  first point is the origin, so ``to_points(to_offsets(p))`` equals ``p - p[0]``.
- y points **down** everywhere (as in the IAM-OnDB sensor and in SVG); the PDF renderer is the one
  place that flips it.

The preprocessing pipeline (`PIPELINE`, `PreprocessOptions`, `preprocess`) is `hwcli.cleaning`.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np


# ----------------------------------------------------------------------------- representation
def points_from_strokes(strokes: Sequence[np.ndarray]) -> np.ndarray:
    """List of pen-down strokes, each ``(n_i, 2)`` [x, y], -> points ``(N, 3)`` [x, y, eos]."""
    parts = []
    for s in strokes:
        s = np.asarray(s, dtype=np.float32).reshape(-1, 2)
        if len(s) == 0:
            continue
        eos = np.zeros((len(s), 1), np.float32)
        eos[-1] = 1.0
        parts.append(np.concatenate([s, eos], axis=1))
    if not parts:
        return np.zeros((0, 3), np.float32)
    return np.concatenate(parts, axis=0)


def split_strokes(points: np.ndarray) -> list[np.ndarray]:
    """Points ``(N, 3)`` -> list of pen-down strokes ``(n_i, 2)`` (inverse of `points_from_strokes`)."""
    if len(points) == 0:
        return []
    ends = np.flatnonzero(points[:, 2] > 0.5) + 1
    if len(ends) == 0 or ends[-1] != len(points):
        ends = np.append(ends, len(points))
    starts = np.concatenate([[0], ends[:-1]])
    return [points[a:b, :2] for a, b in zip(starts, ends) if b > a]


def to_offsets(points: np.ndarray) -> np.ndarray:
    """Absolute points ``(N, 3)`` -> offsets ``(N, 3)``; ``offsets[0, :2] = 0``."""
    out = np.array(points, dtype=np.float32, copy=True)
    if len(out):
        out[1:, :2] = points[1:, :2] - points[:-1, :2]
        out[0, :2] = 0.0
    return out


def to_points(offsets: np.ndarray, origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Offsets ``(N, 3)`` -> absolute points ``(N, 3)`` starting at `origin`."""
    out = np.array(offsets, dtype=np.float32, copy=True)
    if len(out):
        out[:, :2] = np.cumsum(offsets[:, :2], axis=0, dtype=np.float64) + np.asarray(origin)
    return out


def bounds(points: np.ndarray) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of absolute points; zeros for an empty array."""
    if len(points) == 0:
        return (0.0, 0.0, 0.0, 0.0)
    lo = points[:, :2].min(axis=0)
    hi = points[:, :2].max(axis=0)
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


# ----------------------------------------------------------------------------- statistics
def offset_scale(offset_arrays: Sequence[np.ndarray]) -> float:
    """One scalar (keeps the aspect ratio) that brings offsets to unit standard deviation:
    the RMS of dx and dy over all rows except each line's first."""
    sq, n = 0.0, 0
    for o in offset_arrays:
        if len(o) > 1:
            v = o[1:, :2].astype(np.float64)
            sq += float((v * v).sum())
            n += v.size
    return float(np.sqrt(sq / n)) if n else 1.0


def slant(points: np.ndarray) -> float:
    """Slant of absolute points ``(N, 3)`` (y down) as a shear: horizontal movement per unit of upward
    movement along the near-vertical pen-down moves (0 upright, > 0 leaning right). 0 with too little ink."""
    if len(points) < 3:
        return 0.0
    d = np.diff(points[:, :2].astype(np.float64), axis=0)
    down = points[:-1, 2] < 0.5  # the pen stays down from point i to i + 1
    steep = down & (np.abs(d[:, 1]) > np.abs(d[:, 0]))
    dy = np.abs(d[steep, 1]).sum()
    if dy <= 0:
        return 0.0
    return float((d[steep, 0] * -np.sign(d[steep, 1])).sum() / dy)


def shear(points: np.ndarray, amount: float, baseline: float) -> np.ndarray:
    """Absolute points ``(N, 3)`` with `amount` added to their slant (see `slant`) about `baseline`."""
    out = points.copy()
    out[:, 0] = points[:, 0] + amount * (baseline - points[:, 1])
    return out

def restyle(offsets: np.ndarray, x_scale: float = 1.0, amount: float = 0.0) -> np.ndarray:
    """Offsets ``(N, 3)`` with x scaled by `x_scale` (letter width) and then `amount` added to the slant (see
    `slant`) about the line's baseline: a personal style's geometry correction (`styles.geometry_correction`)."""
    if len(offsets) < 2 or (x_scale == 1.0 and amount == 0.0):
        return offsets
    pts = to_points(offsets)
    pts[:, 0] *= x_scale
    if amount:
        pts = shear(pts, amount, estimate_baseline(pts))
    out = to_offsets(pts).astype(offsets.dtype, copy=False)
    out[0, :2] = offsets[0, :2]  # the line's first move (from the origin) is kept as it was
    return out


# ----------------------------------------------------------------------------- one line's geometry
WORD_SPACE = 1.0  # gap between joined segments when the line shows none of its own word gaps (character advances)
SEAM_GAP_CLAMP = (0.6, 3.0)  # ...else the median of its word gaps, kept within these character advances
SIZE_CLAMP = 1.4  # joined segments are scaled towards the line's mean size by at most this factor either way
SLANT_CLAMP = 0.2  # ...and sheared towards its mean slant by at most this much (about 11 degrees)


def estimate_baseline(points: np.ndarray) -> float:
    """Baseline y of one line of absolute points ``(N, 3)`` (any units, y down).

    The median of the local y-maxima inside strokes: most letter bottoms sit on the baseline,
    and descenders (g, p, y) are too few to move a median, unlike the plain maximum.
    Falls back to the 75th percentile of y when a line has fewer than 3 local maxima.
    """
    if len(points) == 0:
        return 0.0
    maxima = []
    for s in split_strokes(points):
        if len(s) < 3:
            continue
        y = s[:, 1]
        peak = (y[1:-1] >= y[:-2]) & (y[1:-1] > y[2:])
        maxima.append(y[1:-1][peak])
    ys = np.concatenate(maxima) if maxima else np.zeros(0)
    if len(ys) >= 3:
        return float(np.median(ys))
    return float(np.percentile(points[:, 1], 75))


def body_height(points: np.ndarray) -> float:
    """Robust height of one line's writing: 90th minus 10th percentile of y (same units as y)."""
    if len(points) < 2:
        return 0.0
    lo, hi = np.percentile(points[:, 1], [10, 90])
    return float(hi - lo)


def robust_size(points: np.ndarray) -> float:
    """Interquartile range of y: the band of most ink (x-height), little moved by ascenders and descenders."""
    if len(points) < 8:
        return 0.0
    q1, q3 = np.percentile(points[:, 1], [25, 75])
    return float(q3 - q1)


SMALL_LETTERS = frozenset("acemnorsuvwxz")  # no ascender, no descender: their height is the x-height


def word_gaps(points: np.ndarray, spaces: int) -> list[float]:
    """The `spaces` widest empty stretches of x between the pen-down ink of a line or segment (absolute points,
    y down): its word gaps. The ink of every stroke is projected on x and overlapping spans merged, so an i-dot
    or a t-bar written over its word closes no gap; fewer come back when the words touch."""
    if spaces <= 0 or len(points) < 2:
        return []
    spans = sorted((float(s[:, 0].min()), float(s[:, 0].max())) for s in split_strokes(points))
    gaps, right = [], spans[0][1]
    for lo, hi in spans[1:]:
        if lo > right:
            gaps.append(lo - right)
        right = max(right, hi)
    return sorted(gaps, reverse=True)[:spaces]


def x_height(points: np.ndarray, chars: np.ndarray | None, text: str) -> float:
    """Median height of the small letters (a c e m n o ...) of a line or segment: a size that does not
    depend on which letters it holds, unlike any percentile band of y. `chars[i]` is the character the
    attention window was on when point i was written (0-based into `text`). 0 when there are fewer than
    two such letters with enough ink."""
    return _letters_median(points, chars, text, SMALL_LETTERS, lambda y: float(y[-1] - y[0]))  # y sorted


def _letters_median(points: np.ndarray, chars: np.ndarray | None, text: str, letters: frozenset, measure) -> float:
    """Median of `measure(y of the letter's points, sorted)` over the letters of `text` in `letters` that have at least
    four points (found through the attention window, `chars`); 0 when fewer than two do, or without `chars`."""
    if chars is None or len(chars) != len(points):
        return 0.0
    order, bounds = _by_letter(chars, len(text))
    hs = [measure(np.sort(points[order[bounds[j]:bounds[j + 1]], 1])) for j, ch in enumerate(text)
          if ch in letters and bounds[j + 1] - bounds[j] >= 4]
    return float(np.median(hs)) if len(hs) >= 2 else 0.0


def _by_letter(chars: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, bounds): ``order[bounds[j]:bounds[j + 1]]`` are the indices of the points aligned to character j
    (0 <= j < n), in their written order; one sort instead of a comparison of every point per character."""
    order = np.argsort(chars, kind="stable")
    return order, np.searchsorted(chars[order], np.arange(n + 1))


def sorted_percentile(v: np.ndarray, q: float) -> float:
    """``float(np.percentile(v, q))`` of a sorted 1-D array (numpy's linear method, the same arithmetic in the
    array's dtype, so the very same float), without numpy's per-call overhead: the letter measures below take
    thousands of percentiles a page, and numpy's cost ~50 us each."""
    n = len(v)
    if n == 0 or (v.dtype.kind == "f" and math.isnan(v[-1])):
        return math.nan
    vi = (n - 1) * (q / 100)
    if vi >= n - 1:
        return float(v[-1])
    lo = math.floor(vi)
    t = vi - lo
    a, b = v[lo], v[lo + 1]
    d = b - a
    return float(b - d * (1 - t)) if t >= 0.5 else float(a + d * t)


def sorted_median(v: np.ndarray) -> float:
    """``float(np.median(v))`` of a sorted 1-D array, the same float (the mean of the middle two in its dtype)."""
    n = len(v)
    if n == 0 or (v.dtype.kind == "f" and math.isnan(v[-1])):
        return math.nan
    m = n // 2
    return float(v[m]) if n % 2 else float((v[m - 1] + v[m]) / 2)


ASCENDER_LETTERS = frozenset("bdhkl")  # their tops are the ascender line (f and t reach less high in most hands)


def ascender_height(points: np.ndarray, chars: np.ndarray | None, text: str, baseline: float) -> float:
    """Median height above `baseline` of the tops of the ascender letters (b d h k l) of a line or segment, found
    through the attention window as in `x_height`; 0 when fewer than two have enough ink."""
    return _letters_median(points, chars, text, ASCENDER_LETTERS, lambda y: baseline - sorted_percentile(y, 5))


ON_BASELINE = frozenset("abcdehiklmnorstuvwxzABCDEFGHIJKLMNOPRSTUVWXYZ0123456789")  # no descender


def aligned_baseline(points: np.ndarray, chars: np.ndarray | None, text: str) -> float | None:
    """Baseline y of a line or segment from the letters that sit on it (no descender): the median of their
    bottoms (90th percentile of y of the points aligned to each, see `x_height`). None when fewer than three
    such letters have enough ink: then `estimate_baseline`, which needs no alignment, is the fallback."""
    bottoms = [y for _, y in _letter_bottoms(points, chars, text)]
    return float(np.median(bottoms)) if len(bottoms) >= 3 else None


def _letter_bottoms(points: np.ndarray, chars: np.ndarray | None, text: str) -> list[tuple[float, float]]:
    """(median x, bottom y) of each letter that sits on the baseline and has at least three aligned points; the
    bottom is the 90th percentile of its points' y (y down). Empty without an alignment that fits `points`."""
    if chars is None or len(chars) != len(points):
        return []
    order, bounds = _by_letter(chars, len(text))
    out = []
    for j, ch in enumerate(text):
        if ch in ON_BASELINE and bounds[j + 1] - bounds[j] >= 3:
            own = points[order[bounds[j]:bounds[j + 1]]]
            out.append((sorted_median(np.sort(own[:, 0])), sorted_percentile(np.sort(own[:, 1]), 90)))
    return out


def baseline_fit(points: np.ndarray, chars: np.ndarray | None, text: str) -> tuple[float, float] | None:
    """(slope, intercept): the baseline ``y = intercept + slope * x`` through the bottoms of the letters that
    sit on it (as `aligned_baseline`), fitted by least squares, refitted without letters more than a third of
    an x-height off it (a letter the alignment cut badly). None with fewer than four such letters, or when
    they span less than three x-heights (too short to tell a slope)."""
    bottoms = _letter_bottoms(points, chars, text)
    if len(bottoms) < 4:
        return None
    x, y = np.asarray(bottoms).T
    xh = x_height(points, chars, text) or robust_size(points)
    if xh <= 0 or np.ptp(x) < 3 * xh:
        return None
    keep = np.ones(len(x), bool)
    for _ in range(2):  # (math.fsum: exactly rounded sums, the same on every CPU)
        kx, ky = x[keep].tolist(), y[keep].tolist()
        mx, my = math.fsum(kx) / len(kx), math.fsum(ky) / len(ky)
        den = math.fsum((a - mx) * (a - mx) for a in kx)
        if den <= 0:
            return None
        slope = math.fsum((a - mx) * (b - my) for a, b in zip(kx, ky)) / den
        icpt = my - slope * mx
        resid = np.abs(y - (icpt + slope * x))
        new = resid <= xh / 3
        if new.sum() < 4 or np.array_equal(new, keep):
            break
        keep = new
    return slope, icpt


LEVEL_MAX_SLOPE = 0.2  # a fitted baseline steeper than this (11 degrees) is a bad fit, not a sagging line


def level(points: np.ndarray, chars: np.ndarray | None, text: str) -> np.ndarray:
    """Absolute points ``(N, 3)`` rotated about the left end of their baseline (`baseline_fit`) so that it is
    horizontal: the network's lines and segments sag or climb (a 36-character segment often ends a third of
    a line height off where it began), which left each segment of a long line on a step of its own when
    they were joined on their median baselines. Unchanged when the fit is missing or implausible."""
    fit = baseline_fit(points, chars, text)
    if fit is None or abs(fit[0]) > LEVEL_MAX_SLOPE or abs(fit[0]) < 1e-4:
        return points
    slope, icpt = fit
    x0 = float(points[:, 0].min())
    y0 = icpt + slope * x0
    ang = -math.atan(slope)
    c, s_ = math.cos(ang), math.sin(ang)
    x = points[:, 0].astype(np.float64) - x0
    y = points[:, 1].astype(np.float64) - y0
    out = points.copy()
    out[:, 0] = (c * x - s_ * y + x0).astype(points.dtype)
    out[:, 1] = (s_ * x + c * y + y0).astype(points.dtype)
    return out


def even_out_size(points: np.ndarray, ramp: float, baseline: float | None = None) -> np.ndarray:
    """Counter the network's shrinking along a line or segment: absolute points ``(N, 3)`` scaled about the
    baseline by ``exp(ramp * (t - 0.5))``, t = 0 at the left-most ink and 1 at the right-most.

    x is remapped by the integral of the same factor, so letters keep their proportions: the line starts a
    little smaller and ends a little bigger. Written lines shrink (the first 40% of a segment has ~1.26x the
    body height of its last 40%, real IAM-OnDB lines ~1.09x); the bundle's ``size_ramp`` default (0.2 for
    the bundled model) brings that to ~1.1. The baseline (estimated when not given) stays where it is.
    """
    if len(points) < 8 or ramp == 0:
        return points
    x0, width = float(points[:, 0].min()), float(np.ptp(points[:, 0]))
    if width <= 0:
        return points
    out = points.astype(np.float64, copy=True)
    t = (out[:, 0] - x0) / width
    f = np.exp(ramp * (t - 0.5))
    b = estimate_baseline(points) if baseline is None else baseline
    out[:, 0] = x0 + width * (f - math.exp(-ramp / 2)) / ramp
    out[:, 1] = b + (out[:, 1] - b) * f
    return out.astype(points.dtype)


def join_segments(parts: Sequence[np.ndarray], texts: Sequence[str], space: float = WORD_SPACE,
                  ramp: float = 0.0, heights: list | None = None,
                  chars: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
    """Offsets of consecutive segments of one line -> offsets of the whole line (model units, y down).

    Each segment is evened out in size (`even_out_size` with `ramp`), scaled towards the line's mean size,
    its estimated baseline put on the first one's, and each starts one of the line's own word gaps (`word_gaps`:
    their median, within `SEAM_GAP_CLAMP` average character advances of ink width per character over the
    segments; `space` advances when the segments show fewer than two) right of the previous segment's
    right-most ink.
    """
    keep = [k for k, p in enumerate(parts) if len(p)]
    pts = [to_points(np.asarray(parts[k], np.float32)) for k in keep]
    if not pts:
        return np.zeros((0, 3), np.float32)
    seg_chars = [chars[k] if chars is not None else None for k in keep]
    seg_texts = [texts[k] for k in keep]

    def xh(ps: list[np.ndarray]) -> list[float]:
        return [x_height(p, c, t) for p, c, t in zip(ps, seg_chars, seg_texts)]

    # each segment levelled first (its baseline horizontal), then every step below keeps each segment's
    # baseline in place; the letters that sit on it give it where the alignment is known (a short segment of
    # capitals or descenders fools the stroke-based estimate)
    pts = [level(p, c, t) for p, c, t in zip(pts, seg_chars, seg_texts)]
    bases = [b if (b := aligned_baseline(p, c, t)) is not None else estimate_baseline(p)
             for p, c, t in zip(pts, seg_chars, seg_texts)]
    if heights is not None:
        heights.append(xh(pts))  # as sampled
    pts = [even_out_size(p, ramp, b) for p, b in zip(pts, bases)]
    # Segments may still differ in size: scale each about its left end and baseline towards the line's mean
    # size, by at most SIZE_CLAMP either way. Size is the x-height of the small letters where the attention
    # alignment gives it (it does not depend on which letters a segment holds), else the IQR of y; where every
    # segment has both, the geometric mean of x-height and ascender height (a segment written with the line's
    # x-height but short ascenders looked a size smaller: "lovely | evening by the river", styles 0 and 7).
    sizes = np.array(xh(pts))
    if not np.all(sizes > 0):
        sizes = np.array([robust_size(p) for p in pts])
    else:
        asc = np.array([ascender_height(p, c, t, b) for p, c, t, b in zip(pts, seg_chars, seg_texts, bases)])
        if np.all(asc > 0):
            sizes = np.sqrt(sizes * asc)
    weights = np.array([len(p) for p in pts], np.float64)
    factors = np.ones(len(pts))
    if np.all(sizes > 0):
        target = float(np.exp(np.sum(weights * np.log(sizes)) / weights.sum()))
        factors = np.clip(target / sizes, 1 / SIZE_CLAMP, SIZE_CLAMP)
    for p, b, f in zip(pts, bases, factors):
        p[:, 0] = (p[:, 0] - p[:, 0].min()) * f
        p[:, 1] = b + (p[:, 1] - b) * f
    # ...and sheared towards the line's mean slant, by at most SLANT_CLAMP either way
    slants = np.array([slant(p) for p in pts])
    target_slant = float(np.sum(weights * slants) / weights.sum())
    pts = [shear(p, float(np.clip(target_slant - sl, -SLANT_CLAMP, SLANT_CLAMP)), b)
           for p, sl, b in zip(pts, slants, bases)]
    if heights is not None:
        heights.append(xh(pts))  # as drawn
    n_chars = sum(len(t) for t, p in zip(texts, parts) if len(p))
    adv = sum(float(np.ptp(p[:, 0])) for p in pts) / max(n_chars, 1)
    # the gap at a seam is a word gap of the line's own: the median of the segments' word gaps as drawn (a
    # fixed width looked like two words run together in a hand that spaces its words widely), within
    # SEAM_GAP_CLAMP; `space` advances when the segments show fewer than two
    own = [g for p, t in zip(pts, seg_texts) for g in word_gaps(p, t.count(" "))]
    gap = (float(np.clip(np.median(own), SEAM_GAP_CLAMP[0] * adv, SEAM_GAP_CLAMP[1] * adv)) if len(own) >= 2
           else space * adv)
    out = []
    right = 0.0
    for k, (p, b) in enumerate(zip(pts, bases)):
        if k:
            p[:, 0] += right + gap - p[:, 0].min()
            p[:, 1] += bases[0] - b
        p[-1, 2] = 1.0  # the pen lifts between segments
        right = float(p[:, 0].max())
        out.append(p)
    joined = np.concatenate(out)
    offsets = to_offsets(joined)
    offsets[0, :2] = joined[0, :2]
    return offsets
