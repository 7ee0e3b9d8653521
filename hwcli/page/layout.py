"""Page options and text layout: wrap text into lines and lines onto pages, all in millimetres.

Geometry (y points down, origin at the top-left corner of the page, units mm):

- the writable block is the page minus `margin` on every side;
- baseline ``k`` (0-based) of a page sits at ``margin + (k + 1) * line_height``, so the first line's
  ascenders have a whole line height above its baseline, and the last baseline is at most
  ``page_height - margin``;
- a paragraph's first line starts `indent` mm right of the left margin.

Text model (kept simple on purpose): a blank line (only whitespace) starts a new paragraph; any
other line break is a space, so a paragraph is reflowed to the page width. Runs of whitespace (tabs
included) collapse to one space. Words are wrapped using an estimated advance per character; a word
longer than a whole line is split across lines as a last resort (no hyphen is added).
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from itertools import groupby
from typing import Iterable, Iterator

from ..errors import OptionError, check_seed

#: Named page sizes, portrait, (width, height) in mm.
PAGE_SIZES: dict[str, tuple[float, float]] = {
    "a3": (297.0, 420.0),
    "a4": (210.0, 297.0),
    "a5": (148.0, 210.0),
    "letter": (215.9, 279.4),
    "legal": (215.9, 355.6),
}

_CUSTOM_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(?:mm)?\s*$", re.IGNORECASE)
_HEX_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

#: Pens: "uniform" is a plain line of constant width (stroked paths); the others are pressure-like ink,
#: filled outlines whose width follows the pen's speed and tapers at stroke ends (see ink.py).
PENS = ("uniform", "ballpoint", "fineliner", "fountain", "marker")

# Smallest writable width we accept: narrower than this no word of handwriting fits.
MIN_TEXT_WIDTH_MM = 20.0


def page_dimensions(page_size: str) -> tuple[float, float]:
    """'A4' / 'letter' / '210x297' (mm, case-insensitive) -> (width_mm, height_mm).

    Raises OptionError for an unknown name or a custom size outside 10..2000 mm.
    """
    key = str(page_size).strip().lower()
    if key in PAGE_SIZES:
        return PAGE_SIZES[key]
    m = _CUSTOM_SIZE_RE.match(key)
    if not m:
        names = ", ".join(n.upper() if n.startswith("a") else n.capitalize() for n in PAGE_SIZES)
        raise OptionError(f"unknown page size {page_size!r}: use {names} or WIDTHxHEIGHT in mm, e.g. 210x297")
    w, h = float(m.group(1)), float(m.group(2))
    if not (10.0 <= w <= 2000.0 and 10.0 <= h <= 2000.0):
        raise OptionError(f"page size {page_size!r} out of range: each side must be 10..2000 mm")
    return (w, h)


@functools.lru_cache(maxsize=1)
def _named_colors() -> dict[str, tuple[int, int, int]]:
    # reportlab ships the CSS colour names; we keep only the CSS-style ones (lower-case words)
    # and drop 'transparent', which would make invisible ink.
    from reportlab.lib import colors

    out = {}
    for name, c in colors.getAllNamedColors().items():
        if name.isalpha() and name.islower() and name != "transparent":
            out[name] = tuple(int(round(v * 255)) for v in c.rgb())
    out["rebeccapurple"] = (102, 51, 153)
    return out


def color_rgb(color: str) -> tuple[int, int, int]:
    """A CSS colour name or '#rgb' / '#rrggbb' -> (r, g, b), each 0..255. Raises OptionError."""
    text = str(color).strip()
    if _HEX_RE.match(text):
        h = text[1:]
        if len(h) == 3:
            h = "".join(ch * 2 for ch in h)
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    rgb = _named_colors().get(text.lower())
    if rgb is None:
        raise OptionError(f"unknown color {color!r}: use a CSS colour name (e.g. navy) or #rrggbb")
    return rgb


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise OptionError(f"{name} must be a finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class PageOptions:
    """How the page looks. All lengths in millimetres."""

    page_size: str = "A4"  # A3, A4, A5, Letter, Legal (case-insensitive) or custom "WxH" in mm, e.g. "210x297"
    margin: float = 20.0  # blank border on every side of the page (mm); the text block lies inside it
    line_height: float = 10.0  # distance between baselines (mm); handwriting is scaled to fit it
    indent: float = 8.0  # extra left indent of each paragraph's first line (mm)
    width: float = 0.5  # pen width (mm), 0 < width <= 5
    color: str = "#1a237e"  # ink: CSS colour name or #rrggbb (default: dark blue ballpoint ink)
    ruled: bool = False  # draw faint ruled lines at every baseline and a red margin line
    natural: bool = True  # per-line random baseline drift, slant and size jitter, so lines do not look stamped
    seed: int = 0  # seed of the natural variation (same seed, same page)
    pen: str = "uniform"  # one of PENS: a uniform line, or pressure-like ink drawn as filled outlines

    def __post_init__(self) -> None:
        w, h = page_dimensions(self.page_size)
        margin = _number("margin", self.margin)
        line_height = _number("line_height", self.line_height)
        indent = _number("indent", self.indent)
        width = _number("width", self.width)
        if not 1.0 <= line_height <= 100.0:
            raise OptionError(f"line_height must be between 1 and 100 mm, got {self.line_height}")
        if margin <= 0:
            raise OptionError(f"margin must be > 0 mm, got {self.margin}")
        if w - 2 * margin < MIN_TEXT_WIDTH_MM:
            raise OptionError(
                f"margin {self.margin} mm leaves less than {MIN_TEXT_WIDTH_MM:g} mm of width on a {w:g} mm wide page"
            )
        if h - 2 * margin < line_height:
            raise OptionError(
                f"margin {self.margin} mm and line_height {self.line_height} mm leave no room for a line "
                f"on a {h:g} mm high page"
            )
        if not 0 < width <= 5:
            raise OptionError(f"width (pen width) must be > 0 and <= 5 mm, got {self.width}")
        if indent < 0 or indent > (w - 2 * margin) / 2:
            raise OptionError(f"indent must be between 0 and half the text width, got {self.indent}")
        color_rgb(self.color)
        check_seed(self.seed)
        if self.pen not in PENS:
            raise OptionError(f"unknown pen {self.pen!r}: use one of {', '.join(PENS)}")
        for flag in ("ruled", "natural"):
            if not isinstance(getattr(self, flag), bool):
                raise OptionError(f"{flag} must be true or false, got {getattr(self, flag)!r}")

    @property
    def page_mm(self) -> tuple[float, float]:
        """(width_mm, height_mm) of the page."""
        return page_dimensions(self.page_size)

    @property
    def text_width(self) -> float:
        """Width of the writable block (mm), without the paragraph indent."""
        return self.page_mm[0] - 2 * self.margin

    @property
    def rgb(self) -> tuple[int, int, int]:
        """Ink colour as (r, g, b) 0..255."""
        return color_rgb(self.color)


def lines_per_page(opts: PageOptions) -> int:
    """How many baselines fit on one page (always >= 1, guaranteed by PageOptions)."""
    h = opts.page_mm[1]
    # small epsilon: 257 mm / 10 mm must give 25 lines, not 24 because of float rounding
    return max(1, int(math.floor((h - 2 * opts.margin) / opts.line_height + 1e-9)))


def baseline_y(opts: PageOptions, index: int) -> float:
    """y (mm from the top) of baseline `index` (0-based) on any page."""
    return opts.margin + (index + 1) * opts.line_height


@dataclass(frozen=True)
class LayoutLine:
    """One line of text placed on a page. Lengths in mm, y from the top of the page."""

    text: str  # the words of the line, single-spaced, never empty
    page: int  # 0-based page number
    index: int  # 0-based line number on its page
    x: float  # left edge of the ink (mm)
    baseline_y: float  # where the baseline sits (mm from the top)
    max_width: float  # ink must end before x + max_width (mm)
    paragraph_start: bool  # first line of a paragraph (indented)


#: A line of the input at least this long (after collapsing whitespace) is taken as hard-wrapped prose and
#: flows on into the next line; a shorter one (an address line, a date, "Dear Helen,", a signature, a line of
#: a poem or list) keeps its line break. Hard-wrapped text is usually wrapped at 66-80 characters.
FLOW_CHARS = 60


def paragraphs(text: str) -> list[str]:
    """Split text into paragraphs at blank lines; collapse whitespace inside each. Empty ones are dropped.
    Kept line breaks (see `paragraph_lines`) become spaces here."""
    return [" ".join(parts) for parts in paragraph_lines(text)]


def paragraph_lines(text: str) -> list[list[str]]:
    """Paragraphs (split at blank lines), each a list of the runs of text between the line breaks it keeps:
    a line shorter than `FLOW_CHARS` ends with a kept break, a longer one flows on into the next line.
    Whitespace inside a run is collapsed; empty paragraphs are dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for block in re.split(r"\n[^\S\n]*\n", text):
        runs: list[str] = []
        cur: list[str] = []
        for line in block.split("\n"):
            words = line.split()
            if not words:
                continue
            cur += words
            if len(" ".join(words)) < FLOW_CHARS:
                runs.append(" ".join(cur))
                cur = []
        if cur:
            runs.append(" ".join(cur))
        if runs:
            out.append(runs)
    return out


