"""Crossbars a reader can see: the network often crosses a t with a short tick, or with a bar that reaches only one
side of the stem, and a reader takes the t for an l, an I or a ł ("Ihe", "lo", "relurn"). `cross_bars` lengthens
such a bar about its own middle to `BAR_WIDTH` x-heights, stopping `CLEAR` x-heights short of a neighbour's tall
stroke at the bar's height (a bar run into the I of "It" reads "H"); its height, slant, shape, place and timing
(often after the word, as people cross their t's) stay the network's, and nothing else on the line moves.

Measured on selection lines (never `hwcli eval`'s sets), `hwcli-charset` style 2, check off, read by tesseract as
eval reads: 640 lines of ordinary words, e-mail and web addresses and times (`scripts/mark_gaps.py` sets
``colons`` and ``addresses``, seeds 0 and 1, 4 copies each) hold 1,027 t's with a bar of their own; tesseract read
them 42% of the time with a bar under 0.2 x-heights wide, 74% at 0.2-0.4, 87% at 0.4-0.6, 97-100% from 0.6 on.
Lengthened to 0.6, the 261 lines with a shorter bar read their t's 528 -> 578 of 603 times, CER 0.0644 -> 0.0582
(-49 errors in the 19,020 characters of all 640; to 0.5: -44, to 0.7: -50, to 0.8: -44, more lines changed
for no more); on 768 lines of symbols, accents and digits (`selection.hard_lines`/`charset_lines`, seeds 0-1, 8 copies)
t's 156 -> 179 of 196, CER 0.1545 -> 0.1530 (-6 errors in 21,008 characters: the rest of a line's reading shifts
with any change to its ink). (`python scripts/mark_gaps.py bars F ...`)

`underline` puts an underscore on the line: the network writes it a fifth of an x-height above the baseline (the
median of 64 on selection lines), where it reads as a hyphen ("my-cat", "green-river"): on 384 lines of symbols
(session 26, /tmp draws) tesseract read 13 of 64 as underscores; with its own stroke moved down to the baseline of
the small letters beside it, 32 of 64 (its middle 0.1 x-heights above the line: 25, 0.05 below: 26, 0.15 / 0.3
below: 15 / 12; lengthened to 1.2 x-heights as well: 21). On the ``symbols`` set of `scripts/mark_gaps.py` (seeds
0-1, 4 copies) 12 -> 19 of 64, CER 0.0714 / 0.0684 -> 0.0710 / 0.0675 (`python scripts/mark_gaps.py symbols F`):
many underscores are written on from the letter before in one stroke, and stay. Only its height changes; a
stroke already on or below the line stays.

`part_colons` sets a colon's crammed dots apart: after a t (its bar written when the window reaches the colon) the
network often writes the two dots a tenth of an x-height apart at mid-height, and a reader sees one raised point
or a hyphen ("hint·", "Wi-Fi-"). On 320 ``colons`` selection lines (session 25's draws, seeds 0-1, 4 copies),
colons closing a word read 58% of the time with their dots' centres under 0.15 x-heights apart, 86% at 0.15-0.3,
97-100% above; 86% of the colons after a t were under 0.3. Colons whose dots are read well sit 0.5 x-heights apart
(median), the lower 0.38 above the line; crammed ones 0.12 apart about the same middle. Parted about their middle
to 0.4 / 0.5 / 0.6 x-heights, the 93 lines with crammed dots read their colons 61 -> 92 / 92 / 92 of 93 times,
errors 113 -> 74 / 80 / 78; on 800 lines of addresses, times and decimal points (session 25's draws), the 36 such
lines 44 -> 50 / 51 / 50 of 53, errors 34 -> 32 / 29 / 31 (`python scripts/mark_gaps.py dots F ... --seps`).

`bold_points` draws a point or colon dot that the network wrote as a speck (often a single point: a dot no wider
than the line, which tesseract takes for noise, "example org") as a small loop `POINT_SIZE` x-heights across, a
dot pressed into the paper. On session 25's draws of the ``addresses`` and ``marks`` selection sets (4 copies,
with every other placement step): seed 0 addresses, points and colons read 223 -> 241 of 284, errors 460 -> 445
(0.25 x-heights: 206, 474); seed 1, 232 -> 234 of 290, errors 419 -> 401 (0.1: 236, 427 against 418); marks seeds
0-1, 484 -> 496 of 531, errors 496 -> 478 (`python scripts/mark_gaps.py specks F ... --sizes`).

`lower_marks` moves the mark of a letter with a cedilla, ogonek or comma below (ç ş ţ ą ę ș ț) down under the
letter, where the network often leaves it touching the letter's foot or inside it (figures at `MARK_DROP`);
`lengthen_slashes` stretches the short tick the network often writes for the slash of ł to a slash a reader sees
(figures at `SLASH_LENGTH`); `seat_letters` sets a ß the network wrote above the line down on it (figures at
`SEATED`).
"""
from __future__ import annotations

