"""`hwcli styles`: the list of a model's styles and the preview sheet written through the document API."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from pypdf import PdfReader
from typer.testing import CliRunner

from cli_checks import assert_one_line_error
from tiny_bundle import STYLE_TEXTS, make_bundle

from hwcli.cli.app import app

runner = CliRunner()
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    torch.set_num_threads(1)
    return str(make_bundle(tmp_path_factory.mktemp("m") / "tiny", defaults={"max_steps_per_char": 5, "retries": 0}))


def styles(*args):
    return runner.invoke(app, ["styles", *map(str, args)])


def test_list_names_every_style(model):
    res = styles("--model", model)
    assert res.exit_code == 0, res.output
    for name, text in STYLE_TEXTS:
        assert name in res.stdout and text in res.stdout


def test_list_marks_the_default_style(tmp_path):
    stem = make_bundle(tmp_path / "d", defaults={"default_style": 1})
    res = styles("--model", stem)
    assert res.exit_code == 0, res.output
    marked = [line for line in res.stdout.splitlines() if "(default)" in line]
    assert len(marked) == 1 and STYLE_TEXTS[1][0] in marked[0]


def test_preview_sheet_has_a_line_per_style(model, tmp_path):
    out = tmp_path / "sheet.svg"
    res = styles("--model", model, "--preview", out, "--text", "abc", "--seed", "2")
    assert res.exit_code == 0, res.output
    root = ET.parse(out).getroot()
    assert len(root.findall(f".//{SVG}path")) == len(STYLE_TEXTS)  # one path per written line
    pdf = tmp_path / "sheet.pdf"
    assert styles("--model", model, "--preview", pdf).exit_code == 0
    assert len(PdfReader(str(pdf)).pages) == 1


def test_preview_bad_suffix_and_bad_model(model, tmp_path):
    assert_one_line_error(styles("--model", model, "--preview", tmp_path / "x.docx"), "format", code=2)
    assert not (tmp_path / "x.docx").exists()
    assert_one_line_error(styles("--model", tmp_path / "nope.json"), "not found")


def test_an_option_that_took_another_option_as_its_value_is_named():
    """`hwcli styles --preview --style 2` (the file name forgotten): click takes "--style" as the file and then "2"
    as an unknown command; the one error line names the real mistake first."""
    r = CliRunner().invoke(app, ["styles", "--preview", "--style", "2"])
    line = assert_one_line_error(r, "--preview took '--style' as its value", "No such command '2'", code=2)
    assert line.endswith("(see 'hwcli styles --help')")
    r = CliRunner().invoke(app, ["styles", "--previe", "x.pdf"])  # another parse error: said as before
    line = assert_one_line_error(r, "No such option: --previe", code=2)
    assert "took" not in line
    r = CliRunner().invoke(app, ["eval", "--input", "-", "--lines", "x"])  # '-' (stdin) is a value, not an option
    assert "took" not in assert_one_line_error(r, "--lines", code=2)


def test_a_command_error_after_a_swallowed_option_names_it_first(tmp_path):
    """`hwcli write -o --style 2 hello`: the output became "--style", so "2" and "hello" are two texts; the command's
    own error line says first what went wrong, and nothing is written."""
    r = CliRunner().invoke(app, ["write", "-o", "--style", "2", "hello"])
    line = assert_one_line_error(r, "took '--style' as its value", "2 TEXT arguments", code=2)
    assert line.startswith("hwcli: error: --output took") or line.startswith("hwcli: error: -o took"), line
    assert not (tmp_path / "--style").exists() and not Path("--style").exists()
    r = CliRunner().invoke(app, ["write", "2", "hello", "-o", str(tmp_path / "x.pdf")])  # no option swallowed
    assert "took" not in assert_one_line_error(r, "2 TEXT arguments", code=2)
