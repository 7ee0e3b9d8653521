"""Several inks in one document: `{color:...}` lines, plotter SVG layers per page and ink, G-code pen changes
(M0), HP-GL pens (SPn), and PDF/SVG/PNG lines in their colours."""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from typer.testing import CliRunner

from hwcli.cli.app import app
from hwcli.errors import OptionError
from hwcli.page.colors import document_colors, line_colors, split_colors
from hwcli.page.estimate import plot_time
from hwcli.page.gcode import render_gcode
from hwcli.page.hpgl import UNITS_PER_MM, render_hpgl
from hwcli.page.machines import PlotterOptions, resolve
from hwcli.page.placement import build_page
from hwcli.page.plotter_svg import render_plotter_svg
from hwcli.page.png import rasterize_page
from hwcli.page.svg import render_svg
from hwcli.strokes import points_from_strokes, split_strokes
from plot_parsers import match_strokes, parse_gcode, parse_hpgl
from test_plotters import OPTS, SVG, hand_page

INK = "{http://www.inkscape.org/namespaces/inkscape}"
BLUE, RED = "#1a237e", "#8b0000"  # the page's default ink, and darkred


def test_color_lines_are_taken_out_and_colour_the_lines_after_them():
    text = "Dear Helen,\nthe letter itself\n  {color: darkred}  \nYours, Anna\n{colour}\nP.S. back to blue"
    clean, marks = split_colors(text)
    assert "{" not in clean and clean.split() == "Dear Helen, the letter itself Yours, Anna P.S. back to blue".split()
    assert marks == [(len("DearHelen,theletteritself"), "darkred"), (len("DearHelen,theletteritselfYours,Anna"), "")]
    lines = ["Dear Helen,", "the letter itself", "Yours, Anna", "P.S. back to", "blue"]
    assert line_colors(lines, marks) == ["", "", "darkred", "", ""]
    assert document_colors("navy", ["", "darkred", "DarkRed", "#00ff00"]) == ["#000080", RED, "#00ff00"]
    assert split_colors("no marks {here}") == ("no marks {here}", [])
    with pytest.raises(OptionError, match=r"unknown color 'blurple' in '\{color:blurple\}' \(line 2\)"):
        split_colors("a\n{color:blurple}\nb")
    with pytest.raises(OptionError, match="at most 16"):
        split_colors("\n".join(f"{{color:#0000{k:02x}}}\nx" for k in range(17)))


def two_ink_page(number: int = 0):
    """hand_page's strokes as four lines, the last two in red."""
    _, strokes = hand_page(number, seed=number)
    per = len(strokes) // 4
    lines = [points_from_strokes(strokes[k * per:(k + 1) * per]) for k in range(4)]
    colors = ["", "", "darkred", "darkred"]
    page = build_page(number, lines, OPTS, ["a", "b", "c", "d"], colors, document_colors(OPTS.color, colors))
    want = {BLUE: [s for ln in lines[:2] for s in split_strokes(ln)], RED: [s for ln in lines[2:] for s in split_strokes(ln)]}
    return page, want


def test_plotter_svg_has_a_layer_per_page_and_ink_in_plotting_order():
    pages = [two_ink_page(0), two_ink_page(1)]
    blue_only = build_page(2, pages[0][0].lines[:1], OPTS, ["a"], [""], [BLUE, RED])  # a page all in the first ink
    m = resolve("plotter-svg", PlotterOptions(simplify=0.05), OPTS.page_mm)
    buf = io.BytesIO()
    render_plotter_svg([p for p, _ in pages] + [blue_only], buf, m, OPTS)
    layers = ET.fromstring(buf.getvalue()).findall(f"{SVG}g")
    assert [g.get(f"{INK}label") for g in layers] == ["101", "102", "201", "202", "301"]
    assert [g.get("stroke") for g in layers] == [BLUE, RED, BLUE, RED, BLUE]
    layers = layers[:4]
    for g, (ink, (_, want)) in zip(layers, [(BLUE, pages[0]), (RED, pages[0]), (BLUE, pages[1]), (RED, pages[1])]):
        got = []
        for p in g.findall(f"{SVG}path"):
            pts = np.array([[float(v) for v in xy.split(",")] for xy in re.findall(r"-?[\d.]+,-?[\d.]+", p.get("d"))])
            got.append(pts[:1] if len(pts) == 2 and np.linalg.norm(pts[1] - pts[0]) < 0.02 else pts)
        match_strokes(got, want[ink], 0.051)