import unicodedata

import numpy as np

from ..alphabet import CHARSET
from ..strokes import SMALL_LETTERS, sorted_percentile
from .spacing import offsets_from, stroke_owners

#: A t's crossbar is at least this many x-heights wide.
BAR_WIDTH = 0.6

#: ...but a bar is lengthened at most this many times (a tick much shorter is not taken for a bar).
MAX_STRETCH = 3.0

#: ...stopping this many x-heights short of another character's stroke that passes through the bar's height
#: (within `BAND` x-heights of it) and rises above it (an I, l, h or capital; a small letter below the bar does not
#: stop it). On the selection lines above, 5 of the 261 and 14 of the 140 lines changed are stopped short, and read
#: the same (-49 and -5 errors against -49 and -6).
CLEAR = 0.1
BAND = 0.15

#: Letters crossed by a bar.
CROSSED = frozenset("t")


def _boxes(pts: np.ndarray, spans) -> np.ndarray:
    """Per stroke: x min, x max, y min, y max, points (`spans` one after another, as `stroke_owners` gives them)."""
    if not spans:
        return np.zeros((0, 5))
    a = np.array([s[0] for s in spans])
    b = np.array([s[1] for s in spans])
    if a[0] != 0 or (a[1:] != b[:-1]).any():
        raise ValueError("strokes must follow one another")
    p = pts[: b[-1]]
    return np.column_stack([np.minimum.reduceat(p[:, 0], a), np.maximum.reduceat(p[:, 0], a),
                            np.minimum.reduceat(p[:, 1], a), np.maximum.reduceat(p[:, 1], a), b - a])


def _band(pts: np.ndarray, spans, owner: np.ndarray, box: np.ndarray, text: str, k: int) -> tuple[float, float]:
    """Height and baseline (y grows down the page) of the small letters (`SMALL_LETTERS`) written within six
    characters of `text[k]`, (0, 0) if none; the strokes less than half as tall (a late t-bar or i-dot the window
    was on a small letter for) left out of the height."""
    near = [j for j in np.flatnonzero(np.abs(owner - k) <= 6)
            if 0 <= owner[j] < len(text) and text[owner[j]] in SMALL_LETTERS]
    h = base = 0.0
    for _ in range(2):
        if not near:
            return 0.0, 0.0
        y = np.sort(np.concatenate([pts[spans[j][0]:spans[j][1], 1] for j in near]))
        hi, lo = sorted_percentile(y, 95), sorted_percentile(y, 5)
        h, base = float(y.dtype.type(hi) - y.dtype.type(lo)), hi  # the difference in y's dtype, as numpy's
        near = [j for j in near if box[j, 3] - box[j, 2] >= 0.5 * h]
    return h, base


def _x_height(pts: np.ndarray, spans, owner: np.ndarray, box: np.ndarray, text: str, k: int) -> float:
    """Height of the small letters written within six characters of `text[k]` (`_band`), 0 if none."""
    return _band(pts, spans, owner, box, text, k)[0]


