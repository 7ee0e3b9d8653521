"""scripts/charset_ink.py: hand-written ink of symbol glyphs and accent marks for generated training lines."""
from __future__ import annotations

import math
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from hwcli.alphabet import CHARSET, DEFAULT_CHARS

_spec = importlib.util.spec_from_file_location("charset_ink", Path(__file__).resolve().parents[1] / "scripts" / "charset_ink.py")
ci = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ci)

XH = 20.0
REQUIRED = "@#$£€¥¢=<>_~^|\\{}[]°§×÷±•«»¿¡%&+*/XZQJxzqj0123456789æÆœŒßðÐþÞ"


def _check_strokes(strokes: list[np.ndarray]) -> np.ndarray:
    assert strokes, "no ink"
    for s in strokes:
        assert isinstance(s, np.ndarray) and s.dtype == np.float32 and s.ndim == 2 and s.shape[1] == 2
        assert len(s) >= 1
        assert np.isfinite(s).all()
    return np.vstack(strokes)


def test_glyph_chars_hold_the_required_set_once():
    assert set(REQUIRED) <= set(ci.GLYPH_CHARS)
    assert len(set(ci.GLYPH_CHARS)) == len(ci.GLYPH_CHARS)


def test_every_charset_character_beyond_iam_has_a_route():
    missing = [c for c in CHARSET if c not in DEFAULT_CHARS and c != " "
               and ci.decompose(c) is None and c not in ci.GLYPH_CHARS]
    assert missing == []


@pytest.mark.parametrize("char", list(dict.fromkeys(ci.GLYPH_CHARS)))
def test_glyph_shapes_and_frame(char):
    rng = np.random.default_rng(3)
    strokes, adv = ci.glyph_strokes(char, rng, x_height=XH)
    p = _check_strokes(strokes)
    assert abs(p[:, 0].min()) < 1e-4  # left edge at x = 0
    assert p[:, 0].max() < adv < 3.0 * XH
    assert -2.0 * XH < p[:, 1].min() and p[:, 1].max() < 0.9 * XH  # baseline 0, y down: within ascender/descender


def test_colon_is_a_dot_at_the_x_height_and_one_on_the_baseline():
    strokes, _ = ci.glyph_strokes(":", np.random.default_rng(0), x_height=XH)
    assert len(strokes) == 2  # two dots, each its own pen-down
    tops = sorted(float(np.mean(s[:, 1])) for s in strokes)
    assert tops[1] - tops[0] > 0.6 * XH  # far enough apart to read as a colon, not two specks at mid-height
    assert tops[1] > -0.2 * XH and tops[0] < -0.6 * XH


def test_y_points_down_and_baseline_at_zero():
    for c, top, bottom in (("7", -1.25, 0.1), ("=", -0.55, -0.15), ("|", -1.3, 0.5)):
        p = np.vstack(ci.glyph_strokes(c, np.random.default_rng(0), x_height=XH)[0])
        assert p[:, 1].min() < top * XH, c  # ascenders have negative y
        assert p[:, 1].max() < bottom * XH, c
    p = np.vstack(ci.glyph_strokes("_", np.random.default_rng(0), x_height=XH)[0])
    assert 0.0 < p[:, 1].min() and p[:, 1].max() < 0.3 * XH  # the underscore sits just below the baseline
    p = np.vstack(ci.glyph_strokes("q", np.random.default_rng(0), x_height=XH)[0])
    assert p[:, 1].max() > 0.3 * XH  # the descender goes down, below the baseline


def test_glyph_deterministic_per_seed_and_varied_between_seeds():
    a, adv_a = ci.glyph_strokes("@", np.random.default_rng(7), x_height=XH)
    b, adv_b = ci.glyph_strokes("@", np.random.default_rng(7), x_height=XH)
    c, _ = ci.glyph_strokes("@", np.random.default_rng(8), x_height=XH)
    assert adv_a == adv_b and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len(a) != len(c) or any(x.shape != y.shape or not np.allclose(x, y) for x, y in zip(a, c))
    sizes = [np.ptp(np.vstack(ci.glyph_strokes("#", np.random.default_rng(s), x_height=XH)[0]), axis=0)
             for s in range(12)]
    h = np.array(sizes)[:, 1]
    assert h.std() / h.mean() > 0.02  # natural size variation
    assert h.max() / h.min() < 1.5


