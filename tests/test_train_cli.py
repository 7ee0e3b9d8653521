"""`hwcli train` through typer's CliRunner: option errors as one line (or Typer's usage error), a tiny run's files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from hwcli.cli.app import app
from hwcli.errors import ModelFileError
from hwcli.model.bundle import load_model
from tiny_bundle import make_npz
from cli_checks import assert_one_line_error

torch.set_num_threads(1)
TINY = ["--hidden", "8", "--layers", "1", "--window-k", "2", "--mixtures", "2", "--batch-size", "2",
        "--val-lines", "2", "--threads", "1", "--device", "cpu", "-q"]


def run(*args) -> object:
    return CliRunner().invoke(app, ["train", *map(str, args)])



@pytest.fixture
def npz(tmp_path: Path) -> Path:
    return make_npz(tmp_path, n_lines=6)


def test_missing_data_path(tmp_path):
    r = run("--data", tmp_path / "nope.npz", "--out", tmp_path / "run", *TINY)
    assert_one_line_error(r, "nope.npz", "does not exist")
    assert not (tmp_path / "run").exists()


def test_data_that_is_not_a_dataset(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    assert_one_line_error(run("--data", bad, "--out", tmp_path / "run", *TINY), "bad.npz", "not a hwcli dataset")


@pytest.mark.parametrize("value", ["soon", "-5m", "0", "2x"])
def test_bad_time_limit(npz, tmp_path, value):
    r = run("--data", npz, "--out", tmp_path / "run", "--time-limit", value, *TINY)
    assert_one_line_error(r, "invalid duration", repr(value), code=2)


def test_unknown_device_is_a_usage_error(npz, tmp_path):
    r = run("--data", npz, "--out", tmp_path / "run", "--device", "tpu")
    assert r.exit_code == 2
    assert "tpu" in r.stderr and "Traceback" not in r.output
    assert r.stdout == ""


@pytest.mark.parametrize("opt", [["--hidden", "0"], ["--max-steps", "0"], ["--lr", "-1"]])
def test_out_of_range_options(npz, tmp_path, opt):
    assert_one_line_error(run("--data", npz, "--out", tmp_path / "run", *TINY, *opt), opt[0], code=2)


def test_resume_without_a_checkpoint(npz, tmp_path):
    r = run("--data", npz, "--out", tmp_path / "run", "--resume", "--max-steps", "2", *TINY)
    assert_one_line_error(r, "nothing to resume", "checkpoint.pt")


def test_resume_from_an_unreadable_checkpoint(npz, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"garbage")
    r = run("--data", npz, "--out", tmp_path / "run", "--resume", "--max-steps", "2", *TINY)
    assert_one_line_error(r, "checkpoint.pt", "cannot be read")


def test_tiny_run_leaves_a_loadable_bundle(npz, tmp_path):
    out = tmp_path / "run"
    r = run("--data", npz, "--out", out, "--max-steps", "2", *TINY)
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert {"best.json", "best.safetensors", "checkpoint.pt", "metrics.jsonl"} <= {p.name for p in out.iterdir()}
    assert not list(out.glob("*.part"))  # atomic writes leave no temporary files
    b = load_model(out / "best")
    assert b.config.hidden == 8 and b.config.layers == 1 and b.config.mixtures == 2
    assert b.scale == pytest.approx(20.0)
    assert b.provenance["steps"] == 2 and b.provenance["data"] == str(npz)
    assert b.provenance["train_lines"] == 4 and b.provenance["valid_lines"] == 2
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["step"] == 2

    # the bundle it wrote is protected by its hash
    w = out / "best.safetensors"
    blob = bytearray(w.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    w.write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match="sha256"):
        load_model(out / "best")


def test_progress_and_summary_go_to_stderr(npz, tmp_path):
    r = run("--data", npz, "--out", tmp_path / "run", "--max-steps", "1",
            *[a for a in TINY if a != "-q"])
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert "6 lines" in r.stderr and "stopped (max steps) at step 1" in r.stderr
