"""Ink colours within a document: a line ``{color:NAME}`` in the text switches the ink from there on.

    Dear Helen,
    ...the letter in the page's colour (--color)...
    {color:darkred}
    Yours, Anna

The markup is a line of its own (``{color:...}`` or ``{colour:...}``, a CSS name or #rrggbb; ``{color}``
goes back to the page's colour); it is taken out before the text is checked and laid out, and every laid-out
line takes the colour in force at its first character. A colour that changes inside a line starts at the next
line. Pen plotters get one layer (plotter SVG), one ``M0`` pen change (G-code) or one ``SPn`` (HP-GL) per
colour; PDF, SVG and PNG draw each line in its colour.

Positions are counted in non-space characters, which layout never adds, drops or moves (it only collapses
whitespace and breaks lines), so they survive wrapping.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

from ..errors import OptionError
from .options import color_rgb

MARK = re.compile(r"^[^\S\n]*\{colou?r(?::[^\S\n]*([^{}\n]*?))?[^\S\n]*\}[^\S\n]*$", re.MULTILINE | re.IGNORECASE)
MAX_COLORS = 16  # pens on one document: beyond this it is surely a mistake (HP-GL carousels hold 6-8)

Marks = list[tuple[int, str]]  # (non-space characters before the switch, colour; '' = the page's colour)


def _nonspace(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def split_colors(text: str, prepare: Callable[[str], str] | None = None) -> tuple[str, Marks]:
    """(`text` without its colour lines, where the colours switch). `prepare` (the alphabet's, in its
    "skip" form) is applied to each piece before counting, so positions match the prepared text.
    Raises OptionError for an unknown colour or too many colours."""
    pieces, marks, colors = [], [], set()
    at, count = 0, 0
    for m in MARK.finditer(text):
        piece = text[at:m.start()]
        pieces.append(piece)
        count += _nonspace(prepare(piece) if prepare else piece)
        name = (m.group(1) or "").strip()
        if name:
            try:
                color_rgb(name)
            except OptionError:
                raise OptionError(f"unknown color {name!r} in {m.group(0).strip()!r} (line "
                                  f"{text.count(chr(10), 0, m.start()) + 1}): use a CSS colour name or #rrggbb") from None
            colors.add(name.lower())
        marks.append((count, name))
        at = m.end()
    if not marks:
        return text, []
    if len(colors) > MAX_COLORS:
        raise OptionError(f"{len(colors)} ink colours in one document; at most {MAX_COLORS}")
    pieces.append(text[at:])
    return "".join(pieces), marks


def line_colors(texts: Sequence[str], marks: Marks, start: int = 0) -> list[str]:
    """The colour ('' = the page's) of each laid-out line, `texts` in reading order, the first one starting
    after `start` non-space characters of the document."""
    out = []
    k, color = 0, ""
    pos = start
    for t in texts:
        while k < len(marks) and marks[k][0] <= pos:
            color = marks[k][1]
            k += 1
        out.append(color)
        pos += _nonspace(t)
    return out


def document_colors(default: str, colors: Sequence[str]) -> list[str]:
    """Distinct colours in pen order: the page's colour first, then the others as they first appear
    (normalised to #rrggbb)."""
    out = ["#%02x%02x%02x" % color_rgb(default)]
    for c in colors:
        h = "#%02x%02x%02x" % color_rgb(c or default)
        if h not in out:
            out.append(h)
    return out
