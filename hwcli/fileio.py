"""Atomic output: write to a temporary file beside the target, then rename over it."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from .errors import OutputError


def _parent_checked(path: Path) -> Path:
    """The directory `path` will be written in; OutputError when `path` is a directory or it has none."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"output path {str(path)!r} is a directory")
    if not parent.is_dir():
        raise OutputError(f"cannot write {str(path)!r}: directory {str(parent)!r} does not exist")
    return parent


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Yield a binary file object; on success it replaces `path`, on any exception it is removed.

    The user's existing file at `path` is untouched unless the whole write succeeds.
    """
    path = Path(path)
    parent = _parent_checked(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=parent)
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_writable(path: str | os.PathLike) -> None:
    """Fail early (before expensive work) when `path` clearly cannot be written."""
    path = Path(path)
    parent = _parent_checked(path)
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {str(path)!r}: directory {str(parent)!r} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"cannot write {str(path)!r}: file is not writable")
