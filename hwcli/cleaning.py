"""Cleaning pen strokes: the preprocessing pipeline. Pure numpy, no torch, no I/O; the representation (points,
offsets) is `hwcli.strokes`.

The pipeline is a list of named steps (`PIPELINE`), each a pure function ``points -> points`` with its
parameters in `PreprocessOptions`: sensor spikes and jumps, long pen-up gaps, a level baseline, light
smoothing, downsampling.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from .strokes import to_offsets, to_points


@dataclass(frozen=True)
class PreprocessOptions:
    spike_factor: float = 8.0  # a point this many median steps away from both neighbours, which are close together, is a spike
    jump_factor: float = 25.0  # a pen-down step longer than this many median steps is a sensor jump: the stroke is split there
    max_gap_factor: float = 60.0  # pen-up moves are clipped to this many median steps (keeps outliers out of the MDN)
    straighten: bool = True  # rotate the line so its baseline is horizontal (whiteboard lines drift)
    smooth: float = 0.25  # weight of each neighbour in a [w, 1-2w, w] filter inside strokes; 0 disables
    downsample: int = 2  # keep every k-th point of each stroke (stroke ends always kept); 1 disables

    def __post_init__(self) -> None:
        if self.downsample < 1:
            raise ValueError("downsample must be >= 1")
        if not 0.0 <= self.smooth < 0.5:
            raise ValueError("smooth must be in [0, 0.5)")
        if self.spike_factor <= 1 or self.jump_factor <= 1 or self.max_gap_factor <= 1:
            raise ValueError("spike/jump/gap factors must be > 1")

    def to_dict(self) -> dict:
        return asdict(self)


def _lengths(v: np.ndarray) -> np.ndarray:
    """Row lengths of (n, 2) vectors; one ufunc, several times faster than np.linalg.norm(axis=1)
    on the short arrays of a line (preprocessing runs these ~50k times for IAM-OnDB)."""
    return np.hypot(v[:, 0], v[:, 1])


def median_step(points: np.ndarray, empty: float = 0.0) -> float:
    """Median length of pen-down steps of absolute points (N, 3), `empty` when there is none: the scale the glitch
    thresholds are relative to (with ``empty=1``), and the point density personal ink is matched to."""
    if len(points) < 2:
        return empty
    d = _lengths(np.diff(points[:, :2], axis=0))
    pen_down = points[:-1, 2] < 0.5
    d = d[pen_down & (d > 0)]
    return float(np.median(d)) if len(d) else empty


def remove_spikes(points: np.ndarray, opts: PreprocessOptions = PreprocessOptions()) -> np.ndarray:
    """Drop isolated inner points that jump far away and come straight back (sensor spikes).

    A point ``p[i]`` inside a stroke is a spike when it is farther than ``spike_factor`` median
    steps from both neighbours while the neighbours are within that distance of each other.
    """
    n = len(points)
    if n < 3:
        return points
    m = median_step(points, empty=1.0) * opts.spike_factor
    xy = points[:, :2]
    prev_d = _lengths(xy[1:-1] - xy[:-2])
    next_d = _lengths(xy[1:-1] - xy[2:])
    skip_d = _lengths(xy[2:] - xy[:-2])
    inner = (points[:-2, 2] < 0.5) & (points[1:-1, 2] < 0.5)  # same stroke on both sides
    spike = inner & (prev_d > m) & (next_d > m) & (skip_d < m)
    keep = np.ones(n, bool)
    keep[1:-1] = ~spike
    return points[keep]


def split_jumps(points: np.ndarray, opts: PreprocessOptions = PreprocessOptions()) -> np.ndarray:
    """Split a stroke where the pen 'moves' impossibly far between two samples while down.

    Such jumps are lost samples or sensor errors; drawing them would add a long straight line.
    Single points left alone by a split are dropped.
    """
    if len(points) < 2:
        return points
    m = median_step(points, empty=1.0) * opts.jump_factor
    out = points.copy()
    d = _lengths(np.diff(out[:, :2], axis=0))
    jump = (d > m) & (out[:-1, 2] < 0.5)
    out[:-1, 2] = np.where(jump, 1.0, out[:-1, 2])
    return _drop_single_point_strokes_after_split(out, jump)


def _drop_single_point_strokes_after_split(points: np.ndarray, split_at: np.ndarray) -> np.ndarray:
    if not split_at.any():
        return points
    keep = np.ones(len(points), bool)
    # a point that starts a stroke and also ends it (isolated by splits) is noise
    starts = np.concatenate([[True], points[:-1, 2] > 0.5])
    lone = starts & (points[:, 2] > 0.5)
    touched = np.zeros(len(points), bool)
    touched[:-1] |= split_at
    touched[1:] |= split_at
    keep &= ~(lone & touched)
    return points[keep]


def clip_gaps(points: np.ndarray, opts: PreprocessOptions = PreprocessOptions()) -> np.ndarray:
    """Shorten pen-up moves longer than ``max_gap_factor`` median steps (keeping their direction)
    by translating everything after them; a page-wide gap in one line is not handwriting."""
    if len(points) < 2:
        return points
    m = median_step(points, empty=1.0) * opts.max_gap_factor
    off = to_offsets(points)
    d = _lengths(off[1:, :2])
    pen_up = points[:-1, 2] > 0.5
    over = pen_up & (d > m)
    if not over.any():
        return points
    scale = np.ones_like(d)
    scale[over] = m / d[over]
    off[1:, :2] *= scale[:, None]
    return to_points(off, origin=(float(points[0, 0]), float(points[0, 1])))


def straighten(points: np.ndarray, opts: PreprocessOptions = PreprocessOptions()) -> np.ndarray:
    """Rotate about the first point so that the least-squares line through all points is horizontal."""
    if not opts.straighten or len(points) < 3:
        return points
    x = points[:, 0].astype(np.float64)
    y = points[:, 1].astype(np.float64)
    if np.ptp(x) <= 0:
        return points
    xm = x - x.mean()
    slope = float(xm @ (y - y.mean())) / float(xm @ xm)  # least squares, as np.polyfit(x, y, 1) at a fifth of the cost
    angle = np.arctan(slope)
    # lines are mostly wide: a fit steeper than 30 degrees is a bad fit, not a tilted line
    if abs(angle) > np.pi / 6:
        return points
    c, s = np.cos(-angle), np.sin(-angle)
    x0, y0 = x[0], y[0]
    out = points.copy()
    out[:, 0] = (c * (x - x0) - s * (y - y0) + x0).astype(np.float32)
    out[:, 1] = (s * (x - x0) + c * (y - y0) + y0).astype(np.float32)
    return out


def smooth(points: np.ndarray, opts: PreprocessOptions = PreprocessOptions()) -> np.ndarray:
    """Light low-pass filter inside each stroke: ``p[i] <- w p[i-1] + (1-2w) p[i] + w p[i+1]``.
    Stroke end points are kept, so strokes neither shrink nor join."""
    w = opts.smooth
    if w <= 0 or len(points) < 3:
        return points
    out = points.copy()
    xy = points[:, :2]
    inner = np.zeros(len(points), bool)
    starts = np.concatenate([[True], points[:-1, 2] > 0.5])
    inner[1:-1] = ~starts[1:-1] & (points[1:-1, 2] < 0.5)
    idx = np.flatnonzero(inner)
    out[idx, :2] = w * xy[idx - 1] + (1 - 2 * w) * xy[idx] + w * xy[idx + 1]
    return out


def downsample(points: np.ndarray, opts: PreprocessOptions = PreprocessOptions()) -> np.ndarray:
    """Keep every k-th point of each stroke plus the first and last, so every stroke keeps its ends."""
    k = opts.downsample
    if k <= 1 or len(points) == 0:
        return points
    starts = np.concatenate([[True], points[:-1, 2] > 0.5])
    stroke_id = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    pos = np.arange(len(points)) - first[stroke_id]
    keep = (pos % k == 0) | (points[:, 2] > 0.5)
    return points[keep]


Step = Callable[[np.ndarray, PreprocessOptions], np.ndarray]

#: The preprocessing pipeline, in order. Each step is pure: points -> points.
PIPELINE: list[tuple[str, Step]] = [
    ("remove_spikes", remove_spikes),
    ("split_jumps", split_jumps),
    ("clip_gaps", clip_gaps),
    ("straighten", straighten),
    ("smooth", smooth),
    ("downsample", downsample),
]


def preprocess(points: np.ndarray, opts: PreprocessOptions = PreprocessOptions()) -> np.ndarray:
    """Run every step of `PIPELINE` on absolute points; returns cleaned absolute points."""
    for _, step in PIPELINE:
        points = step(points, opts)
    return points