def find_bars(pts: np.ndarray, spans, owner: np.ndarray, text: str) -> list[tuple[int, int, float]]:
    """(letter index, stroke index, width in x-heights) of the crossbar of each letter of `text` in `CROSSED` that
    has one as a stroke of its own: a stroke wider than 1.5 times its height, written on the letter or later in
    its word (or on the space after it), crossing the letter's own strokes' horizontal extent, whose middle is in
    the upper 60% of the letter (or up to 0.3 x-heights above it); the nearest to the letter's middle if several.
    A letter written in one stroke with its bar has none. `pts`, `spans`, `owner` as `spacing.stroke_owners` gives
    them."""
    out = []
    box = _boxes(pts, spans)
    w, h = box[:, 1] - box[:, 0], box[:, 3] - box[:, 2]
    middle, level = (box[:, 0] + box[:, 1]) / 2, (box[:, 2] + box[:, 3]) / 2
    for k, c in enumerate(text):
        if c not in CROSSED:
            continue
        own = np.flatnonzero(owner == k)
        if not len(own):
            continue
        xh = _x_height(pts, spans, owner, box, text, k)
        if xh <= 0:
            continue
        end = k
        while end + 1 < len(text) and not text[end + 1].isspace():
            end += 1
        x0, x1 = box[own, 0].min(), box[own, 1].max()
        top, bottom = box[own, 2].min(), box[own, 3].max()  # y grows down the page
        cand = np.flatnonzero((owner >= k) & (owner <= end + 1) & (box[:, 4] >= 2) & (w > 1.5 * h)
                              & (box[:, 1] >= x0) & (box[:, 0] <= x1)
                              & (level >= top - 0.3 * xh) & (level <= top + 0.6 * (bottom - top)))
        if not len(cand):
            continue
        best = int(cand[np.argmin(np.abs(middle[cand] - (x0 + x1) / 2))])
        if best not in own or len(own) > 1:  # one stroke that is all the letter: no bar
            out.append((k, best, float(w[best] / xh)))
    return out


def _reach(pts: np.ndarray, spans, owner: np.ndarray, box: np.ndarray, k: int, j: int, lo: float, hi: float,
           xh: float) -> tuple[float, float]:
    """The span [lo, hi] bar `j` of letter `k` may reach, each end stopped `CLEAR` x-heights short of another
    character's stroke that passes within `BAND` x-heights of the bar's height and rises above it; never inside
    the bar's own ends. `box`: `_boxes` of the strokes as they stand."""
    x0, x1 = box[j, 0], box[j, 1]
    top, bottom = box[j, 2] - BAND * xh, box[j, 3] + BAND * xh
    near = np.flatnonzero((owner != k) & (box[:, 2] < top) & (box[:, 3] >= top)  # rises above the bar, reaches it
                          & (box[:, 1] > lo - CLEAR * xh) & (box[:, 0] < hi + CLEAR * xh))
    for j2 in near:
        if j2 == j:
            continue
        q = pts[spans[j2][0]:spans[j2][1]]
        y_lo, y_hi = np.minimum(q[:-1, 1], q[1:, 1]), np.maximum(q[:-1, 1], q[1:, 1])
        seg = (y_hi >= top) & (y_lo <= bottom)  # its segments that pass through the bar's band
        xs = np.concatenate([q[:-1, 0][seg], q[1:, 0][seg], q[(q[:, 1] >= top) & (q[:, 1] <= bottom), 0]])
        left, right = xs[xs < x0], xs[xs > x1]
        if len(left):
            lo = max(lo, min(left.max() + CLEAR * xh, x0))
        if len(right):
            hi = min(hi, max(right.min() - CLEAR * xh, x1))
    return lo, hi


