"""Training lines for every character of the set (issue 23): real handwriting with accents added and symbols spliced in.

IAM-OnDB has no accented letters, none of ``@ # $ £ € = < > _ ...`` and only a handful of ``/ % & + X Z Q J``.
This script makes lines that hold them, in the hands of the data set's writers:

1. Every training line is aligned with a synthesis bundle (the attention window's most-weighted character at each
   point, `augment_rare.align`) and cut into words at pen lifts (`augment_rare.cut_words`); each writer gets a bank
   of their own words, with the character each point was written for, and their measures: x-height and baseline
   from the aligned small letters (`hwcli.strokes.x_height`, `aligned_baseline`), slant (`strokes.slant`) and the
   median distance between pen-down points.
2. New lines are written from a writer's own words, at their own word spacing (as augment_rare does), with one to
   three changes each:
   - **an accent on a real letter** (é from one of the writer's e's): the mark's ink (`charset_ink.mark_strokes`,
     sized and slanted to the writer) above, below or through the letter's own ink, written mostly straight after
     the letter (the pen lifts there) and sometimes, like many i-dots and t-bars, after the word; for í ì î ï ı
     the letter's own dot stroke is taken away first (a line whose i has no separate dot cannot give them);
   - **a symbol or a weak glyph** (`charset_ink.glyph_strokes`, the writer's x-height, slant and point spacing)
     on its own between words, attached to a word (``$18``, ``50%``, ``«oui»``, ``¿Qué``) or joining two words
     (``j.price@example``, ``and/or``, ``x=y``), with the writer's own digit words where they have them.
   Targets are taken round-robin over every character the set needs, so each gets its share.
3. The output is the input dataset plus the new lines (``trainset``, line ids ``chr-...``); validation (testset_v)
   is untouched. It is derived from IAM-OnDB: never commit it.

    python scripts/augment_charset.py --data iam.npz --model hwcli-synthesis -o iam-charset.npz --lines 12000
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import augment_rare as ar  # noqa: E402
import charset_ink as ink  # noqa: E402

from hwcli.alphabet import CHARSET, DEFAULT_CHARS  # noqa: E402
from hwcli.data.dataset import TRAIN_SPLITS, VALID_SPLIT, Dataset  # noqa: E402
from hwcli.strokes import aligned_baseline, estimate_baseline, slant, x_height  # noqa: E402

WEAK = "/%&+*XZQJxzqj047[]"  # in IAM-OnDB, but too few to learn from (the brackets: 3 lines)


@dataclass
class Word:
    text: str
    pts: np.ndarray  # (n, 3) [x, y, eos], left edge at x = 0, y down, the line's centre fit at y = 0
    chars: np.ndarray  # (n,) the word's character each point was written for (-1: the space before it)


@dataclass
class Hand:
    """One writer's words and measures (units: normalised model units, y down)."""
    words: list[Word] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    xh: list[float] = field(default_factory=list)
    base: list[float] = field(default_factory=list)
    slants: list[float] = field(default_factory=list)
    steps: list[float] = field(default_factory=list)

    def measures(self) -> tuple[float, float, float, float]:
        """(x-height, baseline y, slant, point step): medians over the writer's lines."""
        return (float(np.median(self.xh)), float(np.median(self.base)), float(np.median(self.slants)),
                float(np.median(self.steps)))


