"""What every renderer draws the same way: the ruling's colours and widths, the size of a dot.

Colours are 8-bit RGB; each renderer converts them to its own form (SVG hex, PDF 0-1 floats, PNG bytes).
"""
from __future__ import annotations

RULE_RGB = (0x9E, 0xC3, 0xE6)  # faint blue ruled lines
MARGIN_RGB = (0xE5, 0x73, 0x73)  # red-ish margin line
RULE_WIDTH = 0.2  # mm, ruled and margin lines
DOT_LENGTH = 0.01  # mm: a 1-point stroke is drawn as this short segment; round caps make it a dot


def rgb_hex(rgb: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % rgb


def rgb_unit(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    return tuple(c / 255 for c in rgb)  # type: ignore[return-value]