def cross_bars(strokes: np.ndarray, chars: np.ndarray | None, text: str, width: float = BAR_WIDTH,
               max_stretch: float = MAX_STRETCH) -> np.ndarray:
    """Offsets ``(N, 3)`` of one sampled line of `text` with each crossbar `find_bars` finds narrower than `width`
    x-heights stretched horizontally about its middle to `width` (at most `max_stretch` times), each end stopped
    `CLEAR` x-heights short of a neighbour's tall stroke (never drawn back inside where it was). `chars`: the
    character the attention window was on at each point (`Sample.chars`). Returns `strokes` itself when nothing
    changes."""
    if chars is None or len(strokes) < 2 or not CROSSED.intersection(text):
        return strokes
    pts, spans, owner = stroke_owners(strokes, chars)
    short = [(k, j, w) for k, j, w in find_bars(pts, spans, owner, text) if w < width]
    if not short:
        return strokes
    box = _boxes(pts, spans)
    for k, j, w in short:
        a, b = spans[j]
        x = pts[a:b, 0]
        x0, x1 = box[j, 0], box[j, 1]
        xh = (x1 - x0) / w
        mid, half = (x0 + x1) / 2, min(width * xh, max_stretch * (x1 - x0)) / 2
        lo, hi = _reach(pts, spans, owner, box, k, j, mid - half, mid + half, xh)
        pts[a:b, 0] = lo + (x - x0) * (hi - lo) / (x1 - x0)
        box[j, :2] = lo, hi
    return offsets_from(pts, strokes)


def _shift_down(pts: np.ndarray, spans, box: np.ndarray, js, dy: float) -> None:
    """Move the strokes `js` down by `dy` (up when negative), their boxes with them, in place."""
    for j in js:
        pts[spans[j][0]:spans[j][1], 1] += dy
        box[j, 2:4] += dy


def underline(strokes: np.ndarray, chars: np.ndarray | None, text: str) -> np.ndarray:
    """Offsets ``(N, 3)`` of one sampled line of `text` with each underscore's ink (its strokes, when together
    they are flat: more than twice as wide as tall) moved down until its middle is on the baseline of the small
    letters within six characters of it (never up; left as written where none is near). `chars` as for
    `cross_bars`. Returns `strokes` itself when nothing moves."""
    if chars is None or len(strokes) < 2 or "_" not in text:
        return strokes
    pts, spans, owner = stroke_owners(strokes, chars)
    box = _boxes(pts, spans)
    moved = False
    for k, c in enumerate(text):
        own = np.flatnonzero(owner == k) if c == "_" else ()
        if not len(own):
            continue
        x0, x1, top, bottom = box[own, 0].min(), box[own, 1].max(), box[own, 2].min(), box[own, 3].max()
        xh, base = _band(pts, spans, owner, box, text, k)
        drop = base - (top + bottom) / 2
        if xh <= 0 or x1 - x0 <= 2 * (bottom - top) or drop <= 0:
            continue
        _shift_down(pts, spans, box, own, drop)
        moved = True
    return offsets_from(pts, strokes) if moved else strokes


#: A colon's two dots closer than `COLON_MIN` x-heights (their centres, vertically) are set `COLON_SEP` apart about
#: their middle. After a t the network writes the t's bar when its window reaches the colon, then crams the two
#: dots together at mid-height, where a reader sees one raised point or a hyphen ("hint·", "Wi-Fi-").
COLON_MIN = 0.3
COLON_SEP = 0.5
DOT_SIZE = 0.35  # a colon's dot: a stroke smaller than this many x-heights both ways


def part_colons(strokes: np.ndarray, chars: np.ndarray | None, text: str, min_sep: float = COLON_MIN,
                sep: float = COLON_SEP) -> np.ndarray:
    """Offsets ``(N, 3)`` of one sampled line of `text` with the two dots of each colon set `sep` x-heights apart
    (vertically, about their middle) where the network wrote them closer than `min_sep`. A colon's dots are the
    strokes smaller than `DOT_SIZE` x-heights written on it, or on a space right after it; a colon with other than
    two is left as written, and so is every other stroke. `chars` as for `cross_bars`. Returns `strokes` itself
    when nothing moves."""
    if chars is None or len(strokes) < 2 or ":" not in text:
        return strokes
    pts, spans, owner = stroke_owners(strokes, chars)
    box = _boxes(pts, spans)
    moved = False
    for k, c in enumerate(text):
        if c != ":":
            continue
        xh = _band(pts, spans, owner, box, text, k)[0]
        if xh <= 0:
            continue
        mine = (owner == k) | ((owner == k + 1) & (k + 1 < len(text)) & (text[k + 1:k + 2] == " "))
        dots = [j for j in np.flatnonzero(mine)
                if box[j, 1] - box[j, 0] < DOT_SIZE * xh and box[j, 3] - box[j, 2] < DOT_SIZE * xh]
        if len(dots) != 2:
            continue
        mid = [(box[j, 2] + box[j, 3]) / 2 for j in dots]
        gap = abs(mid[0] - mid[1])
        if gap >= min_sep * xh:
            continue
        up, down = (dots[0], dots[1]) if mid[0] <= mid[1] else (dots[1], dots[0])
        d = (sep * xh - gap) / 2
        _shift_down(pts, spans, box, [up], -d)
        _shift_down(pts, spans, box, [down], d)
        moved = True
    return offsets_from(pts, strokes) if moved else strokes


