"""Crossbars a reader can see: the network often crosses a t with a short tick, or with a bar that reaches only one
side of the stem, and a reader takes the t for an l, an I or a ł ("Ihe", "lo", "relurn"). `cross_bars` lengthens
such a bar about its own middle to `BAR_WIDTH` x-heights; its height, slant, shape, place and timing (often after
the word, as people cross their t's) stay the network's, and nothing else on the line moves.

Measured on selection lines (never `hwcli eval`'s sets), `hwcli-charset` style 2, check off, read by tesseract as
eval reads: 640 lines of ordinary words, e-mail and web addresses and times (`scripts/mark_gaps.py` sets
``colons`` and ``addresses``, seeds 0 and 1, 4 copies each) hold 1,027 t's with a bar of their own; tesseract read
them 42% of the time with a bar under 0.2 x-heights wide, 74% at 0.2-0.4, 87% at 0.4-0.6, 97-100% from 0.6 on.
Lengthened to 0.6, the 261 lines with a shorter bar read their t's 528 -> 578 of 603 times, CER 0.0644 -> 0.0582
(-49 errors in the 19,020 characters of all 640; to 0.5: -44, to 0.7: -50, to 0.8: -44, more lines changed
for no more); on 768 lines of symbols, accents and digits (`selection.hard_lines`/`charset_lines`, seeds 0-1, 8 copies)
t's 156 -> 179 of 196, CER 0.1545 -> 0.1530 (-6 errors in 21,008 characters: the rest of a line's reading shifts
with any change to its ink). (`python scripts/mark_gaps.py bars F ...`)
"""
from __future__ import annotations

import numpy as np

from ..strokes import SMALL_LETTERS
from .spacing import stroke_owners

#: A t's crossbar is at least this many x-heights wide.
BAR_WIDTH = 0.6

#: ...but a bar is lengthened at most this many times (a tick much shorter is not taken for a bar).
MAX_STRETCH = 3.0

#: Letters crossed by a bar.
CROSSED = frozenset("t")


def _x_height(pts: np.ndarray, spans, owner: np.ndarray, text: str, k: int) -> float:
    """Height of the small letters (`SMALL_LETTERS`) written within six characters of `text[k]`, 0 if none; the
    strokes less than half as tall (a late t-bar or i-dot the window was on a small letter for) left out."""
    near = [j for j in range(len(spans)) if abs(int(owner[j]) - k) <= 6 and 0 <= owner[j] < len(text)
            and text[owner[j]] in SMALL_LETTERS]
    h = 0.0
    for _ in range(2):
        if not near:
            return 0.0
        y = np.concatenate([pts[spans[j][0]:spans[j][1], 1] for j in near])
        h = float(np.percentile(y, 95) - np.percentile(y, 5))
        near = [j for j in near if np.ptp(pts[spans[j][0]:spans[j][1], 1]) >= 0.5 * h]
    return h


def find_bars(pts: np.ndarray, spans, owner: np.ndarray, text: str) -> list[tuple[int, int, float]]:
    """(letter index, stroke index, width in x-heights) of the crossbar of each letter of `text` in `CROSSED` that
    has one as a stroke of its own: a stroke wider than 1.5 times its height, written on the letter or later in
    its word (or on the space after it), crossing the letter's own strokes' horizontal extent, whose middle is in
    the upper 60% of the letter (or up to 0.3 x-heights above it); the nearest to the letter's middle if several.
    A letter written in one stroke with its bar has none. `pts`, `spans`, `owner` as `spacing.stroke_owners` gives
    them."""
    out = []
    for k, c in enumerate(text):
        if c not in CROSSED:
            continue
        own = [j for j in range(len(spans)) if owner[j] == k]
        if not own:
            continue
        xh = _x_height(pts, spans, owner, text, k)
        if xh <= 0:
            continue
        end = k
        while end + 1 < len(text) and not text[end + 1].isspace():
            end += 1
        letter = np.concatenate([pts[spans[j][0]:spans[j][1]] for j in own])
        x0, x1 = letter[:, 0].min(), letter[:, 0].max()
        top, bottom = letter[:, 1].min(), letter[:, 1].max()  # y grows down the page
        mid = (x0 + x1) / 2
        best: tuple[float, int, float] | None = None
        for j in range(len(spans)):
            if not k <= owner[j] <= end + 1:
                continue
            q = pts[spans[j][0]:spans[j][1]]
            if len(q) < 2:
                continue
            w, h = float(np.ptp(q[:, 0])), float(np.ptp(q[:, 1]))
            if w <= 1.5 * h or q[:, 0].max() < x0 or q[:, 0].min() > x1:
                continue
            yc = (q[:, 1].min() + q[:, 1].max()) / 2
            if not top - 0.3 * xh <= yc <= top + 0.6 * (bottom - top):
                continue
            d = abs((q[:, 0].min() + q[:, 0].max()) / 2 - mid)
            if best is None or d < best[0]:
                best = (d, j, w / xh)
        if best is not None and (best[1] not in own or len(own) > 1):  # one stroke that is all the letter: no bar
            out.append((k, best[1], best[2]))
    return out


def cross_bars(strokes: np.ndarray, chars: np.ndarray | None, text: str, width: float = BAR_WIDTH,
               max_stretch: float = MAX_STRETCH) -> np.ndarray:
    """Offsets ``(N, 3)`` of one sampled line of `text` with each crossbar `find_bars` finds narrower than `width`
    x-heights stretched horizontally about its middle to `width` (at most `max_stretch` times). `chars`: the
    character the attention window was on at each point (`Sample.chars`). Returns `strokes` itself when nothing
    changes."""
    if chars is None or len(strokes) < 2 or not CROSSED.intersection(text):
        return strokes
    pts, spans, owner = stroke_owners(strokes, chars)
    short = [(j, w) for _, j, w in find_bars(pts, spans, owner, text) if w < width]
    if not short:
        return strokes
    for j, w in short:
        a, b = spans[j]
        x = pts[a:b, 0]
        mid = (x.min() + x.max()) / 2
        pts[a:b, 0] = mid + (x - mid) * min(width / w, max_stretch)
    n = len(pts)
    out = np.array(strokes, np.float32, copy=True)
    out[0, :2] = pts[0]
    out[1:n, :2] = np.diff(pts, axis=0)
    return out
