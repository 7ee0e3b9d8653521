"""scripts/augment_charset.py: accents added to real letters, glyph words attached to real words."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))
import augment_charset as aug  # noqa: E402  (scripts/ is not a package)

HAND = (1.0, 0.0, 0.1, 0.15)  # x-height, baseline y, slant, point step (y down: ink above the baseline is < 0)


def _stroke(x0, x1, y0, y1, n=8):
    pts = np.column_stack([np.linspace(x0, x1, n), np.linspace(y0, y1, n), np.zeros(n)])
    pts[-1, 2] = 1.0
    return pts


def _word_tie():
    """"tie": a t stem and bar, an i stem and its dot (a separate short stroke high up), an e."""
    parts = [(_stroke(0.0, 0.1, -1.6, 0.0), 0), (_stroke(-0.2, 0.4, -1.0, -1.0, 5), 0),
             (_stroke(0.6, 0.65, -1.0, 0.0), 1), (_stroke(0.62, 0.64, -1.5, -1.45, 2), 1),
             (_stroke(0.9, 1.5, -0.5, -0.1, 10), 2)]
    pts = np.concatenate([p for p, _ in parts]).astype(np.float32)
    chars = np.concatenate([np.full(len(p), c) for p, c in parts])
    return aug.Word("tie", pts, chars)


def _added(out, w):
    """The rows of `out` that are not rows of `w` (the mark's ink)."""
    return out.pts[[i for i in range(len(out.pts)) if not any(np.allclose(out.pts[i], p) for p in w.pts)]]


def test_an_accent_is_written_above_its_letter_and_the_transcript_changes():
    w = _word_tie()
    out = aug.add_accent(w, 2, "é", np.random.default_rng(0), HAND)
    assert out is not None and out.text == "tié"
    mark = _added(out, w)
    assert len(mark) >= 2 and mark[:, 1].max() < w.pts[w.chars == 2, 1].min()  # above the e (y down)
    assert (out.chars[len(out.pts) - len(mark):] == 2).all() or (out.chars == 2).sum() > (w.chars == 2).sum()
    assert out.pts[-1, 2] == 1.0


def test_mark_speed_writes_the_mark_with_fewer_wider_spaced_points():
    w = _word_tie()
    slow = _added(aug.add_accent(w, 2, "ê", np.random.default_rng(0), HAND), w)
    fast = _added(aug.add_accent(w, 2, "ê", np.random.default_rng(0), HAND, mark_speed=1.5), w)
    assert 2 <= len(fast) < len(slow)
    step = lambda m: float(np.median(np.hypot(*np.diff(m[:, :2], axis=0).T)))  # noqa: E731
    assert step(fast) > 1.2 * step(slow)


def test_an_accented_i_loses_its_own_dot_first():
    w = _word_tie()
    out = aug.add_accent(w, 1, "í", np.random.default_rng(1), HAND)
    assert out is not None and out.text == "tíe"
    dot = w.pts[(w.chars == 1) & (w.pts[:, 1] < -1.4)]
    assert not any(np.allclose(p, q) for p in out.pts for q in dot)  # the dot stroke is gone
    bare = aug.add_accent(aug.Word("te", w.pts[w.chars != 1], w.chars[w.chars != 1]), 0, "ı", np.random.default_rng(1), HAND)
    assert bare is None  # no i, no dot to take away


def test_glyph_words_attach_without_a_space_and_keep_their_characters():
    rng = np.random.default_rng(2)
    num = aug.glyph_word("18", rng, HAND)
    money = aug.attach(aug.glyph_word("£", rng, HAND), num, 0.2)
    assert money.text == "£18"
    assert set(money.chars.tolist()) == {0, 1, 2}
    first = money.pts[money.chars == 0, 0].max()
    assert money.pts[money.chars == 1, 0].min() > first  # the digits come after the pound sign
    assert np.isfinite(money.pts).all() and money.pts[-1, 2] == 1.0


def test_the_letter_box_ignores_stray_points_and_refuses_a_confused_alignment():
    # "oe": an o (points 0-9), then an e (10-19); two late points far right are aligned to the o (a stray)
    o = _stroke(0.0, 0.6, -0.5, -0.5, 10)
    e = _stroke(0.9, 1.5, -0.5, -0.4, 10)
    stray = _stroke(3.0, 3.1, -0.5, -0.5, 2)
    pts = np.concatenate([o, e, stray]).astype(np.float32)
    chars = np.array([0] * 10 + [1] * 10 + [0] * 2)
    xl, xr, yt, yb = aug.letter_box(pts, chars == 0, chars, 0, 1.0)
    assert 0.0 <= xl < xr <= 0.6  # the o's own run, not stretched to the stray at x = 3
    # the same ink with the alignment a letter off: "o" said to be the right-hand ink, "e" the left
    swapped = np.array([1] * 10 + [0] * 10 + [0] * 2)
    assert aug.letter_box(pts, swapped == 0, swapped, 0, 1.0) is None
    # a run wider than any one letter is not trusted
    wide = _stroke(0.0, 4.0, -0.5, -0.5, 20).astype(np.float32)
    assert aug.letter_box(wide, np.ones(20, bool), np.zeros(20, int), 0, 1.0) is None


def test_a_bracket_is_written_with_its_partner_around_a_word():
    words, digits = [_word_tie()], [aug.glyph_word("42", np.random.default_rng(0), HAND)]
    seen = set()
    for seed in range(40):
        for c in "[]{}":
            piece = aug.symbol_piece(c, np.random.default_rng(seed), HAND, words, digits)
            if len(piece) == 1 and len(piece[0].text) > 1:  # else the bracket alone (a fifth of the time)
                w = piece[0]
                assert w.text[0] + w.text[-1] in ("[]", "{}") and c in (w.text[0], w.text[-1])
                inner = w.text[1:-1]
                assert inner == "tie" or inner.replace(".", "").isdigit()
                last = len(w.text) - 1
                assert w.pts[w.chars == last, 0].min() > w.pts[w.chars == last - 1, 0].max()  # closes after
                assert w.pts[w.chars == 0, 0].max() < w.pts[w.chars == 1, 0].min()  # opens before
                seen.add(w.text if inner in ("tie", "42") else w.text[0] + "n" + w.text[-1])
    assert {"[tie]", "[42]", "[n]", "{tie}", "{42}", "{n}"} <= seen
    assert "[" in aug.WEAK and "]" in aug.WEAK  # IAM-OnDB has 3 lines with them: the new lines teach them


def test_a_lone_bracket_is_written_on_a_word_as_where_a_line_breaks_inside_brackets():
    words, digits = [_word_tie()], [aug.glyph_word("42", np.random.default_rng(0), HAND)]
    for seed in range(10):
        for c in "[]{}":
            (w,) = aug.symbol_piece(c, np.random.default_rng(seed), HAND, words, digits, lone_brackets=1.0)
            opening = c in "[{"
            inner = w.text[1:] if opening else w.text[:-1]
            assert (w.text[0] if opening else w.text[-1]) == c and (inner == "tie" or inner.replace(".", "").isdigit())
            k = 0 if opening else len(w.text) - 1
            other = w.chars[(w.chars >= 0) & (w.chars != k)]
            if opening:
                assert w.pts[w.chars == k, 0].max() < w.pts[np.isin(w.chars, other), 0].min()  # before its word
            else:
                assert w.pts[w.chars == k, 0].min() > w.pts[np.isin(w.chars, other), 0].max()  # after it
    # off by default: the partner is there (or the bracket stands alone)
    piece = aug.symbol_piece("]", np.random.default_rng(3), HAND, words, digits)
    assert len(piece[0].text) == 1 or piece[0].text[0] + piece[0].text[-1] == "[]"


def _capital_word(text, joined=False):
    """A word whose first letter is a capital written on its own (two strokes: a stem and a bar, cap height 1.6),
    then small letters; `joined`: the capital's last stroke runs on into the next letter (one stroke for both)."""
    cap = [(_stroke(0.0, 0.0, -1.6, 0.0), 0), (_stroke(-0.1, 0.7, -1.6, -1.6, 6), 0)]
    rest = [(_stroke(1.0 + k, 1.6 + k, -0.5, -0.1, 8), k + 1) for k in range(len(text) - 1)]
    parts = cap + rest
    pts = np.concatenate([p for p, _ in parts]).astype(np.float32)
    chars = np.concatenate([np.full(len(p), c) for p, c in parts])
    if joined:  # the bar's end and the next letter as one stroke: its pen-up removed
        pts[len(cap[0][0]) + len(cap[1][0]) - 1, 2] = 0.0
    return aug.Word(text, pts, chars)


def test_capitals_are_cut_whole_from_a_writers_words_and_make_words_of_capitals():
    words = [_capital_word("Tea"), _capital_word("Ends"), _capital_word("Nod"), _capital_word("Lot", joined=True)]
    bank = aug.capital_bank(words, 1.0)
    assert sorted(bank) == ["E", "N", "T"]  # the L runs on into its o: not a clean cut
    assert all(len(p) == 14 and p[-1, 2] == 1.0 for v in bank.values() for p in v)  # both strokes, nothing else
    rng = np.random.default_rng(3)
    for _ in range(20):
        word, j = aug.caps_word_with("E", bank, rng, HAND)
        assert word.text[j] == "E" and set(word.text) <= set("ENT") and 2 <= len(word.text) <= 6
        assert sorted(set(word.chars.tolist())) == list(range(len(word.text)))
        lefts = [word.pts[word.chars == k, 0].min() for k in range(len(word.text))]
        assert lefts == sorted(lefts)  # one after the other
        assert np.isclose(word.pts[:, 1].min(), -1.6)  # the writer's own cap height, not rescaled
        out = aug.add_accent(word, j, "É", rng, HAND)
        if out is not None:
            assert out.text == word.text[:j] + "É" + word.text[j + 1:]
            mark = _added(out, word)
            assert len(mark) >= 2 and mark[:, 1].max() < -1.6  # above the capital
    assert aug.caps_word_with("A", bank, rng, HAND) is None  # no A in this hand
    assert aug.caps_word_with("E", {"E": bank["E"], "N": bank["N"]}, rng, HAND) is None  # too few capitals


def test_an_accented_capital_goes_to_a_writer_who_has_written_its_base_capital():
    writers = [1, 2, 3, 4]
    capitals = {1: {"T"}, 2: {"U", "T"}, 3: set(), 4: {"E"}}
    rng = np.random.default_rng(0)
    assert {aug.pick_writer(writers, rng, "Ů", capitals) for _ in range(30)} == {2}
    assert {aug.pick_writer(writers, rng, "É", capitals) for _ in range(30)} == {4}
    # nobody has the base capital, a lower-case target, a glyph, or the option off: any writer
    for target, caps in (("Ÿ", capitals), ("é", capitals), ("€", capitals), ("Ů", None), (None, capitals)):
        assert {aug.pick_writer(writers, rng, target, caps) for _ in range(60)} == set(writers)
    # off, the random stream is the one of a plain draw (the recipes reproduce)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    assert [aug.pick_writer(writers, a, "Ů", None) for _ in range(8)] == [writers[int(b.integers(4))] for _ in range(8)]


def test_a_writers_capital_height_is_measured_from_their_clean_capitals():
    cap = lambda h: np.array([[0.0, 0.0, 0.0], [0.1, -h, 0.0], [0.2, 0.0, 1.0]], np.float32)  # noqa: E731
    banks = {1: {"T": [cap(2.0), cap(2.2)], "E": [cap(2.1), cap(2.4)]},  # 4 capitals: their own, 2.15
             2: {"J": [cap(5.0)] * 6, "T": [cap(1.0)]},  # J has a descender: left out; too few: the others'
             3: {"A": [cap(4.0)] * 4},  # 8 x-heights tall: kept within the range
             4: {}}
    xhs = {1: 1.0, 2: 1.0, 3: 0.5, 4: 2.0}
    h = aug.writer_cap_heights(banks, xhs)
    assert np.isclose(h[1], 2.15) and h[3] == aug.CAP_HEIGHT_RANGE[1]
    assert h[2] == h[4] == np.median([h[1], h[3]])
    rng = np.random.default_rng(4)
    small = aug.glyph_word("X7", np.random.default_rng(4), HAND)
    tall = aug.glyph_word("X7", rng, (*HAND, 2.9))  # the hand's fifth element: its capital height
    assert np.isclose(-tall.pts[:, 1].min() / -small.pts[:, 1].min(), 2.9 / 1.45, rtol=0.05)


def test_dense_accents_put_marks_on_many_letters_of_a_word():
    forms = aug.accent_forms([c for c in "éèëíïÉ" ])
    assert sorted(forms["e"]) == ["è", "é", "ë"] and forms["E"] == ["É"] and sorted(forms["i"]) == ["í", "ï"]
    line = [_word_tie(), _word_tie()]
    out, added = aug.densify(line, forms, np.random.default_rng(3), HAND, p=1.0)
    assert [len(w.text) for w in out] == [3, 3] and all(w.text[0] == "t" for w in out)
    assert all(w.text[1] in "íï" and w.text[2] in "éèë" for w in out)  # every letter with accented forms got one
    assert sorted(added) == sorted(c for w in out for c in w.text[1:])
    assert all(len(o.pts) > len(i.pts) for o, i in zip(out, line))
    none, added = aug.densify(line, forms, np.random.default_rng(3), HAND, p=0.0)
    assert [w.text for w in none] == ["tie", "tie"] and added == []
    capped, _ = aug.densify([aug.Word("eeeeee", np.concatenate([_stroke(1.2 * k, 1.2 * k + 0.6, -0.5, -0.1, 10)
                                                                 for k in range(6)]).astype(np.float32),
                                      np.repeat(np.arange(6), 10))], forms, np.random.default_rng(0), HAND, p=1.0)
    assert sum(c != "e" for c in capped[0].text) == aug.DENSE_MAX


def test_a_lower_case_glyph_letter_is_written_inside_words():
    """ß æ œ ð þ are written between, after or before the writer's own letters ("Straße", "cœur", "þú"), one
    word, the glyph's ink between its neighbours' in order; never only alone."""
    words, digits = [_word_tie()], [aug.glyph_word("42", np.random.default_rng(0), HAND)]
    kinds = set()
    for c in "ßæœðþ":
        for seed in range(30):
            piece = aug.symbol_piece(c, np.random.default_rng(seed), HAND, words, digits)
            if len(piece) != 1 or len(piece[0].text) == 1:
                continue
            w = piece[0]
            k = w.text.index(c)
            assert w.text.replace(c, "", 1) in ("tie", "tietie"), w.text
            if k > 0:
                assert w.pts[w.chars == k - 1, 0].max() <= w.pts[w.chars == k, 0].min() + 1e-6
            if k < len(w.text) - 1:
                assert w.pts[w.chars == k, 0].max() <= w.pts[w.chars == k + 1, 0].min() + 1e-6
            kinds.add("inside" if 0 < k < len(w.text) - 1 else "after" if k else "before")
    assert kinds == {"inside", "after", "before"}