#: A point or a colon's dot smaller than this many x-heights both ways is drawn as a small loop of this diameter
#: about its centre, as a pen pressed on the paper leaves it: the network's dots are often a single point, a speck
#: the width of the line, which a reader misses ("example org", "mailbox net").
POINT_SIZE = 0.15
POINT_MARKS = ".:"
_LOOP = 9  # points of the loop, the first and the last the same


def bold_points(strokes: np.ndarray, chars: np.ndarray | None, text: str,
                size: float = POINT_SIZE) -> tuple[np.ndarray, np.ndarray | None]:
    """``(strokes, chars)`` of one sampled line of `text` with each stroke written on a point or colon
    (`POINT_MARKS`) that is smaller than `size` x-heights both ways redrawn as a closed loop of `size` x-heights
    about its centre; `chars` (as for `cross_bars`) grows with the strokes, the loop's points belonging to the
    mark. Everything else stays as written; returns the inputs themselves when nothing changes."""
    if chars is None or len(strokes) < 2 or not any(c in text for c in POINT_MARKS):
        return strokes, chars
    pts, spans, owner = stroke_owners(strokes, chars)
    box = _boxes(pts, spans)
    loops = {}
    for j, k in enumerate(owner):
        if not (0 <= k < len(text) and text[k] in POINT_MARKS):
            continue
        xh = _band(pts, spans, owner, box, text, int(k))[0]
        if xh <= 0 or box[j, 1] - box[j, 0] >= size * xh or box[j, 3] - box[j, 2] >= size * xh:
            continue
        a, b = spans[j]
        c = pts[a:b].mean(axis=0)
        th = np.linspace(0.0, 2.0 * np.pi, _LOOP)
        loops[j] = np.stack([c[0] + size * xh / 2 * np.cos(th), c[1] + size * xh / 2 * np.sin(th)], axis=1)
    if not loops:
        return strokes, chars
    n = len(pts)
    new_pts, new_pen, new_chars = [], [], []
    for j, (a, b) in enumerate(spans):
        p = loops.get(j, pts[a:b])
        new_pts.append(p)
        pen = np.array(strokes[a:b, 2], np.float32) if j not in loops else np.zeros(len(p), np.float32)
        if j in loops:
            pen[-1] = strokes[b - 1, 2]
        new_pen.append(pen)
        new_chars.append(np.full(len(p), owner[j], np.asarray(chars).dtype) if j in loops else np.asarray(chars)[a:b])
    P = np.concatenate(new_pts)
    head = np.zeros((len(P), 3), np.float32)
    head[0, :2] = P[0]
    head[1:, :2] = np.diff(P, axis=0)
    head[:, 2] = np.concatenate(new_pen)
    tail = np.array(strokes[n:], np.float32)
    if len(tail):
        tail[0, :2] = np.array(strokes[n, :2]) + pts[n - 1] - P[-1]  # the rest continues from where it was
    return np.concatenate([head, tail]), np.concatenate([np.concatenate(new_chars), np.asarray(chars)[n:]])


