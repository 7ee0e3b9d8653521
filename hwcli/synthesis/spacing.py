"""Room after a point or colon, and a colon kept by its word: the network often writes the point of "38.24", the
colon of "7:30" or the dot of "example.org" against the next character, where a reader takes "3824", "730" or
"exampleorg", and the colon of "Note:" most of an x-height after its word, where a reader takes "Note :".
`space_marks` moves the ink written after such a point or colon to the right until the mark stands clear of the
next character, and a colon closing a word, with what follows, to the left until it stands close to the word (an
exclamation or question mark too: "you !" read "you I"; `CLOSERS`);
the letters themselves are the network's own, unchanged. A degree sign gets room after it the same way ("180°C"
read "180€" where the ring touched the C; `DEGREE_GAP`), a < or > before the = of "<=" and ">="
(`COMPARISON_GAP`), and a minus or plus sign opening a number before its digit ("-4°C" read "P", "+44" read "“4";
`SIGN_GAP`); what follows a hyphen inside a word or number is drawn in to it ("greenleaf- bakery"; `HYPHEN_GAP`),
and a t or f after a capital I is given room from the I's stem once the t's bar is lengthened ("It" read "H";
`stem_room`, `STEM_GAP`).

Measured on selection lines (never `hwcli eval`'s sets; `scripts/mark_gaps.py` samples and reports them),
`hwcli-charset` style 2, check off: `selection.hard_lines`
and `charset_lines` holding a point or colon (40 per seed, seeds 0 and 1, 6 copies each), and 40 lines of e-mail
and web addresses, times and scores per seed made for this (2 seeds, 4 copies each). Tesseract read a point
between two digits 13% of the time when the gap after it was under 0.1 of the digits' height, 29% at 0.1-0.2, 75%
at 0.2-0.3 and always above 0.3; a colon between digits 15-17% under 0.1 and 96% above 0.3; a point inside a word
7% under 0.1, 46% at 0.2-0.3, 79% at 0.3-0.5 and 92% above 0.5 of its neighbours' height. The gap before a mark
did not tell read from missed marks. Opening every gap to `POINT_GAP` read 34 -> 55 of 60 and 46 -> 81 of 96
decimal points; with `WORD_POINT_GAP` for points in words, the address lines read 109 -> 142 of 164 and 108 -> 146
of 172 points and 60 -> 98 and 42 -> 93 of 120 colons, CER 0.112 -> 0.105 and 0.112 -> 0.098 (0.3 in words read
129 of 164, CER 0.106; 0.6 read 149 but CER 0.112: the address falls apart into words). That room was measured in
its neighbours' height, which takes in an ascender or a descender: "www.greenleaf" (a w and a g) got nearly twice the
room of "x.net", and tesseract read a space after 183 of the 288 points and colons in words it read on those 320
lines (CER 0.1018 as session 24 shipped it). Measured in x-heights instead (session 25, same lines): 0.2 / 0.3 /
0.4 / 0.5 / 0.6 x-heights read at CER 0.1048 / 0.1006 / **0.0973** / 0.0996 / 0.1025; at 0.4, 263 of 336 marks
read, 105 with a space after. A colon inside a word
("C:\\home" in `charset_lines`, seeds 0-3, 8 copies): 0 of 88 read as written ("CAhome"), 68 of 88 with the
word's room, those lines' CER 0.141 -> 0.106. A colon closing a word (40 lines per seed such as "Note: bring the
pens for Rosa", seeds 0 and 1, 4 copies): the network leaves 0.6-1.2 x-heights before it in most copies, and
tesseract read a space before it 16% of the time at 0.6-0.8, 38% at 0.8-1.2, never under 0.6 (27 and 28 of 160
lines); drawn in to `COLON_LEAD` x-heights, 3 and 1 of 160, CER 0.036 -> 0.032 and 0.038 -> 0.032 (0.3: 0.030 and
0.033; 0.7: 0.031 on seed 0).
"""
from __future__ import annotations

import numpy as np

from ..strokes import SMALL_LETTERS

