"""hwcli.fileio: an output appears whole or not at all; special files written through, symlinks followed, modes
kept, all-or-nothing pages, OS errors as one line; unwritable targets fail before any work."""
from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

import pytest
from cli_checks import fail_on_call

from hwcli import fileio
from hwcli.errors import OutputError
from hwcli.fileio import atomic_output, check_output_dir, check_writable, publish_files


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(fileio.TMP_PREFIX))


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
    # a read-only folder: test_read_only_folder (skipped as root, who may write anywhere)


# ----------------------------------------------------------------------------- special files (class 2)
def test_dev_null_stays_a_device():
    before = os.stat("/dev/null")
    with atomic_output("/dev/null") as fh:
        fh.write(b"x" * 1000)
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    check_writable("/dev/null")


def test_dev_full_is_one_clear_error_and_stays_a_device():
    with pytest.raises(OutputError, match="no space left on device"):
        with atomic_output("/dev/full") as fh:
            fh.write(b"x" * 100_000)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so opening for writing does not block
    try:
        with atomic_output(fifo) as fh:
            fh.write(b"through the pipe")
        assert os.read(r, 100) == b"through the pipe"
    finally:
        os.close(r)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_proc_self_fd_is_written_through(tmp_path):
    target = tmp_path / "captured"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with atomic_output(f"/proc/self/fd/{fd}") as fh:
            fh.write(b"via proc")
    finally:
        os.close(fd)
    assert target.read_bytes() == b"via proc"
    assert os.path.islink(f"/proc/self/fd/{sys.stdout.fileno()}") or True  # the link itself is never touched


def test_symlink_target_replaced_link_kept(tmp_path):
    real = tmp_path / "real.svg"
    real.write_bytes(b"old")
    os.chmod(real, 0o640)
    link = tmp_path / "link.svg"
    link.symlink_to(real)
    with atomic_output(link) as fh:
        fh.write(b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new" and _mode(real) == 0o640
    assert _leftovers(tmp_path) == []


# ----------------------------------------------------------------------------- modes (class 4)
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_file_follows_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        with atomic_output(tmp_path / "new.pdf") as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.pdf") == 0o666 & ~umask


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o664, 0o755])
def test_replaced_file_keeps_its_mode(tmp_path, mode):
    p = tmp_path / "out.svg"
    p.write_bytes(b"old")
    os.chmod(p, mode)
    with atomic_output(p) as fh:
        fh.write(b"new")
    assert p.read_bytes() == b"new" and _mode(p) == mode


# ----------------------------------------------------------------------------- names and OS errors (class 9)
def test_temporary_name_does_not_break_a_long_valid_name(tmp_path):
    p = tmp_path / ("n" * 245 + ".pdf")  # 249 characters: valid, and 6 below the limit
    with atomic_output(p) as fh:
        fh.write(b"ok")
    assert p.read_bytes() == b"ok"


def test_too_long_name_is_one_clear_error(tmp_path):
    with pytest.raises(OutputError, match="file name too long"):
        check_writable(tmp_path / ("n" * 300 + ".pdf"))
    with pytest.raises(OutputError, match="file name too long"):
        with atomic_output(tmp_path / ("n" * 300 + ".pdf")) as fh:
            fh.write(b"x")


def test_file_where_a_folder_is_needed(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a directory"):
        check_writable(tmp_path / "afile" / "out.pdf")
    with pytest.raises(OutputError, match="is a file"):
        check_output_dir(tmp_path / "afile" / "run")


def test_disk_full_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    p = tmp_path / "data.npz"
    p.write_bytes(b"precious")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="no space left on device"):
        with atomic_output(p) as fh:
            fh.write(b"half")
    assert p.read_bytes() == b"precious" and _leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="not writable"):
            check_writable(ro / "x.pdf")
        with pytest.raises(OutputError):
            with atomic_output(ro / "x.pdf") as fh:
                fh.write(b"x")
    finally:
        ro.chmod(0o755)


# ----------------------------------------------------------------------------- several files (class 3)
def _pages(tmp_path: Path, n: int, tag: str) -> list[tuple[Path, Path]]:
    src = tmp_path / f"src-{tag}"
    src.mkdir()
    pairs = []
    for i in range(1, n + 1):
        s = src / f"p{i}"
        s.write_bytes(f"{tag} page {i}".encode())
        pairs.append((s, tmp_path / f"out-{i}.svg"))
    return pairs


def test_publish_all_pages(tmp_path):
    publish_files(_pages(tmp_path, 5, "new"))
    assert [(tmp_path / f"out-{i}.svg").read_text() for i in range(1, 6)] == [f"new page {i}" for i in range(1, 6)]
    assert _leftovers(tmp_path) == []


def test_disk_full_half_way_keeps_every_old_page(tmp_path, monkeypatch):
    publish_files(_pages(tmp_path, 25, "old"))
    os.chmod(tmp_path / "out-3.svg", 0o644)
    monkeypatch.setattr(os, "fsync", fail_on_call(os.fsync, 8, errno.ENOSPC, "No space left on device"))
    with pytest.raises(OutputError, match="no space left on device; no page was changed"):
        publish_files(_pages(tmp_path, 25, "new"))
    assert all((tmp_path / f"out-{i}.svg").read_text() == f"old page {i}" for i in range(1, 26))
    assert _leftovers(tmp_path) == []


def test_failed_rename_restores_the_pages_already_replaced(tmp_path, monkeypatch):
    publish_files(_pages(tmp_path, 6, "old"))
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", fail_on_call(os.replace, 4, errno.EIO, "Input/output error"))
    with pytest.raises(OutputError, match="restored"):
        publish_files(_pages(tmp_path, 6, "new"))
    monkeypatch.setattr(os, "replace", real_replace)
    assert [(tmp_path / f"out-{i}.svg").read_text() for i in range(1, 7)] == [f"old page {i}" for i in range(1, 7)]
    assert _leftovers(tmp_path) == []


def test_failed_rename_removes_pages_that_were_new(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", fail_on_call(os.replace, 3, errno.EIO, "Input/output error"))
    with pytest.raises(OutputError):
        publish_files(_pages(tmp_path, 4, "new"))
    assert not list(tmp_path.glob("out-*.svg")) and _leftovers(tmp_path) == []


def test_disk_full_on_a_buffered_write_and_close(tmp_path, monkeypatch):
    """ENOSPC from write(2) itself, as a real full disk gives it (also from the flush at close)."""
    p = tmp_path / "page.pdf"
    p.write_bytes(b"precious")
    import io

    class Full(io.RawIOBase):
        def __init__(self, fd):
            self.fd = fd

        def writable(self):
            return True

        def write(self, b):
            raise OSError(errno.ENOSPC, "No space left on device")

        def fileno(self):
            return self.fd

        def close(self):
            if not self.closed:
                os.close(self.fd)
            super().close()

    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *a, **k: io.BufferedWriter(Full(fd), 1 << 16)
                        if "w" in mode else real_fdopen(fd, mode, *a, **k))
    with pytest.raises(OutputError, match="no space left on device"):
        with atomic_output(p) as fh:
            fh.write(b"x" * 10)  # buffered: the error comes at the flush
    assert p.read_bytes() == b"precious" and _leftovers(tmp_path) == []
