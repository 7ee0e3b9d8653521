"""Plotters as their owners run them: start corners, rotation onto the bed, Marlin and profile files,
multi-line pen commands, the plot-time estimate against a replay of the G-code, the preview PNG, joining."""
from __future__ import annotations

import io
import re
import struct
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest

from hwcli.errors import OptionError
from hwcli.page.estimate import plot_time, total_time
from hwcli.page.gcode import render_gcode
from hwcli.page.hpgl import UNITS_PER_MM, render_hpgl
from hwcli.page.options import PageOptions
from hwcli.page.machines import PROFILES, PlotterOptions, corner_point, resolve
from hwcli.page.plotter_svg import render_plotter_svg
from hwcli.page.preview import render_preview
from hwcli.page.toolpath import join_strokes, plan_page, travel_length
from plot_parsers import match_strokes, parse_gcode, parse_hpgl
from test_plotters import OPTS, SVG, hand_page, page_strokes

A4 = PageOptions()
TOL = 0.05
#: where each machine's pen starts (and parks): its home corner
STARTS = {"grbl-servo": "bottom-left", "grbl-z": "bottom-left", "marlin": "bottom-left", "hpgl": "bottom-left",
          "axidraw": "top-left", "axidraw-a3": "top-left"}


OPPOSITE = {"top-left": "bottom-right", "bottom-left": "top-right"}


def svg_paths(layer) -> list[np.ndarray]:
    out = []
    for p in layer.findall(f"{SVG}path"):
        pts = np.array([[float(v) for v in xy.split(",")] for xy in re.findall(r"-?[\d.]+,-?[\d.]+", p.get("d"))])
        out.append(pts[:1] if len(pts) == 2 and np.linalg.norm(pts[1] - pts[0]) < 0.02 else pts)
    return out


def test_every_profile_says_where_its_pen_starts():
    assert set(STARTS) == set(PROFILES)
    page, strokes = hand_page()
    for name, prof in PROFILES.items():
        m = resolve(prof.format, PlotterOptions(plotter=name), OPTS.page_mm)
        assert m.start_corner == STARTS[name], name
        corner = corner_point(STARTS[name], *OPTS.page_mm)
        assert m.plan.start == corner
        plan = plan_page(page, m.plan)
        # planned from its own corner: less pen-up travel, counted from that corner, than planned from the
        # opposite one (what the machine would do with a plan made for another corner)
        other = OPPOSITE[STARTS[name]]
        planned_there = plan_page(page, replace(m.plan, start=corner_point(other, *OPTS.page_mm)))
        assert plan.travel_after < travel_length(planned_there.strokes, corner)
    assert resolve("plotter-svg", PlotterOptions(), OPTS.page_mm).start_corner == "top-left"  # vpype, saxi


def test_plotter_svg_is_drawn_from_the_top_left_and_start_overrides_it():
    page, _ = hand_page()
    for start, corner in ((None, (0.0, 0.0)), ("bottom-right", OPTS.page_mm)):
        m = resolve("plotter-svg", PlotterOptions(start=start, simplify=TOL), OPTS.page_mm)
        buf = io.BytesIO()
        render_plotter_svg([page], buf, m, OPTS)
        assert f"ordered from the {start or 'top-left'} corner" in buf.getvalue().decode()
        got = svg_paths(ET.fromstring(buf.getvalue()).find(f"{SVG}g"))
        match_strokes(got, page_strokes(page), TOL + 1e-3)
        far = (OPTS.page_mm[0] - corner[0], OPTS.page_mm[1] - corner[1])
        from_far = plan_page(page, replace(m.plan, start=far))
        assert travel_length(got, corner) < travel_length(from_far.strokes, corner)


@pytest.mark.parametrize("start", ["top-left", "top-right", "bottom-right"])
def test_start_corner_for_gcode_and_hpgl(start):
    page, _ = hand_page()
    w, h = OPTS.page_mm
    m = resolve("gcode", PlotterOptions(start=start), OPTS.page_mm)
    buf = io.BytesIO()
    render_gcode([page], buf, m)
    corner = m.to_machine(*corner_point(start, w, h), h)  # bottom-left origin, y up
    assert corner == ((w if "right" in start else 0.0), (h if "top" in start else 0.0))
    g = parse_gcode(buf.getvalue().decode(), m.pen_up, m.pen_down, start=corner)
    assert g["moves"][-1] == pytest.approx(corner)  # parks where it started
    assert f"pen starts and parks {start}" in buf.getvalue().decode()
    hm = resolve("hpgl", PlotterOptions(start=start), OPTS.page_mm)
    hb = io.BytesIO()
    render_hpgl([page], hb, hm)
    last_pu = re.findall(r"PU(-?\d+),(-?\d+);", hb.getvalue().decode())[-1]
    assert (int(last_pu[0]), int(last_pu[1])) == (round(corner[0] * UNITS_PER_MM), round(corner[1] * UNITS_PER_MM))