def test_stroke_order_and_counts():
    counts = {c: len(ci.glyph_strokes(c, np.random.default_rng(0), x_height=XH)[0]) for c in "#$€=@÷"}
    assert counts == {"#": 4, "$": 2, "€": 3, "=": 2, "@": 1, "÷": 3}
    # '€': the C-curve first (starting at its upper right, going up and round to the left), then the bars
    c = ci.glyph_strokes("€", np.random.default_rng(0), x_height=XH)[0]
    assert np.ptp(c[0][:, 1]) > 1.0 * XH and np.ptp(c[1][:, 1]) < 0.3 * XH
    assert c[0][0, 0] > c[0][:, 0].mean()


@pytest.mark.parametrize("char", ["@", "0", "S" if "S" in ci.GLYPH_CHARS else "8", "#", "&"])
def test_point_spacing_follows_step(char):
    for step in (XH / 6, XH / 10):
        strokes, _ = ci.glyph_strokes(char, np.random.default_rng(1), x_height=XH, step=step)
        d = np.concatenate([np.linalg.norm(np.diff(s, axis=0), axis=1) for s in strokes if len(s) > 1])
        assert 0.8 * step < np.median(d) < 1.2 * step
        assert d.max() < 3.0 * step  # no long jumps: curves stay smooth


def test_default_step_is_a_sixth_of_the_x_height():
    strokes, _ = ci.glyph_strokes("0", np.random.default_rng(2), x_height=XH)
    d = np.linalg.norm(np.diff(strokes[0], axis=0), axis=1)
    assert 0.8 * XH / 6 < np.median(d) < 1.2 * XH / 6


def test_pen_slows_in_corners():
    # '<' has one sharp corner in the middle: the points there are denser than on the straight arms
    s = ci.glyph_strokes("<", np.random.default_rng(0), x_height=XH, step=XH / 12)[0][0]
    d = np.linalg.norm(np.diff(s, axis=0), axis=1)
    corner = int(np.argmin(s[:, 0]))
    assert d[max(corner - 1, 0):corner + 1].mean() < 0.7 * np.median(d)


def test_slant_leans_right():
    up = np.vstack(ci.glyph_strokes("|", np.random.default_rng(4), x_height=XH)[0])
    sl = np.vstack(ci.glyph_strokes("|", np.random.default_rng(4), x_height=XH, slant=0.4)[0])
    top_up, top_sl = up[np.argmin(up[:, 1])], sl[np.argmin(sl[:, 1])]
    bot_up, bot_sl = up[np.argmax(up[:, 1])], sl[np.argmax(sl[:, 1])]
    assert (top_sl[0] - bot_sl[0]) - (top_up[0] - bot_up[0]) > 0.4 * 1.5 * XH


def test_unknown_glyph_and_bad_size():
    with pytest.raises(KeyError):
        ci.glyph_strokes("a", np.random.default_rng(0), x_height=XH)
    with pytest.raises(ValueError):
        ci.glyph_strokes("@", np.random.default_rng(0), x_height=0.0)


# ----------------------------------------------------------------------------- decompose