def _strokes_to_points(strokes: list[np.ndarray], dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    parts = []
    for s in strokes:
        s = np.asarray(s, np.float32)
        if len(s) == 0:
            continue
        eos = np.zeros((len(s), 1), np.float32)
        eos[-1] = 1.0
        parts.append(np.concatenate([s + np.array([dx, dy], np.float32), eos], 1))
    return np.concatenate(parts) if parts else np.zeros((0, 3), np.float32)


def _pen_down_step(pts: np.ndarray) -> float:
    d = np.linalg.norm(np.diff(pts[:, :2], axis=0), axis=1)
    down = pts[:-1, 2] < 0.5
    return float(np.median(d[down])) if down.any() else 0.0


def build_hands(ds: Dataset, idx: list[int], seqs, texts, chars) -> tuple[dict[int, Hand], int]:
    hands: dict[int, Hand] = {}
    clean = 0
    for i, s, t, c in zip(idx, seqs, texts, chars):
        w = int(ds.writer_ids[i])
        if w < 0:
            continue
        r = ar.cut_words(s, t, c, with_chars=True)
        if r is None:
            continue
        clean += 1
        pieces, gaps = r
        h = hands.setdefault(w, Hand())
        h.words.extend(Word(word, pts, ch) for word, pts, ch in pieces)
        h.gaps.extend(gaps)
        if len(h.xh) >= 8:  # a writer's measures settle on a few lines (and cost ~50 ms a line)
            continue
        # the line's measures, in the detrended frame of its pieces: rebuild the line's points from them
        line_pts, line_chars, text_pos, xoff = [], [], 0, 0.0
        for (word, pts, ch), g in zip(pieces, gaps + [0.0]):
            p = pts.copy()
            p[:, 0] += xoff
            line_pts.append(p)
            line_chars.append(np.where(ch >= 0, ch + text_pos, -1))
            text_pos += len(word) + 1
            xoff = p[:, 0].max() + g
        lp, lc = np.concatenate(line_pts), np.concatenate(line_chars)
        line_text = " ".join(p[0] for p in pieces)
        xh = x_height(lp, lc, line_text)
        if xh <= 0:
            continue
        b = aligned_baseline(lp, lc, line_text)
        h.xh.append(xh)
        h.base.append(b if b is not None else estimate_baseline(lp))
        h.slants.append(slant(lp))
        h.steps.append(_pen_down_step(lp))
    return {w: h for w, h in hands.items() if len(h.words) >= 6 and h.xh}, clean


# ----------------------------------------------------------------------------- changes to words
def _stroke_bounds(pts: np.ndarray) -> list[tuple[int, int]]:
    ends = np.flatnonzero(pts[:, 2] > 0.5)
    starts = np.concatenate([[0], ends[:-1] + 1])
    return [(int(a), int(b) + 1) for a, b in zip(starts, ends) if b >= a]


def _longest_run(ix: np.ndarray, gap: int = 2) -> np.ndarray:
    """The longest run of `ix` (sorted point indices) whose neighbours are at most `gap` apart."""
    cut = np.flatnonzero(np.diff(ix) > gap) + 1
    runs = np.split(ix, cut)
    return max(runs, key=len)


def letter_box(pts: np.ndarray, own: np.ndarray, chars: np.ndarray, j: int, xh: float,
               keep: np.ndarray | None = None) -> tuple[float, float, float, float] | None:
    """(x_left, x_right, y_top, y_bottom) of letter j's ink, or None when the alignment cannot be trusted there.

    The attention alignment gives each point the character the window weighs most; a letter's points are mostly
    one run, with strays (the lead-in of the next letter, a late i-dot or t-bar of another letter). The box is
    the longest run's 10th-90th x percentile (the i-dots of IAM-OnDB fall within half an x-height of the box's
    slant-corrected centre 82% of the time this way, 77% with the min-max of every point), and the letter is
    refused when the run is too short, too wide for one letter, or not between its neighbours."""
    ix = np.flatnonzero(own if keep is None else own & keep)
    if len(ix) < 3:
        return None
    run = _longest_run(ix)
    if len(run) < 3:
        return None
    x = pts[run, 0]
    xl, xr = float(np.percentile(x, 10)), float(np.percentile(x, 90))
    if xr - xl > 1.8 * xh:  # (an i or an l may be one upright line: no lower bound)
        return None
    cx = 0.5 * (xl + xr)
    for nb, side in ((j - 1, -1), (j + 1, 1)):  # the neighbours' runs must lie on their own sides
        nix = np.flatnonzero(chars == nb if keep is None else (chars == nb) & keep)
        if len(nix) >= 3:
            ncx = float(np.median(pts[_longest_run(nix), 0]))
            if side * (ncx - cx) < 0.1 * xh:
                return None
    y = pts[run, 1]
    return xl, xr, float(y.min()), float(y.max())


def add_accent(word: Word, j: int, target: str, rng, hand, mark_speed: float = 1.0) -> Word | None:
    """`word` with its letter j (the base of `target`) accented: the mark's ink added after the letter or the word;
    `mark_speed` multiplies the mark's point spacing (`charset_ink.mark_strokes`' `speed`, --mark-speed)."""
    xh, base, sl, step = hand[:4]
    dec = ink.decompose(target)
    if dec is None:
        return None
    _, marks = dec
    pts = word.pts
    own = word.chars == j
    if own.sum() < 3:
        return None
    keep = np.ones(len(pts), bool)
    if target in ink.DOTLESS:
        # take the i's own dot away: a short stroke above the x-height band, over the letter
        x0, x1 = pts[own, 0].min() - 0.4 * xh, pts[own, 0].max() + 0.4 * xh
        found = False
        for a, b in _stroke_bounds(pts):
            s = pts[a:b]
            ext = np.ptp(s[:, :2], axis=0).max() if len(s) > 1 else 0.0
            if (b - a <= 14 and ext < 0.45 * xh and s[:, 1].max() < base - 0.85 * xh
                    and x0 <= s[:, 0].mean() <= x1):
                keep[a:b] = False
                found = True
        if not found:
            return None
        own = own & keep
        if own.sum() < 3:
            return None
    box = letter_box(pts, own, word.chars, j, xh, keep)
    if box is None:
        return None
    if target in ink.DOTLESS:
        box = (box[0], box[1], max(box[2], base - 1.05 * xh), box[3])
    mark_pts = []
    for m in marks:
        strokes = ink.mark_strokes(m, rng, box=box, x_height=xh, slant=sl, step=step, capital=target.isupper(),
                                   speed=mark_speed)
        mark_pts.append(_strokes_to_points(strokes))
    mp = np.concatenate(mark_pts) if mark_pts else np.zeros((0, 3), np.float32)
    pts2, ch2 = pts[keep], word.chars[keep]
    if len(mp) == 0 and target not in ink.DOTLESS:
        return None
    # where the mark is written: mostly straight after the letter (the pen lifts there, in a joined hand too), while
    # the window is on the accented letter, so the network can tie the mark to it; sometimes after the word, as
    # many i-dots are (then the network must remember the letter: much harder to learn, so the lesser share)
    last = np.flatnonzero(ch2 == j)
    at = len(pts2)
    if len(last) and rng.random() < 0.8:
        at = int(last[-1]) + 1
        pts2 = pts2.copy()
        pts2[at - 1, 2] = 1.0
    new_pts = np.concatenate([pts2[:at], mp, pts2[at:]]).astype(np.float32)
    new_ch = np.concatenate([ch2[:at], np.full(len(mp), j), ch2[at:]])
    new_pts[-1, 2] = 1.0
    return Word(word.text[:j] + target + word.text[j + 1:], new_pts, new_ch)


DENSE_P = 0.4  # --dense-accents: the chance that each letter with accented forms gets one
DENSE_MAX = 4  # ... at most this many marks added to one word


def accent_forms(accents: list[str]) -> dict[str, list[str]]:
    """base letter -> the accented letters written on it (`charset_ink.decompose`): e -> é è ê ë ě ę ..."""
    out: dict[str, list[str]] = {}
    for t in accents:
        dec = ink.decompose(t)
        if dec is not None:
            out.setdefault(dec[0], []).append(t)
    return out


def densify(line: list[Word], forms: dict[str, list[str]], rng, hand, p: float = DENSE_P,
            mark_speed: float = 1.0) -> tuple[list[Word], list[str]]:
    """`line` with accents on many of its letters, as words of Polish, Czech or Hungarian have them ("zażółć",
    "ďábelské", "jövő"): each letter that has accented forms gets one of them with chance `p`, up to `DENSE_MAX`
    per word (a letter whose mark cannot be placed is left as it is). Returns the new words and the accented
    letters added. Real words of these languages hold an accent on every second or third letter; the other changes
    write one to three a line. (The words after a run of accented letters come out narrow for another reason, the
    marks' slow pen: see --mark-speed.)"""
    out, added = [], []
    for wd in line:
        n = 0
        for j, ch in enumerate(wd.text):
            opts = forms.get(ch)
            if not opts or n >= DENSE_MAX or rng.random() >= p:
                continue
            target = opts[int(rng.integers(len(opts)))]
            try:
                new = add_accent(wd, j, target, rng, hand, mark_speed)
            except (ValueError, IndexError, KeyError):
                new = None
            if new is not None:
                wd, n = new, n + 1
                added.append(target)
        out.append(wd)
    return out, added


CAPITALS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def capital_bank(words: list[Word], xh: float) -> dict[str, list[np.ndarray]]:
    """A writer's capital letters cut cleanly out of their words: {letter: [points (n, 3), ...]}.

    A capital is kept only where the alignment is trusted (`letter_box`) and its strokes are its own: every
    stroke holding one of its points is at least 85% its points (a capital joined to the next letter is left)."""
    bank: dict[str, list[np.ndarray]] = {}
    for wd in words:
        for j, c in enumerate(wd.text):
            if c not in CAPITALS:
                continue
            own = wd.chars == j
            if own.sum() < 3 or letter_box(wd.pts, own, wd.chars, j, xh) is None:
                continue
            sel, ok = np.zeros(len(wd.pts), bool), True
            for a, b in _stroke_bounds(wd.pts):
                m = own[a:b]
                if m.any():
                    if m.mean() < 0.85:
                        ok = False
                        break
                    sel[a:b] = True
            if ok:
                bank.setdefault(c, []).append(wd.pts[sel].copy())
    return bank


UPRIGHT_CAPITALS = frozenset("ABCDEFGHIKLMNOPRSTUVWXZ")  # no descender (J, Q and Y often have one)
CAP_HEIGHT_RANGE = (1.2, 3.2)  # a writer's capital height is kept within these x-heights


def writer_cap_heights(banks: dict[int, dict[str, list[np.ndarray]]], xhs: dict[int, float],
                       min_capitals: int = 4) -> dict[int, float]:
    """Each writer's capital height in x-heights: the median height of their cleanly cut capitals without a
    descender (`capital_bank`) over their x-height, within `CAP_HEIGHT_RANGE`; a writer with fewer than
    `min_capitals` such capitals gets the median of the others (IAM-OnDB: 2.3)."""
    own: dict[int, float] = {}
    for w, bank in banks.items():
        hs = [float(np.ptp(p[:, 1])) for c, ps in bank.items() if c in UPRIGHT_CAPITALS for p in ps]
        if len(hs) >= min_capitals and xhs[w] > 0:
            own[w] = float(np.clip(np.median(hs) / xhs[w], *CAP_HEIGHT_RANGE))
    typical = float(np.median(list(own.values()))) if own else 2.3
    return {w: own.get(w, typical) for w in xhs}


def caps_word(letters: str, bank: dict[str, list[np.ndarray]], rng, hand) -> Word:
    """`letters` (all in `bank`) written as one word of the writer's own capitals, each a copy picked at random,
    in the words' common frame (so their heights and baseline stay the writer's), a short gap between them."""
    xh = hand[0]
    parts, chars, x = [], [], 0.0
    for k, c in enumerate(letters):
        copies = bank[c]
        p = copies[int(rng.integers(len(copies)))].copy()
        p[:, 0] += x - p[:, 0].min()
        parts.append(p)
        chars.append(np.full(len(p), k))
        x = float(p[:, 0].max()) + xh * rng.uniform(0.12, 0.35)
    pts = np.concatenate(parts)
    pts[:, 0] -= pts[:, 0].min()
    pts[-1, 2] = 1.0
    return Word(letters, pts.astype(np.float32), np.concatenate(chars))


def caps_word_with(base: str, bank: dict[str, list[np.ndarray]], rng, hand) -> tuple[Word, int] | None:
    """A word of 2-6 of the writer's capitals holding `base` (at the returned index), or None when the writer
    has too few capitals to make one (the base letter and at least two others)."""
    if base not in bank or len(bank) < 3:
        return None
    n = int(rng.integers(2, 7))
    others = [c for c in bank if c != base]
    letters = list(rng.choice(others, size=n - 1, replace=True))
    j = int(rng.integers(n))
    letters.insert(j, base)
    return caps_word("".join(letters), bank, rng, hand), j


def glyph_word(text: str, rng, hand, digits: list[Word] | None = None) -> Word:
    """A token written from glyphs (the writer's own digit words where `text` is one of theirs is used instead)."""
    xh, base, sl, step = hand[:4]
    cap = hand[4] if len(hand) > 4 else None  # the writer's capital height (--writer-caps), else the skeletons'
    parts, chars, x = [], [], 0.0
    for k, c in enumerate(text):
        if c in ink.GLYPH_CHARS:
            strokes, adv = ink.glyph_strokes(c, rng, x_height=xh, slant=sl, step=step, cap_height=cap)
        else:  # the punctuation of numbers and codes that charset_ink leaves to the data: a dot, a dash
            strokes, adv = _plain(c, rng, xh)
        p = _strokes_to_points(strokes, dx=x, dy=base)
        parts.append(p)
        chars.append(np.full(len(p), k))
        x += adv + xh * rng.uniform(0.08, 0.22)
    pts = np.concatenate(parts)
    pts[:, 0] -= pts[:, 0].min()
    return Word(text, pts.astype(np.float32), np.concatenate(chars))


def _plain(c: str, rng, xh: float) -> tuple[list[np.ndarray], float]:
    if c == "-":
        y = -xh * rng.uniform(0.4, 0.55)
        w = xh * rng.uniform(0.45, 0.7)
        n = max(3, int(w / (xh / 6)))
        return [np.column_stack([np.linspace(0, w, n), y + np.linspace(0, -0.05 * xh, n)]).astype(np.float32)], w
    if c in ".,":
        d = xh * 0.08
        tail = [[0.0, 0.0], [d, d]] if c == "." else [[0.0, 0.0], [-0.05 * xh, 0.35 * xh]]
        return [np.array([[0.0, -d], *tail], np.float32)], 0.2 * xh
    raise KeyError(f"no ink for {c!r}")


def attach(a: Word, b: Word, gap: float) -> Word:
    """`a` and `b` written as one word (no space), `b` after `a` with `gap` between their inks."""
    pb = b.pts.copy()
    pb[:, 0] += a.pts[:, 0].max() + gap - pb[:, 0].min()
    ch = np.concatenate([a.chars, np.where(b.chars >= 0, b.chars + len(a.text), -1)])
    return Word(a.text + b.text, np.concatenate([a.pts, pb]).astype(np.float32), ch)


# ----------------------------------------------------------------------------- what to write
CURRENCY_PRE, CURRENCY_POST = "$£€¥", "€¢"
PRE = "#§•<[{(~±¿¡«"
POST = "%°>]})^*»:"
JOIN = "@_/\\|=+&×÷~^*-–—<>"
BRACKETS = "[]{}"
ALONE = "&+=-–—•§×÷±<>|~^#*@/"


def _number(rng, hand, digit_words: list[Word]) -> Word:
    if digit_words and rng.random() < 0.6:
        return digit_words[int(rng.integers(len(digit_words)))]
    n = str(int(rng.integers(1, 999))) if rng.random() < 0.6 else f"{rng.integers(1, 99)}.{rng.integers(0, 99):02d}"
    return glyph_word(n, rng, hand)


def symbol_piece(c: str, rng, hand, words: list[Word], digit_words: list[Word], lone_brackets: float = 0.0) -> list[Word]:
    """One to three words of a new line holding glyph character `c`, in a context people write it in.
    `lone_brackets`: the share of brackets written without their partner, on a word as where a line breaks inside
    brackets ("[the" ending a line, "roses!]" starting the next)."""
    xh = hand[0]
    g = glyph_word(c, rng, hand)
    pick = lambda: words[int(rng.integers(len(words)))]  # noqa: E731
    tight = lambda: xh * rng.uniform(0.1, 0.35)  # noqa: E731
    if c in BRACKETS and lone_brackets > 0 and rng.random() < lone_brackets:
        inner = _number(rng, hand, digit_words) if rng.random() < 0.25 else pick()
        return [attach(g, inner, tight() * 0.6)] if BRACKETS.index(c) % 2 == 0 else [attach(inner, g, tight() * 0.6)]
    r = rng.random()
    if c in CURRENCY_PRE + CURRENCY_POST + "%°" and r < 0.8:
        num = _number(rng, hand, digit_words)
        if c in "%°¢" or (c == "€" and rng.random() < 0.4):
            return [attach(num, g, tight())]
        return [attach(g, num, tight())]
    if c in BRACKETS and r < 0.8:
        # a bracketed word or number, as in "[1]", "[sic]", "{ok}": the closing bracket is written too
        k = BRACKETS.index(c) // 2
        opening = g if c == BRACKETS[2 * k] else glyph_word(BRACKETS[2 * k], rng, hand)
        closing = g if c == BRACKETS[2 * k + 1] else glyph_word(BRACKETS[2 * k + 1], rng, hand)
        inner = _number(rng, hand, digit_words) if rng.random() < 0.4 else pick()
        return [attach(attach(opening, inner, tight() * 0.6), closing, tight() * 0.6)]
    if c in "«" and r < 0.7:
        return [g, pick(), glyph_word("»", rng, hand)] if rng.random() < 0.5 else [attach(attach(g, pick(), tight()), glyph_word("»", rng, hand), tight())]
    if c in PRE and r < 0.5:
        return [attach(g, pick(), tight())]
    if c in POST and r < 0.5:
        return [attach(pick(), g, tight())]
    if c in JOIN and r < 0.75:
        return [attach(attach(pick(), g, tight()), pick(), tight())]
    if c.isalpha() and c.islower() and r < 0.8:
        # a lower-case letter made of glyphs (ß æ œ ð þ) is written inside words, between letters of the writer's
        # own, as in "Straße", "cœur", "verð", "þú": written only alone or before a word, the network never learnt to
        # join it to the letters around it ("Straße" came out "Stra'e", "große" "gro'e")
        lower = [w for w in words if w.text.isalpha() and w.text.islower()] or words
        low = lambda: lower[int(rng.integers(len(lower)))]  # noqa: E731
        joint = lambda: xh * rng.uniform(0.0, 0.15)  # noqa: E731
        if r < 0.45:
            return [attach(attach(low(), g, joint()), low(), joint())]
        if r < 0.7:
            return [attach(low(), g, joint())]
        return [attach(g, low(), joint())]
    if c.isalnum() and r < 0.5:
        # a weak letter or digit inside a code or before a word (a capital starting a word, "QX-47", "4/7")
        pool = [ch for ch in WEAK + "0123456789-" if (ch in ink.GLYPH_CHARS and ch not in BRACKETS) or ch == "-"]
        other = glyph_word("".join(rng.choice(pool, size=int(rng.integers(1, 3)))), rng, hand)
        return [attach(g, other, tight())] if rng.random() < 0.5 else [attach(g, pick(), tight())]
    return [g]


def pick_writer(writers: list, rng, next_target: str | None = None, capitals: dict | None = None):
    """The writer of a new line: any writer, or with `capitals` (writer -> the capitals in their words) and a
    `next_target` that is an accented capital, a writer who has written its base capital. Without that, an
    accented capital whose base few writers have (Ů Ú Ű Ù Ü Û: a capital U) is written only when a random writer
    happens to have one, and is the rarest character of every generated set."""
    if capitals is not None and next_target is not None and next_target.isupper():
        d = ink.decompose(next_target)
        if d is not None and d[0] != next_target:
            pool = [w for w in writers if d[0] in capitals.get(w, ())]
            if pool:
                return pool[int(rng.integers(len(pool)))]
    return writers[int(rng.integers(len(writers)))]


def _later(queue: list[str], target: str, rng, retried: Counter, limit: int = 30) -> None:
    """Put a target that this line could not take back into the queue, at a random place (at most `limit` times)."""
    if retried[target] < limit:
        retried[target] += 1
        queue.insert(int(rng.integers(len(queue) + 1)), target)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default=None, help="synthesis bundle for the alignment (default: bundled)")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--lines", type=int, default=12000, help="new lines to write")
    ap.add_argument("--words", default="3,7", help="words per new line: min,max")
    ap.add_argument("--max-chars", type=int, default=60)
    ap.add_argument("--accent-weight", type=int, default=1,
                    help="shares of each accented letter in the round-robin (a glyph has 3)")
    ap.add_argument("--lone-brackets", type=float, default=0.0,
                    help="share of brackets written on a word without their partner, as where a line breaks inside "
                         "brackets (e.g. 0.3; 0: as before, with the partner around a word or alone)")
    ap.add_argument("--capital-writers", action="store_true",
                    help="a line whose next accented letter is a capital goes to a writer who has written its base "
                         "capital (off: any writer, and the accented capital U's are the rarest characters)")
    ap.add_argument("--caps-share", type=float, default=0.0,
                    help="share of accented capitals written inside a word of the writer's own capitals (e.g. 0.4; "
                         "0: as before, in the writer's words)")
    ap.add_argument("--writer-caps", action="store_true",
                    help="write tall glyphs (capitals, digits, currency signs, brackets, ...) at the writer's own capital "
                         "height (`writer_cap_heights`; off: the skeletons' 1.45 x-heights, about 0.6 of a hand's capitals)")
    ap.add_argument("--dense-accents", type=float, default=0.0,
                    help="share of new lines whose words get accents on many letters (each letter with accented forms: "
                         f"chance {DENSE_P}), as in Polish, Czech or Hungarian text; 0: one to three accents a line")
    ap.add_argument("--extra-glyphs", default="",
                    help="characters of IAM-OnDB written from charset_ink's glyphs too, beside the weak ones (e.g. ':': "
                         "the network writes a colon as two specks at mid-height, which tesseract misses)")
    ap.add_argument("--mark-speed", type=float, default=1.0,
                    help="multiply the accent marks' point spacing (written at 0.45-0.6 of the letters' by default, "
                         "capped at the letters' own): marks written slowly taught a network to write the letters after "
                         "a run of them slowly too, so narrow")
    ap.add_argument("--boost", default="",
                    help="characters of the set written more often: each gets --boost-shares extra shares of the "
                         "round-robin (e.g. the characters the recognizer reads worst in `hwcli eval --set charset`)")
    ap.add_argument("--boost-shares", type=int, default=3, help="extra shares of each --boost character (>= 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="align only the first N training lines (for a trial)")
    ap.add_argument("--preview", default=None, help="write the first 40 new lines as an SVG here")
    ap.add_argument("--align-cache", default=None, help="keep the alignment in this .npz and reuse it (same data, model, limit)")
    ap.add_argument("--held-out", action="store_true",
                    help="write lines from the validation writers (testset_v) only, as a dataset of just the new lines in "
                         "testset_v: a held-out set to measure a recognizer or a network on the new characters")
    a = ap.parse_args(argv)
    if not 0.2 <= a.mark_speed <= 3.0:
        ap.error("--mark-speed must be between 0.2 and 3")
    if a.boost_shares < 1:
        ap.error("--boost-shares must be at least 1")
    t0 = time.time()

    import torch  # noqa: F401  (after hwcli's arithmetic rule)
    from hwcli.model.bundle import load_model, model_path

    ds = Dataset.load(a.data)
    bundle = load_model(model_path(a.model))
    alpha, scale = bundle.alphabet, bundle.scale
    splits = [VALID_SPLIT] if a.held_out else list(TRAIN_SPLITS)
    idx = [int(i) for i in ds.indices(splits) if ds.texts[i].strip() and all(c in alpha for c in ds.texts[i])]
    if a.limit:
        idx = idx[: a.limit]
    seqs = [ds.normalised_line(i, scale) for i in idx]
    texts = [ds.texts[i] for i in idx]
    cache = Path(a.align_cache) if a.align_cache else None
    if cache is not None and cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            flat, starts = z["chars"], z["starts"]
        chars = [flat[starts[k]:starts[k + 1]] for k in range(len(starts) - 1)]
        if len(chars) != len(seqs) or any(len(c) != len(s) for c, s in zip(chars, seqs)):
            raise SystemExit(f"{cache} was made for other data: delete it")
    else:
        chars = ar.align(bundle, seqs, texts)
        if cache is not None:
            np.savez(cache, chars=np.concatenate(chars), starts=np.concatenate([[0], np.cumsum([len(c) for c in chars])]))
    t_align = time.time() - t0
    hands, clean = build_hands(ds, idx, seqs, texts, chars)
    writers = sorted(hands)

    accents = [c for c in CHARSET if c not in DEFAULT_CHARS and ink.decompose(c) is not None]
    glyphs = [c for c in CHARSET if c not in DEFAULT_CHARS and ink.decompose(c) is None and c != " "]
    missing = [c for c in glyphs if c not in ink.GLYPH_CHARS]
    if missing:
        raise SystemExit(f"charset_ink has no glyph for {''.join(missing)!r}")
    glyphs += [c for c in WEAK if c in ink.GLYPH_CHARS]
    bad = [c for c in a.extra_glyphs if c not in ink.GLYPH_CHARS or c in glyphs]
    if bad:
        raise SystemExit(f"--extra-glyphs: no glyph of charset_ink for, or already written: {''.join(bad)!r}")
    glyphs += list(a.extra_glyphs)
    bad = [c for c in a.boost if c not in accents and c not in glyphs]
    if bad:
        raise SystemExit(f"--boost: not an accented letter or a glyph this script writes: {''.join(bad)!r}")
    boost = list(dict.fromkeys(a.boost)) * a.boost_shares
    forms = accent_forms(accents)
    per_writer = {w: (hands[w].measures(), [x for x in hands[w].words if x.text.isalpha() or x.text[:-1].isalpha()],
                      [x for x in hands[w].words if re.fullmatch(r"\d+([.,:]\d+)?", x.text)]) for w in writers}
    cut = ({w: capital_bank(hands[w].words, per_writer[w][0][0]) for w in writers}
           if a.caps_share > 0 or a.writer_caps else {})
    if a.writer_caps:  # the hand tuple's fifth element: the writer's capital height (x-heights) for the glyphs
        caps_h = writer_cap_heights(cut, {w: per_writer[w][0][0] for w in writers})
        per_writer = {w: ((*m, caps_h[w]), *rest) for w, (m, *rest) in per_writer.items()}
    banks = cut if a.caps_share > 0 else {}  # the capitals written into words of capitals (--caps-share)
    capitals = ({w: {c for x in hands[w].words for c in x.text if c.isupper()} for w in writers}
                if a.capital_writers else None)
    rng = np.random.default_rng(a.seed)
    queue: list[str] = []
    done: Counter = Counter()
    failed: Counter = Counter()
    retried: Counter = Counter()
    lo, hi = (int(v) for v in a.words.split(","))
    new_off, new_txt, new_ids, new_w = [], [], [], []
    tries = 0
    while len(new_txt) < a.lines and tries < a.lines * 20:
        tries += 1
        w = pick_writer(writers, rng, queue[-1] if queue else None, capitals)
        h = hands[w]
        hand, words, digit_words = per_writer[w]
        if len(words) < lo:
            continue
        n = int(rng.integers(lo, hi + 1))
        line = [words[int(k)] for k in rng.choice(len(words), size=min(n, len(words)), replace=False)]
        changes = int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15]))
        ok = 0
        for _ in range(changes):
            if not queue:
                queue = accents * a.accent_weight + glyphs * 3 + boost  # an accented letter starts from its base letter; a glyph from nothing
                rng.shuffle(queue)
            target = queue.pop()
            if target in accents:
                base_letter = ink.decompose(target)[0]
                cands = [(k, j) for k, wd in enumerate(line) for j, ch in enumerate(wd.text) if ch == base_letter
                         and target not in wd.text]
                caps = (caps_word_with(base_letter, banks[w], rng, hand)
                        if target.isupper() and banks and rng.random() < a.caps_share else None)
                if caps is not None:  # the capital inside a word of capitals, as in "NOËL", "ÉTÉ", "ŁÓDŹ"
                    plain = [k for k, x in enumerate(line) if all(ch in DEFAULT_CHARS for ch in x.text)]
                    k = int(rng.choice(plain)) if plain else len(line)  # never a word an earlier change made
                    line[k:k + 1] = [caps[0]]
                    cands = [(k, caps[1])]
                if not cands:
                    # look through the writer's whole bank for a word with this letter and put it in the line
                    bank = [wd for wd in h.words if base_letter in wd.text]
                    if bank:
                        line[int(rng.integers(len(line)))] = bank[int(rng.integers(len(bank)))]
                    elif base_letter in ink.GLYPH_CHARS:  # z, Z, X ...: the base letter from glyphs, before a word
                        gw = glyph_word(base_letter, rng, hand)
                        line[int(rng.integers(len(line)))] = attach(gw, words[int(rng.integers(len(words)))],
                                                                    hand[0] * rng.uniform(0.1, 0.3))
                    else:
                        _later(queue, target, rng, retried)  # another writer may have one (capitals are rare)
                        continue
                    cands = [(k, j) for k, wd in enumerate(line) for j, ch in enumerate(wd.text) if ch == base_letter]
                k, j = cands[int(rng.integers(len(cands)))]
                try:
                    new = add_accent(line[k], j, target, rng, hand, a.mark_speed)
                except (ValueError, IndexError, KeyError) as exc:  # a mark charset_ink cannot draw here: count it
                    failed[f"{target}: {type(exc).__name__}"] += 1
                    continue
                if new is None:
                    _later(queue, target, rng, retried)
                    continue
                line[k] = new
            else:
                try:
                    piece = symbol_piece(target, rng, hand, words, digit_words, a.lone_brackets)
                except (ValueError, IndexError, KeyError) as exc:
                    failed[f"{target}: {type(exc).__name__}"] += 1
                    continue
                pos = int(rng.integers(0, len(line) + 1))
                line[pos:pos] = piece
            done[target] += 1
            ok += 1
        if not ok:
            continue
        if a.dense_accents > 0 and rng.random() < a.dense_accents:
            line, more = densify(line, forms, rng, hand, mark_speed=a.mark_speed)
            done.update(more)
        while len(line) > 2 and sum(len(x.text) + 1 for x in line) - 1 > a.max_chars:
            plain = [k for k, x in enumerate(line) if all(c in DEFAULT_CHARS for c in x.text)]
            if not plain:
                break
            line.pop(int(rng.choice(plain)))
        gap = float(np.median(h.gaps))
        spread = float(np.std(h.gaps)) * 0.5
        gaps = list(np.clip(gap + spread * rng.standard_normal(len(line) - 1), 0.4 * gap, 2.0 * gap))
        off = ar.compose([(x.text, x.pts) for x in line], gaps)
        if not np.isfinite(off).all():
            continue
        new_off.append(off * np.array([scale, scale, 1.0], np.float32))
        new_txt.append(" ".join(x.text for x in line))
        new_ids.append(f"chr-{w}-{len(new_txt)}")
        new_w.append(w)

    old = [ds.line(i) for i in range(len(ds))]
    meta = dict(ds.meta)
    if a.held_out:  # just the new lines, as validation lines
        meta["augmentation_charset"] = {"script": "scripts/augment_charset.py", "args": vars(a), "held_out": True,
                                        "writers": len(writers), "new_lines": len(new_txt)}
        Dataset.from_lines(new_off, new_txt, new_ids, new_w, [VALID_SPLIT] * len(new_txt), meta).save(a.out)
        print(json.dumps(meta["augmentation_charset"], default=str, ensure_ascii=False))
        return 0
    meta["augmentation_charset"] = {"script": "scripts/augment_charset.py", "args": vars(a), "aligned_lines": len(idx),
                                    "clean_cuts": clean, "writers": len(writers), "new_lines": len(new_txt)}
    out = Dataset.from_lines(old + new_off, list(ds.texts) + new_txt, list(ds.line_ids) + new_ids,
                             [int(v) for v in ds.writer_ids] + new_w, list(ds.splits) + ["trainset"] * len(new_txt), meta)
    out.save(a.out)
    counts = Counter(c for t in new_txt for c in t if c not in DEFAULT_CHARS)
    thin = sorted((counts[c], c) for c in CHARSET if c not in DEFAULT_CHARS and c != " ")[:12]
    print(json.dumps({**meta["augmentation_charset"], "align_s": round(t_align, 1), "total_s": round(time.time() - t0, 1),
                      "new_chars": sum(counts.values()), "fewest": thin,
                      "ink_failures": dict(failed.most_common(10))}, default=str, ensure_ascii=False))
    for t in new_txt[:12]:
        print("  ", t)
    if a.preview:
        _preview(a.preview, new_off[:40], new_txt[:40], scale)
    return 0


def _preview(path: str, offs, txts, scale: float) -> None:
    import svgwrite

    from hwcli.strokes import split_strokes, to_points

    dwg = svgwrite.Drawing(path, size=("1400px", f"{60 * len(offs) + 20}px"))
    dwg.add(dwg.rect((0, 0), ("100%", "100%"), fill="white"))
    for k, (o, t) in enumerate(zip(offs, txts)):
        pts = to_points(o / np.array([scale, scale, 1.0], np.float32))
        pts[:, :2] -= pts[:, :2].min(0)
        f = 40.0 / max(np.ptp(pts[:, 1]), 1e-6)
        f = min(f, 1000.0 / max(np.ptp(pts[:, 0]), 1e-6))
        for s in split_strokes(pts):
            dwg.add(dwg.polyline([(float(x * f + 10), float(y * f + 60 * k + 15)) for x, y in s[:, :2]],
                                 stroke="black", fill="none", stroke_width=1.2))
        dwg.add(dwg.text(t, insert=(1050, 60 * k + 40), font_size=13, fill="#a00"))
    dwg.save()


if __name__ == "__main__":
    raise SystemExit(main())
