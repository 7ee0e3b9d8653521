"""hwcli.page.options and hwcli.page.layout (options, wrapping, pages) and hwcli.page.placement (lines on the page)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hwcli.errors import HwcliError, OptionError
from hwcli.page.layout import LayoutLine, group_pages, iter_layout
from hwcli.page.options import PageOptions, color_rgb, lines_per_page, page_dimensions
from hwcli.page.placement import (BODY_FRACTION, build_page, curve_controls, estimate_baseline, estimate_scale,
                                  place_line)
from page_helpers import layout_text, place_pages
from hwcli.strokes import points_from_strokes, to_offsets

WORDS = ("the quick brown fox jumps over a lazy dog while seven wizards quietly hex "
         "jumbled vexing fjords and my handwriting wobbles").split()


def sine_points(n_chars: int = 20, descenders: bool = True, seed: int = 0) -> np.ndarray:
    """Synthetic line of absolute points (model units, y down): small loops sitting on the baseline
    y = 0 (x-height 1), every 4th letter with a descender to y = +1, some dots, and word gaps."""
    rng = np.random.default_rng(seed)
    strokes = []
    t = np.linspace(0, 2 * np.pi, 12)
    for i in range(n_chars):
        x = i * 1.0 + (i // 5) * 0.6
        loop = np.stack([x + 0.4 + 0.4 * np.sin(t), -0.5 - 0.5 * np.cos(t)], 1)
        if descenders and i % 4 == 3:
            loop = np.concatenate([loop, [[x + 0.8, -0.5], [x + 0.8, 1.0], [x + 0.9, 0.0]]])
        strokes.append(loop + rng.normal(0, 0.01, loop.shape))
        if i % 7 == 2:
            strokes.append(np.array([[x + 0.4, -1.6]]))  # a dot on an i
    return points_from_strokes(strokes)


def sine_line(n_chars: int = 20, descenders: bool = True, seed: int = 0) -> np.ndarray:
    """`sine_points` as offsets (the form the model produces)."""
    return to_offsets(sine_points(n_chars, descenders, seed))


def make_line(**kw) -> LayoutLine:
    base = dict(text="x", page=0, index=0, x=20.0, baseline_y=30.0, max_width=170.0, paragraph_start=False)
    base.update(kw)
    return LayoutLine(**base)


# ----------------------------------------------------------------------------- options
@pytest.mark.parametrize("kwargs", [
    dict(width=-0.5), dict(width=0), dict(width=5.5), dict(page_size="B7"), dict(page_size="0x297"),
    dict(margin=0), dict(margin=-3), dict(margin=100), dict(margin=148), dict(line_height=0),
    dict(line_height=float("nan")), dict(indent=-1), dict(color="no-such-colour"), dict(color="#12345"),
    dict(seed=1.5), dict(ruled="yes"),
])
def test_invalid_options_raise_option_error(kwargs):
    with pytest.raises(OptionError) as exc:
        PageOptions(**kwargs)
    assert isinstance(exc.value, HwcliError)
    assert "\n" not in str(exc.value) and str(exc.value)


def test_defaults_and_colours():
    opts = PageOptions()
    assert opts.page_mm == (210.0, 297.0)
    assert opts.text_width == pytest.approx(170.0)
    assert color_rgb("#fff") == (255, 255, 255)
    assert color_rgb("Navy") == (0, 0, 128)
    assert PageOptions(color="black").rgb == (0, 0, 0)


@pytest.mark.parametrize("name,size", [
    ("A4", (210, 297)), ("a4", (210, 297)), ("Letter", (215.9, 279.4)), ("LETTER", (215.9, 279.4)),
    ("A5", (148, 210)), ("Legal", (215.9, 355.6)), ("210x297", (210, 297)), ("100.5X150", (100.5, 150)),
])
def test_page_dimensions(name, size):
    assert page_dimensions(name) == pytest.approx(size)
    assert PageOptions(page_size=name).page_mm == pytest.approx(size)


def test_lines_per_page():
    assert lines_per_page(PageOptions()) == 25  # (297 - 40) / 10
    assert lines_per_page(PageOptions(page_size="A5", margin=10, line_height=8)) == 23


# ----------------------------------------------------------------------------- wrapping
def test_a_lone_punctuation_mark_never_starts_or_ends_a_line():
    """French typography puts a space before ? ! ; : and inside guillemets: the mark stays with its word (a lone
    "?" wrapped onto a line of its own in a French letter)."""
    from hwcli.page.layout import wrap_paragraph
    from hwcli.texts import unbreakable_words

    assert unbreakable_words("au café de la gare ?") == ["au", "café", "de", "la", "gare ?"]
    assert unbreakable_words("il a dit « oui » ; puis ... ( non )") == ["il", "a", "dit", "« oui » ;", "puis ...",
                                                                        "( non )"]
    assert unbreakable_words("? seul") == ["?", "seul"] and unbreakable_words("fin «") == ["fin «"]
    assert unbreakable_words("a - b") == ["a", "-", "b"]  # a dash between words may still start a line
    text = "veux-tu qu'on se voie le 27 au café de la gare ?"
    for cap in range(8, 60):
        lines = wrap_paragraph(text, cap, cap, 1.0)
        assert " ".join(lines) == text
        assert not any(ln.startswith(("?", "»")) or ln.endswith("«") for ln in lines)
        assert all(len(ln) <= cap for ln in lines if " " in ln.removesuffix(" ?"))


def test_wrapped_lines_fit_their_width():
    rng = np.random.default_rng(1)
    text = " ".join(rng.choice(WORDS, 600))
    opts = PageOptions()
    cw = 2.3
    lines = layout_text(text, opts, char_width=cw)
    assert len(lines) > 10
    for ln in lines:
        assert len(ln.text) * cw <= ln.max_width + 1e-9
        assert ln.x + ln.max_width <= opts.page_mm[0] - opts.margin + 1e-9
    # greedy: adding the next word would not have fitted
    for a, b in zip(lines, lines[1:]):
        if not b.paragraph_start:
            assert (len(a.text) + 1 + len(b.text.split()[0])) * cw > a.max_width
    assert " ".join(ln.text for ln in lines) == text


def test_paragraphs_indent_and_reflow():
    text = ("First  para\tline one, long enough to be hard-wrapped prose that flows on\nstill first para.\n   \n"
            "Second para.\n\n\n\nThird.")
    opts = PageOptions(indent=8)
    lines = layout_text(text, opts, char_width=0.5)
    assert [ln.text for ln in lines] == ["First para line one, long enough to be hard-wrapped prose that flows on still first para.",
                                         "Second para.", "Third."]
    # prose (a first run of 60+ characters) is indented; a short paragraph is not
    assert [ln.paragraph_start for ln in lines] == [True, False, False]
    assert lines[0].x == pytest.approx(opts.margin + 8) and lines[0].max_width == pytest.approx(opts.text_width - 8)
    assert all(ln.x == pytest.approx(opts.margin) for ln in lines[1:])
    # one blank line is one empty line; three are three
    assert [ln.index for ln in lines] == [0, 2, 6]
    # a continuation line is not indented
    long = layout_text("word " * 100, opts, char_width=2.0)
    assert long[0].paragraph_start and not long[1].paragraph_start
    assert long[1].x == pytest.approx(opts.margin) and long[1].max_width == pytest.approx(opts.text_width)


def test_short_lines_keep_their_breaks_and_hard_wrapped_prose_flows():
    from hwcli.page.layout import FLOW_CHARS

    wrapped = "It was a bright cold day in April, and the clocks were striking thirteen. Winston"
    assert len(wrapped) >= FLOW_CHARS
    text = ("14 Harbour Road, Whitby\nTuesday 1 December 2026\n\nDear Helen,\n\n" + wrapped
            + "\nSmith slipped quickly through the doors.\n\nWith love,\nSarah")
    opts = PageOptions(indent=8)
    lines = layout_text(text, opts, char_width=1.0)
    texts = [ln.text for ln in lines]
    assert texts[:3] == ["14 Harbour Road, Whitby", "Tuesday 1 December 2026", "Dear Helen,"]
    assert texts[-2:] == ["With love,", "Sarah"]
    assert any("Winston Smith" in t for t in texts)  # the hard-wrapped line flowed into the next
    starts = [ln.paragraph_start for ln in lines]
    assert not starts[0] and not starts[1] and not starts[2]  # an address, a date, a greeting: no indent
    assert all(ln.x == pytest.approx(opts.margin) for ln in lines if not ln.paragraph_start)
    assert starts[3] and lines[3].x == pytest.approx(opts.margin + 8)  # the prose is indented
    assert lines[-1].x == pytest.approx(opts.margin) and not lines[-2].paragraph_start


def test_long_word_is_split():
    word = "".join(np.random.default_rng(0).choice(list("abcdefghij"), 2000))
    lines = layout_text("short " + word + " end", PageOptions(), char_width=2.5)
    assert "".join(ln.text for ln in lines).replace(" ", "") == "short" + word + "end"
    for ln in lines:
        assert len(ln.text) * 2.5 <= ln.max_width + 1e-9
    assert len(lines) >= 2000 * 2.5 / 170


def test_max_chars_caps_lines():
    lines = layout_text(" ".join(["ab"] * 200), PageOptions(), char_width=1.0, max_chars=20)
    assert max(len(ln.text) for ln in lines) <= 20


def test_many_lines_flow_onto_pages():
    opts = PageOptions(line_height=12)
    per = lines_per_page(opts)
    lines = layout_text("\n".join(f"para {i}" for i in range(3 * per + 2)), opts, char_width=2.0)
    assert [ln.page for ln in lines][-1] == 3
    for k, ln in enumerate(lines):
        assert (ln.page, ln.index) == divmod(k, per)
        assert opts.margin < ln.baseline_y <= opts.page_mm[1] - opts.margin
    pages = list(group_pages(iter(lines)))
    assert [p for p, _ in pages] == [0, 1, 2, 3]
    assert [len(g) for _, g in pages] == [per, per, per, 2]


def test_iter_layout_is_lazy():
    gen = iter_layout("word " * 200_000, PageOptions(), char_width=2.0)
    first = next(gen)
    assert first.page == 0 and first.index == 0


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n"])
def test_empty_text_gives_no_lines(text):
    assert layout_text(text, PageOptions(), char_width=2.0) == []


def test_bad_char_width():
    with pytest.raises(OptionError):
        layout_text("hi", PageOptions(), char_width=0)


# ----------------------------------------------------------------------------- placement
def test_baseline_estimate_ignores_descenders():
    pts = sine_points(40)
    assert estimate_baseline(pts) == pytest.approx(0.0, abs=0.05)
    assert pts[:, 1].max() > 0.9  # the descenders are there


def test_estimate_scale_targets_body_height():
    off = sine_line(30, descenders=False)
    s = estimate_scale([off, off * np.array([2.0, 2.0, 1.0], np.float32)], line_height_mm=10)
    # body (10th-90th percentile) of the unit loops is a bit under 1 unit; median of 1x and 2x lines
    pts = np.cumsum(off[:, 1])
    body = np.percentile(pts, 90) - np.percentile(pts, 10)
    assert s == pytest.approx(BODY_FRACTION * 10 / (1.5 * body), rel=1e-4)
    assert estimate_scale([], 10) == 1.0


def placed_with_seeds(natural: bool, *seeds: int) -> tuple:
    """(offsets, line, the line placed once per generator seed) of a 20-point sine line at scale 0.5."""
    off, line = sine_line(20), make_line()
    opts = PageOptions(natural=natural)
    return off, line, [place_line(off, line, 0.5, opts, np.random.default_rng(s)) for s in seeds]


def test_place_line_without_natural_is_exact():
    off, line, (a, b) = placed_with_seeds(False, 1, 2)
    assert np.array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == off.shape
    assert a[:, 0].min() == pytest.approx(line.x, abs=1e-4)
    assert np.allclose(np.diff(a[:, :2], axis=0), 0.5 * off[1:, :2], atol=1e-4)  # pure scale + shift
    assert np.array_equal(a[:, 2], off[:, 2])
    placed_baseline = estimate_baseline(a)
    assert placed_baseline == pytest.approx(line.baseline_y, abs=0.05)


def test_natural_variation_is_seeded():
    off, line, (a, b, c) = placed_with_seeds(True, 7, 7, 8)
    opts = PageOptions(natural=True)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)
    # without a generator, the variation comes from (seed, page, index): still deterministic
    d1 = place_line(off, line, 0.5, opts)
    assert np.array_equal(d1, place_line(off, line, 0.5, opts))
    assert not np.allclose(d1, place_line(off, line, 0.5, PageOptions(seed=1)))
    # jitter stays small: baseline within a fifth of a line, left edge within a mm
    assert abs(estimate_baseline(a) - line.baseline_y) < 2.0
    assert line.x <= a[:, 0].min() < line.x + 1.0


@pytest.mark.parametrize("natural", [False, True])
def test_wide_line_stays_inside_margins(natural):
    opts = PageOptions(natural=natural)
    off = sine_line(300)
    scale = 0.6
    assert np.ptp(np.cumsum(off[:, 0])) * scale > opts.text_width + 20  # really too wide
    for k in range(5):
        line = make_line(index=k, baseline_y=30.0 + 10 * k, x=opts.margin, max_width=opts.text_width)
        pts = place_line(off, line, scale, opts)
        assert pts[:, 0].min() >= opts.margin - 1e-4
        assert pts[:, 0].max() <= opts.page_mm[0] - opts.margin + 1e-4


def test_empty_offsets():
    assert place_line(np.zeros((0, 3), np.float32), make_line(), 1.0, PageOptions()).shape == (0, 3)


def test_pages_and_ruling():
    opts = PageOptions(ruled=True, line_height=20)
    lines = layout_text("\n".join(["some words"] * (lines_per_page(opts) + 3)), opts, char_width=3.0)
    pages = place_pages(((ln, sine_line(10, seed=i)) for i, ln in enumerate(lines)), 0.8, opts)
    assert [p.number for p in pages] == [0, 1]
    assert [len(p.lines) for p in pages] == [lines_per_page(opts), 3]
    assert len(pages[0].rule_ys) == lines_per_page(opts) and 0 < pages[0].margin_x < opts.margin
    assert build_page(0, [], PageOptions()).rule_ys == []


def test_curve_controls_pass_through_points():
    s = np.array([[0, 0], [1, 1], [2, 0], [3, 1]], float)
    c1, c2 = curve_controls(s)
    assert c1.shape == c2.shape == (3, 2)
    assert np.allclose(c1[0], [1 / 6, 1 / 6]) and np.allclose(c2[-1], [3 - 1 / 6, 1 - 1 / 6])


def test_page_package_imports_no_torch_typer_rich():
    code = ("import sys, hwcli.page, hwcli.page.svg, hwcli.page.pdf, hwcli.page.png; "
            "bad = [m for m in ('torch', 'typer', 'rich') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