@pytest.mark.parametrize("char,expected", [
    ("é", ("e", ("acute",))), ("ǒ", ("o", ("caron",))), ("ø", ("o", ("stroke_slash",))),
    ("Ø", ("O", ("stroke_slash",))), ("ł", ("l", ("stroke_bar",))), ("Ł", ("L", ("stroke_bar",))),
    ("đ", ("d", ("stroke_cross",))), ("Đ", ("D", ("stroke_cross",))), ("ď", ("d", ("caron_apostrophe",))),
    ("ť", ("t", ("caron_apostrophe",))), ("ľ", ("l", ("caron_apostrophe",))), ("Ľ", ("L", ("caron_apostrophe",))),
    ("Ď", ("D", ("caron",))), ("Ť", ("T", ("caron",))), ("ș", ("s", ("comma_below",))),
    ("ş", ("s", ("cedilla",))), ("İ", ("I", ("dot_above",))), ("ı", ("i", ())), ("ő", ("o", ("double_acute",))),
    ("ă", ("a", ("breve",))), ("ą", ("a", ("ogonek",))), ("å", ("a", ("ring",))), ("ñ", ("n", ("tilde",))),
    ("ü", ("u", ("diaeresis",))), ("ż", ("z", ("dot_above",))), ("ç", ("c", ("cedilla",))),
    ("a", None), ("æ", None), ("ß", None), ("þ", None), ("ð", None), ("œ", None), ("@", None), ("ab", None),
])
def test_decompose(char, expected):
    assert ci.decompose(char) == expected


def test_dotless():
    assert ci.DOTLESS == set("ıíìîï")
    for c in ci.DOTLESS:
        assert ci.decompose(c)[0] == "i"
    assert ci.decompose("i") is None


def test_every_mark_used_and_decompose_marks_are_known():
    used = set()
    for c in CHARSET:
        d = ci.decompose(c)
        if d:
            assert set(d[1]) <= set(ci.MARKS)
            used |= set(d[1])
    assert used == set(ci.MARKS)


# ----------------------------------------------------------------------------- marks

BOX_O = (0.0, 0.8 * XH, -1.0 * XH, 0.0)  # an o: x-height tall, on the baseline


@pytest.mark.parametrize("mark", ci.MARKS)
@pytest.mark.parametrize("slant", [0.0, 0.3])
def test_marks_shapes_and_size(mark, slant):
    for seed in range(5):
        p = _check_strokes(ci.mark_strokes(mark, np.random.default_rng(seed), box=BOX_O, x_height=XH, slant=slant))
        size = max(np.ptp(p[:, 0]), np.ptp(p[:, 1]))
        limit = 1.6 * XH if mark == "stroke_slash" else 1.25 * XH
        assert size < limit, (mark, size)


@pytest.mark.parametrize("mark", ["acute", "grave", "circumflex", "tilde", "ring", "caron", "double_acute", "breve",
                                  "cedilla", "ogonek", "diaeresis"])
def test_marks_are_large_and_dense_enough_to_learn(mark):
    """At IAM-OnDB's point spacing (~0.29 x-heights between pen-down points) a shaped mark must still be a shape:
    as large as a short t-bar and several points, not a 2-3 point speck (what the first data taught the network)."""
    step = 0.29 * XH
    sizes, counts = [], []
    for seed in range(20):
        strokes = ci.mark_strokes(mark, np.random.default_rng(seed), box=BOX_O, x_height=XH, step=step)
        p = np.vstack(strokes)
        sizes.append(max(np.ptp(p[:, 0]), np.ptp(p[:, 1])))
        counts.append(sum(len(s) for s in strokes))
    assert np.median(sizes) >= 0.35 * XH, (mark, np.median(sizes) / XH)
    least = {"acute": 3, "grave": 3, "diaeresis": 4, "double_acute": 6}.get(mark, 5)  # a straight line needs fewer
    assert np.median(counts) >= least, (mark, counts)


@pytest.mark.parametrize("mark", ["acute", "grave", "circumflex", "diaeresis", "tilde", "ring", "caron",
                                  "double_acute", "breve", "dot_above"])
