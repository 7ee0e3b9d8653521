"""`--style WORD`: a built-in style chosen by a word of its name or description, and the listing that shows them."""
from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from cli_checks import assert_one_line_error
from tiny_bundle import make_bundle

from hwcli.cli.app import app
from hwcli.errors import StyleNotFoundError
from hwcli.model.bundle import load_model, style_words

runner = CliRunner()
DESCRIPTIONS = ["upright print, wide", "joined cursive, strongly slanted, small", "joined cursive, narrow"]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    torch.set_num_threads(1)
    stem = make_bundle(tmp_path_factory.mktemp("w") / "tiny", defaults={"max_steps_per_char": 5, "retries": 0})
    j = stem.with_suffix(".json")
    doc = json.loads(j.read_text())
    for st, d in zip(doc["styles"], DESCRIPTIONS):
        st["description"] = d
    j.write_text(json.dumps(doc))
    return str(stem)


def test_style_words_lowercase_without_punctuation_or_stop_words():
    assert style_words("Joined cursive, strongly slanted and small") == ["joined", "cursive", "strongly", "slanted", "small"]
    assert style_words("half-joined, 2 pens") == ["half-joined", "2", "pens"]


def test_a_description_word_picks_the_first_style_that_has_it(model):
    b = load_model(model)
    assert [s.description for s in b.styles] == DESCRIPTIONS
    assert b.style("cursive") is b.styles[1]  # the first of the two cursive styles
    assert b.style("CURSIVE") is b.styles[1]
    assert b.style("narrow") is b.styles[2]
    assert b.style("wide") is b.styles[0]
    assert b.style("cursive narrow") is b.styles[2]  # several words: a style that has them all
    assert b.style("strongly") is b.styles[1]
    assert b.style("small") is b.styles[2]  # a style's name comes before a word of another's description
    assert b.style("loose") is b.styles[1]
    b.styles[0].name = "upright cursive"  # a description's word comes before a name's
    assert b.style("cursive") is b.styles[1] and b.style("upright") is b.styles[0]
    b.styles[1].description = b.styles[2].description = ""
    assert b.style("cursive") is b.styles[0]  # no description has it: the first name that does
    assert b.style(2) is b.styles[2] and b.style("2") is b.styles[2]


def test_an_unknown_word_lists_the_words(model):
    b = load_model(model)
    with pytest.raises(StyleNotFoundError) as e:
        b.style("gothic")
    msg = str(e.value)
    assert "'gothic'" in msg and "\n" not in msg
    for w in ("cursive", "joined", "narrow", "print", "slanted", "loose"):
        assert w in msg
    with pytest.raises(StyleNotFoundError):
        b.style("cursive wide")  # no style has both


def test_descriptions_survive_a_save_and_load(model, tmp_path):
    from hwcli.model.bundle import save_bundle

    b = load_model(model)
    stem = save_bundle(tmp_path / "copy", b.network, b.config, b.alphabet, b.scale, defaults=b.defaults,
                       styles=b.styles, provenance=b.provenance)
    assert [s.description for s in load_model(stem).styles] == DESCRIPTIONS
    b.styles[0].description = ""
    stem = save_bundle(tmp_path / "bare", b.network, b.config, b.alphabet, b.scale, styles=b.styles)
    assert "description" not in json.loads(stem.with_suffix(".json").read_text())["styles"][0]


def test_styles_lists_name_and_description(model):
    res = runner.invoke(app, ["styles", "--model", model])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.stdout.split())
    for d in ("upright print", "strongly slanted", "narrow"):
        assert d in flat


def test_write_takes_a_description_word(model, tmp_path):
    out = tmp_path / "c.svg"
    res = runner.invoke(app, ["write", "ab", "--model", model, "--style", "cursive", "-o", str(out), "--no-check",
                              "--seed", "1"])
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("<?xml") or "<svg" in out.read_text()


def test_write_with_an_unknown_word_is_one_error_line(model, tmp_path):
    out = tmp_path / "x.svg"
    res = runner.invoke(app, ["write", "ab", "--model", model, "--style", "gothic", "-o", str(out), "--no-check"])
    line = assert_one_line_error(res, "gothic", "cursive")
    assert "description" not in line or "words" in line
    assert not out.exists()