#: Clear space after a point between two digits, in units of the two digits' ink height.
POINT_GAP = 0.3


#: ...and after a point or colon inside a word (an e-mail or web address, "P.S.", "https://", "C:\\"), in x-heights
#: (of the small letters within six characters of it; where there are none, of its neighbours' height).
WORD_POINT_GAP = 0.4


#: A colon closing a word stands at most this many x-heights after it.
COLON_LEAD = 0.5


#: Clear space after a degree sign before what follows it ("180°C", "-4°F"), in x-heights (of the small letters
#: within six characters; where there are none, of its neighbours' height). The network writes the ring against
#: or into the C (clearance -0.26 x-heights, the median of 32 on selection lines) and tesseract reads the two as
#: one letter ("180€", "4T", "KC"). On 384 lines of symbols (session 26, /tmp draws): 0 of 32 rings and 12 of
#: 36 C's read as written; with 0.2 / 0.35 / 0.5 x-heights 29 / 29 / 27 rings, 34 / 35 / 34 C's, CER 0.0785 ->
#: 0.0739 / 0.0734 / 0.0734. With 0.3 on the ``symbols`` set of `scripts/mark_gaps.py` (seeds 0-1, 4 copies):
#: rings 4 -> 24 of 32, C's 14 -> 32 of 32, CER 0.0768 / 0.0722 -> 0.0714 / 0.0684.
DEGREE_GAP = 0.3


#: Clear space after a < or > followed by anything but a space ("x >= 10", "y <= 447", "->"), in x-heights: the
#: network writes the = into the sign, and tesseract reads "x > 10" or "<-". On the 48 `charset_lines` selection
#: lines holding one (seeds 0-3 as `scripts/mark_gaps.py` drew them in session 25, 8 copies): the sign read 29 of 48
#: times and the character after it 22 as written; with 0.2 / 0.3 / 0.45 / 0.6 x-heights 38 / 45 / 48 / 47 and 30 /
#: 37 / 41 / 41, those lines' CER 0.1017 -> 0.0847 / 0.0727 / 0.0664 / 0.0713. Again on the ``comparisons`` set of
#: `scripts/mark_gaps.py` (seeds 0-1, 4 copies, 384 lines, `symbols F` reads it): the signs 419 -> 566 of 576, the
#: = after them 231 -> 517 of 576, CER 0.1050 / 0.0985 -> 0.0529 / 0.0571.
COMPARISON_GAP = 0.45


#: Clear space after a sign opening a number ("-4°C", "+44 20", "±2 mm", "(-3)"), in x-heights: the network writes
#: the bar of a minus or plus against or across the digit, and tesseract reads "-4°" as "P" and "+4" as "“". On the
#: ``signs`` set of `scripts/mark_gaps.py` (seeds 0-1, 4 copies, 384 lines, 480 signs): signs read 297 / the
#: digits after them 406 as written; with 0.15 / 0.3 / 0.45 / 0.6 x-heights 311 / 343 / 345 / 347 and 415 / 420 /
#: 430 / 428, CER 0.0738 -> 0.0699 / 0.0683 / 0.0683 / 0.0675.
SIGN_GAP = 0.45
SIGNS = "-+±−"


def opens_number(text: str, i: int) -> bool:
    """Whether `text[i]` is a sign (`SIGNS`) opening a number: a digit right after it, and before it the line's start,
    a space or an opening bracket ("-4", "(+44", "from ±2"; not the hyphen of "INV-2027" or "A-4")."""
    return (text[i] in SIGNS and i + 1 < len(text) and text[i + 1].isdigit()
            and (i == 0 or text[i - 1].isspace() or text[i - 1] in "([{"))


