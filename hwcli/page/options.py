"""Page options: sizes (named, folded cards, envelopes, custom), ink colours, pens, and `PageOptions` with the page's
geometry, all in millimetres. The text flow on these pages is `hwcli.page.layout`.

Geometry (y points down, origin at the top-left corner of the page, units mm):

- the writable block is the page minus `margin` on every side (a folded card: the right half of the sheet,
  the inside of the card, minus `margin`);
- baseline ``k`` (0-based) of a page sits at ``margin + (k + 1) * line_height``, so the first line's
  ascenders have a whole line height above its baseline, and the last baseline is at most
  ``page_height - margin``; a blank line in the text leaves baseline ``k`` empty (on ruled paper, one rule);
- a prose paragraph's first line starts `indent` mm right of the left margin.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from ..errors import OptionError, check_seed

#: Named page sizes, portrait, (width, height) in mm.
PAGE_SIZES: dict[str, tuple[float, float]] = {
    "a3": (297.0, 420.0),
    "a4": (210.0, 297.0),
    "a5": (148.0, 210.0),
    "letter": (215.9, 279.4),
    "legal": (215.9, 355.6),
    "a6": (105.0, 148.0),  # a postcard or a single card
}

#: Folded cards, (width, height) of the unfolded sheet in mm, landscape: the text goes on the right half
#: (the inside of the card once folded down the middle).
FOLDED_SIZES: dict[str, tuple[float, float]] = {
    "a5-folded": (210.0, 148.0),  # folds to an A6 card
    "a4-folded": (297.0, 210.0),  # folds to an A5 card
}

#: Envelopes, landscape (width, height) in mm; text on them is laid out as addresses (page/envelope.py).
ENVELOPE_SIZES: dict[str, tuple[float, float]] = {
    "dl": (220.0, 110.0),
    "c6": (162.0, 114.0),
    "c5": (229.0, 162.0),
    "c4": (324.0, 229.0),
    "us10": (241.3, 104.8),  # No. 10, 9.5 x 4.125 in
    "us9": (225.4, 98.4),  # No. 9, 8.875 x 3.875 in
    "monarch": (190.5, 98.4),  # 7.5 x 3.875 in
}

#: How the line breaks inside a paragraph are read (`PageOptions.breaks`, ``--breaks``):
#: keep: every typed line break is kept (a line longer than the page wraps);
#: flow: every line break inside a paragraph is a space (the paragraph is reflowed), except before and
#:   after list items and marked (aligned) lines;
#: auto: a break is kept, except after a typed line of `FLOW_CHARS` or more characters (hard-wrapped prose),
#:   which flows on into the next line, unless that next line is a list item, is marked, or starts the
#:   block's closing: it begins with a closing phrase ("With love,", "Yours sincerely", "Best wishes", ...,
#:   `CLOSING_RE`) or it ends with a comma and it and every line after it in the block are short, two lines
#:   or more ("Ta-ra,", "Ben").
BREAKS = ("auto", "keep", "flow")

_CUSTOM_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(?:mm)?\s*$", re.IGNORECASE)
_HEX_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

#: Pens: "uniform" is a plain line of constant width (stroked paths); the others are pressure-like ink,
#: filled outlines whose width follows the pen's speed and tapers at stroke ends (see ink.py).
PENS = ("uniform", "ballpoint", "fineliner", "fountain", "italic", "marker")

# Smallest writable width we accept: narrower than this no word of handwriting fits.
MIN_TEXT_WIDTH_MM = 20.0


def page_dimensions(page_size: str) -> tuple[float, float]:
    """'A4' / 'letter' / '210x297' (mm, case-insensitive) -> (width_mm, height_mm).

    Raises OptionError for an unknown name or a custom size outside 10..2000 mm.
    """
    key = str(page_size).strip().lower()
    for table in (PAGE_SIZES, FOLDED_SIZES, ENVELOPE_SIZES):
        if key in table:
            return table[key]
    m = _CUSTOM_SIZE_RE.match(key)
    if not m:
        names = ", ".join(size_name(n) for n in (*PAGE_SIZES, *FOLDED_SIZES))
        envs = ", ".join(size_name(n) for n in ENVELOPE_SIZES)
        raise OptionError(f"unknown page size {page_size!r}: use {names}, an envelope ({envs}) or WIDTHxHEIGHT "
                          "in mm, e.g. 210x297")
    w, h = float(m.group(1)), float(m.group(2))
    if not (10.0 <= w <= 2000.0 and 10.0 <= h <= 2000.0):
        raise OptionError(f"page size {page_size!r} out of range: each side must be 10..2000 mm")
    return (w, h)


def size_name(key: str) -> str:
    """The usual spelling of a size's key: 'a5-folded' -> 'A5-folded', 'dl' -> 'DL', 'letter' -> 'Letter'."""
    if key in ENVELOPE_SIZES and key != "monarch":
        return key.upper()
    if key[0] == "a":
        return key[:2].upper() + key[2:]
    return key.capitalize()


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

    page_size: str = "A4"  # A3, A4, A5, A6, Letter, Legal, A5-folded / A4-folded (cards), an envelope (DL, C6, C5,
    # C4, US10, US9, Monarch: the text is the address) or custom "WxH" in mm, e.g. "210x297"; case-insensitive
    margin: float = 20.0  # blank border on every side of the page (mm); the text block lies inside it
    line_height: float = 10.0  # distance between baselines (mm); handwriting is scaled to fit it
    indent: float = 8.0  # extra left indent of each paragraph's first line (mm)
    width: float = 0.5  # pen width (mm), 0 < width <= 5
    color: str = "#1a237e"  # ink: CSS colour name or #rrggbb (default: dark blue ballpoint ink)
    ruled: bool = False  # draw faint ruled lines at every baseline and a red margin line
    natural: bool = True  # per-line random baseline drift, slant and size jitter, so lines do not look stamped
    seed: int = 0  # seed of the natural variation (same seed, same page)
    pen: str = "uniform"  # one of PENS: a uniform line, or pressure-like ink drawn as filled outlines
    breaks: str = "auto"  # one of BREAKS: how line breaks inside a paragraph are read (see BREAKS)

    def __post_init__(self) -> None:
        w, h = page_dimensions(self.page_size)
        w = w / 2 if self.folded else w
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
        if self.breaks not in BREAKS:
            raise OptionError(f"unknown breaks {self.breaks!r}: use one of {', '.join(BREAKS)}")
        if self.envelope and self.ruled is True:
            raise OptionError("an envelope is not ruled paper: leave out ruled (--ruled)")
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
    def folded(self) -> bool:
        """A folded card: the text block is the right half of the sheet."""
        return str(self.page_size).strip().lower() in FOLDED_SIZES

    @property
    def envelope(self) -> bool:
        """An envelope: the text is laid out as addresses (page/envelope.py)."""
        return str(self.page_size).strip().lower() in ENVELOPE_SIZES

    @property
    def text_left(self) -> float:
        """x of the writable block's left edge (mm)."""
        return self.margin + (self.page_mm[0] / 2 if self.folded else 0.0)

    @property
    def text_width(self) -> float:
        """Width of the writable block (mm), without the paragraph indent."""
        return self.page_mm[0] / (2 if self.folded else 1) - 2 * self.margin

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
