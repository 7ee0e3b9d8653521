"""Shared fixtures: tiny IAM-OnDB copies (see iam_fixtures.py), a converted tiny dataset, the real data."""
from __future__ import annotations

import os

# The suite runs under hwcli's portable arithmetic rule (hwcli/arithmetic.py: MKL's compatible branch, torch's
# AVX2 kernels), set before anything imports torch: the stored output digests (test_output_digest.py) and every
# bit-identity test hold on any x86-64 CPU with it. Subprocesses (the CLI tests) inherit it.
os.environ["HWCLI_ARITHMETIC"] = "portable"
for _key in ("MKL_CBWR", "ATEN_CPU_CAPABILITY"):
    os.environ.pop(_key, None)  # the rule's own values, not whatever the shell running the suite had

from pathlib import Path  # noqa: E402

import pytest

from iam_fixtures import IamFixture, write_iam_dir, write_iam_tarballs

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_IAM = REPO_ROOT.parent / "shared" / "iam-ondb"


@pytest.fixture
def iam_dir(tmp_path: Path) -> IamFixture:
    """A clean extracted IAM-OnDB copy: 8 lines in 4 forms, every split, 3 known writers."""
    return write_iam_dir(tmp_path / "iam")


@pytest.fixture
def iam_tarballs(tmp_path: Path) -> IamFixture:
    """The same lines as `iam_dir`, as lineStrokes-all.tar.gz and ascii-all.tar.gz."""
    return write_iam_tarballs(tmp_path / "iam-tar")


@pytest.fixture
def iam_dir_bad(tmp_path: Path) -> IamFixture:
    """`iam_dir` with a malformed XML file, a stroke file without transcription and an empty stroke set."""
    return write_iam_dir(tmp_path / "iam-bad", bad=("malformed", "no_text", "empty"))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    """NAME.json of a tiny random-weights synthesis bundle that samples fast and does not read back (per module)."""
    import torch

    from tiny_bundle import make_bundle

    torch.set_num_threads(1)
    return str(make_bundle(tmp_path_factory.mktemp("m") / "tiny",
                           defaults={"max_steps_per_char": 5, "retries": 0, "check": False})) + ".json"


@pytest.fixture(scope="session")
def tiny_npz(tmp_path_factory) -> Path:
    """The clean tiny copy converted with default settings (session-wide; treat as read-only)."""
    from hwcli.data.convert import convert

    root = tmp_path_factory.mktemp("tiny")
    ds, _ = convert(write_iam_dir(root / "iam").root, workers=1)
    path = root / "tiny.npz"
    ds.save(path)
    return path


@pytest.fixture
def shared_iam() -> Path:
    """The real IAM-OnDB at ../shared/iam-ondb (tests using it are marked slow)."""
    if not (SHARED_IAM / "lineStrokes-all.tar.gz").is_file():
        pytest.skip(f"real data not found at {SHARED_IAM}")
    return SHARED_IAM