#: Clear space between a digit and a degree sign after it ("4°C", "180°F"), in x-heights (of the small letters within
#: six characters; a pair with none near is left alone): the network writes the ring against the digit's top, and
#: tesseract reads the two as one ("-4°C" -> "-PC" on five of six seeds of eval's everyday lines). On the ``signs``
#: and ``symbols`` sets of `scripts/mark_gaps.py` (4 copies, the 64 lines a seed with such a pair; every other step
#: applied), the ring stood 0-0.3 x-heights from its digit and was read 28 (seed 0) and 35 (seed 1) of 64 times, the
#: digit 44 and 54; opened to 0.25 / 0.35 / 0.5 x-heights, seed 0: rings 41 / 53 / 55, digits 55 / 58 / 59, errors
#: 162 -> 143 / 120 / 124; seed 1 at 0.35 / 0.5: rings 48 / 49, digits 63 / 62, errors 158 -> 114 / 115.
#: `mark_gaps.py symbols F ... --degree-gaps` reads whole sets with it.
DIGIT_DEGREE_GAP = 0.35


def degrees_after_digits(text: str) -> list[int]:
    """Indices of the degree signs of `text` written right after a digit."""
    return [i for i in range(1, len(text)) if text[i] == "°" and text[i - 1].isdigit()]


#: The ink after a hyphen joining two words, letters or numbers ("well-known", "INV-2027", "www.green-river.com")
#: stands at most this many x-heights after it: the network often leaves most of an x-height there, and tesseract
#: reads a space after the hyphen ("greenleaf- bakery", "INV- 2027"). On the ``hyphens`` set of
#: `scripts/mark_gaps.py` (seeds 0-1, 4 copies, 384 lines, 480 hyphens), a space was read after a hyphen 4% of the
#: time with 0.2-0.4 x-heights after it, 18% at 0.4-0.6, 38% at 0.6-0.8, 57% at 0.8-1.0 (before it: 0-3% up to 0.6);
#: drawn in to 0.25 / 0.35 / 0.45 x-heights, a space read beside a hyphen 113 -> 34 / 37 / 57 times, hyphens read
#: 437 -> 443 / 444 / 447, CER 0.0638 -> 0.0537 / 0.0538 / 0.0580.
HYPHEN_GAP = 0.35
#: ... and the hyphen, with what follows, stands at most this many x-heights after the character before it: with the
#: room after it closed alone, a space was read before 30 of the 480 hyphens (after: 8), CER 0.0538; with the
#: hyphen drawn in to 0.4 / 0.55 x-heights as well, 7 / 21 (after: 10 / 9), hyphens read 444 -> 453 / 443, CER
#: 0.0522 / 0.0523.
HYPHEN_LEAD = 0.4


def joined_hyphens(text: str) -> list[int]:
    """Indices of the hyphens of `text` between two characters that are not spaces."""
    return [i for i in range(1, len(text) - 1) if text[i] == "-" and not text[i - 1].isspace() and not text[i + 1].isspace()]


def spaced_marks(text: str, gap: float = POINT_GAP, word_gap: float | None = None,
                 degree_gap: float | None = None, comparison_gap: float | None = None,
                 sign_gap: float | None = None) -> list[tuple[int, float]]:
    """(index, clear space after it) of each mark of `text` given room: a point or colon between two digits
    ("3.80", "7:30"; `gap`, in digit heights), a point or colon between two other characters that are not spaces
    ("j.price", "example.org", "https://", "C:\\"; `word_gap`, in x-heights), a degree sign followed by
    anything but a space ("180°C"; `degree_gap`, in x-heights), and a < or > followed by anything but a space
    (">=", "<="; `comparison_gap`, in x-heights), and a sign opening a number ("-4", "+44"; `opens_number`,
    `sign_gap`, in x-heights)."""
    word_gap = WORD_POINT_GAP if word_gap is None else word_gap
    sign_gap = SIGN_GAP if sign_gap is None else sign_gap
    degree_gap = DEGREE_GAP if degree_gap is None else degree_gap
    comparison_gap = COMPARISON_GAP if comparison_gap is None else comparison_gap
    out = [(0, sign_gap)] if text and opens_number(text, 0) else []
    for i in range(1, len(text) - 1):
        a, c, b = text[i - 1], text[i], text[i + 1]
        if c in ".:" and a.isdigit() and b.isdigit():
            out.append((i, gap))
        elif c in ".:" and not a.isspace() and not b.isspace():
            out.append((i, word_gap))
        elif c == "°" and not b.isspace():
            out.append((i, degree_gap))
        elif c in "<>" and not b.isspace():
            out.append((i, comparison_gap))
        elif opens_number(text, i):
            out.append((i, sign_gap))
    return out


