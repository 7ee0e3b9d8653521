"""What a hand looks like, in numbers: stroke features of a line, and the distance between two sets of lines.

Features of one line (`line_features`), measured on the line levelled by the pipeline's `straighten` step,
all relative to its body height so that the ink's units do not matter (a tablet, a browser and IAM-OnDB
measure in different units):

- ``slant``: length-weighted mean angle from the vertical of near-vertical pen-down segments (radians, + = right);
- ``width``: ink width per character / body height (letter width);
- ``height``: 2nd-98th percentile height / body height (ascenders and descenders against the x-height);
- ``lifts``: pen lifts (strokes) per non-space character;
- ``ink``: pen-down path length per non-space character / body height;
- ``turning``: total absolute turning angle per body height of path (roundness: loops and curves vs straight);
- ``dir0..dir7``: length-weighted histogram of pen-down directions in 8 sectors of 45 degrees.

The distribution distance is the mean over features of the 1-D Wasserstein distance between two sets of lines'
feature values, in units of the reference writers' pooled within-writer standard deviation (`within_writer_unit`
of the shipped reference, real lines of IAM-OnDB testset_v writers). Adaptation chooses its weights by it
(`styles.adapt`); `hwcli.evaluation.imitation` judges styles by it and by a writer classifier.
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Sequence

import numpy as np

FEATURES = ["slant", "width", "height", "lifts", "ink", "turning"] + [f"dir{k}" for k in range(8)]
REFERENCE_FILE = "imitation_writers.json"  # features of testset_v writers' lines, shipped beside this module


def line_features(offsets: np.ndarray, text: str) -> np.ndarray:
    """Feature vector (len(FEATURES),) of one line: offsets (N, 3) [dx, dy, eos], y down, any units."""
    from ..cleaning import straighten
    from ..strokes import to_offsets, to_points

    # level the line first (the training pipeline levels real lines; generated ones may drift)
    off = to_offsets(straighten(to_points(np.asarray(offsets, np.float32)))).astype(np.float64)
    pts = np.cumsum(off[:, :2], axis=0)
    lo, hi = np.percentile(pts[:, 1], [10, 90]) if len(pts) > 1 else (0.0, 1.0)
    h = max(hi - lo, 1e-6)
    d = off[1:, :2]
    down = off[:-1, 2] < 0.5  # the move from point i to i+1 is drawn when the pen stays down at i
    seg = d[down]
    L = np.hypot(seg[:, 0], seg[:, 1])
    n_chars = max(len(text.replace(" ", "")), 1)
    vert = (np.abs(seg[:, 1]) > np.abs(seg[:, 0])) & (L > 0)
    slant = float(np.average(np.arctan(-seg[vert, 0] / seg[vert, 1]), weights=L[vert])) if vert.any() else 0.0
    width = float(np.ptp(pts[:, 0])) / len(text) / h if len(pts) else 0.0
    height = float(np.subtract(*np.percentile(pts[:, 1], [98, 2]))) / h if len(pts) > 1 else 0.0
    lifts = float((off[:, 2] > 0.5).sum()) / n_chars
    ink = float(L.sum()) / n_chars / h
    ang = np.arctan2(seg[:, 1], seg[:, 0])
    # turning between consecutive drawn segments of the same stroke
    idx = np.flatnonzero(down)
    same = np.diff(idx) == 1
    dth = np.abs(np.angle(np.exp(1j * np.diff(ang))))[same & (L[1:] > 0) & (L[:-1] > 0)] if len(ang) > 1 else np.zeros(0)
    turning = float(dth.sum()) / max(float(L.sum()) / h, 1e-6)
    hist = np.histogram((ang + np.pi / 8) % (2 * np.pi), bins=8, range=(0, 2 * np.pi), weights=L)[0]
    hist = hist / max(hist.sum(), 1e-9)
    return np.array([slant, width, height, lifts, ink, turning, *hist], np.float64)


def features(lines: Sequence[tuple[np.ndarray, str]]) -> np.ndarray:
    """(n, len(FEATURES)) for (offsets, text) pairs."""
    return np.stack([line_features(o, t) for o, t in lines]) if lines else np.zeros((0, len(FEATURES)))


def wasserstein_1d(a: np.ndarray, b: np.ndarray) -> float:
    """W1 distance between two 1-D samples (difference of their quantile functions on a common grid)."""
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    q = np.linspace(0, 1, 101)
    return float(np.mean(np.abs(np.quantile(a, q) - np.quantile(b, q))))


def distribution_distance(A: np.ndarray, B: np.ndarray, scale: np.ndarray) -> float:
    """Mean over features of W1(A[:, f], B[:, f]) / scale[f]."""
    return float(np.mean([wasserstein_1d(A[:, f], B[:, f]) / scale[f] for f in range(A.shape[1])]))


def load_reference() -> dict:
    """The shipped reference: {"writers": {id: [[features...], ...]}, "source": ...}."""
    return json.loads((resources.files(__package__) / REFERENCE_FILE).read_text())


def dataset_features(ds, ids) -> np.ndarray:
    """Feature rows of the lines `ids` of a converted IAM-OnDB set, normalised as personal ink is
    (`style_ink.normalise`); lines of 10 points or fewer left out."""
    from ..strokes import to_points
    from .ink import normalise

    lines = [(normalise(to_points(ds.line(i)), cleaned=True, letters=len(ds.texts[i].replace(" ", ""))), ds.texts[i])
             for i in ids]
    return features([ln for ln in lines if len(ln[0]) > 10])


def reference_from_dataset(ds, writers: int = 12, max_lines: int = 60) -> dict:
    """Features of the real lines of `writers` testset_v writers of a converted IAM-OnDB set (normalised as
    personal ink is, `style_ink.normalise`); the writers with the fewest lines above 40 come first."""
    from ..data.dataset import VALID_SPLIT

    v = ds.indices([VALID_SPLIT])
    counts: dict = {}
    for i in v:
        counts.setdefault(int(ds.writer_ids[i]), []).append(int(i))
    chosen = sorted(w for w, ids in counts.items() if w >= 0 and len(ids) >= 40)[:writers]
    out = {}
    for w in chosen:
        out[str(w)] = np.round(dataset_features(ds, counts[w][:max_lines]), 5).tolist()
    return {"source": "IAM-OnDB testset_v", "features": FEATURES, "writers": out,
            "line_ids": {str(w): [ds.line_ids[i] for i in counts[w][:max_lines]] for w in chosen}}


def within_writer_unit(reference: dict) -> np.ndarray:
    """Pooled within-writer standard deviation per feature of a reference's writers (``{"writers": {id: rows}}``):
    the unit of the distribution distances."""
    rows = [np.asarray(v, np.float64) for v in reference["writers"].values()]
    R = np.concatenate([r - r.mean(0) for r in rows if len(r)])
    return R.std(0) + 1e-9
