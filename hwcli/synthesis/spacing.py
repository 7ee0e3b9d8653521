"""Room after a point or colon: the network often writes the point of "38.24", the colon of "7:30" or the dot of
"example.org" against the next character, where a reader takes "3824", "730" or "exampleorg".
`space_marks` moves the ink written after such a mark to the right until the mark stands clear of the
next character; the letters themselves are the network's own, unchanged.

Measured on selection lines (never `hwcli eval`'s sets), `hwcli-charset` style 2, check off: `selection.hard_lines`
and `charset_lines` holding a point or colon (40 per seed, seeds 0 and 1, 6 copies each), and 40 lines of e-mail
and web addresses, times and scores per seed made for this (2 seeds, 4 copies each). Tesseract read a point
between two digits 13% of the time when the gap after it was under 0.1 of the digits' height, 29% at 0.1-0.2, 75%
at 0.2-0.3 and always above 0.3; a colon between digits 15-17% under 0.1 and 96% above 0.3; a point inside a word
7% under 0.1, 46% at 0.2-0.3, 79% at 0.3-0.5 and 92% above 0.5 of its neighbours' height. The gap before a mark
did not tell read from missed marks. Opening every gap to `POINT_GAP` read 34 -> 55 of 60 and 46 -> 81 of 96
decimal points; with `WORD_POINT_GAP` for points in words, the address lines read 109 -> 142 of 164 and 108 -> 146
of 172 points and 60 -> 98 and 42 -> 93 of 120 colons, CER 0.112 -> 0.105 and 0.112 -> 0.098 (0.3 in words read
129 of 164, CER 0.106; 0.6 read 149 but CER 0.112: the address falls apart into words). A colon inside a word
("C:\\home" in `charset_lines`, seeds 0-3, 8 copies): 0 of 88 read as written ("CAhome"), 68 of 88 with the
word's room, those lines' CER 0.141 -> 0.106.
"""
from __future__ import annotations

import numpy as np

#: Clear space after a point between two digits, in units of the two digits' ink height.
POINT_GAP = 0.3


#: ...and after a point or colon inside a word (an e-mail or web address, "P.S.", "https://", "C:\\"), in units of
#: its neighbours' height.
WORD_POINT_GAP = 0.45


def number_points(text: str) -> list[int]:
    """Indices of the points between two digits in `text` ("3.80", "1.5"): decimal points."""
    return [i for i in range(1, len(text) - 1) if text[i] == "." and text[i - 1].isdigit() and text[i + 1].isdigit()]


def spaced_marks(text: str, gap: float = POINT_GAP, word_gap: float | None = None) -> list[tuple[int, float]]:
    """(index, clear space after it in neighbour heights) of each mark of `text` given room: a point or colon
    between two digits ("3.80", "7:30"), and a point or colon between two other characters that are not spaces
    ("j.price", "example.org", "https://", "C:\\")."""
    word_gap = WORD_POINT_GAP if word_gap is None else word_gap
    out = []
    for i in range(1, len(text) - 1):
        a, c, b = text[i - 1], text[i], text[i + 1]
        if c in ".:" and a.isdigit() and b.isdigit():
            out.append((i, gap))
        elif c in ".:" and not a.isspace() and not b.isspace():
            out.append((i, word_gap))
    return out


def _components(pen: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each pen-down run of points: a stroke ends at a point whose pen flag is up."""
    ends = np.flatnonzero(pen > 0.5)
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends + 1, [len(pen)]])
    return [(int(a), int(b)) for a, b in zip(starts, stops) if b > a]


def space_marks(strokes: np.ndarray, chars: np.ndarray | None, text: str, gap: float = POINT_GAP,
                        word_gap: float | None = None) -> np.ndarray:
    """Offsets ``(N, 3)`` of one sampled line of `text`, with the ink after each mark of `spaced_marks` moved right
    until the mark stands clear of the next character (`gap` digit heights after a point or colon between digits,
    `word_gap` neighbour heights after a point in a word); never moved left. `chars`:
    the character the attention window was on at each point (`Sample.chars`); each stroke belongs to the
    character most of its points were written on, and the strokes of later characters move (a delayed stroke
    of an earlier one, such as an i-dot, stays). Returns `strokes` itself when nothing moves."""
    marks = spaced_marks(text, gap, word_gap)
    if not marks or chars is None or len(strokes) < 2:
        return strokes
    n = min(len(strokes), len(chars))
    pts = np.cumsum(np.asarray(strokes[:n, :2], np.float64), axis=0)
    comps = _components(np.asarray(strokes[:n, 2]))
    owner = np.array([int(np.bincount(np.clip(np.asarray(chars[a:b], np.int64), 0, None)).argmax()) for a, b in comps])
    shift = np.zeros(len(comps))
    for k, room in marks:
        ink = []
        for c in (k - 1, k, k + 1):
            js = np.flatnonzero(owner == c)
            if not len(js):
                break
            ink.append(np.concatenate([pts[comps[j][0]:comps[j][1]] + (shift[j], 0.0) for j in js]))
        if len(ink) < 3:
            continue  # the point or a digit beside it was not found in the alignment: left as written
        before, point, after = ink
        digits = np.concatenate([before, after])
        height = float(np.percentile(digits[:, 1], 95) - np.percentile(digits[:, 1], 5))
        need = room * height - (after[:, 0].min() - point[:, 0].max())
        if height > 0 and need > 0:
            shift[owner > k] += need
    if not shift.any():
        return strokes
    for (a, b), s in zip(comps, shift):
        pts[a:b, 0] += s
    out = np.array(strokes, np.float32, copy=True)
    out[0, :2] = pts[0]
    out[1:n, :2] = np.diff(pts, axis=0)
    return out
