"""Pressure-like ink: width from the pen's speed, tapered ends, filled outlines in SVG, PDF and PNG."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest
from pypdf import PdfReader

from hwcli.errors import OptionError
from hwcli.page.ink import PEN_MODELS, STEP, flatten, line_outlines, outline, stroke_widths
from hwcli.page.options import PENS, PageOptions
from hwcli.page.pdf import render_pdf
from hwcli.page.placement import build_page, curve_controls
from hwcli.page.png import rasterize_page
from hwcli.page.svg import render_svg
from hwcli.strokes import points_from_strokes

SVG = "{http://www.w3.org/2000/svg}"


def slow_then_fast(n: int = 40) -> np.ndarray:
    """A straight stroke sampled at a constant rate: the first half slow (0.2 mm a step), then fast (0.8 mm)."""
    steps = np.r_[np.full(n // 2, 0.2), np.full(n // 2, 0.8)]
    return np.column_stack([20 + np.r_[0, np.cumsum(steps)], np.full(n + 1, 50.0)])


def test_ink_is_wide_when_slow_thin_when_fast_and_a_ballpoint_tapers():
    s = slow_then_fast()
    w = stroke_widths(s, 0.5, PEN_MODELS["fountain"], ref_speed=0.4)
    assert w[10] > w[30]  # slow part wider than the fast part
    ball = stroke_widths(s, 0.5, PEN_MODELS["ballpoint"], ref_speed=0.4)
    assert ball[0] < ball[5] and ball[-1] < ball[-8]  # tapered start and end
    # a nib does not thin to a hairline at the stroke's ends: it lands a little wide and ends nearly as wide
    assert w[0] >= w[5] and w[-1] > 0.75 * w[-8]


@pytest.mark.parametrize("pen", ["ballpoint", "fineliner", "marker"])
def test_a_dot_is_as_wide_as_the_pen(pen):
    """A full stop or an i-dot (one point, or a few points within the tapers) is where the pen pressed and lifted:
    its ink is the pen's width, not the thin tip of a landing and a lifting with nothing between (ballpoint dots
    were drawn at ~0.55 of the width: faint specks)."""
    model = PEN_MODELS[pen]
    one = stroke_widths(np.array([[10.0, 10.0]]), 0.5, model, ref_speed=0.4)
    assert one[0] >= 0.5
    dot = np.array([[10.0, 10.0], [10.08, 10.05], [10.12, 10.12]])  # 0.2 mm of travel
    w = stroke_widths(dot, 0.5, model, ref_speed=0.4)
    assert w.min() >= 0.5 * 0.97
    # a long stroke still tapers at its ends as before
    long = stroke_widths(slow_then_fast(), 0.5, model, ref_speed=0.4)
    assert long[0] < 0.9 * long[5]


def straight(angle_deg: float, n: int = 30, step: float = 0.4) -> np.ndarray:
    """A straight stroke at `angle_deg` (counter-clockwise, as the reader sees it; page y is down)."""
    a = np.radians(angle_deg)
    t = np.arange(n) * step
    return np.column_stack([50 + t * np.cos(a), 50 - t * np.sin(a)])


@pytest.mark.parametrize("pen", ["fountain", "italic"])
def test_a_nib_is_broad_across_its_edge_and_a_hairline_along_it(pen):
    model = PEN_MODELS[pen]
    along = stroke_widths(straight(model.nib_angle), 1.0, model, ref_speed=0.4)[10:20].mean()
    across = stroke_widths(straight(model.nib_angle - 90), 1.0, model, ref_speed=0.4)[10:20].mean()
    backwards = stroke_widths(straight(model.nib_angle + 90), 1.0, model, ref_speed=0.4)[10:20].mean()
    assert across == pytest.approx(backwards)  # direction, not sense: a down-stroke and an up-stroke alike
    assert across > (2 if pen == "fountain" else 6) * along
    assert along == pytest.approx(model.hairline, rel=0.1) and across == pytest.approx(model.broad, rel=0.1)
    vertical = stroke_widths(straight(-90), 1.0, model, ref_speed=0.4)[10:20].mean()
    assert along < vertical < across
    # ink pools where the pen turns: a sharp corner is wider than the straight run either side
    corner = np.vstack([straight(-90, 15), straight(0, 15)[1:] + straight(-90, 15)[-1] - straight(0, 15)[0]])
    wc = stroke_widths(corner, 1.0, model, ref_speed=0.4)
    assert wc[14] > max(wc[8], wc[22]) * 0.95


def test_outline_is_a_closed_ring_half_a_width_from_the_centre_line():
    s = slow_then_fast()
    w = stroke_widths(s, 0.6, PEN_MODELS["marker"], ref_speed=0.4)
    pts, wd = flatten(s, w)
    assert np.linalg.norm(np.diff(pts, axis=0), axis=1).max() <= 1.25 * STEP  # equal steps of t, nearly equal in mm
    poly = outline(pts, wd)
    # every outline vertex lies on the circle of its nearest centre point
    d = np.linalg.norm(poly[:, None] - pts[None], axis=2)
    k = d.argmin(1)
    assert np.allclose(d[np.arange(len(poly)), k], wd[k] / 2, atol=0.03)
    # the flattened curve passes through the stroke's points and follows the renderers' Catmull-Rom curve
    c1, c2 = curve_controls(s)
    mid = (s[25] + 3 * c1[25] + 3 * c2[25] + s[26]) / 8  # a 0.8 mm piece (cut in two) at t = 1/2
    assert np.linalg.norm(pts - mid, axis=1).min() < 1e-9
    assert all(np.linalg.norm(pts - q, axis=1).min() < 1e-9 for q in s)
    dot = outline(np.array([[5.0, 5.0]]), np.array([0.4]))
    assert np.allclose(np.linalg.norm(dot - (5, 5), axis=1), 0.2)


def pen_page(opts: PageOptions):
    strokes = [slow_then_fast() + (0, 10 * k) for k in range(3)] + [np.array([[60.0, 30.0]])]
    return build_page(0, [points_from_strokes(strokes)], opts)


@pytest.mark.parametrize("pen", [p for p in PENS if p != "uniform"])
def test_vector_renderers_fill_outlines(pen):
    opts = PageOptions(pen=pen, width=0.8)
    page = pen_page(opts)
    buf = io.BytesIO()
    render_svg(page, buf, opts)
    ink = ET.fromstring(buf.getvalue()).find(f".//{SVG}g[@id='ink']")
    assert ink.get("fill") == "#1a237e" and ink.get("stroke") == "none"
    d = ink.find(f"{SVG}path").get("d")
    assert d.count("Z") == len(line_outlines(page.lines[0], 0.8, pen)) == 4
    pdf = io.BytesIO()
    render_pdf([page], pdf, opts)
    ops = PdfReader(io.BytesIO(pdf.getvalue())).pages[0].get_contents().get_data().decode("latin-1")
    assert "\nf" in ops and "\nS" not in ops and " c\n" not in ops


def test_png_fountain_ink_is_wider_where_the_pen_is_slow():
    opts = PageOptions(pen="fountain", width=1.0, page_size="A5")
    img = rasterize_page(pen_page(opts), opts, dpi=300)
    ink = (img < 128).any(axis=2)
    px = 300 / 25.4
    column = lambda x_mm: ink[:, int(x_mm * px)].sum()  # noqa: E731 - ink height across the first stroke
    slow_x, fast_x = 20 + 2.0, 20 + 4.0 + 8.0
    assert column(slow_x) > 1.2 * column(fast_x) > 0  # a nib follows speed less than its direction
    uniform = rasterize_page(pen_page(replace(opts, pen="uniform")), replace(opts, pen="uniform"), dpi=300)
    u = (uniform < 128).any(axis=2)
    assert abs(int(u[:, int(slow_x * px)].sum()) - int(u[:, int(fast_x * px)].sum())) <= 3


def test_unknown_pen_is_an_option_error():
    with pytest.raises(OptionError, match="unknown pen"):
        PageOptions(pen="quill")
