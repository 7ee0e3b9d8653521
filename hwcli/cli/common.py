"""What every command shares: the error handler, the stderr console, small parsers."""
from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import sys
from enum import Enum
from typing import Callable, TypeVar

import typer
from rich.console import Console

from ..errors import HwcliError

F = TypeVar("F", bound=Callable)

err_console = Console(stderr=True, highlight=False)


def choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """A str Enum for a choice option (member names: the values with '-' as '_'); Typer lists the values."""
    return Enum(name, {v.replace("-", "_"): v for v in values}, type=str)


Device = choices("Device", ("auto", "cpu", "cuda"))  # --device of the training commands


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every `finally` and `with` cleans up as after Ctrl-C."""


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001
    raise Terminated()


def _install_sigterm():
    """Route SIGTERM to `Terminated` while a command runs; returns the handler to restore (None: unchanged)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        try:
            return signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError):  # not the main interpreter, or no signals here
            pass
    return None


def _restore_sigterm(previous) -> None:
    if previous is not None:
        import signal

        signal.signal(signal.SIGTERM, previous)


#: OS errors that mean "the output could not be written" (disk full, quota, file too big, I/O error, read-only)
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def one_line(msg: str) -> str:
    return " ".join(str(msg).split())


def fail(msg: str, code: int = 1):
    """Print 'hwcli: error: MSG' as one line on stderr and exit with `code`."""
    print(f"hwcli: error: {one_line(msg)}", file=sys.stderr)
    raise typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Turn an HwcliError into one line on stderr and a non-zero exit; HWCLI_DEBUG=1 re-raises.

    A full disk (or another write error) that reached here unwrapped is one line too. Anything else is a bug
    and keeps its traceback. Ctrl-C exits 130 and SIGTERM 143, both after the same cleanup, without one.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        previous = _install_sigterm()
        debug = bool(os.environ.get("HWCLI_DEBUG"))
        try:
            result = fn(*args, **kwargs)
            sys.stdout.flush()  # a full disk behind stdout is reported here, not at interpreter exit
            return result
        except HwcliError as exc:
            if debug:
                raise
            fail(_with_swallowed(str(exc)), getattr(exc, "exit_code", 1))
        except KeyboardInterrupt:
            if debug:
                raise
            print("hwcli: interrupted", file=sys.stderr)
            raise typer.Exit(130) from None
        except Terminated:
            if debug:
                raise
            print("hwcli: terminated", file=sys.stderr)
            raise typer.Exit(143) from None
        except OSError as exc:
            if debug or exc.errno not in WRITE_ERRNOS:
                raise
            where = repr(str(exc.filename)) if exc.filename else "standard output"
            _pacify_stdout()
            from ..fileio import describe_os_error

            fail(f"cannot write {where}: {describe_os_error(exc)}")
        finally:
            _restore_sigterm(previous)

    return wrapper  # type: ignore[return-value]


def _pacify_stdout() -> None:
    """After stdout failed, drop what is buffered so that the interpreter's exit does not fail again."""
    try:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    except OSError:
        pass


def _parse_error_types() -> tuple[type, ...]:
    types: list[type] = []
    te = getattr(typer, "TyperException", None)  # typer >= 0.16 (vendored click)
    if te is not None:
        types.append(te)
    try:
        import click

        types.append(click.exceptions.ClickException)
    except ImportError:
        pass
    return tuple(types)


def _group_base():
    from typer.core import TyperGroup

    return TyperGroup


def _swallowed_option(ctx) -> tuple[str, str] | None:
    """(option, value) when an option of `ctx`'s command took another option as its value (``--preview --style``:
    "--style" became the file name, so "2" is then an unknown command or an extra argument), else None. A lone "-"
    (stdin) and negative numbers are values."""
    if ctx is None:
        return None
    params = getattr(ctx, "params", None) or {}
    names = {o for p in getattr(ctx.command, "params", []) for o in getattr(p, "opts", [])}
    for p in getattr(ctx.command, "params", []):
        if not getattr(p, "opts", None) or not p.opts[0].startswith("-"):
            continue
        values = params.get(p.name)
        for v in values if isinstance(values, (list, tuple)) else [values]:
            v = getattr(v, "value", v)
            if isinstance(v, str) and v in names:
                return p.opts[0], v
    return None


