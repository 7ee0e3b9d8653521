"""Typed errors. The CLI prints any HwcliError as one line on stderr and exits non-zero."""
from __future__ import annotations


class HwcliError(Exception):
    """Base class of every error a user can cause (bad input, bad files, bad options)."""

    exit_code = 1


class OptionError(HwcliError, ValueError):
    """An option value out of range or unknown (negative width, unknown page size, ...)."""

    exit_code = 2


def shorten(items, limit: int = 8, sep: str = ", ") -> str:
    """The first `limit` of `items` joined, then "and N more": an error names a few and counts the rest, so a
    100,000-column header or a million clashing rows still make a one-line message of a few hundred bytes."""
    shown, more = [], 0
    for i, item in enumerate(items):
        if i < limit:
            s = str(item)
            shown.append(s if len(s) <= 80 else s[:77] + "...")
        else:
            more += 1
    return sep.join(shown) + (f" and {more:,} more" if more else "")


MAX_SEED = 2**63 - 1  # torch.manual_seed and numpy's default_rng both take 0 .. 2**63 - 1


def check_seed(seed, name: str = "--seed") -> None:
    """OptionError unless `seed` is an integer in 0 .. MAX_SEED (checked before any work: numpy refuses a
    negative seed, torch a huge one, and both would otherwise fail half-way through)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise OptionError(f"{name} must be an integer, got {seed!r}")
    if not 0 <= seed <= MAX_SEED:
        raise OptionError(f"{name} must be between 0 and {MAX_SEED}, got {seed}")


def check_threads(threads, name: str = "--threads") -> None:
    """OptionError unless `threads` is 0 (torch's default) or a positive count of at most 1024."""
    if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= 1024:
        raise OptionError(f"{name} must be 0 (torch's default) or a positive number of threads up to 1024, got {threads!r}")


class DatasetError(HwcliError):
    """A data source that is not IAM-OnDB / InkML / a converted .npz, or is unusable."""


class ModelFileError(HwcliError):
    """A model bundle or checkpoint that is missing, corrupt, has a wrong hash or a newer format."""


class StyleNotFoundError(HwcliError):
    """A --style index or name that the bundle does not have."""


class InputTextError(HwcliError):
    """Text input that cannot be written: empty, binary, undecodable."""


class UnsupportedCharactersError(HwcliError):
    """Characters the model cannot write. `positions` holds (char, line, column), 1-based; `lacking` the distinct
    characters among them that belong to hwcli's character set (`alphabet.CHARSET`) but not to this model's
    alphabet (an older bundle): the message says so, naming `model` and a `full_model` that writes them."""

    def __init__(self, positions: list[tuple[str, int, int]], lacking: str = "", model: str | None = None,
                 full_model: str | None = None):
        self.positions = positions
        self.lacking = lacking
        shown = ", ".join(f"{c!r} at {ln}:{col}" for c, ln, col in positions[:12])
        more = f" and {len(positions) - 12} more" if len(positions) > 12 else ""
        why = ""
        if lacking:
            instead = (f"{full_model} writes them" if full_model
                       else "a model trained on the full set writes them")
            why = (f"; {model or 'the model'} lacks {lacking!r}: hwcli's character set has them, but this model "
                   f"was trained without them ({instead})")
        super().__init__(
            f"{len(positions)} unsupported character(s): {shown}{more}{why} "
            "(use --on-unsupported skip to leave them out)"
        )


class OutputError(HwcliError):
    """The output path cannot be written."""


class SynthesisError(HwcliError):
    """Lines that could not be sampled legibly after every retry."""


class InkError(DatasetError):
    """A writer's ink that cannot make a personal style (no text, too little ink, text and ink that differ)."""
