"""The checks of a sampled line: does it look like handwriting (`check_line`), and does it read back as written
(the read-back checker, `line_checker`: the one way to build one)."""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from ..errors import ModelFileError
from ..model.bundle import Bundle
from .options import LineResult

#: ``checker(strokes, texts) -> CER per line``: reads sampled lines back (see `line_checker`).
Checker = Callable[[list[np.ndarray], list[str]], list[float]]


STALLED = "attention stalled on one character"  # reasons a line fails that mean its last characters are missing
SHORT_OF_END = "attention never reached the end of the text"


def check_line(strokes: np.ndarray, text: str, reached_end: bool, hit_cap: bool, stalled: bool = False) -> str:
    """'' when the line looks like handwriting, else the reason it failed (normalised units)."""
    if stalled:
        return STALLED
    if not reached_end:
        return SHORT_OF_END
    if hit_cap:
        return "ran to the step cap"
    if len(strokes) < 2:
        return "no ink"
    pts = np.cumsum(strokes[:, :2].astype(np.float64), axis=0)
    n = max(len(text.strip()), 1)
    # Thresholds sit beyond the 99.9th percentile of real IAM-OnDB lines (normalised units): height
    # (2nd-98th percentile of y) 15.3, width 2.0-5.9 per character, largest step 26.8, ink length per
    # unit of width 4.0 over a line and 7.6 over any 48-point window.
    h = np.percentile(pts[:, 1], 98) - np.percentile(pts[:, 1], 2)
    w = float(np.ptp(pts[:, 0]))
    if h > 20.0:
        return "absurd height"
    if w < 1.0 * n or w > 8.0 * n + 10.0:
        return "absurd width"
    step = np.linalg.norm(strokes[1:, :2], axis=1)
    if step.max() > 35.0:
        return "sudden jump"
    ink = step * (strokes[:-1, 2] < 0.5)
    if ink.sum() > 5.0 * max(w, 1.0) + 20.0:
        return "scribble"
    for a in range(0, max(len(strokes) - 48, 1), 24):
        if ink[a : a + 48].sum() > 10.0 * max(float(np.ptp(pts[a : a + 49, 0])), 1.0) + 5.0:
            return "scribble"
    return ""


READ_BACK = "reads back wrong"


#: How a line is read again to tell a clearly written copy from one that reads only just: (x scale, shear of x
#: by y) of the strokes, narrower and slanted both ways. A copy whose letters are distinct still reads squeezed or
#: slanted; one whose t-bar, dot or accent is misplaced or whose letters are ambiguous falls apart. The mean CER
#: of the plain and strained readings (`checker.strained`) ranks the copies of a line (`run._keep_best`); the
#: plain reading alone decides whether a line passes. Measured on selection lines (32 `selection.charset_lines` and
#: 16 `hard_lines` per seed, 4 seeds, 8 copies each, `hwcli-charset`, style 2; never `hwcli eval`'s sets), the
#: copy chosen among 4 read by tesseract at CER 0.164 by the plain reading, 0.152 by this mean (better or level
#: on each seed: 0.166/0.160/0.176/0.151 -> 0.151/0.148/0.157/0.151); among 8, 0.155 -> 0.145; rank correlation
#: with tesseract's CER of a copy 0.70 -> 0.80 (`scripts/copy_choice.py`). Milder strains (x 0.8 and 1.25, shear
#: 0.25) gained less (0.160).
STRAINS = ((0.65, 0.0), (0.5, 0.0), (1.0, 0.5), (1.0, -0.5), (1.0, 0.75), (1.0, -0.75))


def strain(strokes: np.ndarray, x_scale: float, shear: float) -> np.ndarray:
    """Offsets ``(N, 3)`` with x scaled by `x_scale` and sheared by `shear` times y (pen lifts kept)."""
    out = np.array(strokes, np.float32, copy=True)
    out[:, 0] = out[:, 0] * np.float32(x_scale) + np.float32(shear) * out[:, 1]
    return out


def line_checker(bundle: Bundle, recognizer=None) -> Checker:
    """The read-back checker for lines sampled with `bundle`: `recognizer` (a path, a loaded recognizer bundle,
    or None for the bundled one). Raises `ModelFileError` with the reason when no recognizer can be loaded.

    The one way hwcli builds a checker: ``checker(strokes, texts)`` reads the lines (in `bundle`'s units) and
    returns per line a `ReadBack` CER that also counts its misread digits; texts and readings are compared with
    runs of spaces collapsed. ``checker.strained(strokes, texts, cers)`` reads the same lines `STRAINS` ways
    and returns per line the mean CER of all its readings (the plain ones given as `cers`): it ranks the copies
    of one line, and costs six readings, so it is asked for only where there are copies to rank."""
    from ..recognizer.reading import cer, read_back, read_strokes

    if recognizer is None or isinstance(recognizer, (str, bytes)) or hasattr(recognizer, "__fspath__"):
        try:
            rec = _cached_recognizer(None if recognizer is None else str(recognizer))
        except ModelFileError as exc:
            raise ModelFileError(f"checking is on but the recognizer cannot be loaded: {exc} "
                                 "(or turn checking off: --no-check, check=False)") from None
    else:
        rec = recognizer

    def checker(strokes: list[np.ndarray], texts: list[str]) -> list[float]:
        hyps = read_strokes(rec, strokes, bundle.scale)
        return [read_back(" ".join(t.split()), " ".join(h.split())) for t, h in zip(texts, hyps)]

    def strained(strokes: list[np.ndarray], texts: list[str], cers: list[float]) -> list[float]:
        n = len(strokes)
        more = read_strokes(rec, [strain(s, a, k) for a, k in STRAINS for s in strokes], bundle.scale)
        return [(float(c) + sum(cer(" ".join(t.split()), " ".join(more[n * j + i].split())) for j in range(len(STRAINS))))
                / (1 + len(STRAINS)) for i, (t, c) in enumerate(zip(texts, cers))]

    checker.strained = strained
    return checker


@functools.lru_cache(maxsize=2)
def _cached_recognizer(path: str | None):
    from ..recognizer.reading import load_recognizer

    return load_recognizer(path)


def _lost_end(r: "LineResult | None") -> bool:
    """A unit given up on with its attention stalled or short of its end: its last characters are missing."""
    return r is not None and not r.ok and r.reason in (STALLED, SHORT_OF_END)
