"""Hostile or broken bundles (issue 13, classes 5, 7, 8): every one is a single ModelFileError, nothing hangs."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import threading
from pathlib import Path

import pytest
import torch
from safetensors.torch import save

import hwcli.model.files as B
from hwcli.errors import ModelFileError
from hwcli.model.bundle import load_model
from tiny_bundle import make_bundle

torch.set_num_threads(1)


@pytest.fixture
def stem(tmp_path) -> Path:
    return make_bundle(tmp_path / "m", hidden=8)


def _edit(stem: Path, fn) -> None:
    j = stem.with_suffix(".json")
    doc = json.loads(j.read_text())
    fn(doc)
    j.write_text(json.dumps(doc))


def _set(path: str, value):
    def fn(doc):
        keys = path.split(".")
        d = doc
        for k in keys[:-1]:
            d = d[int(k)] if isinstance(d, list) else d[k]
        if value is KeyError:
            del d[keys[-1]]
        else:
            d[keys[-1]] = value
    return fn


def _retensor(stem: Path, blob: bytes) -> None:
    """Replace the tensor file with `blob` and make the JSON's sha256 match (a hash only proves integrity)."""
    stem.with_suffix(".safetensors").write_bytes(blob)
    _edit(stem, _set("tensors.sha256", hashlib.sha256(blob).hexdigest()))


@pytest.mark.parametrize("path, value, needle", [
    ("config", "x", "'config' must be an object"),
    ("config.hidden", "8", "config.hidden"),
    ("config.hidden", 10**9, "config.hidden"),
    ("config.layers", -1, "config.layers"),
    ("config.kind", "gan", "config.kind"),
    ("config.alphabet_size", 7, "alphabet_size"),
    ("alphabet", 42, "'alphabet'"),
    ("alphabet", "aab", "repeated"),
    ("stats.scale", 0, "stats.scale"),
    ("stats.scale", float("nan"), "stats.scale"),
    ("stats", [], "stats.scale"),
    ("defaults.max_steps_per_char", 10**9, "max_steps_per_char"),
    ("defaults.retries", 10**6, "retries"),
    ("defaults.hard_copies", 0, "hard_copies"),
    ("defaults.hard_copies", 9, "hard_copies"),
    ("defaults.hard_copies", 2.5, "hard_copies"),
    ("defaults.copies", 0, "copies"),
    ("defaults.copies", 9, "copies"),
    ("defaults.bias", "high", "bias"),
    ("defaults.check", "yes", "check"),
    ("defaults.default_style", 3, "default_style is 3 but the model has 3 style(s)"),
    ("defaults.default_style", -1, "default_style"),
    ("defaults.default_style", "2", "default_style"),
    ("styles", {}, "'styles' must be a list"),
    ("styles.0.text", "", "no text"),
    ("styles.0.text", KeyError, "no text"),
    ("styles.0.strokes", [[1, 2]], "strokes"),
    ("styles.0.strokes", [[1, 2, 3], [float("inf"), 0, 0]], "finite"),
    ("styles.0.strokes", "abc", "strokes"),
    ("styles.0.description", 7, "description must be one line"),
    ("styles.0.description", "joined\ncursive", "description must be one line"),
    ("styles.0.description", "x" * 201, "at most 200 characters"),
    ("styles.0.full_set", "yes", "full_set must be true or false"),
    ("styles.0.full_set", 1, "full_set must be true or false"),
    ("tensors", "x", "'tensors'"),
    ("char_width", -3, "char_width"),
    ("format_version", 99, "format version 99"),
])
def test_bad_json_is_one_clear_error(stem, path, value, needle):
    _edit(stem, _set(path, value))
    with pytest.raises(ModelFileError, match=None) as e:
        load_model(stem)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_non_json_and_deep_json(stem):
    j = stem.with_suffix(".json")
    j.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match="not a valid bundle JSON|not a hwcli bundle"):
        load_model(stem)


def test_huge_json_is_refused_unread(stem, monkeypatch):
    monkeypatch.setattr(B, "MAX_JSON_BYTES", 1000)
    with pytest.raises(ModelFileError, match="larger than"):
        load_model(stem)


# ----------------------------------------------------------------------------- class 5: where the tensors are
@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "/dev/zero", "..", "sub/m.safetensors", ""])
def test_tensor_file_must_be_a_name_beside_the_json(stem, name):
    _edit(stem, _set("tensors.file", name))
    with pytest.raises(ModelFileError, match="must be a file name beside the JSON"):
        load_model(stem)


def test_tensor_file_that_is_a_device_symlink_or_fifo_is_not_read(stem, tmp_path):
    link = stem.parent / "zero.safetensors"
    link.symlink_to("/dev/zero")
    _edit(stem, _set("tensors.file", "zero.safetensors"))
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_model(stem)
    fifo = stem.parent / "fifo.safetensors"
    os.mkfifo(fifo)
    _edit(stem, _set("tensors.file", "fifo.safetensors"))
    done = []
    t = threading.Thread(target=lambda: done.append(pytest.raises(ModelFileError, load_model, stem)), daemon=True)
    t.start()
    t.join(10)
    assert done, "loading a FIFO hung"


def test_tensor_file_size_limit(stem, monkeypatch):
    monkeypatch.setattr(B, "MAX_TENSOR_BYTES", 1000)
    with pytest.raises(ModelFileError, match="more than"):
        load_model(stem)


# ----------------------------------------------------------------------------- class 8: safetensors' own errors
def test_truncated_tensor_file_with_a_valid_hash(stem):
    _retensor(stem, stem.with_suffix(".safetensors").read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_model(stem)


def test_oversized_header(stem):
    _retensor(stem, (2**40).to_bytes(8, "little") + b"{}")
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_model(stem)


def test_pickle_renamed_safetensors_is_never_unpickled(stem, tmp_path):
    marker = tmp_path / "pwned"

    class P:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    _retensor(stem, pickle.dumps({"w": P()}))
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_model(stem)
    assert not marker.exists()


def test_shape_mismatch_names_the_tensor_and_both_shapes(stem):
    from safetensors.torch import load

    t = load(stem.with_suffix(".safetensors").read_bytes())
    name = sorted(t)[0]
    t[name] = torch.zeros(*[s + 1 for s in t[name].shape])
    _retensor(stem, save(t))
    with pytest.raises(ModelFileError) as e:
        load_model(stem)
    assert name in str(e.value) and "has shape" in str(e.value) and "needs" in str(e.value)


def test_missing_tensor_and_non_finite_weights(stem):
    from safetensors.torch import load

    t = load(stem.with_suffix(".safetensors").read_bytes())
    name = sorted(t)[-1]
    bad = dict(t)
    bad[name] = torch.full_like(t[name], float("nan"))
    _retensor(stem, save(bad))
    with pytest.raises(ModelFileError, match=f"'{name}' holds NaN"):
        load_model(stem)
    del bad[name]
    _retensor(stem, save(bad))
    with pytest.raises(ModelFileError, match=f"missing {name}"):
        load_model(stem)


def test_default_style_names_the_style_used_when_none_is_given(stem):
    _edit(stem, _set("defaults.default_style", 2))
    b = load_model(stem)
    assert b.default_style_index == 2 and b.style(None) is b.styles[2] and b.style(0) is b.styles[0]
    b.styles = b.styles[:1]  # a bundle put together in code with fewer styles falls back to the first
    assert b.style(None) is b.styles[0]