def _mark_candidates(pts: np.ndarray, spans, owner: np.ndarray, text: str, letters, size: float, reach: float):
    """Per letter of `text` in `letters` whose mark may be a stroke of its own: (its index, x-height, the box x0, x1,
    top, bottom of its larger strokes, every stroke's box (`_boxes`), middle and level, and which strokes may be its
    mark: smaller than `size` x-heights both ways, written on the letter or later in its word (or on the space
    after it), their middle within `reach` x-heights of the letter's horizontal extent). Letters with nothing to
    measure by (no strokes of their own, no small letters near, only small strokes) are skipped."""
    box = _boxes(pts, spans)
    middle, level = (box[:, 0] + box[:, 1]) / 2, (box[:, 2] + box[:, 3]) / 2
    for k, c in enumerate(text):
        own = np.flatnonzero(owner == k) if c in letters else ()
        xh = _x_height(pts, spans, owner, box, text, k) if len(own) else 0.0
        if xh <= 0:
            continue
        small = (box[:, 1] - box[:, 0] < size * xh) & (box[:, 3] - box[:, 2] < size * xh)
        body = own[~small[own]]
        if not len(body):
            continue
        end = k
        while end + 1 < len(text) and not text[end + 1].isspace():
            end += 1
        x0, x1 = box[body, 0].min(), box[body, 1].max()
        near = ((owner >= k) & (owner <= end + 1) & small & (middle >= x0 - reach * xh) & (middle <= x1 + reach * xh))
        yield k, xh, (x0, x1, box[body, 2].min(), box[body, 3].max()), box, middle, level, near


#: Letters with a mark below (cedilla, ogonek, comma below: ç ş ţ ą ę ș ț and their capitals). The network writes the
#: mark as a small stroke of its own, but with its middle only ~0.1 x-heights below the letter's bottom (median of 951
#: marks on selection lines), half of them touching or inside the letter, where a reader takes "mąka" for "maka",
#: "oraș" for "oras". `lower_marks` moves such a stroke down until its middle is `MARK_DROP` x-heights below the
#: letter; on 384 selection lines of such words (session 30, /tmp draws, seeds 0-1, 4 copies, style 2, check off,
#: every other placement step; read by tesseract with the accents' languages) the marked letters read 250 -> 301 of
#: 1,096, CER 0.1860 / 0.1806 -> 0.1756 / 0.1768 (0.25: 290, 0.1828 / 0.1763; 0.5: 226, 0.1936 / 0.1898); held out
#: on seed 2, 110 -> 136 of 544, 0.1919 -> 0.1884; on `scripts/mark_gaps.py sample --set below` seed 0 (`below F
#: --drops 0.25,0.35,0.5`) 157 -> 179 of 568, 0.1663 -> 0.1622 (0.25: 195, 0.1593; 0.5: 142, 0.1708), seed 1 133 -> 160
#: of 560, 0.1867 -> 0.1805.
BELOW_MARKED = frozenset(c for c in CHARSET if any(m in unicodedata.normalize("NFD", c) for m in "\u0326\u0327\u0328"))
MARK_DROP = 0.35
MARK_SIZE = 0.6  # a mark below: a stroke narrower and shorter than this many x-heights


def find_marks_below(pts: np.ndarray, spans, owner: np.ndarray, text: str) -> list[tuple[int, int, float, float]]:
    """(letter index, stroke index, the letter's bottom, x-height) of the mark of each letter of `text` in
    `BELOW_MARKED` that has one as a stroke of its own: a stroke smaller than `MARK_SIZE` x-heights both ways,
    written on the letter or later in its word (or on the space after it), its middle within 0.2 x-heights of the
    letter's horizontal extent and between the letter's middle and 1 x-height below its bottom (the letter: its
    larger strokes); the nearest to the letter's bottom middle if several. `pts`, `spans`, `owner` as
    `spacing.stroke_owners` gives them."""
    out = []
    for k, xh, (x0, x1, top, bottom), _, middle, level, near in _mark_candidates(pts, spans, owner, text, BELOW_MARKED,
                                                                                  MARK_SIZE, 0.2):
        cand = np.flatnonzero(near & (level >= (top + bottom) / 2) & (level <= bottom + xh))  # y grows down the page
        if len(cand):
            best = int(cand[np.argmin(np.abs(middle[cand] - (x0 + x1) / 2) + np.abs(level[cand] - bottom))])
            out.append((k, best, float(bottom), float(xh)))
    return out


