"""Argument checks for the Python API: a wrong type or value is an `OptionError` (an `HwcliError`) with a clear
message, as the CLI's options are, never an AttributeError deep inside sampling or a file named "None".

Ground floor: standard library only."""
from __future__ import annotations

import math
import os
from numbers import Real

from .errors import OptionError


def _shown(value) -> str:
    r = repr(value)
    return r if len(r) <= 40 else r[:37] + "..."


def check_type(value, types, name: str, what: str, none: bool = False):
    """`value` if it is an instance of `types` (or None when `none`); OptionError naming `what` otherwise."""
    if (value is None and none) or (isinstance(value, types) and not isinstance(value, bool)):
        return value
    if bool in (types if isinstance(types, tuple) else (types,)) and isinstance(value, bool):
        return value
    raise OptionError(f"{name} must be {what}{' or None' if none else ''}, got {type(value).__name__} {_shown(value)}")


def check_text(text, name: str = "text") -> str:
    return check_type(text, str, name, "a str (the text to write)")


def check_path(path, name: str, none: bool = False):
    """A file or folder name: a str or os.PathLike, not empty."""
    if path is None and none:
        return None
    check_type(path, (str, os.PathLike), name, "a file name (str or os.PathLike)")
    if not os.fspath(path):
        raise OptionError(f"{name} must not be empty")
    return path


def check_number(value, name: str, lo: float, hi: float, integer: bool = False, none: bool = False):
    """A finite real number (an int when `integer`) in lo..hi; bools and strings are refused."""
    if value is None and none:
        return None
    kind = int if integer else Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise OptionError(f"{name} must be {'an integer' if integer else 'a number'}"
                          f"{' or None' if none else ''}, got {type(value).__name__} {_shown(value)}")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise OptionError(f"{name} must be between {lo:g} and {hi:g}, got {_shown(value)}")
    return value


def check_flag(value, name: str, none: bool = False):
    if (value is None and none) or isinstance(value, bool):
        return value
    raise OptionError(f"{name} must be True or False{' or None' if none else ''}, got {_shown(value)}")


def check_callable(value, name: str):
    if value is None or callable(value):
        return value
    raise OptionError(f"{name} must be a function or None, got {type(value).__name__} {_shown(value)}")


def check_shard(shard) -> tuple[int, int] | None:
    """None, or (K, N) with integers 1 <= K <= N (the CLI's --shard K/N)."""
    if shard is None:
        return None
    if (not isinstance(shard, (tuple, list)) or len(shard) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in shard)):
        raise OptionError(f"shard must be (K, N) with integers 1 <= K <= N, e.g. (2, 4), got {_shown(shard)}")
    k, n = shard
    if not 1 <= k <= n:
        raise OptionError(f"shard must be (K, N) with 1 <= K <= N, e.g. (2, 4), got ({k}, {n})")
    return int(k), int(n)