def _current_context():
    """The running command's context, or None: typer >= 0.16 keeps its own (vendored click), older typer click's."""
    import importlib

    for name in ("typer._click.globals", "click"):
        try:
            get = getattr(importlib.import_module(name), "get_current_context", None)
        except ImportError:
            continue
        ctx = get(silent=True) if get is not None else None
        if ctx is not None:
            return ctx
    return None


def _with_swallowed(msg: str, ctx=None) -> str:
    """`msg`, led by the likelier mistake when an option of the command (`ctx`, else the current one) took another
    of its options as its value (`--preview --style 2`: the missing value, not '2'; `write -o --style 2 hi`: the
    missing output, not two texts)."""
    if ctx is None:
        ctx = _current_context()
    swallowed = _swallowed_option(ctx)
    if swallowed is None:
        return msg
    return f"{swallowed[0]} took {swallowed[1]!r} as its value: give {swallowed[0]} a value of its own ({msg})"


class HwcliGroup(_group_base()):
    """The root command group: typer's own parse errors (unknown option, bad value, missing argument) become
    one ``hwcli: error: ...`` line with typer's exit code (2 for usage errors) instead of a boxed panel."""

    def get_help(self, ctx):
        """The help, saying which bundled model writes which characters of the set (read from their JSON: no
        torch)."""
        from ..charset import default_note

        note = default_note()
        note = note[:1].upper() + note[1:] if note else note
        if note and note not in (self.help or ""):
            self.help = f"{self.help} {note}."
        return super().get_help(ctx)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False,
                              **extra)
        except _parse_error_types() as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `hwcli`: the help is already printed
                if standalone_mode:
                    sys.exit(getattr(exc, "exit_code", 2))
                raise
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None and getattr(ctx, "command_path", "") else ""
            msg = _with_swallowed(one_line(exc.format_message()), ctx)
            print(f"hwcli: error: {msg}{hint}", file=sys.stderr)
            code = getattr(exc, "exit_code", 2)
            if standalone_mode:
                sys.exit(code)
            raise
        except typer.Abort:
            print("hwcli: interrupted", file=sys.stderr)
            if standalone_mode:
                sys.exit(130)
            raise
        if standalone_mode:
            sys.exit(rv if isinstance(rv, int) else 0)
        return rv


@contextlib.contextmanager
def clean_progress(bar):
    """`with clean_progress(Progress(...)) as bar:` — like `with bar:`, but when the body fails the bar is
    erased rather than left on screen (and never leaves a blank line), so the error line stands alone."""
    bar.start()
    try:
        yield bar
    except BaseException:
        for t in bar.task_ids:
            bar.update(t, visible=False)
        bar.live.transient = True
        if not bar.disable:
            bar.live.stop()  # not bar.stop(): on a console that is not a terminal it prints an empty line
        raise
    bar.stop()


def given_options(ctx, names: tuple[str, ...]) -> dict:
    """name -> value of the options among `names` that the user typed (not typer's defaults)."""
    out = {}
    for n in names:
        src = ctx.get_parameter_source(n) if ctx is not None else None
        if src is not None and getattr(src, "name", "") in ("COMMANDLINE", "ENVIRONMENT"):
            out[n] = ctx.params.get(n)
    return out


def check_resume_early(out, kind: str, given: dict) -> None:
    """Before any data is loaded: the checkpoint `--resume` would continue exists, loads safely, is of the
    right kind and agrees with the architecture options the user typed."""
    from pathlib import Path

    from ..errors import ModelFileError
    from ..model.checkpoint import check_resume, load_checkpoint

    ck = Path(out) / "checkpoint.pt"
    if not ck.is_file():
        raise ModelFileError(f"nothing to resume: {str(ck)!r} does not exist")
    check_resume(load_checkpoint(ck), ck, kind, given)


_DURATION_RE = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s?)?\s*$")


def parse_duration(text: str) -> float:
    """'2h', '90m', '1h30m', '45s', '600' -> seconds."""
    from ..errors import OptionError

    m = _DURATION_RE.match(text or "")
    if not text or not m or not any(m.groups()):
        raise OptionError(f"invalid duration {text!r}: use e.g. 2h, 90m, 1h30m, 600s")
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    total = h * 3600 + mi * 60 + s
    if total <= 0:
        raise OptionError(f"invalid duration {text!r}: must be positive")
    return total
