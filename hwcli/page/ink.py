"""Pressure-like ink: strokes as filled outlines whose width follows the pen's speed (and a nib's direction)
and changes at the ends.

The model samples the pen at a constant rate, so the distance between neighbouring points of a
placed stroke is the pen's speed. Real ink thins where the pen moves fast and swells where it slows
(a fountain pen strongly, a ballpoint hardly), and a stroke starts and ends thinner as the pen
lands and lifts. For one stroke ``(n, 2)`` mm the steps are:

1. ``speed``: mean length of the two segments at each point, relative to the line's median speed;
2. ``response``: width factor ``clip(speed ** -gamma, thin, thick)``, smoothed over 5 points;
3. ``taper``: the factor rises from ``tip`` to 1 over the first ``taper_in`` mm and falls back over
   the last ``taper_out`` mm (smoothstep);
4. ``flatten``: the same Catmull-Rom curve the uniform renderers draw, cut into pieces of at most
   ``STEP`` mm of chord (equal steps of the curve parameter), widths interpolated along it;
5. ``outline``: left and right offsets by half the width, joined by round caps: one closed polygon.

A nib (``fountain``, ``italic``) adds the stroke's direction to step 2: a flat nib held at ``nib_angle``
leaves a mark as wide as its edge projected across the direction of travel, ``hairline`` along the edge
and ``broad`` across it, and ink swells a little (``turn_swell``) where the stroke turns sharply. Its
stroke starts slightly wider than it runs (``tip`` above 1: ink pools as the nib lands) and ends at most a
little narrower (``tip_out``): a nib does not thin to a hairline at every stroke end, a felt tip does.

Renderers fill the outlines with the nonzero rule (SVG, PDF) or rasterise the same centre line with
a varying radius (PNG). The width given on the page (``--width``) is the width at the median speed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..strokes import split_strokes

STEP = 0.4  # mm: longest straight piece of a flattened stroke (on a 1 mm radius bend it strays 0.02 mm)
CAP_POINTS = 4  # points on each round end cap (besides the two side ends)


@dataclass(frozen=True)
class PenModel:
    """How one kind of pen lays down ink. Widths are factors of the page's pen width."""

    thin: float  # narrowest factor (fastest strokes)
    thick: float  # widest factor (slowest strokes)
    gamma: float  # how strongly width follows speed (0 = not at all)
    taper_in: float  # mm over which a stroke widens from its tip at the start
    taper_out: float  # mm over which it narrows at the end
    tip: float  # width factor at the very start (above 1: ink pools where the pen lands)
    tip_out: float | None = None  # width factor at the very end; None = `tip`
    nib_angle: float | None = None  # degrees, the nib's broad edge against the line (y up); None = a round tip
    hairline: float = 1.0  # width factor moving along the nib's edge (1 = no change with direction)
    broad: float = 1.0  # width factor moving across it
    turn_swell: float = 0.0  # extra width where the stroke turns sharply (1 = +100% at a reversal)


PEN_MODELS: dict[str, PenModel] = {
    "ballpoint": PenModel(thin=0.8, thick=1.1, gamma=0.25, taper_in=0.5, taper_out=1.0, tip=0.55),
    "fineliner": PenModel(thin=0.92, thick=1.05, gamma=0.1, taper_in=0.3, taper_out=0.3, tip=0.75),
    # a fine stub nib held at 40 degrees: broad across the edge, about half as wide along it, a little wider
    # where the pen slows; ink pools a little where it lands and turns, and the end keeps most of its width
    "fountain": PenModel(thin=0.8, thick=1.1, gamma=0.3, taper_in=0.4, taper_out=0.6, tip=1.04, tip_out=0.8,
                         nib_angle=40.0, hairline=0.45, broad=1.3, turn_swell=0.1),
    # an italic broad nib at 45 degrees: `--width` is the nib's breadth, hairlines along its edge
    "italic": PenModel(thin=0.95, thick=1.05, gamma=0.1, taper_in=0.3, taper_out=0.3, tip=1.02, tip_out=0.9,
                       nib_angle=40.0, hairline=0.12, broad=1.0, turn_swell=0.08),
    "marker": PenModel(thin=0.85, thick=1.2, gamma=0.3, taper_in=0.2, taper_out=0.3, tip=0.8),
}


def median_speed(strokes: Sequence[np.ndarray]) -> float:
    """Median point spacing (mm per sample) over the segments of `strokes`; 1.0 when there are none."""
    d = [np.linalg.norm(np.diff(s, axis=0), axis=1) for s in strokes if len(s) > 1]
    d = np.concatenate(d) if d else np.zeros(0)
    d = d[d > 1e-9]
    return float(np.median(d)) if len(d) else 1.0


