"""Training checkpoints load without running code (issue 13, class 1) and --resume refuses what does not fit."""
from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from cli_checks import assert_one_line_error
from hwcli.cli.app import app
from hwcli.errors import ModelFileError, OptionError
from hwcli.model.checkpoint import check_resume, checkpoint_kind, load_checkpoint
from tiny_bundle import make_npz

torch.set_num_threads(1)
TINY = ["--hidden", "8", "--layers", "1", "--window-k", "2", "--mixtures", "2", "--batch-size", "2",
        "--val-lines", "2", "--threads", "1", "--device", "cpu", "-q"]


class _Payload:
    """Unpickling this runs `touch MARKER`: what a hostile checkpoint would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A real synthesis run folder (2 steps) with the checkpoint every hwcli train writes."""
    d = tmp_path_factory.mktemp("ck")
    npz = make_npz(d, n_lines=6)
    r = CliRunner().invoke(app, ["train", "--data", str(npz), "--out", str(d / "run"), "--max-steps", "2", *TINY])
    assert r.exit_code == 0, r.output
    return d


def test_a_real_checkpoint_loads_with_every_key(run_dir):
    state = load_checkpoint(run_dir / "run" / "checkpoint.pt")
    for key in ("model", "optimizer", "step", "epoch", "pos", "best", "wall", "config", "scale", "alphabet",
                "torch_rng", "options", "data", "init", "carry"):
        assert key in state
    assert state["step"] == 2 and checkpoint_kind(state) == "synthesis"


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_a_crafted_checkpoint_is_refused_and_nothing_runs(tmp_path, how):
    marker = tmp_path / "pwned"
    ck = tmp_path / "checkpoint.pt"
    if how == "torch.save":
        buf = io.BytesIO()
        torch.save({"model": _Payload(marker)}, buf)
        ck.write_bytes(buf.getvalue())
    else:
        ck.write_bytes(pickle.dumps({"model": _Payload(marker)}))
    with pytest.raises(ModelFileError) as e:
        load_checkpoint(ck)
    assert not marker.exists()
    assert "\n" not in str(e.value)
    if how == "torch.save":
        assert "could run code" in str(e.value) and "system" in str(e.value)


def test_crafted_checkpoint_through_train_resume(tmp_path):
    npz = make_npz(tmp_path, n_lines=6)
    out = tmp_path / "run"
    out.mkdir()
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"model": _Payload(marker)}, buf)
    (out / "checkpoint.pt").write_bytes(buf.getvalue())
    for cmd in (["train", *TINY], ["train-recognizer", "--threads", "1", "--device", "cpu", "-q"]):
        r = CliRunner().invoke(app, [cmd[0], "--data", str(npz), "--out", str(out), "--resume", *cmd[1:]])
        assert_one_line_error(r, "checkpoint.pt", "could run code")
    assert not marker.exists()


def test_not_a_checkpoint_dict(tmp_path):
    ck = tmp_path / "checkpoint.pt"
    torch.save({"weights": torch.zeros(2)}, ck)
    with pytest.raises(ModelFileError, match="not a hwcli training checkpoint"):
        load_checkpoint(ck)


def test_resume_with_other_architecture_is_refused(run_dir):
    npz = run_dir / "tiny.npz"
    args = ["train", "--data", str(npz), "--out", str(run_dir / "run"), "--resume", "--max-steps", "3"]
    r = CliRunner().invoke(app, [*args, *[a if a != "8" else "16" for a in TINY]])
    assert_one_line_error(r, "--hidden 16 (checkpoint: 8)", code=2)
    r = CliRunner().invoke(app, [*args, "--threads", "1", "--device", "cpu", "-q"])  # no architecture given: fine
    assert r.exit_code == 0, r.output


def test_recognizer_resume_of_a_synthesis_checkpoint(run_dir):
    r = CliRunner().invoke(app, ["train-recognizer", "--data", str(run_dir / "tiny.npz"), "--out", str(run_dir / "run"),
                                 "--resume", "--threads", "1", "--device", "cpu", "-q"])
    assert_one_line_error(r, "synthesis checkpoint", "hwcli train --resume", code=2)


def test_check_resume_kinds():
    state = {"config": {"kind": "prediction", "hidden": 8, "layers": 1, "mixtures": 2}}
    check_resume(state, "c.pt", "any-synthesis", {"hidden": 8})
    with pytest.raises(OptionError, match="prediction checkpoint"):
        check_resume(state, "c.pt", "recognizer", {})
    with pytest.raises(OptionError, match="--layers 3"):
        check_resume(state, "c.pt", "prediction", {"layers": 3})