def wrap_paragraph(paragraph: str, first_width: float, width: float, char_width: float,
                   max_chars: int | None = None) -> list[str]:
    """Greedy word wrap of one paragraph. Widths in mm, `char_width` = mm per character.

    A line's estimated width is ``len(line) * char_width``; the first line gets `first_width`, later
    lines `width`. `max_chars` additionally caps characters per line (the model writes long lines
    badly). A word that fits on no line is split into line-sized pieces.
    """
    def capacity(avail: float) -> int:
        n = int(math.floor(avail / char_width + 1e-9))
        if max_chars is not None:
            n = min(n, max_chars)
        return max(1, n)

    lines: list[str] = []
    current = ""
    for word in paragraph.split():
        cap = capacity(first_width if not lines else width)
        if current and len(current) + 1 + len(word) <= cap:
            current += " " + word
            continue
        if current:
            lines.append(current)
            current = ""
            cap = capacity(width)
        # last resort: chop a word that is longer than a whole line
        while len(word) > cap:
            lines.append(word[:cap])
            word = word[cap:]
            cap = capacity(width)
        current = word
    if current:
        lines.append(current)
    return lines


def iter_layout(text: str, opts: PageOptions, char_width: float,
                max_chars: int | None = None) -> Iterator[LayoutLine]:
    """Lazily lay out `text`: yields LayoutLines in reading order, page after page.

    `char_width` is the average advance per character (mm) at `opts.line_height`; the caller
    estimates it from the model. Raises OptionError for a non-positive `char_width` or `max_chars`.
    """
    if not (isinstance(char_width, (int, float)) and math.isfinite(char_width) and char_width > 0):
        raise OptionError(f"char_width must be a positive number of mm, got {char_width!r}")
    if max_chars is not None and max_chars < 1:
        raise OptionError(f"max_chars must be >= 1, got {max_chars!r}")
    per_page = lines_per_page(opts)
    n = 0
    for para in paragraph_lines(text):
        for r, run in enumerate(para):
            # a paragraph's first line is indented; a line after a kept break starts at the margin
            first_width = opts.text_width - (opts.indent if r == 0 else 0.0)
            for k, line_text in enumerate(wrap_paragraph(run, first_width, opts.text_width, char_width, max_chars)):
                page, index = divmod(n, per_page)
                start = r == 0 and k == 0
                indent = opts.indent if start else 0.0
                yield LayoutLine(
                    text=line_text,
                    page=page,
                    index=index,
                    x=opts.margin + indent,
                    baseline_y=baseline_y(opts, index),
                    max_width=opts.text_width - indent,
                    paragraph_start=start,
                )
                n += 1


def layout_text(text: str, opts: PageOptions, char_width: float, max_chars: int | None = None) -> list[LayoutLine]:
    """All lines of `text` as a list (see `iter_layout`). Empty or blank text gives []."""
    return list(iter_layout(text, opts, char_width, max_chars))


def group_pages(lines: Iterable[LayoutLine]) -> Iterator[tuple[int, list[LayoutLine]]]:
    """Group consecutive lines by page: yields (page_number, lines_of_that_page), lazily,
    so a 10,000-line document is handled one page at a time."""
    for page, group in groupby(lines, key=lambda ln: ln.page):
        yield page, list(group)
