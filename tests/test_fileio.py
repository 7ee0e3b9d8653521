"""hwcli.fileio: an output appears whole or not at all; unwritable targets fail before any work."""
from __future__ import annotations

import os

import pytest

from hwcli.errors import OutputError
from hwcli.fileio import atomic_output, check_writable


def test_atomic_output_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_output(target) as fh:
        fh.write(b"new")
        assert target.read_bytes() == b"old"  # not visible before the block ends
    assert target.read_bytes() == b"new"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as fh:
            fh.write(b"half")
            raise RuntimeError("renderer failed")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # no temporary left behind


def test_atomic_output_refuses_directories_and_missing_parents(tmp_path):
    with pytest.raises(OutputError, match="is a directory"):
        with atomic_output(tmp_path):
            pass
    with pytest.raises(OutputError, match="does not exist"):
        with atomic_output(tmp_path / "no" / "such.pdf"):
            pass


def test_check_writable(tmp_path):
    check_writable(tmp_path / "new.pdf")  # a new file in a writable directory
    with pytest.raises(OutputError, match="does not exist"):
        check_writable(tmp_path / "missing" / "x.pdf")
    with pytest.raises(OutputError, match="is a directory"):
        check_writable(tmp_path)
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(OutputError, match="not writable"):
                check_writable(ro / "x.pdf")
        finally:
            ro.chmod(0o700)