def lower_marks(strokes: np.ndarray, chars: np.ndarray | None, text: str, drop: float = MARK_DROP) -> np.ndarray:
    """Offsets ``(N, 3)`` of one sampled line of `text` with the mark below each letter in `BELOW_MARKED`
    (`find_marks_below`) moved down until its middle is `drop` x-heights below the letter's bottom (never up; its
    shape, size and place along the line stay the network's, and nothing else moves). `chars` as for `cross_bars`.
    Returns `strokes` itself when nothing moves."""
    if chars is None or len(strokes) < 2 or not BELOW_MARKED.intersection(text):
        return strokes
    pts, spans, owner = stroke_owners(strokes, chars)
    box = _boxes(pts, spans)
    moved = False
    for _, j, bottom, xh in find_marks_below(pts, spans, owner, text):
        d = bottom + drop * xh - (box[j, 2] + box[j, 3]) / 2
        if d > 0:
            _shift_down(pts, spans, box, [j], d)
            moved = True
    return offsets_from(pts, strokes) if moved else strokes


#: Letters crossed by a slash through the stem (ł Ł). The network often writes the slash as a tick under half an
#: x-height long (median 0.46 of 854 on selection lines), and a reader takes "było" for "byto", "miło" for "mito".
#: `lengthen_slashes` stretches such a stroke about its middle, along its own direction, to `SLASH_LENGTH`
#: x-heights (at most `MAX_STRETCH` times). On 384 selection lines of Polish words (session 30, /tmp draws, seeds 0-1,
#: 4 copies, style 2, check off, every other placement step; tesseract with the accents' languages) ł and Ł read
#: 152 -> 181 and 152 -> 197 of 480, CER 0.1614 -> 0.1544 and 0.1478 -> 0.1424 (0.9 x-heights: 163 / 182, 0.1691 /
#: 0.1474); held out on seed 2 (3 copies) 113 -> 153 of 360, 0.1605 -> 0.1497.
SLASHED = frozenset("łŁ")
SLASH_LENGTH = 0.6
SLASH_SIZE = 0.8  # a slash: a stroke of 2+ points narrower and shorter than this many x-heights


def find_slashes(pts: np.ndarray, spans, owner: np.ndarray, text: str) -> list[tuple[int, int, float]]:
    """(letter index, stroke index, x-height) of the slash of each letter of `text` in `SLASHED` that has one as a
    stroke of its own: a stroke of two or more points smaller than `SLASH_SIZE` x-heights both ways, written on the
    letter or later in its word (or on the space after it), its middle within 0.3 x-heights of the letter's
    horizontal extent and 20-85% of the way down the letter (the letter: its larger strokes); the nearest to the
    letter's middle if several. `pts`, `spans`, `owner` as `spacing.stroke_owners` gives them."""
    out = []
    for k, xh, (x0, x1, top, bottom), box, middle, level, near in _mark_candidates(pts, spans, owner, text, SLASHED,
                                                                                    SLASH_SIZE, 0.3):
        cand = np.flatnonzero(near & (box[:, 4] >= 2)
                              & (level >= top + 0.2 * (bottom - top)) & (level <= top + 0.85 * (bottom - top)))
        if len(cand):
            out.append((k, int(cand[np.argmin(np.abs(middle[cand] - (x0 + x1) / 2))]), float(xh)))
    return out


def lengthen_slashes(strokes: np.ndarray, chars: np.ndarray | None, text: str, length: float = SLASH_LENGTH,
                     max_stretch: float = MAX_STRETCH) -> np.ndarray:
    """Offsets ``(N, 3)`` of one sampled line of `text` with each slash `find_slashes` finds shorter than `length`
    x-heights (corner to corner) stretched about its middle, along its own direction, to `length` (at most
    `max_stretch` times); its shape, slant and place stay the network's, and nothing else moves. `chars` as for
    `cross_bars`. Returns `strokes` itself when nothing changes."""
    if chars is None or len(strokes) < 2 or not SLASHED.intersection(text):
        return strokes
    pts, spans, owner = stroke_owners(strokes, chars)
    moved = False
    for _, j, xh in find_slashes(pts, spans, owner, text):
        a, b = spans[j]
        p = pts[a:b]
        mid = (p.min(axis=0) + p.max(axis=0)) / 2
        ext = float(np.hypot(*(p.max(axis=0) - p.min(axis=0))))
        if 0 < ext < length * xh:
            pts[a:b] = mid + (p - mid) * min(length * xh / ext, max_stretch)
            moved = True
    return offsets_from(pts, strokes) if moved else strokes