def stroke_owners(strokes: np.ndarray, chars: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]], np.ndarray]:
    """A sampled line's absolute points (float64, its first `len(chars)` points), the (start, stop) of each pen-down
    stroke among them, and each stroke's character: the one the attention window was on (`chars`) for most of
    its points."""
    n = min(len(strokes), len(chars))
    pts = np.cumsum(np.asarray(strokes[:n, :2], np.float64), axis=0)
    ends = np.flatnonzero(np.asarray(strokes[:n, 2]) > 0.5)
    spans = [(int(a), int(b)) for a, b in zip(np.concatenate([[0], ends + 1]), np.concatenate([ends + 1, [n]])) if b > a]
    owner = np.array([int(np.bincount(np.clip(np.asarray(chars[a:b], np.int64), 0, None)).argmax()) for a, b in spans],
                     np.int64)
    return pts, spans, owner


def offsets_from(pts: np.ndarray, strokes: np.ndarray) -> np.ndarray:
    """The inverse of `stroke_owners`'s points: `strokes` (offsets, float32) with its first ``len(pts)`` points
    moved to the absolute points `pts` (a line's first offset is its first point; the rest are left as they were)."""
    n = len(pts)
    out = np.array(strokes, np.float32, copy=True)
    out[0, :2] = pts[0]
    out[1:n, :2] = np.diff(pts, axis=0)
    return out


def led_colons(text: str) -> list[int]:
    """Indices of the colons of `text` that close a word ("Note:", "https:"): after a character that is neither a
    space nor a digit."""
    return [i for i in range(1, len(text)) if text[i] == ":" and not text[i - 1].isspace() and not text[i - 1].isdigit()]


#: An exclamation or question mark closing a word is drawn in as a colon is (`COLON_LEAD`): the network writes it
#: 0.5-1.2 x-heights after the word, and tesseract reads a space before it ("you !", "Nuria !", "te ?") or takes a
#: "!" standing alone for an I ("thank you I"). On the ``closers`` selection set of `scripts/mark_gaps.py` (seeds
#: 0-1, 4 copies, 384 marks), read with no space before them 78% of the time at 0.3-0.5 x-heights, 64% at 0.5-0.8,
#: 49% at 0.8-1.2; drawn in to 0.3 / 0.5 / 0.7 x-heights, 224 -> 324 / 326 / 268 of 384, a space read before 62
#: -> 1 / 8 / 39, CER 0.0517 -> 0.0363 / 0.0337 / 0.0444.
CLOSERS = "!?"


def led_marks(text: str) -> list[int]:
    """Indices of the marks of `text` drawn in to the word they close: its colons that close a word (`led_colons`)
    and each ! or ? (`CLOSERS`) written right after a character that is not a space ("you!", "far?", "?!")."""
    return sorted(set(led_colons(text)) | {i for i in range(1, len(text))
                                           if text[i] in CLOSERS and not text[i - 1].isspace()})


#: Clear space between a capital I and a t or f right after it ("It", "If"), in x-heights (of the small letters
#: within six characters), measured after the t's bar is lengthened (`bars.cross_bars`): the network writes the I as
#: a bare stem and the t's bar or the f's arm reaches back to it, and tesseract reads the pair as one letter ("It"
#: -> "H", "[+", "If" -> "IF", "[E"). On the ``stems`` set of `scripts/mark_gaps.py` (seeds 0-1, 4 copies, 384
#: lines, 192 such pairs; every other step applied), the pairs stood 0.2-0.4 x-heights apart and read right 72 of
#: 192 times (466 errors); opened to 0.3 / 0.4 / 0.5 / 0.6 x-heights, 80 / 85 / 97 / 93 (449 / 430 / 427 / 447
#: errors); held out, seeds 2-3: 57 -> 80 / 87 of 192 at 0.4 / 0.5 (497 -> 473 / 465 errors). On another draw of
#: such lines (session 28, /tmp), 72 -> 88 / 96 / 91 of 192 at 0.3 / 0.4 / 0.5. What is left is mostly the I read as
#: "l", "[" or "|" and the f as F; a small l before a t or f reads right 96% of the time and is left alone.
STEM_GAP = 0.5
STEMS = "I"  # letters written as a bare stem...
BARRED = "tf"  # ...and the letters whose bar or arm reaches back to one


