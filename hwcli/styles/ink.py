"""A writer's own ink -> cleaned lines in the synthesis model's normalised units, checked line by line.

Sources: InkML files or folders (one line per file or per annotated ``traceGroup``; the capture page writes
one file per line), or a ``.npz`` from ``hwcli convert``. Texts come from the InkML annotations or, with
``texts=``, one per line in the order the ink is read (files sorted by name).

Cleaning is the training pipeline (`hwcli.cleaning.PIPELINE`) with one difference: the point density is not
fixed by ``downsample=2`` (right for the IAM-OnDB whiteboard only) but matched to what the model learnt.
A pen tablet, a touch screen or a mouse in a browser has its own units and sampling rate, so every line is

1. cleaned by the pipeline's steps (spikes, jumps, gaps, straightening, smoothing; no downsampling),
2. scaled so that its body height (10th-90th percentile of y) is `TARGET_BODY`, the median of IAM-OnDB lines
   in the model's normalised units (the model then sees letters of the size it was trained on),
3. resampled inside each stroke (at evenly spaced fractional point indices, so the pen's speed profile is kept)
   so that a letter gets about as many points as in a typical IAM-OnDB line (`LETTER_POINTS`): the median
   pen-down step becomes the hand's pen-down ink per letter / `LETTER_POINTS`, kept inside `STEP_RANGE` (the
   steps of 80% of IAM-OnDB lines). A hand with much ink per letter is then sampled in as many steps per
   letter as a typical one (as fast), and no hand gets steps the model has rarely seen.

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

from ..alphabet import CHARSET
from ..errors import DatasetError, InkError
from ..cleaning import PreprocessOptions, median_step, preprocess
from ..strokes import body_height, to_offsets, to_points

#: Median body height (10th-90th percentile of y) of IAM-OnDB lines in normalised units (1st-99th pct 1.7-7.0).
TARGET_BODY = 3.5
#: Median pen-down step of IAM-OnDB lines in normalised units (after the training pipeline's downsampling).
TARGET_STEP = 0.62
#: Points per letter (non-space character) of the median IAM-OnDB line, and the 10th-90th percentile of the lines'
#: median pen-down steps, both at body height `TARGET_BODY` (iam.npz, every 7th line of 10+ letters: points per
#: letter 10.6 / 13.2 / 16.9 at the 10th / 50th / 90th percentile, steps 0.46 / 0.63 / 0.83).
LETTER_POINTS = 13.2
STEP_RANGE = (0.46, 0.83)
STEP_TOLERANCE = 1.15  # a line whose step is within this factor of the wanted one is left as it is
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


def resample_density(points: np.ndarray, target: float = TARGET_STEP, tolerance: float = 1.5) -> np.ndarray:
    """Points (N, 3) with about `target` median pen-down step (left alone within `tolerance` of it): each stroke
    is sampled at evenly spaced fractional indices (every `target / step` points, interpolating linearly), so
    dense ink loses points and sparse ink gains them while the pen's speed profile along the stroke is kept.
    Strokes keep their first and last points."""
    step = median_step(points)
    if step <= 0 or 1 / tolerance <= step / target <= tolerance:
        return points
    r = target / step  # index increment: > 1 drops points, < 1 adds them
    out = []
    ends = np.flatnonzero(points[:, 2] > 0.5) + 1
    if len(ends) == 0 or ends[-1] < len(points):  # a last stroke without a pen lift
        ends = np.append(ends, len(points))
    starts = np.concatenate([[0], ends[:-1]]).astype(int)
    for a, b in zip(starts, ends):
        s = points[a:b]
        if len(s) > 1:
            t = np.arange(0.0, len(s) - 1, r)
            if len(s) - 1 - t[-1] > 0.5 * r or len(t) == 1:
                t = np.append(t, len(s) - 1)
            else:
                t[-1] = len(s) - 1  # the stroke's own end, not a point just short of it
            xy = np.stack([np.interp(t, np.arange(len(s)), s[:, j]) for j in (0, 1)], axis=1)
            pen = np.zeros((len(xy), 1))
            pen[-1] = s[-1, 2]
            s = np.concatenate([xy, pen], axis=1)
        out.append(np.asarray(s, np.float32))
    return np.concatenate(out).astype(np.float32) if out else points


def letter_step(points: np.ndarray, letters: int) -> float:
    """The pen-down step that gives `letters` letters of these points (at body height `TARGET_BODY`) about
    `LETTER_POINTS` points each, inside `STEP_RANGE`."""
    d = np.hypot(*np.diff(points[:, :2], axis=0).T)
    ink = float(d[points[:-1, 2] < 0.5].sum()) / max(letters, 1)
    return float(np.clip(ink / LETTER_POINTS, *STEP_RANGE))


def normalise(points: np.ndarray, cleaned: bool = False, letters: int | None = None) -> np.ndarray:
    """Raw absolute points (N, 3), any units, y down -> offsets (N', 3) in the model's normalised units
    (see the module docstring). `cleaned`: the points already went through the pipeline (a converted .npz).
    `letters`: the line's non-space characters, for the point density per letter (without it, the median
    IAM-OnDB step `TARGET_STEP`, resampling only ink more than 1.5x off it)."""
    pts = np.asarray(points, np.float32)
    if not cleaned:
        pts = preprocess(pts, CLEANING)
    h = body_height(pts)
    if len(pts) < 2 or h <= 0:
        return np.zeros((0, 3), np.float32)
    pts = pts.copy()
    pts[:, :2] = (pts[:, :2] - pts[0, :2]) * (TARGET_BODY / h)
    if letters:
        pts = resample_density(pts, letter_step(pts, letters), STEP_TOLERANCE)
    else:
        pts = resample_density(pts)
    off = to_offsets(pts)
    off[0] = (0.0, 0.0, 1.0)  # as training lines: a zero move with the pen up
    off[-1, 2] = 1.0
    return off


# ----------------------------------------------------------------------------- reading
def _raw_inkml(path: Path, texts_given: bool) -> list[tuple[str, str, np.ndarray, bool]]:
    """(name, text, absolute points, cleaned) per line of one InkML file. Without annotations and with `texts`
    given, the whole file is one line (all its traces)."""
    from ..data.iam import Skip
    from ..data.inkml import read_inkml

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
    from ..data.dataset import Dataset

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
            lacks = "".join(c for c in bad if c in CHARSET)
            why = f" (the model was trained without {lacks!r} of hwcli's character set)" if lacks else ""
            problems.append(f"{name}: character(s) the model cannot write: {''.join(bad)!r}{why}")
            continue
        if len(text.replace(" ", "")) < MIN_CHARS:
            problems.append(f"{name}: text {text!r} is too short (at least {MIN_CHARS} characters)")
            continue
        off = normalise(points, cleaned, letters=len(text.replace(" ", "")))
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
