"""Safe output: never a half-written file, never a destroyed special file, modes as the shell would leave them.

Rules (issue 13), the same for every file hwcli writes (pages, npz, checkpoints, bundles):

- A regular file (or a new one) is written to a temporary file in the same folder and renamed over the
  target only when the whole write succeeded; on any error the temporary file is removed and the old file
  is untouched.
- A special file (character device such as ``/dev/null`` or ``/dev/full``, a FIFO, a socket, anything under
  ``/proc`` or ``/dev`` such as ``/proc/self/fd/1``) is opened and written in place, as the shell's ``>`` does:
  it is never replaced by a regular file.
- A symlink is followed: its final target is replaced (atomically, as above) and the link stays a link.
- A new file gets ``0666 & ~umask``; a replaced file keeps its mode (and, where allowed, its owner).
- The temporary name is short (``.hw-XXXXXXXX.part``), so any valid file name can be written.
- Operating-system errors (disk full, read-only folder, name too long, ...) become one `OutputError` line.

`publish_files` commits several finished files (the pages of an SVG/PNG document) all or nothing.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence

from .errors import OutputError

TMP_PREFIX = ".hw-"
TMP_SUFFIX = ".part"


def describe_os_error(exc: OSError) -> str:
    """A short reason for an OSError: 'No space left on device', 'File name too long', ..."""
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return exc.strerror or str(exc) or type(exc).__name__


def current_umask() -> int:
    """The process umask (read without changing it for longer than an instant)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _is_special(path: Path) -> bool:
    """True when `path` (followed through symlinks) exists and is not a regular file or a directory (a device
    such as /dev/null, a FIFO, a socket), or names an open file (/proc/self/fd/N, /dev/stdout, /dev/fd/N):
    such files are written in place, never replaced."""
    name = os.path.abspath(path)
    if name.startswith(("/proc/", "/dev/fd/", "/dev/std")):
        return True
    try:
        st = os.stat(path)
    except OSError:
        return False
    return not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode)


def resolve_target(path: str | os.PathLike) -> Path:
    """The file a write to `path` really changes: the final target of a symlink, else `path` itself."""
    p = Path(path)
    _check_name(p)
    if os.path.islink(p):
        return Path(os.path.realpath(p))
    return p


def _parent_checked(path: Path) -> Path:
    """The directory `path` will be written in; OutputError when `path` is a directory or it has none."""
    parent = path.parent if str(path.parent) else Path(".")
    _check_name(path)
    try:
        path.is_dir()
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {describe_os_error(exc)}") from None
    if path.is_dir():
        raise OutputError(f"output path {str(path)!r} is a directory")
    if not parent.is_dir():
        if parent.exists():
            raise OutputError(f"cannot write {str(path)!r}: {str(parent)!r} is a file, not a directory")
        raise OutputError(f"cannot write {str(path)!r}: directory {str(parent)!r} does not exist")
    return parent


def _check_name(path: Path) -> None:
    try:
        limit = os.pathconf(path.parent if str(path.parent) else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if len(os.fsencode(path.name)) > limit:
        raise OutputError(f"cannot write {str(path)!r}: file name too long ({len(os.fsencode(path.name))} bytes, "
                          f"the limit is {limit})")


def _mode_for(target: Path) -> tuple[int, tuple[int, int] | None]:
    """(mode, (uid, gid) or None) the finished file should get: the replaced file's, or the umask's."""
    try:
        st = os.stat(target)
    except OSError:
        return 0o666 & ~current_umask(), None
    return stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid)


def _finish_temp(fd: int, target: Path, private: int | None = None) -> None:
    mode, owner = _mode_for(target)
    if private is not None:
        mode = private  # personal data (captured ink): this mode whatever the umask or the replaced file
    if owner is not None and hasattr(os, "fchown"):
        with contextlib.suppress(OSError):
            os.fchown(fd, *owner)
    os.fchmod(fd, mode)


def _mkstemp(parent: Path, shown: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=parent)
    except OSError as exc:
        raise OutputError(f"cannot write {str(shown)!r}: {describe_os_error(exc)}") from None


