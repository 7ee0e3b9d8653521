"""Reading the user's text: TEXT argument, stdin, or --input FILE; binary and undecodable input rejected."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputTextError
from ..writing.jobs import MAX_INPUT_BYTES, decode_text, read_file  # the library's own checks, shared with many-document runs


def read_text(text: str | None, input_file: Path | None) -> str:
    """The text to write. TEXT wins; '-' or nothing means stdin; --input reads a file."""
    if text is not None and text != "-" and input_file is not None:
        raise InputTextError("give either TEXT or --input FILE, not both")
    if input_file is not None:
        if str(input_file) == "-":
            return decode_text(sys.stdin.buffer.read(MAX_INPUT_BYTES + 1), "standard input")
        return read_file(input_file, "input file")
    if text is not None and text != "-":
        return text
    stdin = sys.stdin
    if stdin is None or (hasattr(stdin, "isatty") and stdin.isatty()):
        raise InputTextError("no text: give TEXT, --input FILE, or pipe text on standard input")
    buf = getattr(stdin, "buffer", None)
    data = buf.read(MAX_INPUT_BYTES + 1) if buf is not None else stdin.read().encode()
    if len(data) > MAX_INPUT_BYTES:
        raise InputTextError(f"standard input is larger than {MAX_INPUT_BYTES // 1_000_000} MB")
    return decode_text(data, "standard input")
