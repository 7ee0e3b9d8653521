"""Pages without sampling, for the layout and renderer tests: the layout as a list, and given strokes placed on
pages as the write flow places sampled ones (`writing.compose.Composer.place_page`, without the size evening)."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from hwcli.page.layout import LayoutLine, group_pages, iter_layout
from hwcli.page.options import PageOptions
from hwcli.page.placement import Page, align_lines, build_page, place_line


def layout_text(text: str, opts: PageOptions, char_width: float, max_chars: int | None = None) -> list[LayoutLine]:
    """All lines of `text` (see `iter_layout`)."""
    return list(iter_layout(text, opts, char_width, max_chars))


def place_pages(placed: Iterable[tuple[LayoutLine, np.ndarray]], scale: float, opts: PageOptions) -> list[Page]:
    """(LayoutLine, offsets) pairs in reading order -> Pages."""
    pairs = list(placed)
    offsets = {(ln.page, ln.index): off for ln, off in pairs}
    return [build_page(number, align_lines([place_line(offsets[ln.page, ln.index], ln, scale, opts) for ln in lines],
                                           lines), opts)
            for number, lines in group_pages(ln for ln, _ in pairs)]
