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

import hwcli
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


# ----------------------------------------------------------------------------- batches, mail merge, styles, API
# (issue 22) Either every document is written once, completely, to a file no other document writes, or one
# clear error comes before sampling and no file changed; any other exception is a bug.
from hwcli.errors import HwcliError  # noqa: E402
from hwcli.page.formats import is_complete  # noqa: E402

NAMES = st.text(alphabet="ab-_1. Éé\u2603/", min_size=0, max_size=6)
DOC_TEXTS = st.lists(st.sampled_from(["hi", "one two", "", " ", "x\n\ny", "a\u2603b", "p\n\nq\n\nr"]), min_size=1,
                     max_size=3).map("\n\n".join)


def _check_batch_outcome(out: Path, rep, raised) -> None:
    if raised is not None:
        assert isinstance(raised, HwcliError), repr(raised)
        assert "\n" not in str(raised)
        assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".hwcli-check")]
        return
    written = [o for d in rep.docs if d.status == "written" for o in d.outputs]
    assert len(written) == len(set(written)), written  # no file written by two documents
    for d in rep.docs:
        assert d.status in ("written", "failed", "skipped")
        if d.status == "failed":
            assert d.error and "\n" not in d.error
    files = sorted(str(p) for p in out.iterdir() if not p.name.startswith("."))
    assert files == sorted(written)  # nothing else, nothing lost
    for f in written:
        assert is_complete(f, Path(f).suffix.lstrip("."))


@settings(max_examples=int(12 * SCALE), **SETTINGS)
@given(docs=st.dictionaries(NAMES, DOC_TEXTS, min_size=1, max_size=4), fmt=st.sampled_from(["svg", "pdf"]),
       shard=st.sampled_from([None, (1, 1), (1, 2), (2, 2), (0, 1), (3, 2)]))
def test_any_batch(bundle, docs, fmt, shard):
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out"
        rep, raised = None, None
        try:
            rep = hwcli.write_many(docs, out, str(bundle) + ".json", fmt=fmt, shard=shard,
                                   page=hwcli.PageOptions(line_height=90))
        except Exception as exc:  # noqa: BLE001 - judged by _check_batch_outcome
            raised = exc
        _check_batch_outcome(out, rep, raised)


CELLS = st.text(alphabet='ab ,"\n-1\u2603', max_size=5)


@settings(max_examples=int(10 * SCALE), **SETTINGS)
@given(rows=st.lists(st.lists(CELLS, min_size=0, max_size=3), min_size=0, max_size=4),
       pattern=st.sampled_from([None, "{a}", "{a}-{b}", "{c}", "x{b}"]), fmt=st.sampled_from(["svg", "pdf"]))
def test_any_mail_merge(bundle, rows, pattern, fmt):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b"])
    w.writerows(rows)
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "t.txt").write_text("Dear {a}, {b}")
        (Path(d) / "d.csv").write_text(buf.getvalue())
        out = Path(d) / "out"
        args = ["write", "--model", str(bundle) + ".json", "-q", "--template", str(Path(d) / "t.txt"), "--data",
                str(Path(d) / "d.csv"), "--out-dir", str(out), "--format", fmt, "--line-height", "90"]
        r = runner.invoke(app, args + (["--name", pattern] if pattern else []))
        assert "Traceback" not in r.output and r.exit_code in (0, 1, 2), r.output
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert all(ln.startswith(("hwcli: error: ", "hwcli: warning: ")) for ln in lines), r.stderr
        if r.exit_code == 2:
            assert len(lines) == 1 and (not out.exists() or not list(out.iterdir()))
        else:
            files = [p for p in out.iterdir() if not p.name.startswith(".")]
            assert files or r.exit_code == 1 or not any(rows)  # no rows, or only blank lines at the end
            assert all(is_complete(p, fmt) for p in files)


@settings(max_examples=int(15 * SCALE), **SETTINGS)
@given(name=st.text(max_size=12), action=st.sampled_from(["remove", "write"]))
def test_any_style_name(bundle, name, action):
    if "\x00" in name or name.startswith("-"):
        name = "x" + name.replace("\x00", "")
    with tempfile.TemporaryDirectory() as d:
        env = {"HWCLI_HOME": str(Path(d) / "home")}
        if action == "remove":
            r = runner.invoke(app, ["styles", "remove", "--", name], env=env)
        else:
            r = runner.invoke(app, ["write", "--model", str(bundle) + ".json", "-q", "hi", "--style", name, "-o",
                                    str(Path(d) / "o.svg")], env=env)
        assert "Traceback" not in r.output
        if r.exit_code != 0:
            lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("hwcli: error: "), r.stderr
        assert not (Path(d) / "home" / "styles").exists() or not list((Path(d) / "home" / "styles").iterdir())


API_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.floats(allow_nan=True, allow_infinity=True),
                       st.text(max_size=4), st.lists(st.integers(0, 2), max_size=2), st.just({}))


@settings(max_examples=int(30 * SCALE), **SETTINGS)
@given(kwargs=st.dictionaries(st.sampled_from(["bias", "style", "seed", "check", "page", "sampling", "progress",
                                               "on_unsupported"]), API_VALUES, max_size=3),
       text=st.one_of(st.text(max_size=8), st.none(), st.integers()),
       save=st.fixed_dictionaries({"dpi": st.one_of(st.just(150), API_VALUES), "format": st.one_of(st.none(), API_VALUES)}))
def test_any_api_arguments(bundle, kwargs, text, save):
    with tempfile.TemporaryDirectory() as d:
        try:
            doc = hwcli.write(text, model=str(bundle) + ".json", **kwargs)
            doc.save(Path(d) / "o.pdf", **save)
        except HwcliError as exc:
            assert "\n" not in str(exc)
            return
        assert (Path(d) / "o.pdf").exists()
