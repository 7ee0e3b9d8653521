"""How close generated lines are to a writer's real ones: a writer classifier on stroke features.

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

The writer classifier (`WriterClassifier`) is linear discriminant analysis on the standardised features with
a shrunk pooled covariance (Ledoit-Wolf-style shrinkage towards the diagonal, weight `SHRINK`). It is
trained on real lines of a set of writers: the writer being imitated plus reference writers from IAM-OnDB's
testset_v, which no bundled model was trained on. The imitation score of a style is the share of its
generated lines that the classifier attributes to the imitated writer; the real lines' own score (each half
classified by a classifier enrolled on the other half) is the ceiling, 1 / writers the floor.

The distribution distance is the mean over features of the 1-D Wasserstein distance between the generated
and the real lines' feature values, in units of the reference writers' pooled within-writer standard
deviation; for scale, the same distance between the writer's real lines and each reference writer's.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Sequence

import numpy as np

FEATURES = ["slant", "width", "height", "lifts", "ink", "turning"] + [f"dir{k}" for k in range(8)]
SHRINK = 0.2
REFERENCE_FILE = "imitation_writers.json"  # features of testset_v writers' lines, shipped beside this module


def line_features(offsets: np.ndarray, text: str) -> np.ndarray:
    """Feature vector (len(FEATURES),) of one line: offsets (N, 3) [dx, dy, eos], y down, any units."""
    from .strokes import straighten, to_offsets, to_points

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


class WriterClassifier:
    """LDA with shrinkage on standardised features (see the module docstring)."""

    def __init__(self, X: np.ndarray, y: Sequence, shrink: float = SHRINK):
        y = np.asarray(y)
        self.mu0, self.sd0 = X.mean(0), X.std(0) + 1e-9
        Z = (X - self.mu0) / self.sd0
        self.classes = sorted(set(y.tolist()), key=str)
        self.means = np.stack([Z[y == c].mean(0) for c in self.classes])
        R = Z - self.means[[self.classes.index(c) for c in y]]
        S = R.T @ R / max(len(Z) - len(self.classes), 1)
        S = (1 - shrink) * S + shrink * np.diag(np.diag(S)) + 1e-6 * np.eye(len(S))
        self.P = np.linalg.inv(S)

    def predict(self, X: np.ndarray) -> list:
        Z = (X - self.mu0) / self.sd0
        W = self.means @ self.P  # (C, F)
        scores = Z @ W.T - 0.5 * np.sum(W * self.means, axis=1)
        return [self.classes[k] for k in scores.argmax(1)]


def wasserstein_1d(a: np.ndarray, b: np.ndarray) -> float:
    """W1 distance between two 1-D samples (difference of their quantile functions on a common grid)."""
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    q = np.linspace(0, 1, 101)
    return float(np.mean(np.abs(np.quantile(a, q) - np.quantile(b, q))))


def distribution_distance(A: np.ndarray, B: np.ndarray, scale: np.ndarray) -> float:
    """Mean over features of W1(A[:, f], B[:, f]) / scale[f]."""
    return float(np.mean([wasserstein_1d(A[:, f], B[:, f]) / scale[f] for f in range(A.shape[1])]))


# ----------------------------------------------------------------------------- reference writers
def load_reference() -> dict:
    """The shipped reference: {"writers": {id: [[features...], ...]}, "source": ...}."""
    return json.loads((resources.files(__package__) / REFERENCE_FILE).read_text())


def reference_from_dataset(ds, writers: int = 12, max_lines: int = 60) -> dict:
    """Features of the real lines of `writers` testset_v writers of a converted IAM-OnDB set (normalised as
    personal ink is, `style_ink.normalise`); the writers with the fewest lines above 40 come first."""
    from .data.dataset import VALID_SPLIT
    from .strokes import to_points
    from .style_ink import normalise

    v = ds.indices([VALID_SPLIT])
    counts: dict = {}
    for i in v:
        counts.setdefault(int(ds.writer_ids[i]), []).append(int(i))
    chosen = sorted(w for w, ids in counts.items() if w >= 0 and len(ids) >= 40)[:writers]
    out = {}
    for w in chosen:
        lines = [(normalise(to_points(ds.line(i)), cleaned=True, letters=len(ds.texts[i].replace(" ", ""))), ds.texts[i])
                 for i in counts[w][:max_lines]]
        out[str(w)] = np.round(features([ln for ln in lines if len(ln[0]) > 10]), 5).tolist()
    return {"source": "IAM-OnDB testset_v", "features": FEATURES, "writers": out,
            "line_ids": {str(w): [ds.line_ids[i] for i in counts[w][:max_lines]] for w in chosen}}


def within_writer_unit(reference: dict) -> np.ndarray:
    """Pooled within-writer standard deviation per feature of a reference's writers (``{"writers": {id: rows}}``):
    the unit of the distribution distances."""
    rows = [np.asarray(v, np.float64) for v in reference["writers"].values()]
    R = np.concatenate([r - r.mean(0) for r in rows if len(r)])
    return R.std(0) + 1e-9


@dataclass
class ImitationResult:
    writers: int  # classes of the classifier (the imitated writer + reference writers)
    generated_id: float  # share of generated lines attributed to the imitated writer
    real_id: float  # the same for the writer's real lines (2-fold), the ceiling
    distance: float  # feature-distribution distance, generated vs real
    distance_real_vs_others: float  # median distance between the writer's real lines and a reference writer's
    lines: int  # generated lines scored

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def score(real: np.ndarray, generated: np.ndarray, reference: dict[str, np.ndarray], exclude: Sequence[str] = (),
          n_writers: int = 11) -> ImitationResult:
    """Writer-identification and distance scores of `generated` feature rows against the `real` ones, among
    the first ``n_writers - 1`` reference writers (those in `exclude` left out)."""
    others = [w for w in reference if w not in set(exclude)][: n_writers - 1]
    Xo = np.concatenate([reference[w] for w in others])
    yo = [w for w in others for _ in range(len(reference[w]))]
    target = "__target__"
    clf = WriterClassifier(np.concatenate([real, Xo]), [target] * len(real) + yo)
    gen_id = float(np.mean([p == target for p in clf.predict(generated)])) if len(generated) else 0.0
    half = len(real) // 2
    hits = []
    for a, b in ((real[:half], real[half:]), (real[half:], real[:half])):
        if len(a) and len(b):
            c = WriterClassifier(np.concatenate([a, Xo]), [target] * len(a) + yo)
            hits += [p == target for p in c.predict(b)]
    unit = within_writer_unit({"writers": {w: reference[w] for w in others}})
    dist_others = float(np.median([distribution_distance(real, np.asarray(reference[w]), unit) for w in others]))
    return ImitationResult(len(others) + 1, gen_id, float(np.mean(hits)) if hits else float("nan"),
                           distribution_distance(generated, real, unit) if len(generated) else float("nan"),
                           dist_others, len(generated))


def evaluate_imitation(bundle, style, like, recognizer=None, bias: float | None = None, check: bool = True,
                       seed: int = 0, reference: dict | None = None, n_writers: int = 11,
                       tesseract: bool = False, hinge_reference: dict | None = None) -> dict:
    """Sample the texts of the writer's real lines `like` (`style_ink.InkLine`) in `style`, and score the
    generated lines against the real ones (`score`); with a recognizer, also their read-back CER; with
    `tesseract`, their CER read by tesseract as the page draws them (``ocr_cer``). With `hinge_reference`
    ({writer: real lines' offsets}), the second judge (`hinge`) identifies them too, among the same writers
    (``hinge_id``; its ceiling on the real lines, ``hinge_real_id``)."""
    from .recognizer.legibility import style_label
    from .recognizer.reading import corpus_error_rates, make_checker, read_strokes
    from .synthesis import SamplingOptions, synthesize

    ref = reference or load_reference()
    writers = {w: np.asarray(v, np.float64) for w, v in ref["writers"].items()}
    names = " ".join(ln.name for ln in like)
    # a reference writer whose lines are being imitated is the target, not one of the others
    exclude = [w for w, ids in ref.get("line_ids", {}).items() if any(i in names for i in ids)]
    texts = [ln.text for ln in like]
    opts = SamplingOptions(bias=bias, style=style, seed=seed, check=check)
    res = synthesize(bundle, texts, opts, checker=make_checker(recognizer, bundle.scale) if (check and recognizer) else None)
    gen = [(r.strokes, r.text) for r in res if len(r.strokes) > 10]
    out = score(features([(ln.offsets, ln.text) for ln in like]), features(gen), writers, exclude, n_writers).to_dict()
    if hinge_reference is not None:
        from .hinge import histograms, identify

        others = [w for w in hinge_reference if w not in set(exclude)][: n_writers - 1]
        out["hinge_id"], out["hinge_real_id"] = identify(
            histograms([ln.offsets for ln in like]), histograms([o for o, _ in gen]),
            {w: histograms(hinge_reference[w]) for w in others})
    out["style"] = style_label(bundle, style)
    if recognizer is not None:
        hyps = read_strokes(recognizer, [r.strokes for r in res], bundle.scale)
        out["cer"] = corpus_error_rates([" ".join(t.split()) for t in texts], [" ".join(h.split()) for h in hyps])["cer"]
    if tesseract:
        from .recognizer.legibility import read_as_page

        ocr = read_as_page(bundle, style, [r.strokes for r in res])
        out["ocr_cer"] = corpus_error_rates([" ".join(t.split()) for t in texts], ocr)["cer"]
    return out
