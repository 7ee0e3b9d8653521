"""Reading the user's text: TEXT argument, stdin, or --input FILE; binary and undecodable input rejected."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputTextError

MAX_INPUT_BYTES = 20_000_000


def decode_text(data: bytes, source: str) -> str:
    if b"\x00" in data[:65536]:
        raise InputTextError(f"{source} looks binary (it contains NUL bytes): give plain UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputTextError(f"{source} is not UTF-8 text (bad byte at offset {exc.start})") from None
    controls = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > max(8, len(text[:65536]) // 100):
        raise InputTextError(f"{source} looks binary ({controls} control characters): give plain UTF-8 text")
    return text.replace("\f", "\n\n")


def read_text(text: str | None, input_file: Path | None) -> str:
    """The text to write. TEXT wins; '-' or nothing means stdin; --input reads a file."""
    if text is not None and text != "-" and input_file is not None:
        raise InputTextError("give either TEXT or --input FILE, not both")
    if input_file is not None:
        if str(input_file) == "-":
            return decode_text(sys.stdin.buffer.read(MAX_INPUT_BYTES + 1), "standard input")
        try:
            data = input_file.read_bytes()
        except FileNotFoundError:
            raise InputTextError(f"input file {str(input_file)!r} does not exist") from None
        except IsADirectoryError:
            raise InputTextError(f"input {str(input_file)!r} is a directory, not a text file") from None
        except OSError as exc:
            raise InputTextError(f"cannot read {str(input_file)!r}: {exc.strerror}") from None
        return decode_text(data, f"input file {str(input_file)!r}")
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
