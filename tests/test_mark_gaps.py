"""scripts/mark_gaps.py: which marks it measures, the gaps it finds from the alignment, and the table it prints."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from ink_helpers import aligned_line

_spec = importlib.util.spec_from_file_location("mark_gaps", Path(__file__).resolve().parents[1] / "scripts" / "mark_gaps.py")
mark_gaps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mark_gaps)


def test_kinds_of_marks():
    text = "3.8 7:3 a.b C:x no: . 5. x:"
    found = [k for k in range(len(text)) if mark_gaps.kind_of(text, k)]
    assert found == [1, 5, 9, 13, 18, 26]
    assert mark_gaps.kind_of(text, 1) == "point between digits" and mark_gaps.kind_of(text, 5) == "colon between digits"
    assert mark_gaps.kind_of(text, 9) == "point in a word" and mark_gaps.kind_of(text, 13) == "colon in a word"
    assert mark_gaps.kind_of(text, 18) == "colon closing a word" and mark_gaps.kind_of(text, len(text) - 1) == \
        "colon closing a word"
    assert mark_gaps.kind_of(text, 20) is None and mark_gaps.kind_of(text, 23) is None  # alone; a full stop


def test_gaps_come_from_each_strokes_character_and_the_table_bins_them():
    # "3.8": digits 4 tall; the point 0.4 after the 3 and 0.6 before the 8
    off, chars = aligned_line([(0, [(0, 0), (2, 0), (2, 4)]), (1, [(2.4, 4.0), (2.45, 4.0)]), (2, [(3.05, 0), (5, 4)])])
    assert [(k, kind, round(b, 3), round(a, 3)) for k, kind, b, a in mark_gaps.mark_gaps(off, chars, "3.8")] == \
        [(1, "point between digits", 0.1, 0.15)]
    row = {"text": "3.8", "strokes": off, "chars": chars, "ocr": "38"}
    table = mark_gaps.gap_table([row, dict(row, ocr="3.8")])
    cells = {(lo, hi): (n, share) for lo, hi, n, share in table["point between digits"] if n}
    assert cells == {(0.1, 0.2): (2, 0.5)}
    assert mark_gaps.read_right("3.8", "38") == [True, False, True]


def test_the_bar_table_bins_each_ts_crossbar_width_against_its_reading():
    from test_bars import A, BAR, E, STEM  # "ate", its t crossed after the word

    short = [(x + (x - 3.0) * 0.5, y) for x, y in BAR]  # a bar 0.3 x-heights wide
    off, chars = aligned_line([(0, A), (1, STEM), (2, E), (2, short)])
    wide = [(x + (x - 3.0) * 2.5, y) for x, y in BAR]  # 0.7
    off2, chars2 = aligned_line([(0, A), (1, STEM), (2, E), (2, wide)])
    rows = [{"text": "ate", "strokes": off, "chars": chars, "ocr": "ale"},
            {"text": "ate", "strokes": off, "chars": chars, "ocr": "ate"},
            {"text": "ate", "strokes": off2, "chars": chars2, "ocr": "ate"},
            {"text": "ae", "strokes": off, "chars": chars, "ocr": "ae"}]  # no t: not counted
    cells = {(lo, hi): (n, share) for lo, hi, n, share in mark_gaps.bar_table(rows) if n}
    assert cells == {(0.2, 0.4): (2, 0.5), (0.6, 0.8): (1, 1.0)}


def test_the_symbols_set_holds_each_measured_symbol_and_is_the_same_for_a_seed():
    lines = mark_gaps.selection_lines("symbols", 0)
    assert len(lines) == 48 and lines == mark_gaps.selection_lines("symbols", 0)
    assert lines != mark_gaps.selection_lines("symbols", 1)
    for c in "–—±×÷•_°¥=+":
        assert sum(c in t for t in lines) >= 4, c
    from hwcli.evaluation.charset_sets import EVERYDAY

    assert not set(lines) & set(EVERYDAY)  # selection lines, never eval's


def test_an_exclamation_or_question_mark_closing_a_word_is_measured_by_the_gap_before_it():
    assert mark_gaps.kind_of("no! x ?", 2) == "! or ? closing a word" and mark_gaps.kind_of("no! x ?", 6) is None
    # "no!": n and o 2 tall, the ! 1.5 after the o: 0.75 x-heights; read "no !" (a space before it), then "no!"
    off, chars = aligned_line([(0, [(0, 0), (0, 2), (1, 2), (1, 0)]), (1, [(1.5, 0), (2.5, 0), (2.5, 2), (1.5, 2)]),
                               (2, [(4.0, 0.0), (4.0, 1.4)])])
    assert [(k, kind, round(b, 3)) for k, kind, b, _ in mark_gaps.mark_gaps(off, chars, "no!")] == \
        [(2, "! or ? closing a word", 0.75)]
    row = {"text": "no!", "strokes": off, "chars": chars, "ocr": "no !"}
    cells = {(lo, hi): (n, share) for lo, hi, n, share in
             mark_gaps.gap_table([row, dict(row, ocr="no!")])["! or ? closing a word"] if n}
    assert cells == {(0.5, 0.8): (2, 0.5)}
    lines = mark_gaps.selection_lines("closers", 0)
    assert len(lines) == 48 and all(sum(c in "!?" for c in t) == 1 for t in lines)


def test_the_comparisons_set_puts_an_equals_sign_after_each_comparison():
    lines = mark_gaps.selection_lines("comparisons", 0)
    assert len(lines) == 48 and all(">=" in t or "<=" in t for t in lines)
    assert lines == mark_gaps.selection_lines("comparisons", 0) != mark_gaps.selection_lines("comparisons", 1)


def test_the_signs_set_opens_a_number_with_a_sign_in_every_line():
    from hwcli.evaluation.charset_sets import EVERYDAY
    from hwcli.synthesis.spacing import opens_number

    lines = mark_gaps.selection_lines("signs", 0)
    assert len(lines) == 48 and lines == mark_gaps.selection_lines("signs", 0) != mark_gaps.selection_lines("signs", 1)
    assert all(any(opens_number(t, k) for k in range(len(t))) for t in lines)
    assert {c for t in lines for k, c in enumerate(t) if opens_number(t, k)} == set("-+±")
    assert not set(lines) & set(EVERYDAY)  # selection lines, never eval's


def test_the_hyphens_set_joins_two_words_or_numbers_with_a_hyphen_in_every_line():
    from hwcli.evaluation.charset_sets import EVERYDAY
    from hwcli.synthesis.spacing import joined_hyphens

    lines = mark_gaps.selection_lines("hyphens", 0)
    assert len(lines) == 48 and lines == mark_gaps.selection_lines("hyphens", 0) != mark_gaps.selection_lines("hyphens", 1)
    assert all(joined_hyphens(t) for t in lines) and not set(lines) & set(EVERYDAY)



def test_the_stems_set_puts_an_i_before_a_t_or_f_in_most_lines_and_none_of_evals():
    from hwcli.evaluation.charset_sets import EVERYDAY
    from hwcli.synthesis.spacing import BARRED, STEMS

    lines = mark_gaps.selection_lines("stems", 0)
    assert len(lines) == 48 and lines == mark_gaps.selection_lines("stems", 0) != mark_gaps.selection_lines("stems", 1)
    with_pair = [t for t in lines if any(a in STEMS and b in BARRED for a, b in zip(t, t[1:]))]
    assert len(with_pair) >= 24 and not set(lines) & set(EVERYDAY)
    assert any("lt" in t or "lf" in t for t in lines)  # the small l beside them, left alone


def test_the_below_set_holds_a_letter_with_a_mark_below_in_every_line():
    from hwcli.evaluation.charset_sets import EVERYDAY
    from hwcli.synthesis.bars import BELOW_MARKED

    lines = mark_gaps.selection_lines("below", 0)
    assert len(lines) == 48 and lines == mark_gaps.selection_lines("below", 0) != mark_gaps.selection_lines("below", 1)
    assert all(BELOW_MARKED.intersection(t) for t in lines)
    assert set("ąęçşșț") <= {c for t in lines for c in t}
    assert not set(lines) & set(EVERYDAY)  # selection lines, never eval's


def test_the_eszett_set_holds_a_sharp_s_in_every_line_in_every_place_of_a_word():
    from hwcli.evaluation.charset_sets import EVERYDAY
    from hwcli.synthesis.bars import SEATED

    lines = mark_gaps.selection_lines("eszett", 0)
    assert len(lines) == 48 and lines == mark_gaps.selection_lines("eszett", 0) != mark_gaps.selection_lines("eszett", 1)
    assert all(SEATED.intersection(t) for t in lines)
    words = {w.strip(",") for t in lines for w in t.split()}
    assert any(w.endswith("ß") for w in words) and any("ß" in w[1:-1] for w in words) and any("ßt" in w for w in words)
    assert not set(lines) & set(EVERYDAY)  # selection lines, never eval's