def test_a4_portrait_is_turned_onto_an_axidraw_bed():
    a5_page, _ = hand_page()  # an A4 page made of the same strokes
    with pytest.raises(OptionError, match=r"--rotate 90 \(or auto\)"):
        resolve("plotter-svg", PlotterOptions(plotter="axidraw"), A4.page_mm)
    m = resolve("plotter-svg", PlotterOptions(plotter="axidraw", rotate="auto", simplify=TOL), A4.page_mm)
    assert m.rotate and m.plan.rotate
    assert resolve("plotter-svg", PlotterOptions(plotter="axidraw-a3", rotate="auto"), A4.page_mm).rotate is False
    from hwcli.page.placement import build_page

    page = build_page(0, a5_page.lines, A4)
    buf = io.BytesIO()
    plans = render_plotter_svg([page], buf, m, A4)
    root = ET.fromstring(buf.getvalue())
    assert root.get("width") == "297mm" and root.get("height") == "210mm" and root.get("viewBox") == "0 0 297 210"
    assert "turned 90 degrees clockwise" in buf.getvalue().decode()
    assert plans[0].rotated and (plans[0].width_mm, plans[0].height_mm) == (297.0, 210.0)
    got = svg_paths(root.find(f"{SVG}g"))
    # turned clockwise: sheet (x', y') = (297 - y, x), so the page's (x, y) = (y', 297 - x')
    back = [np.column_stack([s[:, 1], 297.0 - s[:, 0]]) for s in got]
    match_strokes(back, page_strokes(page), TOL + 1e-3)
    for s in got:
        assert (s >= 0).all() and (s[:, 0] <= 297).all() and (s[:, 1] <= 210).all()


def test_rotated_gcode_says_so_and_reads_back():
    page, _ = hand_page()
    w, h = OPTS.page_mm
    with pytest.raises(OptionError, match="--rotate"):
        resolve("gcode", PlotterOptions(bed="215x150"), OPTS.page_mm)
    m = resolve("gcode", PlotterOptions(bed="215x150", rotate="90", simplify=TOL), OPTS.page_mm)
    with pytest.raises(OptionError, match="turned 90 degrees"):
        resolve("gcode", PlotterOptions(bed="150x215", rotate="90"), OPTS.page_mm)
    buf = io.BytesIO()
    render_gcode([page], buf, m)
    text = buf.getvalue().decode()
    assert "210 x 148 mm, turned 90 degrees clockwise onto the bed" in text
    g = parse_gcode(text, m.pen_up, m.pen_down)
    # machine (x, y up) -> sheet (x, 148 - y) -> page (y_sheet, 210 - x)
    back = [np.column_stack([w - s[:, 1], h - s[:, 0]]) for s in g["strokes"]]
    match_strokes(back, page_strokes(page), TOL + 1e-3)
    for s in g["strokes"]:
        assert (s >= 0).all() and (s[:, 0] <= 210).all() and (s[:, 1] <= 148).all()


def test_marlin_waits_before_pen_moves_and_dwells_in_milliseconds():
    page, _ = hand_page()
    m = resolve("gcode", PlotterOptions(plotter="marlin", simplify=TOL), OPTS.page_mm)
    buf = io.BytesIO()
    plans = render_gcode([page], buf, m)
    text = buf.getvalue().decode("ascii")
    g = parse_gcode(text, m.pen_up, m.pen_down, dwell_ms=True)
    assert set(g["dwells"]) == {150.0} and len(g["dwells"]) == 1 + 2 * len(plans[0].strokes)
    raw = g["raw"]
    pen = [k for k, ln in enumerate(raw) if ln.startswith("M280")]
    assert len(pen) == 1 + 2 * len(plans[0].strokes) and all(raw[k - 1] == "M400" for k in pen)
    assert not any(ln.startswith("G0") for ln in raw)  # Marlin's G0 is G1 at the last feed: travel has its own
    match_strokes([np.column_stack([s[:, 0], 210 - s[:, 1]]) for s in g["strokes"]], page_strokes(page), TOL + 1e-3)


