"""Property-based layer (issue 13): generated text, option values and bundle JSON thrown at `hwcli write`.

Whatever comes in, the CLI either exits 0 with a valid output file, or exits non-zero with exactly one
``hwcli: error: ...`` line on stderr (no traceback) and leaves the user's existing output byte-identical, with
its mode unchanged. Budgets are small (a few dozen examples each) so the suite stays fast; the tiny random
bundle keeps every sample short.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hwcli.cli.app import app
from tiny_bundle import make_bundle

FAST = {"max_steps_per_char": 5, "retries": 0, "check": False}
OLD = b"the user's earlier output\n"
OLD_MODE = 0o640
SCALE = float(os.environ.get("HWCLI_PROPERTY_SCALE", "1"))  # e.g. 10 for a longer hunt (random, not derandomised)
SETTINGS = dict(deadline=None, database=None, derandomize=SCALE == 1,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
runner = CliRunner()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    return make_bundle(tmp_path_factory.mktemp("prop") / "tiny", hidden=8, defaults=FAST)


def check_outcome(result, out: Path, fmt: str) -> None:
    """The contract: success with a valid file (mode kept), or one error line and the old file untouched."""
    assert "Traceback" not in result.output, result.output
    if result.exit_code == 0:
        pages = [out] if out.exists() and out.read_bytes() != OLD else sorted(out.parent.glob(f"{out.stem}-*.{fmt}"))
        assert pages, "exit 0 but nothing written"
        for p in pages:
            data = p.read_bytes()
            if fmt == "pdf":
                assert data.startswith(b"%PDF") and b"%%EOF" in data[-64:]
            else:
                assert ET.fromstring(data).tag.endswith("svg")
        if out.exists():
            assert stat.S_IMODE(os.stat(out).st_mode) == OLD_MODE
        return
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("hwcli: error: "), result.stderr
    assert result.stdout == ""
    assert out.read_bytes() == OLD and stat.S_IMODE(os.stat(out).st_mode) == OLD_MODE
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".hw-")]


def run_write(model: Path, args: list[str], fmt: str, input=None):
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / f"out.{fmt}"
        out.write_bytes(OLD)
        os.chmod(out, OLD_MODE)
        r = runner.invoke(app, ["write", "--model", str(model), "-q", *args, "-o", str(out)], input=input)
        check_outcome(r, out, fmt)
        if os.environ.get("HWCLI_PROPERTY_LOG"):
            with open(os.environ["HWCLI_PROPERTY_LOG"], "a") as fh:
                fh.write(f"{r.exit_code}\t{r.stderr.strip()[:160]}\n")
        return r


# ----------------------------------------------------------------------------- generated text
@settings(max_examples=int(25 * SCALE), **SETTINGS)
@given(text=st.text(max_size=40) | st.binary(max_size=40), via_stdin=st.booleans())
def test_any_text(bundle, text, via_stdin):
    if isinstance(text, bytes) or via_stdin:
        run_write(bundle.with_suffix(".json"), ["-", "--on-unsupported", "skip"], "svg", input=text)
    else:
        if "\x00" in text or text.startswith("-"):
            text = "x" + text.replace("\x00", "")  # argv cannot hold NUL; a leading '-' reads as an option
        run_write(bundle.with_suffix(".json"), ["--", text], "svg")


# ----------------------------------------------------------------------------- generated option values
def _num() -> st.SearchStrategy[str]:
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-10**20, 10**20).map(str),
        st.sampled_from(["", "abc", "1e309", "-0", "0x10", " 3 ", "nan", "inf"]),
    )


OPTIONS = {
    "--bias": _num(), "--width": _num(), "--margin": _num(), "--line-height": _num(), "--indent": _num(),
    "--seed": _num(), "--dpi": _num(), "--threads": _num(),
    "--page-size": st.sampled_from(["A4", "a5", "Letter", "100x80", "0x0", "5000x5000", "x", "-3x4", "nanxnan", ""]),
    "--color": st.sampled_from(["red", "#00ff00", "#12", "notacolour", "", "#1a237e"]),
    "--style": st.sampled_from(["0", "1", "2", "3", "-1", "neat", "nope", ""]),
    "--on-unsupported": st.sampled_from(["error", "skip", "ignore"]),
}


@settings(max_examples=int(30 * SCALE), **SETTINGS)
@given(opts=st.dictionaries(st.sampled_from(sorted(OPTIONS)), st.just(None), max_size=4).flatmap(
    lambda keys: st.fixed_dictionaries({k: OPTIONS[k] for k in keys})), fmt=st.sampled_from(["svg", "pdf"]))
def test_any_option_values(bundle, opts, fmt):
    args = [a for k, v in opts.items() for a in (k, v)]
    r = run_write(bundle.with_suffix(".json"), ["hello there", *args], fmt)
    assert r.exit_code in (0, 1, 2)  # 2: a usage error (typer's parse errors and OptionError)


# ----------------------------------------------------------------------------- generated bundle JSON
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
    max_leaves=12,
)
PATHS = ["format_version", "config", "config.kind", "config.hidden", "config.layers", "config.window_k",
         "config.mixtures", "config.alphabet_size", "config.kappa_scale", "alphabet", "stats", "stats.scale",
         "defaults", "defaults.bias", "defaults.max_steps_per_char", "defaults.retries", "defaults.segment_chars",
         "defaults.size_ramp", "defaults.check", "styles", "styles.0", "styles.0.text", "styles.0.strokes",
         "styles.0.char_width", "styles.0.body_height", "tensors", "tensors.file", "tensors.sha256", "char_width",
         "body_height", "provenance"]


def _mutate(doc: dict, path: str, value, delete: bool) -> None:
    keys = path.split(".")
    d = doc
    for k in keys[:-1]:
        d = d[int(k)] if isinstance(d, list) else d[k]
    last = int(keys[-1]) if isinstance(d, list) else keys[-1]
    if delete:
        del d[last]
    else:
        d[last] = value


@settings(max_examples=int(30 * SCALE), **SETTINGS)
@given(edits=st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES, st.booleans()), min_size=1, max_size=3),
       raw=st.integers(0, 5).map(lambda k: k == 0))  # now and then the JSON is also cut short
def test_any_bundle_json(bundle, edits, raw):
    with tempfile.TemporaryDirectory() as d:
        stem = Path(d) / "m"
        shutil.copy(bundle.with_suffix(".safetensors"), stem.with_suffix(".safetensors"))
        doc = json.loads(bundle.with_suffix(".json").read_text())
        doc["tensors"]["file"] = "m.safetensors"
        for path, value, delete in edits:
            try:
                _mutate(doc, path, value, delete)
            except (KeyError, IndexError, TypeError, ValueError):
                pass  # the path no longer exists after an earlier edit
        text = json.dumps(doc, allow_nan=True)
        if raw:
            text = text[: max(1, len(text) * len(edits) // 4)]  # cut short: not JSON any more
        stem.with_suffix(".json").write_text(text)
        run_write(stem.with_suffix(".json"), ["hi you"], "svg")


def test_the_unmutated_bundle_writes(bundle):
    r = run_write(bundle.with_suffix(".json"), ["hi you"], "svg")
    assert r.exit_code == 0, r.output  # the mutations above start from a bundle that works
