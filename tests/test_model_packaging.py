"""Packaging a training run's bundle into the shipped model: styles from priming lines, measured, with the
recipe's defaults and provenance (hwcli.training.packaging, behind scripts/package_model.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hwcli.errors import DatasetError
from hwcli.model.bundle import load_model
from hwcli.training.packaging import measure_styles, package_model, style_from_line
from tiny_bundle import SCALE, make_bundle, make_dataset, steer

RECIPE = {"name": "packaged", "command": "hwcli train --data tiny.npz", "note": "a test",
          "defaults": {"bias": 1.5, "retries": 1, "check": False, "max_steps_per_char": 12},
          "styles": [{"line_id": "syn-007", "name": "first"}, {"line_id": "syn-008", "name": "second"}]}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("run")
    src = steer(load_model(make_bundle(root / "best", styles=False)))
    return src, make_dataset(None, n_lines=10, n_valid=4)


def test_package_model_adds_measured_styles_defaults_and_provenance(run, tmp_path):
    src, ds = run
    weights = {k: v.clone() for k, v in src.network.state_dict().items()}
    stem = package_model(src, RECIPE, tmp_path, ds)
    assert stem == tmp_path / "packaged"
    b = load_model(stem)
    assert [s.name for s in b.styles] == ["first", "second"]
    by_id = {lid: i for i, lid in enumerate(ds.line_ids)}
    for s, spec in zip(b.styles, RECIPE["styles"]):
        i = by_id[spec["line_id"]]
        assert s.text == ds.texts[i] and spec["line_id"] in s.source
        want = ds.line(i) / np.array([SCALE, SCALE, 1.0], np.float32)
        want[0] = (0.0, 0.0, 1.0)  # a prime starts with a zero move, pen up
        np.testing.assert_allclose(s.strokes, want, atol=1e-4)
        assert s.char_width > 1.0 and s.body_height > 0.0  # measured on lines sampled in the style
    assert b.sampling.bias == 1.5 and b.sampling.retries == 1
    assert b.provenance["command"] == RECIPE["command"] and b.provenance["note"] == "a test"
    for k, v in b.network.state_dict().items():
        assert torch.equal(v, weights[k]), k
    assert src.styles == []  # measuring borrowed the bundle's style list and gave it back


def test_measure_counts_the_lines_that_passed(run):
    src, ds = run
    style = style_from_line(ds, 7, "x")
    (ok, total), = measure_styles(src, [style], bias=1.0, lines=["one two three", "four five"])
    assert total == 2 and 0 <= ok <= 2
    assert (style.char_width > 0) == (ok > 0)


def test_recipe_errors(run, tmp_path):
    src, ds = run
    with pytest.raises(DatasetError, match="dataset"):
        package_model(src, RECIPE, tmp_path, None)
    with pytest.raises(DatasetError, match="nope"):
        package_model(src, {**RECIPE, "styles": [{"line_id": "nope", "name": "x"}]}, tmp_path, ds)
    assert not list(tmp_path.iterdir())  # nothing written
    stem = package_model(src, {"name": "plain", "defaults": {"bias": 0.5}}, tmp_path)
    assert load_model(stem).styles == [] and load_model(stem).sampling.bias == 0.5


def test_repackaging_with_more_styles_keeps_the_old_ones_and_the_weights(run, tmp_path):
    """A shipped bundle repackaged with styles appended: the existing styles keep their measured size (their pages
    stay as they were), the new ones are measured, descriptions are carried, and the tensor file is the same bytes."""
    src, ds = run
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = package_model(src, RECIPE, tmp_path / "a", ds)
    shipped = load_model(first)
    old = [(s.char_width, s.body_height) for s in shipped.styles]
    more = {**RECIPE, "styles": [{**s, "description": f"hand {k}"} for k, s in enumerate(RECIPE["styles"])]
            + [{"line_id": "syn-009", "name": "third", "description": "joined cursive, small"}]}
    shipped.styles[0].char_width *= 1.5  # what the source bundle says wins over a new measurement
    again = package_model(shipped, more, tmp_path / "b", ds)
    b = load_model(again)
    assert [s.name for s in b.styles] == ["first", "second", "third"]
    assert [s.description for s in b.styles] == ["hand 0", "hand 1", "joined cursive, small"]
    assert (b.styles[0].char_width, b.styles[0].body_height) == pytest.approx((old[0][0] * 1.5, old[0][1]), abs=1e-4)
    assert (b.styles[1].char_width, b.styles[1].body_height) == pytest.approx(old[1], abs=1e-4)
    assert b.styles[2].char_width > 0 and b.styles[2].body_height > 0
    assert b.style("cursive") is b.styles[2]
    assert first.with_suffix(".safetensors").read_bytes() == again.with_suffix(".safetensors").read_bytes()