def test_marks_above_sit_above_the_box(mark):
    box = (30.0, 46.0, -20.0, 0.0)
    cx = 38.0
    gaps, xs = [], []
    for seed in range(20):
        p = np.vstack(ci.mark_strokes(mark, np.random.default_rng(seed), box=box, x_height=XH))
        assert p[:, 1].max() < box[2]  # y down: above means smaller y than the box's top
        gaps.append(box[2] - p[:, 1].max())
        xs.append(0.5 * (p[:, 0].min() + p[:, 0].max()))
    assert 0.1 * XH < np.median(gaps) < 0.45 * XH
    assert abs(np.median(xs) - cx) < 0.2 * XH
    capital = [box[2] - np.vstack(ci.mark_strokes(mark, np.random.default_rng(s), box=box, x_height=XH,
                                                   capital=True))[:, 1].max() for s in range(20)]
    assert np.median(capital) < np.median(gaps)


def test_marks_above_follow_the_slant():
    box = (0.0, 30.0, -30.0, 0.0)  # a slanted capital: its top is to the right of its centre
    xs = [0.5 * np.ptp(p[:, 0]) + p[:, 0].min() for p in
          (np.vstack(ci.mark_strokes("acute", np.random.default_rng(s), box=box, x_height=XH, slant=0.5))
           for s in range(20))]
    assert np.median(xs) > 15.0 + 0.5 * 15.0


def test_marks_below_and_beside():
    for seed in range(10):
        rng = np.random.default_rng(seed)
        ced = np.vstack(ci.mark_strokes("cedilla", rng, box=BOX_O, x_height=XH))
        assert ced[:, 1].min() > -0.1 * XH and ced[:, 1].max() > 0.1 * XH
        com = np.vstack(ci.mark_strokes("comma_below", rng, box=BOX_O, x_height=XH))
        assert com[:, 1].min() > 0.0
        og = np.vstack(ci.mark_strokes("ogonek", rng, box=BOX_O, x_height=XH))
        assert og[:, 1].max() > 0.1 * XH and og[:, 0].mean() > 0.4 * XH
        box_d = (0.0, 0.8 * XH, -1.5 * XH, 0.0)
        ap = np.vstack(ci.mark_strokes("caron_apostrophe", rng, box=box_d, x_height=XH))
        assert ap[:, 0].min() > 0.8 * XH - 0.1 * XH and ap[:, 1].min() < -1.2 * XH


def test_strokes_go_through_the_letter():
    box_l = (0.0, 0.3 * XH, -1.5 * XH, 0.0)
    for seed in range(10):
        rng = np.random.default_rng(seed)
        sl = np.vstack(ci.mark_strokes("stroke_slash", rng, box=BOX_O, x_height=XH))
        assert sl[:, 1].min() < -0.9 * XH and sl[:, 1].max() > -0.1 * XH  # across the o, bottom left to top right
        bar = ci.mark_strokes("stroke_bar", rng, box=box_l, x_height=XH)[0]
        mid = bar.mean(axis=0)
        assert -1.2 * XH < mid[1] < -0.3 * XH and -0.3 * XH < mid[0] < 0.6 * XH
        # below where a t is crossed (x-height) and steeper than a t-bar, so that ł is not written as t
        d = bar[-1] - bar[0]
        assert mid[1] > -0.9 * XH and math.degrees(math.atan2(-d[1], abs(d[0]))) > 20
        # at the letters' point spacing (IAM-OnDB: ~0.3 x-heights) the bar of ł is a line a network can learn: long
        # enough to cross the stem well and written slowly (a 2-3 point bar was learnt as a speck: ł written as l)
        slow = ci.mark_strokes("stroke_bar", np.random.default_rng(seed), box=box_l, x_height=XH, step=0.3 * XH)[0]
        assert np.linalg.norm(slow[-1] - slow[0]) > 0.55 * XH and len(slow) >= 4
        cross = np.vstack(ci.mark_strokes("stroke_cross", rng, box=(0.0, 0.8 * XH, -1.5 * XH, 0.0), x_height=XH))
        assert cross[:, 1].mean() < -0.9 * XH and np.ptp(cross[:, 0]) > 3 * np.ptp(cross[:, 1])


