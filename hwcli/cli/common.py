"""What every command shares: the error handler, the stderr console, small parsers."""
from __future__ import annotations

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


def handle_errors(fn: F) -> F:
    """Turn an HwcliError into one line on stderr and a non-zero exit; HWCLI_DEBUG=1 re-raises.

    Anything else is a bug and keeps its traceback. Ctrl-C exits 130 without one.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except HwcliError as exc:
            if os.environ.get("HWCLI_DEBUG"):
                raise
            msg = str(exc).replace("\n", " ")
            print(f"hwcli: error: {msg}", file=sys.stderr)
            raise typer.Exit(getattr(exc, "exit_code", 1)) from None
        except KeyboardInterrupt:
            if os.environ.get("HWCLI_DEBUG"):
                raise
            print("hwcli: interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


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
