"""`hwcli train` under torchrun with two CPU processes (gloo): both replicas end with bit-identical weights.

`training.train` gathers every rank's `param_digest` at the end and raises when they differ; the CLI prints the
digest. The test checks the run succeeds, prints that line, and that the digest is the one of the weights rank 0
saved in its checkpoint.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hwcli.training import param_digest
from tiny_bundle import make_npz

TORCHRUN = Path(sys.executable).with_name("torchrun")


def _gloo_available() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_gloo_available()


@pytest.mark.slow  # three interpreters start torch: ~10 s on an idle 2-core machine, 20-35 s on a busy one
@pytest.mark.skipif(not TORCHRUN.is_file(), reason="torchrun not installed next to the interpreter")
@pytest.mark.skipif(not _gloo_available(), reason="torch.distributed with gloo is not available")
def test_two_processes_end_with_identical_weights(tmp_path):
    npz = make_npz(tmp_path, n_lines=10, n_valid=2)  # 8 training lines: 4 batches of 2, 2 per rank and epoch
    # --time-limit: rank 0 broadcasts its stop decision every step (a collective that must not hang)
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HWCLI_DEBUG": "1"}
    cmd = [str(TORCHRUN), "--standalone", "--nproc_per_node", "2", "-m", "hwcli", "train", "--data", str(npz),
           "--out", str(out), "--max-steps", "3", "--time-limit", "1h", "--device", "cpu", "--threads", "1", "--hidden", "8",
           "--layers", "2", "--window-k", "2", "--mixtures", "2", "--batch-size", "2"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    err = " ".join(r.stderr.split())  # rich may wrap long lines
    m = re.search(r"2 processes ended with identical weights \(sha256 ([0-9a-f]{64})\)", err)
    assert m, r.stderr
    ckpt = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert ckpt["step"] == 3  # three steps on each rank, each a step of the same shared model
    assert param_digest(ckpt["model"]) == m.group(1)
    assert (out / "best.json").is_file()
    assert err.count("stopped (max steps) at step 3") == 1  # rank 0 reports, rank 1 stays quiet