def test_multi_line_pen_commands_from_the_options():
    page, _ = hand_page()
    m = resolve("gcode", PlotterOptions(pen_up="M400\\nM3 S10", pen_down="M400\nM3 S60\nG4 P0.05"), OPTS.page_mm)
    assert m.pen_down == "M400\nM3 S60\nG4 P0.05"
    buf = io.BytesIO()
    render_gcode([page], buf, m)
    g = parse_gcode(buf.getvalue().decode(), m.pen_up, m.pen_down)
    assert g["end_up"] and len(g["strokes"]) == len(page_strokes(page))


def test_profile_file_has_the_fields_of_the_built_ins(tmp_path):
    f = tmp_path / "my-machine.toml"
    f.write_text('name = "shed plotter"\nformat = "gcode"\nbed = [250, 250]\nfeed = 1800\ntravel_feed = 4000\n'
                 'pen_up = "M400\\nM280 P0 S80"\npen_down = "M400\\nM280 P0 S20"\npen_dwell = 0.2\n'
                 'dwell_unit = "ms"\nstart = "top-left"\ngcode_start = ["G28 X Y", "G92 X0 Y0"]\n')
    opts = PlotterOptions(plotter=str(f))
    m = resolve("gcode", opts, OPTS.page_mm)
    assert (m.profile, m.bed, m.feed, m.travel_feed, m.start_corner) == (str(f), (250.0, 250.0), 1800.0, 4000.0,
                                                                          "top-left")
    page, _ = hand_page()
    buf = io.BytesIO()
    render_gcode([page], buf, m)
    g = parse_gcode(buf.getvalue().decode(), m.pen_up, m.pen_down, dwell_ms=True, start=(0.0, 210.0))
    assert set(g["dwells"]) == {200.0} and g["raw"][2:4] == ["G28 X Y", "G92 X0 Y0"]
    with pytest.raises(OptionError, match="larger than the plotter's bed"):
        resolve("gcode", opts, A4.page_mm)


@pytest.mark.parametrize("body,fragment", [
    ("", "format must be one of"),
    ('format = "gcode"\nspeed = 3\n', "unknown field(s) 'speed'"),
    ('format = "gcode"\nfeed = "fast"\n', "feed has the wrong type"),
    ('format = "gcode"\nfeed = 1\n', "feed must be a speed"),
    ('format = "gcode"\npen_up = "M5\\u00e9"\n', "non-ASCII"),
    ('format = "gcode"\npen_dwell = 0.0001\n', "pen-dwell"),
    ('format = "hpgl"\npen_up = "M5"\n', "only apply to G-code profiles"),
    ('format = "gcode"\nbed = [1]\n', "bed must be"),
    ('format = "gcode"\ndwell_unit = "min"\n', "dwell_unit"),
    ("format = [", "not valid TOML"),
])
def test_bad_profile_files_are_one_clear_error(tmp_path, body, fragment):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(OptionError, match=re.escape(fragment)) as err:
        PlotterOptions(plotter=str(f))
    assert "\n" not in str(err.value) and "bad.toml" in str(err.value)
    with pytest.raises(OptionError, match="not found"):
        PlotterOptions(plotter=str(tmp_path / "none.toml"))


@pytest.mark.parametrize("opts,fragment", [
    (dict(pen_up="M5\x00"), "control character"), (dict(pen_down="M3 S90\x1b"), "control character"),
    (dict(pen_up="M5 ; levé"), "non-ASCII"), (dict(gcode_start="G28\n\u2028G92"), "non-ASCII"),
    (dict(gcode_end="M5\tM2"), "control character"), (dict(pen_up="\\n"), "at least one G-code line"),
    (dict(feed=59.9), "feed must be a speed"), (dict(travel_feed=0.0001), "travel-feed must be a speed"),
    (dict(pen_dwell=0.0004), "pen-dwell must be 0"), (dict(start="middle"), "start must be"),
    (dict(rotate="45"), "rotate must be"),
])
def test_commands_feeds_and_dwells_that_cannot_be_written_are_refused(opts, fragment):
    with pytest.raises(OptionError, match=re.escape(fragment)) as err:
        PlotterOptions(**opts)
    assert "\n" not in str(err.value)


