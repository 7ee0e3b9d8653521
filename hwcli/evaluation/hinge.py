"""A second writer judge, independent of `imitation`'s: the hinge of the pen's path, nearest writer by histogram.

`imitation.WriterClassifier` judges a hand by 14 summary features (slant, widths, lifts, a direction
histogram) with a linear discriminant. Choosing an adapted style by likeness and judging it by the same
features would tune the choice to its judge, so this judge looks at something else: the *hinge* distribution,
the online form of the contour-hinge feature of writer identification (Bulacu & Schomaker, 2007). Each
stroke's pen-down path is resampled at equal arc length (`STEP` body heights), and every pair of directions
`LAG` samples apart within a stroke, (phi_i, phi_i+LAG), counts in a `BINS` x `BINS` joint histogram: how a
writer's pen turns, at what angles, through which directions, regardless of the text. The histogram is
normalised and square-rooted (Hellinger), and a line is attributed to the writer whose mean histogram is
nearest (Euclidean), among the writers enrolled with real lines. No weights are learned from the imitated
writer beyond the mean of their real lines, so nothing can be fitted to it.

The features are unit-free (resampling in body heights) and measured on the line levelled as
`imitation.line_features` levels it, so tablet, browser and IAM-OnDB ink compare.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

STEP = 0.08  # resampling step along the path, in body heights
LAG = 3  # directions this many samples apart form a hinge (an angle of ~0.25 body heights' legs)
BINS = 12  # direction bins per leg (30 degrees)


def _resample(pts: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` along the polyline `pts` (n, 2)."""
    seg = np.hypot(*np.diff(pts, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] < step:
        return pts[:1]
    q = np.arange(0.0, s[-1], step)
    return np.stack([np.interp(q, s, pts[:, 0]), np.interp(q, s, pts[:, 1])], 1)


def hinge_histogram(offsets: np.ndarray) -> np.ndarray:
    """The Hellinger-mapped hinge histogram (BINS * BINS,) of one line: offsets (N, 3) [dx, dy, eos], y down."""
    from ..cleaning import straighten
    from ..strokes import to_offsets, to_points

    off = to_offsets(straighten(to_points(np.asarray(offsets, np.float32)))).astype(np.float64)
    pts = np.cumsum(off[:, :2], axis=0)
    lo, hi = np.percentile(pts[:, 1], [10, 90]) if len(pts) > 1 else (0.0, 1.0)
    h = max(hi - lo, 1e-6)
    ends = np.flatnonzero(off[:, 2] > 0.5)
    hist = np.zeros((BINS, BINS))
    start = 0
    for e in list(ends) + [len(pts) - 1]:
        stroke = pts[start:e + 1]
        start = e + 1
        if len(stroke) < 2:
            continue
        r = _resample(stroke / h, STEP)
        if len(r) < LAG + 2:
            continue
        d = np.diff(r, axis=0)
        phi = np.arctan2(d[:, 1], d[:, 0])
        k = np.floor(((phi + np.pi) / (2 * np.pi)) * BINS).astype(int) % BINS
        np.add.at(hist, (k[:-LAG], k[LAG:]), 1.0)
    total = hist.sum()
    return np.sqrt(hist.ravel() / total) if total > 0 else np.zeros(BINS * BINS)


def histograms(lines: Sequence[np.ndarray]) -> np.ndarray:
    """(n, BINS * BINS) for a sequence of offset arrays."""
    return np.stack([hinge_histogram(o) for o in lines]) if len(lines) else np.zeros((0, BINS * BINS))


class HingeJudge:
    """Nearest mean hinge histogram among enrolled writers (see the module docstring)."""

    def __init__(self, X: np.ndarray, y: Sequence):
        y = np.asarray(y)
        self.classes = sorted(set(y.tolist()), key=str)
        self.means = np.stack([X[y == c].mean(0) for c in self.classes])

    def predict(self, X: np.ndarray) -> list:
        d = ((X[:, None, :] - self.means[None]) ** 2).sum(-1)
        return [self.classes[k] for k in d.argmin(1)]


def identify(real: np.ndarray, generated: np.ndarray, others: dict) -> tuple[float, float]:
    """(share of `generated` histograms attributed to the writer of `real`, the same for `real` itself by
    2-fold enrolment: the ceiling), among the writer and the writers of `others` ({name: histograms})."""
    target = "__target__"
    Xo = np.concatenate(list(others.values())) if others else np.zeros((0, real.shape[1]))
    yo = [w for w, v in others.items() for _ in range(len(v))]
    judge = HingeJudge(np.concatenate([real, Xo]), [target] * len(real) + yo)
    gen = float(np.mean([p == target for p in judge.predict(generated)])) if len(generated) else float("nan")
    half, hits = len(real) // 2, []
    for a, b in ((real[:half], real[half:]), (real[half:], real[:half])):
        if len(a) and len(b):
            j = HingeJudge(np.concatenate([a, Xo]), [target] * len(a) + yo)
            hits += [p == target for p in j.predict(b)]
    return gen, float(np.mean(hits)) if hits else float("nan")
