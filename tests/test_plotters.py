"""G-code, HP-GL, plotter SVG and the toolpath preview, read back the way a plotter (or vpype) would."""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from hwcli.errors import OptionError
from hwcli.page.gcode import render_gcode
from hwcli.page.hpgl import UNITS_PER_MM, render_hpgl
from hwcli.page.options import PageOptions
from hwcli.page.machines import PROFILES, PlotterOptions, resolve
from hwcli.page.placement import build_page
from hwcli.page.plotter_svg import render_plotter_svg
from hwcli.page.preview import TRAVEL_COLOR, render_preview
from hwcli.page.toolpath import plan_page
from hwcli.strokes import points_from_strokes
from plot_parsers import match_strokes, parse_gcode, parse_hpgl

SVG = "{http://www.w3.org/2000/svg}"
INK = "{http://www.inkscape.org/namespaces/inkscape}"
OPTS = PageOptions(page_size="A5", margin=15)
TOL = 0.05


def hand_page(number: int = 0, seed: int = 0):
    """A page of 'handwriting': wiggly strokes along four baselines inside the margins, plus dots."""
    rng = np.random.default_rng(seed)
    strokes = []
    for k in range(4):
        y = 40 + 10 * k
        for x in np.arange(20, 120, 9.0):
            t = np.linspace(0, 1, int(rng.integers(8, 30)))
            strokes.append(np.column_stack([x + 6 * t + rng.normal(0, 0.05, len(t)),
                                            y - 3 * np.sin(np.pi * t * rng.uniform(1, 3))]))
        strokes.append(np.array([[x + 3, y - 6]]))  # an i-dot
    return build_page(number, [points_from_strokes(strokes)], OPTS), strokes


def page_strokes(page):
    return [np.asarray(s, np.float64) for s in page.strokes()]


@pytest.mark.parametrize("profile,origin,y_axis", [("grbl-servo", None, None), ("grbl-z", "top-left", None),
                                                    ("grbl-servo", "top-left", "down")])
def test_gcode_reads_back_as_the_same_strokes_inside_the_page(profile, origin, y_axis):
    page, _ = hand_page()
    m = resolve("gcode", PlotterOptions(plotter=profile, origin=origin, y_axis=y_axis, simplify=TOL), OPTS.page_mm)
    buf = io.BytesIO()
    plans = render_gcode([page], buf, m)
    g = parse_gcode(buf.getvalue().decode("ascii"), m.pen_up, m.pen_down)
    assert g["units"] and g["absolute"] and g["end_up"]
    w, h = OPTS.page_mm
    # machine -> page coordinates, by the profile's own rule, written out here independently
    oy = h if m.origin == "bottom-left" else 0.0
    back = [np.column_stack([s[:, 0], (oy - s[:, 1]) if m.y_axis == "up" else (s[:, 1] + oy)]) for s in g["strokes"]]
    for s in back:
        assert (s[:, 0] >= OPTS.margin - 1e-3).all() and (s[:, 0] <= w - OPTS.margin + 1e-3).all()
        assert (s[:, 1] >= 0).all() and (s[:, 1] <= h).all()
    match_strokes(back, page_strokes(page), TOL + 1e-3)
    assert sum(len(s) for s in back) == plans[0].points_after


def test_gcode_commands_feeds_and_pauses_between_pages():
    pages = [hand_page(0)[0], hand_page(1, seed=1)[0]]
    m = resolve("gcode", PlotterOptions(pen_up="M3 S20", pen_down="M3 S70", pen_dwell=0.3, feed=1500,
                                        travel_feed=4000, gcode_start="$H\\nG92 X0 Y0", gcode_end="M5"), OPTS.page_mm)
    buf = io.BytesIO()
    render_gcode(pages, buf, m)
    text = buf.getvalue().decode("ascii")
    g = parse_gcode(text, "M3 S20", "M3 S70")
    assert g["pauses"] == 1 and g["end_up"]
    lines = [ln.split(";")[0].strip() for ln in text.splitlines()]
    assert lines.index("$H") == lines.index("G90") + 1 and "G92 X0 Y0" in lines
    assert "G4 P0.3" in lines and not any(ln.startswith("G0 ") for ln in lines)  # travel is G1 at its feed
    assert any(ln.endswith("F1500") for ln in lines) and any(ln.endswith("F4000") for ln in lines)
    assert lines[-1] == "M2" and "M5" in lines[-3:]


