"""Typed errors. The CLI prints any HwcliError as one line on stderr and exits non-zero."""
from __future__ import annotations


class HwcliError(Exception):
    """Base class of every error a user can cause (bad input, bad files, bad options)."""

    exit_code = 1


class OptionError(HwcliError, ValueError):
    """An option value out of range or unknown (negative width, unknown page size, ...)."""

    exit_code = 2


class DatasetError(HwcliError):
    """A data source that is not IAM-OnDB / InkML / a converted .npz, or is unusable."""


class ModelFileError(HwcliError):
    """A model bundle or checkpoint that is missing, corrupt, has a wrong hash or a newer format."""


class StyleNotFoundError(HwcliError):
    """A --style index or name that the bundle does not have."""


class InputTextError(HwcliError):
    """Text input that cannot be written: empty, binary, undecodable."""


class UnsupportedCharactersError(HwcliError):
    """Characters the model cannot write. `positions` holds (char, line, column), 1-based."""

    def __init__(self, positions: list[tuple[str, int, int]]):
        self.positions = positions
        shown = ", ".join(f"{c!r} at {ln}:{col}" for c, ln, col in positions[:12])
        more = f" and {len(positions) - 12} more" if len(positions) > 12 else ""
        super().__init__(
            f"{len(positions)} unsupported character(s): {shown}{more} "
            "(use --on-unsupported skip to leave them out)"
        )


class OutputError(HwcliError):
    """The output path cannot be written."""


class SynthesisError(HwcliError):
    """Lines that could not be sampled legibly after every retry."""