def test_gcode_pauses_for_a_pen_change_and_hpgl_selects_the_pen():
    page, want = two_ink_page()
    m = resolve("gcode", PlotterOptions(simplify=0.05), OPTS.page_mm)
    buf = io.BytesIO()
    plans = render_gcode([page], buf, m)
    text = buf.getvalue().decode("ascii")
    assert text.count("M0 ; pen change: load pen 2 (#8b0000), then resume") == 1 and "load pen 1" not in text
    g = parse_gcode(text, m.pen_up, m.pen_down)
    assert g["pauses"] == 1 and g["end_up"]
    # the strokes before the pause are the blue lines, those after it the red ones
    raw = text.splitlines()
    cut = next(k for k, ln in enumerate(raw) if ln.startswith("M0"))
    before = parse_gcode("\n".join(raw[:cut]), m.pen_up, m.pen_down)["strokes"]
    back = lambda ss: [np.column_stack([s[:, 0], 210 - s[:, 1]]) for s in ss]  # noqa: E731
    match_strokes(back(before), want[BLUE], 0.051)
    match_strokes(back(g["strokes"][len(before):]), want[RED], 0.051)
    assert plot_time(plans[0], m).total_s == pytest.approx(g["seconds"], rel=1e-3)  # the estimate still holds
    hb = io.BytesIO()
    render_hpgl([page], hb, resolve("hpgl", PlotterOptions(simplify=0.05), OPTS.page_mm))
    hp = hb.getvalue().decode()
    assert hp.count("SP2;") == 1 and hp.index("SP1;") < hp.index("SP2;")
    red = parse_hpgl(hp[hp.index("SP2;"):])["strokes"]
    match_strokes([np.column_stack([s[:, 0] / UNITS_PER_MM, 210 - s[:, 1] / UNITS_PER_MM]) for s in red], want[RED],
                  0.051 + 0.02)


def test_svg_and_png_draw_each_line_in_its_ink():
    page, _ = two_ink_page()
    buf = io.BytesIO()
    render_svg(page, buf, OPTS)
    paths = ET.fromstring(buf.getvalue()).find(f".//{SVG}g[@id='ink']").findall(f"{SVG}path")
    assert [p.get("stroke") for p in paths] == [None, None, RED, RED]  # None: the group's (page's) ink
    img = rasterize_page(page, OPTS, dpi=100).astype(int)
    reds = ((img[..., 0] > 100) & (img[..., 2] < 60)).sum()
    blues = ((img[..., 2] > 90) & (img[..., 0] < 60)).sum()
    assert reds > 200 and blues > 200


def test_write_with_a_red_signature_from_the_command_line(tiny_model, tmp_path):
    from pypdf import PdfReader

    runner = CliRunner()
    text = "Dear Helen,\nsee you soon\n{color:darkred}\nAnna"
    res = runner.invoke(app, ["write", "--model", tiny_model, text, "-o", str(tmp_path / "l.pdf"), "-q"])
    assert res.exit_code == 0, res.output
    ops = PdfReader(str(tmp_path / "l.pdf")).pages[0].get_contents().get_data().decode("latin-1")
    assert re.search(r"(^|\s)0?\.545098 0 0 RG", ops)  # darkred strokes; the page's blue for the rest
    assert re.search(r"(^|\s)0?\.101961 0?\.137255 0?\.494118 RG", ops)
    res = runner.invoke(app, ["write", "--model", tiny_model, text, "-o", str(tmp_path / "l.gcode"), "-q"])
    assert res.exit_code == 0, res.output
    assert "M0 ; pen change: load pen 2 (#8b0000)" in (tmp_path / "l.gcode").read_text()
    res = runner.invoke(app, ["write", "--model", tiny_model, "a\n{color:nope}\nb", "-o", str(tmp_path / "x.pdf")])
    assert res.exit_code != 0 and res.stderr.strip().startswith("hwcli: error: unknown color 'nope'")
    assert not (tmp_path / "x.pdf").exists()
