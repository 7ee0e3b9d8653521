"""A writer's own ink -> cleaned lines in the synthesis model's normalised units, checked line by line.

Sources: InkML files or folders (one line per file or per annotated ``traceGroup``; the capture page writes
one file per line), or a ``.npz`` from ``hwcli convert``. Texts come from the InkML annotations or, with
``texts=``, one per line in the order the ink is read (files sorted by name).

Cleaning is the training pipeline (`hwcli.strokes.PIPELINE`) with one difference: the point density is not
fixed by ``downsample=2`` (right for the IAM-OnDB whiteboard only) but matched to what the model learnt.
A pen tablet, a touch screen or a mouse in a browser has its own units and sampling rate, so every line is

1. cleaned by the pipeline's steps (spikes, jumps, gaps, straightening, smoothing; no downsampling),
2. scaled so that its body height (10th-90th percentile of y) is `TARGET_BODY`, the median of IAM-OnDB lines
   in the model's normalised units (the model then sees letters of the size it was trained on),
3. resampled inside each stroke so that the median pen-down step is about `TARGET_STEP`, the IAM-OnDB median
   (keeping every k-th point of dense ink, interpolating sparse ink), so letters get as many points as in training.

Lines that cannot make a style raise `InkError` naming the file and line: no text, too little ink, a text whose
length does not match the ink's width, characters the model lacks.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import DatasetError, InkError
from .strokes import PreprocessOptions, body_height, preprocess, to_offsets, to_points

#: Median body height (10th-90th percentile of y) of IAM-OnDB lines in normalised units (1st-99th pct 1.7-7.0).
TARGET_BODY = 3.5
#: Median pen-down step of IAM-OnDB lines in normalised units (after the training pipeline's downsampling).
TARGET_STEP = 0.62
#: Ink width per character over body height: IAM-OnDB lines lie in 0.44-2.34 (0.1st-99.9th percentile).
#: Outside these bounds, with some slack, the text cannot be what the ink says.
WIDTH_RATIO = (0.25, 4.0)
MIN_POINTS = 20  # fewer points than this after cleaning is not a line of handwriting
MIN_CHARS = 3  # a line's text must have at least this many characters (spaces aside)
CLEANING = PreprocessOptions(downsample=1)


@dataclass
class InkLine:
    name: str  # where the line comes from, as the user knows it: "mine/line-03.inkml" or "data.npz line 7 (id)"
    text: str
    offsets: np.ndarray  # (N, 3) float32 [dx, dy, eos], the model's normalised units, first row (0, 0, 1)


def median_step(points: np.ndarray) -> float:
    """Median length of pen-down steps of absolute points (N, 3); 0 when there is none."""
    if len(points) < 2:
        return 0.0
    d = np.hypot(*np.diff(points[:, :2], axis=0).T)
    d = d[(points[:-1, 2] < 0.5) & (d > 0)]
    return float(np.median(d)) if len(d) else 0.0


def resample_density(points: np.ndarray, target: float = TARGET_STEP) -> np.ndarray:
    """Points (N, 3) with about `target` median pen-down step: dense strokes keep every k-th point (and their
    ends), sparse ones get k-1 points linearly interpolated between neighbours. Strokes keep their ends."""
    step = median_step(points)
    if step <= 0 or 1 / 1.5 <= step / target <= 1.5:
        return points
    out = []
    ends = np.flatnonzero(points[:, 2] > 0.5) + 1
    starts = np.concatenate([[0], ends[:-1]])
    for a, b in zip(starts, ends):
        s = points[a:b]
        if step < target:
            k = int(round(target / step))
            keep = np.zeros(len(s), bool)
            keep[::k] = True
            keep[-1] = True
            s = s[keep]
        elif len(s) > 1:
            k = int(round(step / target))
            t = np.arange((len(s) - 1) * k + 1) / k
            xy = np.stack([np.interp(t, np.arange(len(s)), s[:, j]) for j in (0, 1)], axis=1)
            s = np.concatenate([xy, np.zeros((len(xy), 1))], axis=1).astype(np.float32)
            s[-1, 2] = 1.0
        out.append(s)
    return np.concatenate(out).astype(np.float32) if out else points


def normalise(points: np.ndarray, cleaned: bool = False) -> np.ndarray:
    """Raw absolute points (N, 3), any units, y down -> offsets (N', 3) in the model's normalised units
    (see the module docstring). `cleaned`: the points already went through the pipeline (a converted .npz)."""
    pts = np.asarray(points, np.float32)
    if not cleaned:
        pts = preprocess(pts, CLEANING)
    h = body_height(pts)
    if len(pts) < 2 or h <= 0:
        return np.zeros((0, 3), np.float32)
    pts = pts.copy()
    pts[:, :2] = (pts[:, :2] - pts[0, :2]) * (TARGET_BODY / h)
    pts = resample_density(pts)
    off = to_offsets(pts)
    off[0] = (0.0, 0.0, 1.0)  # as training lines: a zero move with the pen up
    off[-1, 2] = 1.0
    return off


# ----------------------------------------------------------------------------- reading
def _raw_inkml(path: Path, texts_given: bool) -> list[tuple[str, str, np.ndarray, bool]]:
    """(name, text, absolute points, cleaned) per line of one InkML file. Without annotations and with `texts`
    given, the whole file is one line (all its traces)."""
    from .data.iam import Skip
    from .data.inkml import read_inkml

    items = list(read_inkml(path, untranscribed=texts_given))
    lines = [(f"{path.name}" + (f" ({r.line_id})" if len(items) > 1 else ""), r.text, r.points, r.preprocessed is not None)
             for r in items if not isinstance(r, Skip)]
    skips = [r for r in items if isinstance(r, Skip)]
    if skips:
        s = skips[0]
        hint = " (add the text as an <annotation type=\"truth\">, or give --texts FILE)" if s.reason == "no transcription" else ""
        raise InkError(f"{path.name}" + (f" ({s.line_id})" if s.line_id != path.stem else "") + f": {s.reason}{hint}")
    return lines


def _raw_npz(path: Path) -> list[tuple[str, str, np.ndarray, bool]]:
    from .data.dataset import Dataset

    ds = Dataset.load(path)
    return [(f"{path.name} line {i + 1} ({ds.line_ids[i]})", ds.texts[i], to_points(ds.line(i)), True) for i in range(len(ds))]


def read_ink(sources: Sequence[str | os.PathLike], texts: Sequence[str] | None = None) -> list[tuple[str, str, np.ndarray, bool]]:
    """Every line of `sources` (InkML files, folders of them, converted .npz) as (name, text, points, cleaned),
    in order: sources as given, files in a folder sorted by name. `texts` replaces the texts, one per line."""
    files: list[Path] = []
    for src in sources:
        p = Path(src)
        if not p.exists():
            raise InkError(f"{str(p)!r} does not exist")
        if p.is_dir():
            found = sorted(p.rglob("*.inkml"))
            if not found:
                raise InkError(f"{str(p)!r} holds no InkML files (*.inkml)")
            files += found
        elif p.suffix.lower() in (".inkml", ".npz"):
            files.append(p)
        else:
            raise InkError(f"{str(p)!r} is neither InkML (.inkml, or a folder of them) nor a converted .npz")
    raw: list[tuple[str, str, np.ndarray, bool]] = []
    for f in files:
        try:
            raw += _raw_npz(f) if f.suffix.lower() == ".npz" else _raw_inkml(f, texts is not None)
        except DatasetError as exc:
            raise InkError(str(exc)) from None
        except (OSError, ET.ParseError) as exc:
            raise InkError(f"{f.name}: cannot be read ({exc})") from None
    if texts is not None:
        if len(texts) != len(raw):
            raise InkError(f"--texts has {len(texts)} line(s) but the ink has {len(raw)} line(s): one text per ink line, in order")
        raw = [(n, t, p, c) for (n, _, p, c), t in zip(raw, texts)]
    return raw


def prepare_lines(raw: list[tuple[str, str, np.ndarray, bool]], alphabet) -> list[InkLine]:
    """Clean, normalise and check every line; InkError naming every bad line at once."""
    out, problems = [], []
    for name, text, points, cleaned in raw:
        text = " ".join(alphabet.normalize(text).split())
        if not text:
            problems.append(f"{name}: no text")
            continue
        bad = sorted({c for c in text if c not in alphabet})
        if bad:
            problems.append(f"{name}: character(s) the model cannot write: {''.join(bad)!r}")
            continue
        if len(text.replace(" ", "")) < MIN_CHARS:
            problems.append(f"{name}: text {text!r} is too short (at least {MIN_CHARS} characters)")
            continue
        off = normalise(points, cleaned)
        if len(off) < MIN_POINTS:
            problems.append(f"{name}: too little ink ({len(off)} points after cleaning)")
            continue
        pts = to_points(off)
        ratio = float(np.ptp(pts[:, 0])) / len(text) / TARGET_BODY
        if not WIDTH_RATIO[0] <= ratio <= WIDTH_RATIO[1]:
            what = "too wide" if ratio > WIDTH_RATIO[1] else "too narrow"
            problems.append(f"{name}: the ink is {what} for the text {text!r} ({len(text)} characters; "
                            f"{ratio:.2f} letter widths per body height, handwriting has {WIDTH_RATIO[0]}-{WIDTH_RATIO[1]}): "
                            "text and ink do not match")
            continue
        out.append(InkLine(name, text, off))
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InkError("; ".join(problems[:3]) + more)
    if not out:
        raise InkError("no ink lines given")
    return out