def stem_room(strokes: np.ndarray, chars: np.ndarray | None, text: str, gap: float = STEM_GAP) -> np.ndarray:
    """Offsets ``(N, 3)`` of one sampled line of `text`, with the ink after each capital I followed by a t or f
    (`STEMS`, `BARRED`) moved right until the two stand `gap` x-heights apart (of the small letters within six
    characters; a pair with none near is left alone); never moved left. `chars` as for `space_marks`; only the
    strokes of later characters move. Returns `strokes` itself when nothing moves."""
    pairs = [k for k in range(len(text) - 1) if text[k] in STEMS and text[k + 1] in BARRED]
    if not pairs or chars is None or len(strokes) < 2:
        return strokes
    pts, comps, owner = stroke_owners(strokes, chars)
    shift = np.zeros(len(comps))
    for k in pairs:
        stem, barred = _ink(pts, comps, owner, shift, k), _ink(pts, comps, owner, shift, k + 1)
        xh = _height(_ink(pts, comps, owner, shift, _small_near(text, k)))
        if stem is None or barred is None or xh <= 0:
            continue
        shift[owner > k] += max(gap * xh - (barred[:, 0].min() - stem[:, 0].max()), 0.0)
    return _shifted(strokes, pts, comps, shift)


def _shifted(strokes: np.ndarray, pts: np.ndarray, comps, shift: np.ndarray) -> np.ndarray:
    """`strokes` with each stroke of `comps` moved right by its `shift` (`pts` as `stroke_owners` gave them; changed
    in place); `strokes` itself when nothing moves."""
    if not shift.any():
        return strokes
    for (a, b), d in zip(comps, shift):
        pts[a:b, 0] += d
    return offsets_from(pts, strokes)


def _small_near(text: str, k: int) -> list[int]:
    """Indices of the small letters (`SMALL_LETTERS`) within six characters of `text[k]`."""
    return [i for i in range(max(k - 6, 0), min(k + 7, len(text))) if text[i] in SMALL_LETTERS]


def _ink(pts: np.ndarray, comps, owner: np.ndarray, shift: np.ndarray, c: int | list[int]) -> np.ndarray | None:
    """The points of the strokes of character(s) `c`, each moved right by its stroke's `shift`; None if none."""
    js = np.flatnonzero(np.isin(owner, c))
    return np.concatenate([pts[comps[j][0]:comps[j][1]] + (shift[j], 0.0) for j in js]) if len(js) else None


def _height(*parts: np.ndarray | None) -> float:
    """The 5th-95th percentile height of the points of `parts` together (0 if any is None)."""
    if any(p is None for p in parts):
        return 0.0
    y = np.concatenate(parts)[:, 1]
    return float(np.percentile(y, 95) - np.percentile(y, 5))