#: Letters the network writes raised off the line: it writes ß (learned from glyphs spliced into real lines) with
#: its foot a median 0.29 x-heights above the baseline of the small letters beside it, often as high as their tops
#: ("Stra ße", "wei ß"), and a reader splits the word at it. `seat_letters` moves such a letter's own strokes down
#: until its foot is on that baseline. On 288 selection lines of German words with ß (`scripts/mark_gaps.py` set
#: ``eszett``, seeds 0 and 1, 3 copies, style 2, check off, every other placement step; tesseract with the accents'
#: languages): ß read 97 -> 109 and 73 -> 87 of 360, CER 0.1818 -> 0.1704 and 0.1922 -> 0.1767 (moved when more
#: than 0.25 x-heights up: 0.1667 and 0.1925; set 0.15 x-heights below the line: 0.1707 and 0.2004); held out,
#: seeds 2 / 3: 85 -> 102 and 78 -> 100, CER 0.1686 -> 0.1713 and 0.1902 -> 0.1793. Written as users get them
#: (`mark_gaps.py users`, self-check on, seeds 4-7): ß read 145 -> 184 of 480, 878 -> 739 errors.
SEATED = frozenset("ß")
SEAT_MIN = 0.1  # x-heights: a foot higher than this above the baseline is moved down onto it
SEAT_SHARE = 0.6  # a stroke is the letter's own when at least this share of its points were written on it


def find_raised(pts: np.ndarray, spans, owner: np.ndarray, chars: np.ndarray,
                text: str) -> list[tuple[int, list, float, float]]:
    """(letter index, its own strokes, the height of its foot above the baseline, x-height) for each letter of `text` in
    `SEATED`: its strokes are those mostly written on it (`SEAT_SHARE` of their points; a stroke joined to a
    neighbour stays theirs), its foot the lowest point of those at least 0.3 x-heights tall, the baseline that of
    the small letters within six characters (`_band`). Letters with none of either are skipped. `pts`, `spans`,
    `owner` as `spacing.stroke_owners` gives them; `chars` the character of each point."""
    box = _boxes(pts, spans)
    ch = np.asarray(chars)
    out = []
    for k, c in enumerate(text):
        if c not in SEATED:
            continue
        own = [int(j) for j in np.flatnonzero(owner == k)
               if np.mean(ch[spans[j][0]:spans[j][1]] == k) >= SEAT_SHARE]
        xh, base = _band(pts, spans, owner, box, text, k) if own else (0.0, 0.0)
        body = [j for j in own if box[j, 3] - box[j, 2] >= 0.3 * xh]
        if xh > 0 and body:
            out.append((k, own, float(base - max(box[j, 3] for j in body)), xh))
    return out


def seat_letters(strokes: np.ndarray, chars: np.ndarray | None, text: str, min_lift: float = SEAT_MIN) -> np.ndarray:
    """Offsets ``(N, 3)`` of one sampled line of `text` with each letter in `SEATED` whose foot is more than
    `min_lift` x-heights above the baseline (`find_raised`) moved straight down, its own strokes together, until
    the foot is on it (never up; its shape and place along the line stay the network's, nothing else moves).
    `chars` as for `cross_bars`. Returns `strokes` itself when nothing moves."""
    if chars is None or len(strokes) < 2 or not SEATED.intersection(text):
        return strokes
    pts, spans, owner = stroke_owners(strokes, chars)
    box = _boxes(pts, spans)
    moved = False
    for _, own, lift, xh in find_raised(pts, spans, owner, np.asarray(chars)[: len(pts)], text):
        if lift > min_lift * xh:
            _shift_down(pts, spans, box, own, lift)
            moved = True
    return offsets_from(pts, strokes) if moved else strokes