@dataclass
class _Flat:
    """Strokes concatenated: points (N, 2), and for every point its stroke's first and past-the-end index."""

    p: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def of(cls, strokes: Sequence[np.ndarray]) -> "_Flat":
        n = np.array([len(s) for s in strokes], np.int64)
        ends = np.cumsum(n)
        return cls(np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in strokes]),
                   np.repeat(ends - n, n), np.repeat(ends, n))

    def clamp(self, idx: np.ndarray) -> np.ndarray:
        """Indices clamped to each point's own stroke (idx shaped (N,) or (N, k))."""
        a, b = (self.a, self.b) if idx.ndim == 1 else (self.a[:, None], self.b[:, None])
        return np.clip(idx, a, b - 1)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _widths(f: _Flat, width: float, pen: PenModel, ref_speed: float) -> np.ndarray:
    """Steps 1-3 for every point of every stroke at once: width (mm) at each point."""
    i = np.arange(len(f.p))
    has_next = i + 1 < f.b
    seg = np.zeros(len(f.p))  # seg[i]: length of the segment from point i to i + 1 in the same stroke
    seg[:-1] = np.linalg.norm(np.diff(f.p, axis=0), axis=1)
    seg[~has_next] = 0.0
    has_prev = i > f.a
    prev = np.where(has_prev, np.roll(seg, 1), 0.0)
    count = has_prev.astype(int) + has_next
    speed = (prev + seg) / np.maximum(count, 1) / max(ref_speed, 1e-9)
    k = np.clip(np.maximum(speed, 1e-3) ** -pen.gamma, pen.thin, pen.thick)
    window = f.clamp(i[:, None] + np.arange(-2, 3)[None])  # 5 points, the stroke's ends repeated
    k = np.where(f.b - f.a >= 5, k[window].mean(1), k)
    if pen.nib_angle is not None or pen.turn_swell:  # after the smoothing: a nib's width changes with each turn
        d = f.p[f.clamp(i + 1)] - f.p[f.clamp(i - 1)]  # direction of travel at each point (y down)
        if pen.nib_angle is not None:  # a flat nib's mark is its edge projected across the direction of travel
            theta = np.arctan2(-d[:, 1], d[:, 0])
            across = np.abs(np.sin(theta - np.radians(pen.nib_angle)))
            k = k * (pen.hairline + (pen.broad - pen.hairline) * across)
        if pen.turn_swell:  # ink pools where the pen turns: the angle between the segments in and out
            a_in = f.p[i] - f.p[f.clamp(i - 1)]
            a_out = f.p[f.clamp(i + 1)] - f.p[i]
            cos = (a_in * a_out).sum(1) / np.maximum(np.linalg.norm(a_in, axis=1) * np.linalg.norm(a_out, axis=1),
                                                      1e-12)
            turn = np.where(has_prev & has_next, np.arccos(np.clip(cos, -1, 1)) / np.pi, 0.0)
            k = k * (1 + pen.turn_swell * turn)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    s = cum[i] - cum[f.a]  # arc length from the stroke's start
    length = cum[f.b - 1] - cum[f.a]
    tip_out = pen.tip if pen.tip_out is None else pen.tip_out
    # A stroke shorter than the two tapers (a dot, the dots of a colon, an i-dot, a short tick) is where the pen
    # pressed and lifted with hardly any travel: its ink is as wide as the pen's, not a thin landing and lifting
    # with nothing between. Both tips move towards full width as the stroke gets shorter than the tapers, and the
    # tapers shrink with it (a 0.2 mm dot was drawn at ~0.55 of the ballpoint's width: a faint speck).
    short = np.clip(length / max(pen.taper_in + pen.taper_out, 1e-9), 0.0, 1.0)
    tip_in = np.where(pen.tip < 1, pen.tip + (1 - pen.tip) * (1 - short), pen.tip)
    tip_out = np.where(tip_out < 1, tip_out + (1 - tip_out) * (1 - short), tip_out)
    t_in, t_out = np.maximum(pen.taper_in * short, 1e-9), np.maximum(pen.taper_out * short, 1e-9)
    ramp_in = tip_in + (1 - tip_in) * _smoothstep(s / t_in)
    ramp_out = tip_out + (1 - tip_out) * _smoothstep((length - s) / t_out)
    # the narrower of the two ramps where either narrows; a swelling start (tip > 1) shows where the pen lands
    ramp = np.where(ramp_in > 1, ramp_in * np.minimum(ramp_out, 1.0), np.minimum(ramp_in, ramp_out))
    w = width * k * ramp
    return np.where(count == 0, width * max(pen.thick, 1.0), w)  # a one-point dot: the pen pressed, the slowest ink


