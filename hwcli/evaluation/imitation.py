"""How close generated lines are to a writer's real ones: a writer classifier on stroke features.

The features of a line and the distribution distance are `hwcli.styles.likeness`'s (adaptation chooses its
weights by them too). The writer classifier (`WriterClassifier`) is linear discriminant analysis on the
standardised features with a shrunk pooled covariance (Ledoit-Wolf-style shrinkage towards the diagonal, weight
`SHRINK`). It is trained on real lines of a set of writers: the writer being imitated plus reference writers from
IAM-OnDB's testset_v, which no bundled model was trained on. The imitation score of a style is the share of its
generated lines that the classifier attributes to the imitated writer; the real lines' own score (each half
classified by a classifier enrolled on the other half) is the ceiling, 1 / writers the floor.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..styles.likeness import distribution_distance, features, load_reference, within_writer_unit

SHRINK = 0.2


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

    def scores(self, X: np.ndarray) -> np.ndarray:
        """(len(X), classes) linear discriminant scores; the highest is the prediction."""
        Z = (X - self.mu0) / self.sd0
        W = self.means @ self.P  # (C, F)
        return Z @ W.T - 0.5 * np.sum(W * self.means, axis=1)

    def predict(self, X: np.ndarray) -> list:
        return [self.classes[k] for k in self.scores(X).argmax(1)]


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


def identify_among(real: np.ndarray, generated: np.ndarray, distractors: dict[str, np.ndarray]) -> tuple[float, float]:
    """A third judge, on writers disjoint from the reference set's: the writer classifier (`WriterClassifier`)
    enrolled on the `real` feature rows and on every writer of `distractors` ({writer: rows}, e.g. IAM-OnDB
    trainset writers: many more hands than the reference set's, and none of the imitated writers' neighbours in
    it); (share of `generated` rows it attributes to the writer, mean rank of the writer among all, 0 = first)."""
    if not len(generated):
        return 0.0, float("nan")
    others = [w for w in distractors if len(distractors[w])]
    X = np.concatenate([real] + [np.asarray(distractors[w], np.float64) for w in others])
    y = ["__target__"] * len(real) + [w for w in others for _ in range(len(distractors[w]))]
    clf = WriterClassifier(X, y)
    scores = clf.scores(generated)
    t = clf.classes.index("__target__")
    rank = (scores > scores[:, [t]]).sum(axis=1)
    return float(np.mean(rank == 0)), float(np.mean(rank))


def evaluate_imitation(bundle, style, like, recognizer=None, bias: float | None = None, check: bool = True,
                       seed: int = 0, reference: dict | None = None, n_writers: int = 11,
                       tesseract: bool = False, hinge_reference: dict | None = None,
                       distractors: dict | None = None, copies: int | None = None) -> dict:
    """Sample the texts of the writer's real lines `like` (`style_ink.InkLine`) in `style`, and score the
    generated lines against the real ones (`score`); with a recognizer, also their read-back CER; with
    `tesseract`, their CER read by tesseract as the page draws them (``ocr_cer``) beside the real lines' read the
    same way (``real_ocr_cer``: the legibility of a perfect imitation). With `hinge_reference`
    ({writer: real lines' offsets}), the second judge (`hinge`) identifies them too, among the same writers
    (``hinge_id``; its ceiling on the real lines, ``hinge_real_id``). With `distractors` ({writer: feature rows} of
    writers disjoint from the reference set's), the third judge (`identify_among`: ``disjoint_id``,
    ``disjoint_rank`` among ``disjoint_writers``; its ceiling on the real lines, ``disjoint_real_id``). `copies`:
    copies of every line written when they are read back (`SamplingOptions.copies`; None: the bundle's)."""
    from .legibility import style_label
    from ..recognizer.reading import corpus_error_rates, read_strokes
    from ..synthesis import SamplingOptions, line_checker, synthesize

    ref = reference or load_reference()
    writers = {w: np.asarray(v, np.float64) for w, v in ref["writers"].items()}
    names = " ".join(ln.name for ln in like)
    # a reference writer whose lines are being imitated is the target, not one of the others
    exclude = [w for w, ids in ref.get("line_ids", {}).items() if any(i in names for i in ids)]
    texts = [ln.text for ln in like]
    opts = SamplingOptions(bias=bias, style=style, seed=seed, check=check, copies=copies)
    res = synthesize(bundle, texts, opts, checker=line_checker(bundle, recognizer) if (check and recognizer) else None)
    gen = [(r.strokes, r.text) for r in res if len(r.strokes) > 10]
    real_rows, gen_rows = features([(ln.offsets, ln.text) for ln in like]), features(gen)
    out = score(real_rows, gen_rows, writers, exclude, n_writers).to_dict()
    if distractors is not None:
        out["disjoint_id"], out["disjoint_rank"] = identify_among(real_rows, gen_rows, distractors)
        out["disjoint_writers"] = len(distractors) + 1
        half = len(real_rows) // 2  # the ceiling: each half of the real lines identified enrolled on the other
        out["disjoint_real_id"] = float(np.mean([identify_among(a, b, distractors)[0] for a, b in
                                                 ((real_rows[:half], real_rows[half:]), (real_rows[half:], real_rows[:half]))]))
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
        from .legibility import read_as_page, read_real_as_page

        refs = [" ".join(t.split()) for t in texts]
        ocr = read_as_page(bundle, style, [r.strokes for r in res])
        out["ocr_cer"] = corpus_error_rates(refs, ocr)["cer"]
        # the writer's own lines, read the same way: how legible a perfect imitation could be
        out["real_ocr_cer"] = corpus_error_rates(refs, read_real_as_page(bundle, [ln.offsets for ln in like]))["cer"]
    return out