def test_smallest_feeds_and_dwells_are_written_as_given():
    page, _ = hand_page()
    m = resolve("gcode", PlotterOptions(feed=60, travel_feed=60, pen_dwell=0.001), OPTS.page_mm)
    buf = io.BytesIO()
    render_gcode([page], buf, m)
    text = buf.getvalue().decode()
    assert "F0\n" not in text and " F60" in text and "G4 P0.001" in text and "G4 P0\n" not in text
    ms = resolve("gcode", PlotterOptions(plotter="marlin", pen_dwell=0.001), OPTS.page_mm)
    assert ms.dwell_code() == ["G4 P1"]
    for feed, vs in ((60, "VS0.1;"), (90, "VS0.15;"), (1200, "VS2.0;")):
        out = io.BytesIO()
        render_hpgl([page], out, resolve("hpgl", PlotterOptions(feed=feed), OPTS.page_mm))
        assert vs in out.getvalue().decode()


@pytest.mark.parametrize("profile,extra", [("grbl-servo", {}), ("grbl-z", {"travel_feed": 4000}),
                                           ("marlin", {}), ("grbl-servo", {"start": "top-right", "feed": 900})])
def test_plot_time_estimate_matches_a_replay_of_the_gcode(profile, extra):
    pages = [hand_page(0)[0], hand_page(1, seed=1)[0]]
    m = resolve("gcode", PlotterOptions(plotter=profile, **extra), OPTS.page_mm)
    corner = m.to_machine(*m.plan.start, OPTS.page_mm[1])
    replay = 0.0
    plans = []
    for page in pages:
        buf = io.BytesIO()
        plans += render_gcode([page], buf, m)
        g = parse_gcode(buf.getvalue().decode(), m.pen_up, m.pen_down, rapid=m.rapid_feed,
                        dwell_ms=m.dwell_unit == "ms", start=corner)
        est = plot_time(plans[-1], m)
        assert est.total_s == pytest.approx(g["seconds"], rel=1e-3)
        replay += g["seconds"]
    assert total_time(plans, m).total_s == pytest.approx(replay, rel=1e-3)
    assert f"; ~" in buf.getvalue().decode()  # the estimate is in the file's header


def test_preview_png_is_a_real_png_of_the_page():
    from PIL import Image

    page, _ = hand_page()
    m = resolve("gcode", PlotterOptions(), OPTS.page_mm)
    plan = plan_page(page, m.plan)
    buf = io.BytesIO()
    render_preview([plan], buf, OPTS, m, "png", dpi=100)
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert w == round(148 * 100 / 25.4)  # the page's width at the dpi; its height plus the caption strip
    assert h > round(210 * 100 / 25.4)
    img = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    page_px = img[: round(210 * 100 / 25.4)]
    red = ((page_px[..., 0] > 200) & (page_px[..., 1] < 90) & (page_px[..., 2] < 90)).sum()
    ink = ((page_px[..., 2] > 80) & (page_px[..., 0] < 60)).sum()  # the dark-blue ink
    assert red > 100 and ink > 1000
    caption = img[round(210 * 100 / 25.4):]
    assert (caption.sum(2) < 300).sum() > 50  # text below the page


def test_joining_strokes_that_touch_saves_lifts_and_draws_the_same_points():
    a = np.array([[0.0, 0.0], [5.0, 0.0]])
    b = np.array([[5.3, 0.0], [9.0, 1.0]])
    c = np.array([[20.0, 0.0], [25.0, 0.0]])
    out = join_strokes([a, b, c], 0.5)
    assert len(out) == 2 and np.array_equal(out[0], np.vstack([a, b])) and out[1] is c
    assert len(join_strokes([a, b, c], 0.2)) == 3 and len(join_strokes([a, b, c], 0)) == 3
    page, _ = hand_page()
    m = resolve("gcode", PlotterOptions(join=True), OPTS.page_mm, pen_width=0.5)
    assert m.plan.join == 0.5
    plan = plan_page(page, m.plan)
    plain = plan_page(page, resolve("gcode", PlotterOptions(), OPTS.page_mm).plan)
    assert len(plan.strokes) == len(plain.strokes) - plan.joined
    assert np.array_equal(np.vstack(plan.strokes), np.vstack(plain.strokes))  # the same points, in the same order
