"""The models shipped in models/: they load (hash checked) and write a page, as a fresh install would."""
from __future__ import annotations

import pytest
import torch
from pypdf import PdfReader
from typer.testing import CliRunner

from hwcli.cli.app import app
from hwcli.model.bundle import DEFAULT_MODEL, DEFAULT_UNCONDITIONAL, bundled_model_path, load_model

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_bundled_synthesis_model_has_styles_and_provenance():
    b = load_model()
    assert b.is_synthesis and len(b.styles) >= 8
    assert b.provenance.get("val_nll_point") is not None and b.provenance.get("steps", 0) > 0
    assert all(s.text and len(s.strokes) > 50 for s in b.styles)
    size = sum(p.stat().st_size for p in bundled_model_path(DEFAULT_MODEL).parent.glob(DEFAULT_MODEL + ".*"))
    assert size < 20e6


def test_write_with_the_bundled_model(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "letter.pdf"
    res = runner.invoke(app, ["write", "Dear John, thank you.", "-o", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    reader = PdfReader(str(out))
    assert len(reader.pages) == 1
    assert b" c" in reader.pages[0].get_contents().get_data()


def test_unconditional_with_the_bundled_prediction_model(tmp_path):
    b = load_model(bundled_model_path(DEFAULT_UNCONDITIONAL))
    assert not b.is_synthesis
    out = tmp_path / "free.svg"
    res = runner.invoke(app, ["write", "--unconditional", "two short lines", "-o", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    assert out.read_text().count("<path") >= 1


@pytest.mark.parametrize("name", [DEFAULT_MODEL, "hwcli-charset"])
def test_bundled_gallery_styles_are_described_and_found_by_a_word(name):
    """Both synthesis bundles carry the same 23 styles, each with a description; the first nine stay where they
    were (users' --style numbers), a description's word finds a style, and four are joined-up cursive."""
    b = load_model(bundled_model_path(name))
    assert len(b.styles) >= 20 and all(s.description for s in b.styles)
    assert [s.name for s in b.styles[:9]] == ["neat print", "upright print", "compact cursive", "slanted cursive",
                                              "light print", "small and neat", "round print", "plain print", "quick slant"]
    assert b.default_style_index == 2
    assert b.style("narrow") is b.styles[2]  # the first whose description says narrow
    assert b.style("cursive") is b.styles[16] and b.styles[16].description.startswith("joined cursive")
    assert sum(s.description.startswith("joined cursive") for s in b.styles) >= 4
    assert b.style("partly joined") is b.styles[3]
    assert b.style("slanted print") is b.styles[11]
    assert len(b.styles) == 23 and b.style("condensed") is b.styles[22]  # session 21's three print hands at the end


def test_the_two_bundles_have_the_same_styles():
    a, c = load_model(), load_model(bundled_model_path("hwcli-charset"))
    assert [(s.name, s.description, s.text) for s in a.styles] == [(s.name, s.description, s.text) for s in c.styles]
    # with no --model a document that needs the full set is written by hwcli-charset in "the same style"
    assert a.default_style_index == c.default_style_index
