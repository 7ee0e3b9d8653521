"""Pressure-like ink: strokes as filled outlines whose width follows the pen's speed and tapers at the ends.

The model samples the pen at a constant rate, so the distance between neighbouring points of a
placed stroke is the pen's speed. Real ink thins where the pen moves fast and swells where it slows
(a fountain pen strongly, a ballpoint hardly), and a stroke starts and ends thinner as the pen
lands and lifts. For one stroke ``(n, 2)`` mm the steps are:

1. ``speed``: mean length of the two segments at each point, relative to the line's median speed;
2. ``response``: width factor ``clip(speed ** -gamma, thin, thick)``, smoothed over 5 points;
3. ``taper``: the factor rises from ``tip`` to 1 over the first ``taper_in`` mm and falls back over
   the last ``taper_out`` mm (smoothstep);
4. ``flatten``: the same Catmull-Rom curve the uniform renderers draw, cut into pieces of at most
   ``STEP`` mm, widths interpolated along it;
5. ``outline``: left and right offsets by half the width, joined by round caps: one closed polygon.

Renderers fill the outlines with the nonzero rule (SVG, PDF) or rasterise the same centre line with
a varying radius (PNG). The width given on the page (``--width``) is the width at the median speed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..strokes import split_strokes
from .placement import curve_controls

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
    tip: float  # width factor at the very start and end


PEN_MODELS: dict[str, PenModel] = {
    "ballpoint": PenModel(thin=0.8, thick=1.1, gamma=0.25, taper_in=0.5, taper_out=1.0, tip=0.55),
    "fineliner": PenModel(thin=0.92, thick=1.05, gamma=0.1, taper_in=0.3, taper_out=0.3, tip=0.75),
    "fountain": PenModel(thin=0.45, thick=1.6, gamma=0.8, taper_in=0.8, taper_out=2.0, tip=0.3),
    "marker": PenModel(thin=0.85, thick=1.2, gamma=0.3, taper_in=0.2, taper_out=0.3, tip=0.8),
}


def median_speed(strokes: Sequence[np.ndarray]) -> float:
    """Median point spacing (mm per sample) over the segments of `strokes`; 1.0 when there are none."""
    d = [np.linalg.norm(np.diff(s, axis=0), axis=1) for s in strokes if len(s) > 1]
    d = np.concatenate(d) if d else np.zeros(0)
    d = d[d > 1e-9]
    return float(np.median(d)) if len(d) else 1.0


def stroke_widths(stroke: np.ndarray, width: float, pen: PenModel, ref_speed: float) -> np.ndarray:
    """Ink width (mm) at each point of `stroke` ``(n, 2)`` mm: steps 1-3 of the module docstring."""
    p = np.asarray(stroke, np.float64)
    n = len(p)
    if n == 1:
        return np.array([width * max(pen.tip, 0.5)])
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    speed = np.concatenate([seg[:1], (seg[:-1] + seg[1:]) / 2, seg[-1:]]) / max(ref_speed, 1e-9)
    f = np.clip(np.maximum(speed, 1e-3) ** -pen.gamma, pen.thin, pen.thick)
    if n >= 5:
        f = np.convolve(np.pad(f, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    s = np.concatenate([[0.0], np.cumsum(seg)])
    length = s[-1]

    def smoothstep(x: np.ndarray) -> np.ndarray:
        x = np.clip(x, 0.0, 1.0)
        return x * x * (3 - 2 * x)

    ramp_in = pen.tip + (1 - pen.tip) * smoothstep(s / max(pen.taper_in, 1e-9))
    ramp_out = pen.tip + (1 - pen.tip) * smoothstep((length - s) / max(pen.taper_out, 1e-9))
    return width * f * np.minimum(ramp_in, ramp_out)


def flatten(stroke: np.ndarray, widths: np.ndarray, step: float = STEP) -> tuple[np.ndarray, np.ndarray]:
    """The stroke's Catmull-Rom curve as points no more than `step` mm apart, with widths: ((m, 2), (m,))."""
    p = np.asarray(stroke, np.float64)
    if len(p) < 2:
        return p.copy(), np.asarray(widths, np.float64).copy()
    c1, c2 = curve_controls(p)
    chord = np.linalg.norm(np.diff(p, axis=0), axis=1)
    k = np.maximum(1, np.ceil(chord / step)).astype(np.int64)
    seg = np.repeat(np.arange(len(chord)), k)
    t = ((np.arange(len(seg)) - np.repeat(np.cumsum(k) - k, k)) / np.repeat(k, k))[:, None]
    p0, p1 = p[:-1][seg], p[1:][seg]
    q = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * c1[seg] + 3 * (1 - t) * t ** 2 * c2[seg] + t ** 3 * p1
    w = widths[:-1][seg] * (1 - t[:, 0]) + widths[1:][seg] * t[:, 0]
    return np.vstack([q, p[-1:]]), np.concatenate([w, widths[-1:]])


def _arc(centre: np.ndarray, radius: float, a0: float, a1: float, n: int) -> np.ndarray:
    a = np.linspace(a0, a1, n)
    return centre + radius * np.stack([np.cos(a), np.sin(a)], axis=1)


def outline(points: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Closed polygon ``(k, 2)`` around a flattened stroke (step 5): left side, end cap, right side
    backwards, start cap. A single point gives a circle."""
    p = np.asarray(points, np.float64)
    r = np.asarray(widths, np.float64) / 2
    if len(p) == 1 or (np.ptp(p, axis=0) < 1e-9).all():
        return _arc(p[0], float(r.max()), 0.0, 2 * np.pi, 4 * CAP_POINTS)[:-1]
    d = np.gradient(p, axis=0)
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    d = d / np.maximum(norm, 1e-12)
    nrm = np.stack([-d[:, 1], d[:, 0]], axis=1)  # left of the direction of travel (y down: visually right)
    left, right = p + nrm * r[:, None], p - nrm * r[:, None]
    a_end = np.arctan2(nrm[-1, 1], nrm[-1, 0])
    a_start = np.arctan2(-nrm[0, 1], -nrm[0, 0])
    # caps turn the same way round as the sides, so the polygon's orientation is the same everywhere
    end_cap = _arc(p[-1], r[-1], a_end, a_end - np.pi, CAP_POINTS + 2)[1:-1]
    start_cap = _arc(p[0], r[0], a_start, a_start - np.pi, CAP_POINTS + 2)[1:-1]
    return np.vstack([left, end_cap, right[::-1], start_cap])


def line_outlines(points: np.ndarray, width: float, pen: str) -> list[np.ndarray]:
    """Every stroke of one placed line (points ``(N, 3)`` [x, y, eos] mm) as an outline polygon."""
    model = PEN_MODELS[pen]
    strokes = split_strokes(points)
    ref = median_speed(strokes)
    return [outline(*flatten(s, stroke_widths(s, width, model, ref))) for s in strokes]


def line_centres(points: np.ndarray, width: float, pen: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every stroke of one placed line as (flattened points (m, 2), widths (m,)) — what the PNG renderer draws."""
    model = PEN_MODELS[pen]
    strokes = split_strokes(points)
    ref = median_speed(strokes)
    return [flatten(s, stroke_widths(s, width, model, ref)) for s in strokes]