def space_marks(strokes: np.ndarray, chars: np.ndarray | None, text: str, gap: float = POINT_GAP,
                word_gap: float | None = None, lead: float = COLON_LEAD, degree_gap: float | None = None,
                comparison_gap: float | None = None, sign_gap: float | None = None,
                hyphen_gap: float | None = None, hyphen_lead: float | None = None,
                digit_degree_gap: float | None = None) -> np.ndarray:
    """Offsets ``(N, 3)`` of one sampled line of `text`, with the ink after each mark of `spaced_marks` moved right
    until the mark stands clear of the next character (`gap` digit heights after a point or colon between digits,
    `word_gap` x-heights after one in a word, `degree_gap` x-heights after a degree sign, `comparison_gap` after
    a < or >, `sign_gap` after a sign opening a number, or neighbour heights where no small letter is near; never moved left), and each colon, ! or ? closing a word (`led_marks`) and the ink after it moved left until it stands at most
    `lead` x-heights after the word (never moved right), and what follows a hyphen between two characters that are not
    spaces (`joined_hyphens`) moved left until it stands at most `hyphen_gap` x-heights after it, and the hyphen with
    it until it stands at most `hyphen_lead` x-heights after the character before it, and a degree sign after a digit
    (`degrees_after_digits`) with what follows moved right until it stands `digit_degree_gap` x-heights clear of
    the digit (of the small letters within six characters; none near: left alone; never moved left). `chars`: the
    character the attention window was on at each point (`Sample.chars`); each stroke belongs to the character most of its points were written on, and only the strokes of the mark's own and later
    characters move (a delayed stroke of an earlier one, such as an i-dot, stays). Returns `strokes` itself when
    nothing moves."""
    marks = [(k, "after", room) for k, room in spaced_marks(text, gap, word_gap, degree_gap, comparison_gap, sign_gap)]
    marks += [(k, "lead", lead) for k in led_marks(text)]
    marks += [(k, "hyphen lead", HYPHEN_LEAD if hyphen_lead is None else hyphen_lead) for k in joined_hyphens(text)]
    marks += [(k, "close", HYPHEN_GAP if hyphen_gap is None else hyphen_gap) for k in joined_hyphens(text)]
    marks += [(k, "before", DIGIT_DEGREE_GAP if digit_degree_gap is None else digit_degree_gap)
              for k in degrees_after_digits(text)]
    if not marks or chars is None or len(strokes) < 2:
        return strokes
    pts, comps, owner = stroke_owners(strokes, chars)
    shift = np.zeros(len(comps))

    def ink(c: int | list[int]) -> np.ndarray | None:
        return _ink(pts, comps, owner, shift, c)

    for k, kind, room in sorted(marks):
        before, mark = ink(k - 1), ink(k)
        if kind == "before":  # a degree sign after a digit: it and what follows moved right, clear of the digit
            xh = _height(ink(_small_near(text, k)))
            if xh > 0 and before is not None and mark is not None:
                shift[owner >= k] += max(room * xh - (mark[:, 0].min() - before[:, 0].max()), 0.0)
        elif kind in ("after", "close", "hyphen lead"):
            after = ink(k + 1)
            if mark is None or after is None or (kind == "hyphen lead" and before is None):
                continue  # the mark or a neighbour not found in the alignment
            h = _height(before, after)  # between digits: their height
            if not (kind == "after" and k > 0 and text[k - 1].isdigit() and text[k + 1].isdigit()):
                # elsewhere: in x-heights, else the neighbours' height
                # (a space before "<=": the next character's height)
                h = _height(ink(_small_near(text, k))) or h or _height(after)
            if h > 0 and kind == "after":
                need = room * h - (after[:, 0].min() - mark[:, 0].max())
                shift[owner > k] += max(need, 0.0)
            elif h > 0 and kind == "close":  # a joined hyphen: what follows drawn in to it
                extra = (after[:, 0].min() - mark[:, 0].max()) - room * h
                shift[owner > k] -= max(extra, 0.0)
            elif h > 0:  # ... and the hyphen with it, to the character before it
                extra = (mark[:, 0].min() - before[:, 0].max()) - room * h
                shift[owner >= k] -= max(extra, 0.0)
        else:
            xh = _height(ink([i for i in range(max(k - 6, 0), k) if text[i] in SMALL_LETTERS]))
            if xh > 0 and before is not None and mark is not None:
                extra = (mark[:, 0].min() - before[:, 0].max()) - room * xh
                shift[owner >= k] -= max(extra, 0.0)
    return _shifted(strokes, pts, comps, shift)
