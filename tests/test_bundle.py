"""hwcli.model.bundle: save/load round trip, integrity checks (hash, version, missing files), style lookup."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hwcli.alphabet import Alphabet
from hwcli.errors import ModelFileError, StyleNotFoundError
from hwcli.model.bundle import FORMAT_VERSION, load_model, save_bundle
from hwcli.model.network import build_network
from tiny_bundle import SCALE, STYLE_TEXTS, make_bundle, tiny_config

torch.set_num_threads(1)


def _forward(net, cfg, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 7, 3, generator=g)
    if cfg.kind == "prediction":
        return net(x)[0]
    oh = torch.nn.functional.one_hot(torch.randint(1, cfg.alphabet_size, (2, 4), generator=g), cfg.alphabet_size).float()
    return net(x, oh)[0]


@pytest.mark.parametrize("kind", ["synthesis", "prediction"])
def test_round_trip_gives_identical_outputs(tmp_path, kind):
    cfg = tiny_config(kind, hidden=12, layers=2)
    torch.manual_seed(3)
    net = build_network(cfg).eval()
    stem = save_bundle(tmp_path / "m", net, cfg, Alphabet(), 12.5,
                       defaults={"bias": 1.5}, provenance={"steps": 7}, meta={"char_width": 2.0})
    assert stem == tmp_path / "m"
    b = load_model(tmp_path / "m.json")  # the .json, the .safetensors or the stem all name the bundle
    assert b.config == cfg and b.scale == 12.5 and b.is_synthesis == (kind == "synthesis")
    assert b.defaults["bias"] == 1.5 and "retries" in b.defaults  # stored defaults over the built-in ones
    assert b.provenance == {"steps": 7} and b.meta == {"char_width": 2.0}
    assert not b.network.training
    with torch.no_grad():
        assert torch.equal(_forward(net, cfg), _forward(b.network, b.config))
    sd, sd2 = net.state_dict(), b.network.state_dict()
    assert sd.keys() == sd2.keys() and all(torch.equal(sd[k], sd2[k]) for k in sd)


def test_bundle_json_is_self_describing(tmp_path):
    stem = make_bundle(tmp_path / "tiny")
    doc = json.loads(stem.with_suffix(".json").read_text())
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["config"]["hidden"] == 16 and doc["stats"]["scale"] == SCALE
    assert doc["tensors"]["file"] == "tiny.safetensors" and len(doc["tensors"]["sha256"]) == 64
    assert [s["name"] for s in doc["styles"]] == [n for n, _ in STYLE_TEXTS]
    # tensors only: the weights file is safetensors (8-byte little-endian header length, then JSON), no pickle
    blob = stem.with_suffix(".safetensors").read_bytes()
    n = int.from_bytes(blob[:8], "little")
    assert json.loads(blob[8 : 8 + n])


def test_half_precision_bundle_loads_as_float32(tmp_path):
    cfg = tiny_config(hidden=8)
    net = build_network(cfg)
    save_bundle(tmp_path / "h", net, cfg, Alphabet(), 1.0, half=True)
    b = load_model(tmp_path / "h")
    p = next(b.network.parameters())
    assert p.dtype == torch.float32
    assert torch.allclose(p, next(net.parameters()).half().float())


def test_modified_weights_fail_the_hash_check(tmp_path):
    stem = make_bundle(tmp_path / "m")
    path = stem.with_suffix(".safetensors")
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0x01  # one bit of one weight
    path.write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match="sha256"):
        load_model(stem)


def test_newer_format_version_names_the_version_needed(tmp_path):
    stem = make_bundle(tmp_path / "m")
    jpath = stem.with_suffix(".json")
    doc = json.loads(jpath.read_text())
    doc["format_version"] = FORMAT_VERSION + 1
    jpath.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=f"version {FORMAT_VERSION + 1}.*upgrade"):
        load_model(stem)


@pytest.mark.parametrize("missing", [".json", ".safetensors"])
def test_missing_files(tmp_path, missing):
    stem = make_bundle(tmp_path / "m")
    stem.with_suffix(missing).unlink()
    with pytest.raises(ModelFileError, match="not found"):
        load_model(stem)
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "never-saved")


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"config": {}}'])
def test_not_a_bundle(tmp_path, content):
    (tmp_path / "x.json").write_text(content)
    with pytest.raises(ModelFileError):
        load_model(tmp_path / "x")


def test_config_that_does_not_match_the_weights(tmp_path):
    stem = make_bundle(tmp_path / "m", hidden=16)
    jpath = stem.with_suffix(".json")
    doc = json.loads(jpath.read_text())
    doc["config"]["hidden"] = 32
    jpath.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=r"tensor 'l1_x.weight' has shape \(64, 3\), the network in the JSON needs \(128, 3\)"):
        load_model(stem)


def test_style_lookup(tmp_path):
    b = load_model(make_bundle(tmp_path / "m"))
    assert [s.name for s in b.styles] == [n for n, _ in STYLE_TEXTS]
    assert b.style(None) is b.styles[0]
    assert b.style(1) is b.styles[1] and b.style("1") is b.styles[1]  # a CLI passes indices as text
    assert b.style("small").text == "ok"
    s = b.style("loose")
    assert s.text == "hi there" and s.strokes.dtype == np.float32 and s.strokes.shape[1] == 3
    for bad in (3, -1, "7", "cursive"):
        with pytest.raises(StyleNotFoundError):
            b.style(bad)


def test_bundle_without_styles(tmp_path):
    b = load_model(make_bundle(tmp_path / "m", styles=False))
    assert b.style(None) is None
    with pytest.raises(StyleNotFoundError, match="no styles"):
        b.style(0)


def test_make_bundle_is_seeded(tmp_path):
    a = make_bundle(tmp_path / "a", seed=1)
    b = make_bundle(tmp_path / "b", seed=1)
    c = make_bundle(tmp_path / "c", seed=2)
    read = lambda s: json.loads(s.with_suffix(".json").read_text())["tensors"]["sha256"]  # noqa: E731
    assert read(a) == read(b) != read(c)


def test_style_measurements_round_trip_and_size_the_hand(tmp_path):
    from hwcli.writing.compose import hand_metrics
    from hwcli.model.bundle import Style
    from hwcli.writing.compose import SAMPLED_BODY_FRACTION
    from tiny_bundle import glyph_offsets

    cfg = tiny_config("synthesis", hidden=8, layers=1)
    strokes = glyph_offsets("hello world")
    styles = [Style("measured", "hello world", strokes, char_width=2.5, body_height=4.0),
              Style("unmeasured", "hello world", strokes)]
    save_bundle(tmp_path / "m", build_network(cfg), cfg, Alphabet(), 10.0, styles=styles)
    b = load_model(tmp_path / "m.json")
    measured, unmeasured = b.styles
    assert (measured.char_width, measured.body_height) == (2.5, 4.0)
    assert (unmeasured.char_width, unmeasured.body_height) == (0.0, 0.0)
    scale, per_char = hand_metrics(b, measured, 10.0)
    assert scale == pytest.approx(SAMPLED_BODY_FRACTION * 10.0 / 4.0) and per_char == pytest.approx(2.5 * scale)
    scale2, _ = hand_metrics(b, unmeasured, 10.0)  # falls back to the prime's own height
    assert scale2 > 0 and scale2 != pytest.approx(scale)


def test_a_styles_full_set_flag_survives_the_json_round_trip():
    """`Style.full_set` (the default bundle's print styles that the full-set model writes whole) is written only
    when set and read back as it was."""
    import numpy as np

    from hwcli.model.bundle import Style

    st = Style("print", "ab", np.zeros((3, 3), np.float32), full_set=True)
    assert st.to_json()["full_set"] is True and Style.from_json(st.to_json()).full_set
    plain = Style("print", "ab", np.zeros((3, 3), np.float32))
    assert "full_set" not in plain.to_json() and not Style.from_json(plain.to_json()).full_set