def test_hpgl_reads_back_in_plotter_units():
    page, _ = hand_page()
    m = resolve("hpgl", PlotterOptions(simplify=TOL), OPTS.page_mm)
    buf = io.BytesIO()
    render_hpgl([page], buf, m)
    hp = parse_hpgl(buf.getvalue().decode("ascii"))
    assert hp["ops"][:2] == ["IN", "SP"] and hp["ops"][-1] == "SP" and hp["end_up"]
    assert "VS" not in hp["ops"]
    w, h = OPTS.page_mm
    back = [np.column_stack([s[:, 0] / UNITS_PER_MM, h - s[:, 1] / UNITS_PER_MM]) for s in hp["strokes"]]
    for s in back:
        assert (s[:, 0] >= OPTS.margin - 0.03).all() and (s[:, 0] <= w - OPTS.margin + 0.03).all()
        assert (s[:, 1] >= 0).all() and (s[:, 1] <= h).all()
    match_strokes(back, page_strokes(page), TOL + 0.5 / UNITS_PER_MM * 1.5)
    with pytest.raises(OptionError, match="one page"):
        render_hpgl([page, page], io.BytesIO(), m)
    fast = resolve("hpgl", PlotterOptions(feed=1200), OPTS.page_mm)
    out = io.BytesIO()
    render_hpgl([page], out, fast)
    assert b"VS2.0;" in out.getvalue()


def test_plotter_svg_has_one_layer_per_page_and_one_open_path_per_stroke():
    pages = [hand_page(0)[0], hand_page(1, seed=1)[0], hand_page(2, seed=2)[0]]
    m = resolve("plotter-svg", PlotterOptions(simplify=TOL), OPTS.page_mm)
    buf = io.BytesIO()
    plans = render_plotter_svg(pages, buf, m, OPTS)
    root = ET.fromstring(buf.getvalue())
    assert root.get("width") == "148mm" and root.get("height") == "210mm" and root.get("viewBox") == "0 0 148 210"
    layers = root.findall(f"{SVG}g")
    assert [g.get(f"{INK}groupmode") for g in layers] == ["layer"] * 3
    # vpype's rule: the digits of the label are the layer id; AxiDraw's: the name starts with the number
    assert [re.sub("[^0-9]", "", g.get(f"{INK}label")) for g in layers] == ["1", "2", "3"]
    assert [g.get("id") for g in layers] == ["layer1", "layer2", "layer3"]
    for g, page, plan in zip(layers, pages, plans):
        assert g.get("fill") == "none"
        paths = g.findall(f"{SVG}path")
        assert len(paths) == len(plan.strokes)
        got = []
        for p in paths:
            d = p.get("d")
            assert d.startswith("M") and "Z" not in d.upper() and d.count("M") == 1
            got.append(np.array([[float(v) for v in xy.split(",")] for xy in re.findall(r"-?[\d.]+,-?[\d.]+", d)]))
        # a dot is written as a 0.01 mm segment
        got = [s[:1] if len(s) == 2 and np.linalg.norm(s[1] - s[0]) < 0.02 else s for s in got]
        match_strokes(got, page_strokes(page), TOL + 1e-3)


def test_preview_draws_ink_and_pen_up_moves():
    page, _ = hand_page()
    m = resolve("gcode", PlotterOptions(), OPTS.page_mm)
    plan = plan_page(page, m.plan)
    buf = io.BytesIO()
    render_preview([plan, plan], buf, OPTS, m)
    root = ET.fromstring(buf.getvalue())
    paths = root.findall(f".//{SVG}path")
    travel = [p for p in paths if p.get("stroke") == TRAVEL_COLOR]
    assert len(travel) == 2
    assert travel[0].get("d").count("M") == len(plan.strokes) + 1  # to each stroke, and back to the park position
    text = "".join(root.itertext())
    assert "pen-up travel" in text and "to plot" in text and "2 pages: ~" in text
    assert [c.find(f"{SVG}title").text for c in root.findall(f"{SVG}circle")][:3] == ["start", "first pen-down",
                                                                                      "last pen-up"]
    assert float(root.get("width").rstrip("mm")) > 2 * 148


def test_profiles_and_bad_machine_options():
    assert {p.format for p in PROFILES.values()} == {"gcode", "hpgl", "plotter-svg"}
    with pytest.raises(OptionError, match="unknown plotter profile"):
        PlotterOptions(plotter="laser")
    with pytest.raises(OptionError, match="larger than the plotter's bed"):
        resolve("gcode", PlotterOptions(bed="100x100"), OPTS.page_mm)
    with pytest.raises(OptionError, match="larger than the plotter's bed"):
        resolve("plotter-svg", PlotterOptions(plotter="axidraw"), PageOptions().page_mm)
    with pytest.raises(OptionError, match="writes gcode"):
        resolve("hpgl", PlotterOptions(plotter="grbl-z"), OPTS.page_mm)
    with pytest.raises(OptionError, match="only apply to G-code"):
        resolve("hpgl", PlotterOptions(pen_up="M5"), OPTS.page_mm)
    for bad in (dict(feed=0), dict(feed=-5), dict(travel_feed=float("inf")), dict(feed=1e9), dict(pen_dwell=-1),
                dict(bed="huge"), dict(pen_down=""), dict(origin="middle"), dict(simplify=3)):
        with pytest.raises(OptionError):
            PlotterOptions(**bad)