def _flatten(f: _Flat, w: np.ndarray, step: float = STEP) -> tuple[_Flat, np.ndarray]:
    """Step 4 for all strokes at once: the Catmull-Rom curves (as `curve_controls`) cut into pieces of at
    most `step` mm; widths interpolated along. Returns the flattened strokes and their widths."""
    p, i = f.p, np.arange(len(f.p))
    nxt, nxt2, prv = f.clamp(i + 1), f.clamp(i + 2), f.clamp(i - 1)
    c1 = p + (p[nxt] - p[prv]) / 6.0
    c2 = p[nxt] - (p[nxt2] - p) / 6.0
    chord = np.linalg.norm(p[nxt] - p, axis=1)
    starts_segment = i + 1 < f.b
    k = np.where(starts_segment, np.maximum(1, np.ceil(chord / step - 1e-9)), 1).astype(np.int64)
    src = np.repeat(i, k)  # every output sample comes from point src, at parameter t of its segment
    t = ((np.arange(len(src)) - np.repeat(np.cumsum(k) - k, k)) / np.repeat(k, k))[:, None]
    q = ((1 - t) ** 3 * p[src] + 3 * (1 - t) ** 2 * t * c1[src] + 3 * (1 - t) * t ** 2 * c2[src]
         + t ** 3 * p[nxt][src])
    wq = w[src] * (1 - t[:, 0]) + w[nxt][src] * t[:, 0]
    out_n = np.bincount(np.repeat(np.searchsorted(np.unique(f.a), f.a), k), minlength=0)
    ends = np.cumsum(out_n)
    return _Flat(q, np.repeat(ends - out_n, out_n), np.repeat(ends, out_n)), wq


def _outlines(f: _Flat, w: np.ndarray) -> list[np.ndarray]:
    """Step 5: one closed polygon per stroke: left side, end cap, right side backwards, start cap;
    a stroke that does not move is a circle."""
    i = np.arange(len(f.p))
    d = f.p[f.clamp(i + 1)] - f.p[f.clamp(i - 1)]
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    nrm = np.stack([-d[:, 1], d[:, 0]], axis=1)  # left of the direction of travel (y down: visually right)
    r = w / 2
    left, right = f.p + nrm * r[:, None], f.p - nrm * r[:, None]
    starts = np.unique(f.a)
    ends = f.b[starts]
    # caps turn the same way round as the sides, so the polygon's orientation is the same everywhere
    ang = np.linspace(0.0, -np.pi, CAP_POINTS + 2)[1:-1]
    a_end = np.arctan2(nrm[ends - 1, 1], nrm[ends - 1, 0])[:, None] + ang
    a_start = np.arctan2(-nrm[starts, 1], -nrm[starts, 0])[:, None] + ang
    end_cap = f.p[ends - 1][:, None] + r[ends - 1][:, None, None] * np.stack([np.cos(a_end), np.sin(a_end)], 2)
    start_cap = f.p[starts][:, None] + r[starts][:, None, None] * np.stack([np.cos(a_start), np.sin(a_start)], 2)
    circle = np.linspace(0.0, 2 * np.pi, 4 * CAP_POINTS + 1)[:-1]
    out = []
    for k, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
        if np.ptp(f.p[a:b], axis=0).max() < 1e-9:
            out.append(f.p[a] + r[a:b].max() * np.stack([np.cos(circle), np.sin(circle)], 1))
        else:
            out.append(np.concatenate([left[a:b], end_cap[k], right[a:b][::-1], start_cap[k]]))
    return out


def stroke_widths(stroke: np.ndarray, width: float, pen: PenModel, ref_speed: float) -> np.ndarray:
    """Ink width (mm) at each point of `stroke` ``(n, 2)`` mm: steps 1-3 of the module docstring."""
    return _widths(_Flat.of([stroke]), width, pen, ref_speed)


def flatten(stroke: np.ndarray, widths: np.ndarray, step: float = STEP) -> tuple[np.ndarray, np.ndarray]:
    """The stroke's Catmull-Rom curve as points no more than `step` mm apart, with widths: ((m, 2), (m,))."""
    f, w = _flatten(_Flat.of([stroke]), np.asarray(widths, np.float64), step)
    return f.p, w


def outline(points: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Closed polygon ``(k, 2)`` around a flattened stroke (step 5). A single point gives a circle."""
    return _outlines(_Flat.of([points]), np.asarray(widths, np.float64))[0]


def _line(points: np.ndarray, width: float, pen: str) -> tuple[_Flat, np.ndarray] | None:
    strokes = split_strokes(points)
    if not strokes:
        return None
    f = _Flat.of(strokes)
    return _flatten(f, _widths(f, width, PEN_MODELS[pen], median_speed(strokes)))


def line_outlines(points: np.ndarray, width: float, pen: str) -> list[np.ndarray]:
    """Every stroke of one placed line (points ``(N, 3)`` [x, y, eos] mm) as an outline polygon."""
    flat = _line(points, width, pen)
    return [] if flat is None else _outlines(*flat)


def line_centres(points: np.ndarray, width: float, pen: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every stroke of one placed line as (flattened points (m, 2), widths (m,)): what the PNG renderer draws."""
    flat = _line(points, width, pen)
    if flat is None:
        return []
    f, w = flat
    starts = np.unique(f.a)
    return [(f.p[a:b], w[a:b]) for a, b in zip(starts.tolist(), f.b[starts].tolist())]