def test_marks_deterministic_and_varied():
    a = ci.mark_strokes("acute", np.random.default_rng(5), box=BOX_O, x_height=XH)
    b = ci.mark_strokes("acute", np.random.default_rng(5), box=BOX_O, x_height=XH)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    angles = []
    for s in range(30):
        p = ci.mark_strokes("acute", np.random.default_rng(s), box=BOX_O, x_height=XH)[0]
        d = p[-1] - p[0]
        angles.append(np.degrees(np.arctan2(abs(d[1]), abs(d[0]))))
    assert min(angles) < 30 and max(angles) > 55  # some writers' acute nearly flat, some steep


def test_diaeresis_dots_are_tiny():
    for s in range(20):
        dots = ci.mark_strokes("diaeresis", np.random.default_rng(s), box=BOX_O, x_height=XH)
        assert len(dots) == 2
        for d in dots:
            assert len(d) <= 3 or np.ptp(d, axis=0).max() < 0.15 * XH


def test_unknown_mark():
    with pytest.raises(KeyError):
        ci.mark_strokes("swirl", np.random.default_rng(0), box=BOX_O, x_height=XH)


def test_no_torch_or_hwcli_imports():
    src = (Path(__file__).resolve().parents[1] / "scripts" / "charset_ink.py").read_text()
    imports = [ln.split()[1] for ln in src.splitlines() if ln.startswith(("import ", "from "))]
    assert set(imports) <= {"__future__", "math", "unicodedata", "numpy"}


def _extent(char, rng_seed=0, **kw):
    p = np.vstack(ci.glyph_strokes(char, np.random.default_rng(rng_seed), x_height=XH, **kw)[0])
    return -p[:, 1].min() / XH, np.ptp(p[:, 0]) / XH  # top (x-heights, y down), width


def test_tall_glyphs_are_written_at_the_writers_capital_height():
    for c in "XZQ09$£€¥%&§[]/@°":
        top0, w0 = _extent(c)
        top, w = _extent(c, cap_height=2.3)
        f = ci.DIGIT_SHARE * 2.3 / ci.DIGIT_SKELETON if c.isdigit() else 2.3 / ci.CAP_SKELETON
        # scaled whole (the same random draws): taller and wider by the same factor
        assert np.isclose(top, top0 * f, rtol=1e-3) and np.isclose(w, w0 * f, rtol=1e-3), c
    assert 1.5 < _extent("X", cap_height=1.6)[0] < 1.8  # a writer with small capitals gets small ones
    assert 1.6 < _extent("7", cap_height=2.3)[0] < 1.9  # digits a little lower than the capitals, as written
    for c in "xz+=<>~×÷±•«»":  # within the x-height band
        assert _extent(c) == _extent(c, cap_height=2.6), c


def _bottom(char, **kw):
    p = np.vstack(ci.glyph_strokes(char, np.random.default_rng(0), x_height=XH, **kw)[0])
    return p[:, 1].max() / XH  # depth below the baseline (y down), x-heights


def test_small_letters_keep_their_body_and_lengthen_ascenders_and_descenders():
    for c in "qjß":
        assert _bottom(c) < 0.6 and np.isclose(_bottom(c, cap_height=2.4), ci.DESCENDER_SHARE * 2.4, atol=0.15), c
    assert np.isclose(_extent("j", cap_height=2.4)[0], _extent("j")[0], atol=0.02)  # a j's dot stays where it was
    top0, w0 = _extent("ß")
    top, w = _extent("ß", cap_height=2.4)
    assert top0 < 1.6 and np.isclose(top, ci.ASCENDER_SHARE * 2.4, atol=0.12) and abs(w - w0) < 0.1
    assert np.isclose(_extent("x", cap_height=2.4)[1], _extent("x")[1])  # no ascender, no descender: as drawn


def test_cap_height_out_of_range_is_refused():
    with pytest.raises(ValueError):
        ci.glyph_strokes("X", np.random.default_rng(0), x_height=XH, cap_height=9.0)