@contextlib.contextmanager
def _write_through(path: Path) -> Iterator[BinaryIO]:
    """Write into a special file in place (what `>` does); errors (e.g. /dev/full) become OutputError."""
    try:
        fh = open(path, "wb")  # noqa: SIM115
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {describe_os_error(exc)}") from None
    try:
        with fh:
            yield fh
            fh.flush()
    except OSError as exc:
        if exc.filename is None or exc.filename == str(path):
            raise OutputError(f"cannot write {str(path)!r}: {describe_os_error(exc)}") from None
        raise


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: int | None = None) -> Iterator[BinaryIO]:
    """Yield a binary file object; on success it replaces `path` (see the module docstring), on any exception
    the temporary file is removed and the user's existing file is untouched. `mode` (e.g. 0o600 for personal
    data) replaces the usual mode rule for a regular file."""
    shown = Path(path)
    if _is_special(shown):
        with _write_through(shown) as fh:
            yield fh
        return
    target = resolve_target(shown)
    parent = _parent_checked(target)
    fd, tmp = _mkstemp(parent, shown)
    try:
        try:
            with os.fdopen(fd, "wb") as fh:  # closing flushes too: a full disk can show up there
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
                _finish_temp(fh.fileno(), target, mode)
        except OSError as exc:
            if exc.filename is None:  # a write, flush, fsync or close of this file (named OS errors are someone else's)
                raise OutputError(f"cannot write {str(shown)!r}: {describe_os_error(exc)}") from None
            raise
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise OutputError(f"cannot write {str(shown)!r}: {describe_os_error(exc)}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def publish_files(pairs: Sequence[tuple[str | os.PathLike, str | os.PathLike]]) -> None:
    """Copy each finished file ``src`` to its ``target``, all or nothing.

    1. Stage: every target gets a complete, fsynced temporary copy beside it (this is where a full disk or a
       read-only folder fails; then every staged copy is removed and no target has changed).
    2. Commit: rename the staged copies over the targets. Renames need no space; should one fail anyway, the
       targets already replaced are put back from hard-link backups of the old files (or removed when new).
    Special files and stdout-like targets cannot take part in a rename: they are written in place at the end.
    """
    staged: list[tuple[str, Path, Path]] = []  # (temporary, real target, path as given)
    special: list[tuple[Path, Path]] = []
    try:
        for src, dst in pairs:
            shown = Path(dst)
            if _is_special(shown):
                special.append((Path(src), shown))
                continue
            target = resolve_target(shown)
            parent = _parent_checked(target)
            fd, tmp = _mkstemp(parent, shown)
            staged.append((tmp, target, shown))
            try:
                with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
                    shutil.copyfileobj(inp, out)
                    out.flush()
                    os.fsync(out.fileno())
                    _finish_temp(out.fileno(), target)
            except OSError as exc:
                raise OutputError(f"cannot write {str(shown)!r}: {describe_os_error(exc)}; "
                                  "no page was changed") from None
        _commit(staged)
        staged = []
    finally:
        for tmp, _, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    for src, shown in special:
        with _write_through(shown) as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out)


def _commit(staged: list[tuple[str, Path, Path]]) -> None:
    backups: list[tuple[Path, str | None]] = []  # (target, hard-link backup of the old file or None if new)
    done: list[int] = []
    try:
        for tmp, target, _ in staged:
            backup = None
            if target.exists():
                backup = os.path.join(str(target.parent), f"{TMP_PREFIX}{os.getpid()}-{len(backups)}.old")
                try:
                    os.link(target, backup)
                except OSError:
                    backup = None  # no hard links here: a failed rename cannot be undone for this one
            backups.append((target, backup))
        for i, (tmp, target, shown) in enumerate(staged):
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise OutputError(f"cannot write {str(shown)!r}: {describe_os_error(exc)}; "
                                  "the pages already replaced were restored") from None
            done.append(i)
    except BaseException:
        for i in reversed(done):
            target, backup = backups[i]
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, target)
                else:
                    os.unlink(target)
        raise
    finally:
        for _, backup in backups:
            if backup is not None:
                with contextlib.suppress(OSError):
                    os.unlink(backup)


def check_writable(path: str | os.PathLike) -> None:
    """Fail early (before expensive work) when `path` clearly cannot be written."""
    shown = Path(path)
    if _is_special(shown):
        if not os.access(shown, os.W_OK):
            raise OutputError(f"cannot write {str(shown)!r}: permission denied")
        return
    target = resolve_target(shown)
    parent = _parent_checked(target)
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {str(path)!r}: directory {str(parent)!r} is not writable")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"cannot write {str(path)!r}: file is not writable")


def check_output_dir(path: str | os.PathLike) -> None:
    """Fail early when the folder `path` (to be created if missing) cannot hold output: a file in the way,
    a missing parent that cannot be created, or a read-only folder."""
    p = Path(path)
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"cannot use {str(p)!r} as an output folder: {str(probe)!r} is a file")
    if not os.access(probe, os.W_OK):
        raise OutputError(f"cannot write into {str(p)!r}: {str(probe)!r} is not writable")
