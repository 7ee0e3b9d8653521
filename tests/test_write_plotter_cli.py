"""`hwcli write` to pen plotters and with pressure-like ink, as a user runs it (tiny random-weights model)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from cli_checks import assert_one_line_error
from hwcli.cli.app import app
from hwcli.page.machines import PROFILES
from plot_parsers import match_strokes, parse_gcode, parse_hpgl, pdf_strokes

TEXT = "alpha beta gamma delta " * 6
PAGE = ["--page-size", "A5", "--line-height", "40", "--margin", "15", "--seed", "4"]
INK = "{http://www.inkscape.org/namespaces/inkscape}"
runner = CliRunner()


@pytest.fixture(scope="module")
def model(tiny_model) -> str:
    return tiny_model


def write(model, *args, input=None):
    return runner.invoke(app, ["write", "--model", model, *args], input=input)


def dots_as_points(strokes):
    """The PDF draws a dot as a 0.01 mm segment; plotters as a single point."""
    return [s[:1] if len(s) == 2 and np.linalg.norm(s[1] - s[0]) < 0.02 else s for s in strokes]


@pytest.fixture(scope="module")
def pdf_pages(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf") / "same.pdf"
    res = write(model, TEXT, "-o", str(out), "-q", *PAGE)
    assert res.exit_code == 0, res.output
    reader = PdfReader(str(out))
    return [dots_as_points(pdf_strokes(p.get_contents().get_data().decode("latin-1"))) for p in reader.pages]


def test_gcode_one_file_per_page_with_the_pdf_strokes(model, tmp_path, pdf_pages):
    out = tmp_path / "card.gcode"
    res = write(model, TEXT, "-o", str(out), "--simplify", "0.05", "--preview", str(tmp_path / "tp.svg"), *PAGE)
    assert res.exit_code == 0, res.output
    files = sorted(tmp_path.glob("card-*.gcode"))
    assert len(files) == len(pdf_pages) >= 2 and not out.exists()
    assert len(re.findall(r"page \d: pen-up travel \d+ mm", res.stderr)) == len(files)
    prof = PROFILES["grbl-servo"]
    h = 210.0
    for f, want in zip(files, pdf_pages):
        g = parse_gcode(f.read_text(), prof.pen_up, prof.pen_down)
        assert g["units"] and g["absolute"] and g["end_up"] and g["pauses"] == 0
        back = [np.column_stack([s[:, 0], h - s[:, 1]]) for s in g["strokes"]]
        for s in back:  # inside the page, and across inside the margins
            assert (s >= 0).all() and (s[:, 0] <= 148).all() and (s[:, 1] <= 210).all()
            assert (s[:, 0] >= 15 - 0.02).all() and (s[:, 0] <= 148 - 15 + 0.02).all()
        match_strokes(back, want, 0.05 + 0.011)
    svg = ET.parse(tmp_path / "tp.svg").getroot()
    assert "pen-up travel" in "".join(svg.itertext())


def test_hpgl_by_suffix_and_plotter_svg_layers(model, tmp_path, pdf_pages):
    res = write(model, TEXT, "-o", str(tmp_path / "p.plt"), "-q", "--simplify", "0", *PAGE)
    assert res.exit_code == 0, res.output
    files = sorted(tmp_path.glob("p-*.plt"))
    assert len(files) == len(pdf_pages)
    for f, want in zip(files, pdf_pages):
        hp = parse_hpgl(f.read_text())
        assert hp["ops"][:2] == ["IN", "SP"] and hp["end_up"]
        match_strokes([np.column_stack([s[:, 0] / 40, 210 - s[:, 1] / 40]) for s in hp["strokes"]], want, 0.0125 + 0.011)
    res = write(model, TEXT, "-o", str(tmp_path / "doc.svg"), "--plotter-svg", "-q", *PAGE)
    assert res.exit_code == 0, res.output
    root = ET.parse(tmp_path / "doc.svg").getroot()
    layers = root.findall("{http://www.w3.org/2000/svg}g")
    assert [g.get(f"{INK}label") for g in layers] == [str(k + 1) for k in range(len(pdf_pages))]
    assert all(len(g) > 0 for g in layers) and root.get("width") == "148mm"
    res = write(model, "hi", "-o", str(tmp_path / "axi.svg"), "--plotter", "axidraw", "--page-size", "A5", "-q")
    assert res.exit_code == 0, res.output
    assert ET.parse(tmp_path / "axi.svg").getroot().find("{http://www.w3.org/2000/svg}g").get(f"{INK}groupmode") == "layer"


def test_keep_order_keeps_the_writing_order_travel(model, tmp_path):
    res = write(model, "hello world", "-o", str(tmp_path / "k.nc"), "--keep-order", "--plotter", "grbl-z")
    assert res.exit_code == 0, res.output
    m = re.search(r"pen-up travel (\d+) mm \(writing order (\d+) mm, 0% less\)", res.stderr)
    assert m and m.group(1) == m.group(2)
    assert "G0 Z5" in (tmp_path / "k.nc").read_text()


def test_gcode_to_stdout(model):
    res = write(model, "hi", "-o", "-", "--format", "gcode", "-q")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith("; hwcli") and "G21" in res.stdout and res.stdout.rstrip().endswith("M2 ; end of program")


@pytest.mark.parametrize("pen", ["fountain", "ballpoint"])
def test_pen_draws_filled_outlines(model, tmp_path, pen):
    out = tmp_path / "p.pdf"
    res = write(model, "hello", "-o", str(out), "--pen", pen, "-q")
    assert res.exit_code == 0, res.output
    ops = PdfReader(str(out)).pages[0].get_contents().get_data().decode("latin-1")
    assert "\nf" in ops and "\nS" not in ops


@pytest.mark.parametrize("args,fragment", [
    (["-o", "x.gcode", "--plotter", "laser"], "unknown plotter profile 'laser'"),
    (["-o", "x.gcode", "--bed", "100x150"], "larger than the plotter's bed"),
    (["-o", "x.svg", "--plotter", "axidraw"], "larger than the plotter's bed"),
    (["-o", "x.gcode", "--feed", "0"], "feed must be a speed"),
    (["-o", "x.gcode", "--feed", "-300"], "feed must be a speed"),
    (["-o", "x.gcode", "--travel-feed", "1e9"], "travel-feed must be a speed"),
    (["-o", "x.gcode", "--pen-dwell", "-1"], "pen-dwell"),
    (["-o", "x.gcode", "--bed", "big"], "bed must be"),
    (["-o", "x.gcode", "--simplify", "5"], "simplify tolerance"),
    (["-o", "x.gcode", "--pen", "fountain"], "--pen fountain"),
    (["-o", "x.hpgl", "--pen-up", "M5"], "only apply to G-code"),
    (["-o", "x.pdf", "--feed", "2000"], "only apply to plotter output"),
    (["-o", "x.pdf", "--preview", "p.svg"], "--preview only apply to plotter output"),
    (["-o", "x.pdf", "--plotter", "grbl-z"], "writes gcode: use -o FILE.gcode"),
    (["-o", "x.gcode", "--preview", "x.gcode"], "--preview needs a file name"),
    (["-o", "x.png", "--plotter-svg"], "--plotter-svg"),
    (["-o", "x.svg", "--plotter", "axidraw", "--page-size", "A4"], "--rotate 90 (or auto)"),
    (["-o", "x.gcode", "--preview", "tp.pdf"], "--preview writes .svg or .png"),
    (["-o", "x.gcode", "--pen-up", "M5 \u00e9"], "pen-up has a non-ASCII character"),
    (["-o", "x.gcode", "--pen-down", "M3\x07"], "pen-down has a control character"),
    (["-o", "x.gcode", "--gcode-start", "G28\x00"], "gcode-start has a control character"),
    (["-o", "x.gcode", "--gcode-end", "M2\u00a0"], "gcode-end has a non-ASCII character"),
    (["-o", "x.gcode", "--feed", "0.0001"], "feed must be a speed"),
    (["-o", "x.gcode", "--pen-dwell", "0.0001"], "pen-dwell must be 0"),
    (["-o", "x.gcode", "--plotter", "mine.toml"], "plotter profile file 'mine.toml' not found"),
    (["-o", "x.svg", "--plotter-svg", "--origin", "top-left"], "--start sets the corner"),
])
def test_bad_plotter_input_is_one_line_before_loading_the_model(tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    # a model that does not exist: the plotter error must come first, before any model is loaded or sampled
    res = runner.invoke(app, ["write", "hello", "--model", str(tmp_path / "missing.json"), *args])
    line = assert_one_line_error(res, fragment, code=res.exit_code)
    assert res.exit_code != 0 and line
    assert list(tmp_path.iterdir()) == []


def test_cli_choices_match_the_library():
    """The CLI spells out pens and profiles (so `hwcli --help` needs no numpy); they must not drift."""
    from hwcli.cli.write import Pen
    from hwcli.page.options import PENS

    assert [p.value for p in Pen] == list(PENS)
    res = runner.invoke(app, ["write", "--help"], env={"COLUMNS": "200"})
    help_text = " ".join(res.stdout.split())
    assert all(name in help_text for name in PROFILES)


def test_bad_pen_command_in_a_batch_is_one_line_before_sampling(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "b.txt").write_text("two")
    res = runner.invoke(app, ["write", "--model", str(tmp_path / "missing.json"), "-i", "a.txt", "-i", "b.txt",
                              "--out-dir", "out", "--format", "gcode", "--pen-up", "M5\u00e9"])
    assert_one_line_error(res, "pen-up has a non-ASCII character", code=res.exit_code)
    assert res.exit_code != 0
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a4_on_an_axidraw_turned_with_a_png_preview_and_estimate(model, tmp_path):
    from PIL import Image

    out, prev = tmp_path / "a4.svg", tmp_path / "tp.png"
    res = write(model, "hello there", "-o", str(out), "--plotter", "axidraw", "--rotate", "auto",
                "--preview", str(prev), "--dpi", "50")
    assert res.exit_code == 0, res.output
    root = ET.parse(out).getroot()
    assert root.get("width") == "297mm" and root.get("height") == "210mm"
    assert "turned 90 degrees clockwise" in out.read_text()
    assert re.search(r"page 1: .*; ~\d+ (s|min)[^(]* to plot \(", " ".join(res.stderr.split()))
    img = Image.open(prev)
    assert img.format == "PNG" and img.size[0] == round(297 * 50 / 25.4) and img.size[1] > round(210 * 50 / 25.4)


def test_marlin_and_a_profile_file_from_the_command_line(model, tmp_path):
    res = write(model, "hi", "-o", str(tmp_path / "m.gcode"), "--plotter", "marlin", "--page-size", "A5", "-q")
    assert res.exit_code == 0, res.output
    text = (tmp_path / "m.gcode").read_text()
    assert "G4 P150\n" in text and "M400\nM280 P0 S30\nG4 P150" in text
    prof = tmp_path / "shed.toml"
    prof.write_text('format = "gcode"\nbed = "A4"\npen_up = "M400\\nM5"\npen_down = "M400\\nM3 S1000"\n'
                    'dwell_unit = "ms"\npen_dwell = 0.25\n')
    res = write(model, "hi", "-o", str(tmp_path / "s.gcode"), "--plotter", str(prof), "--start", "top-left", "-q")
    assert res.exit_code == 0, res.output
    g = parse_gcode((tmp_path / "s.gcode").read_text(), "M400\nM5", "M400\nM3 S1000", dwell_ms=True)
    assert set(g["dwells"]) == {250.0} and g["strokes"] and g["end_up"]
    assert g["moves"][-1] == (0.0, 297.0)  # parks at the top-left corner of the A4 sheet (origin bottom-left, y up)
    svg_prof = tmp_path / "pens.toml"
    svg_prof.write_text('format = "plotter-svg"\nbed = "A4"\nstart = "bottom-right"\n')
    res = write(model, "hi", "-o", str(tmp_path / "p.svg"), "--plotter", str(svg_prof), "-q")
    assert res.exit_code == 0, res.output
    assert "ordered from the bottom-right corner" in (tmp_path / "p.svg").read_text()
    res = write(model, "hi", "-o", str(tmp_path / "p.pdf"), "--plotter", str(svg_prof))
    assert_one_line_error(res, "writes plotter-svg: use -o FILE.svg", code=res.exit_code)
