"""Text layout: wrap text into lines and lines onto pages, all in millimetres (the page, its sizes and geometry:
`hwcli.page.options`).

Text model (`blocks`, `runs`): the text as typed. A blank line is one line of space and starts a paragraph;
what the other line breaks do is `PageOptions.breaks` (`BREAKS`); lists (``- ``, ``* ``, ``1. ``, ``1) ``)
keep every item on its own line with a hanging indent; a line (or a block, with the mark alone on the line
before it) marked ``>>`` is set on the right, ``><`` centred, ``>`` from the middle of the line (an indented
closing or signature); ``\\>`` writes a literal ``>``. Runs of whitespace (tabs included) collapse to one
space. Words are wrapped using an estimated advance per character; a word longer than a whole line is split
across lines as a last resort (no hyphen is added). An envelope page size lays its text out as addresses
(hwcli.page.envelope).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import groupby
from typing import Iterable, Iterator

from ..errors import OptionError
from ..texts import unbreakable_words
from .options import PageOptions, baseline_y, lines_per_page


@dataclass(frozen=True)
class LayoutLine:
    """One line of text placed on a page. Lengths in mm, y from the top of the page."""

    text: str  # the words of the line, single-spaced, never empty
    page: int  # 0-based page number
    index: int  # 0-based line (ruling slot) on its page: blank lines of the text count
    x: float  # left edge of the ink (mm); for right / centred lines the left edge of the room they are set in
    baseline_y: float  # where the baseline sits (mm from the top)
    max_width: float  # ink must end before x + max_width (mm)
    paragraph_start: bool  # first line of a prose paragraph (indented)
    align: str = "left"  # one of ALIGNS: where the ink goes in [x, x + max_width] (placement.align_lines)
    block: int = -1  # lines set right share a block number per block: the block is set right as a whole
    size: float = 1.0  # size of the writing relative to the page's hand (an envelope's sender block: smaller)


#: Where a line's ink goes in its room: left (at x), right (the block's widest line ends at x + max_width),
#: center (each line centred in its room).
ALIGNS = ("left", "right", "center")

#: A line of the input at least this long (after collapsing whitespace) is taken as hard-wrapped prose (see
#: BREAKS), and a paragraph whose first line is this long is prose, indented. Hard-wrapped text is usually
#: wrapped at 66-80 characters.
FLOW_CHARS = 60

#: Line marks (at the start of a typed line, then a space, or alone on a line for the rest of its block):
#: the alignment they ask for. ">" sets the line from the middle of the line (an indented closing).
MARKS = {">>": "right", "><": "center", ">": "middle"}
_MARK_RE = re.compile(r"^(>>|><|>)(?:\s+|$)")
_ITEM_RE = re.compile(r"^([-*\u2022]|\d{1,3}[.)]|[a-zA-Z][.)])\s+(?=\S)")

#: A closing ("With much love,", "Yours sincerely", "Best wishes, Anna", "Love,"): a short line that starts
#: with one of these phrases followed by a comma, '.', '!' or the end of the line.
CLOSING_RE = re.compile(
    r"^(?:with (?:\w+ ){0,2}(?:love|wishes|regards|thanks|gratitude)|(?:lots of |all my |all our |much |my )?love"
    r"|yours(?: \w+)?|(?:best|kind|kindest|warm|warmest|warm best|fond|sincere) (?:wishes|regards)|best|regards"
    r"|cheers|thanks(?: again)?|thank you(?: again)?|many thanks|sincerely|respectfully|take care"
    r"|see you(?: soon)?|all the best|fondly|warmly|hugs|xx+)\s*(?:[,.!]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class TypedLine:
    """One non-blank line of the input, as typed."""

    text: str  # whitespace collapsed, the mark taken off (a list item keeps its bullet or number)
    align: str = "left"  # "left", "right", "center" or "middle" (from its mark or its block's)
    marked: bool = False  # it (or its block) carries a mark
    item: str = ""  # the list marker ("- ", "12. "), '' when not a list item
    lead: bool = False  # typed with leading whitespace (under a list item: continues it)


@dataclass(frozen=True)
class Run:
    """Text that starts on a new line and is wrapped as one piece."""

    text: str
    align: str = "left"
    prose: bool = False  # the first line of a prose paragraph: indented by PageOptions.indent
    hang: int = 0  # characters of hanging indent for its wrapped lines (a list item's marker)
    offset: int = 0  # characters of extra indent of every line (a kept line that continues a list item)
    space_before: int = 0  # blank lines before it
    block: int = 0  # the paragraph (block between blank lines) it belongs to


def typed_line(line: str, block_align: str | None) -> TypedLine:
    words = line.split()
    text = " ".join(words)
    lead = bool(words) and line[:1] in (" ", "\t")
    m = _MARK_RE.match(text)
    align, marked = (block_align or "left"), block_align is not None
    if m:
        align, marked = MARKS[m.group(1)], True
        text = text[m.end():]
    elif text.startswith("\\") and len(text) > 1:  # an escape: "\\> x" writes "> x" (">" mapped by the alphabet)
        text = text[1:]
    item = _ITEM_RE.match(text)
    return TypedLine(text, align, marked, item.group(1) + " " if item else "", lead)


_RAW_MARK_RE = re.compile(r"^[^\S\n]*(>>|><|>|\\(?=>))(?=\s|$|>)")


def prepare_marked(text: str, prepare) -> str:
    """`prepare(text)` (the alphabet's check and mapping) applied to the text but not to its marks: a mark is
    not a character to write. Problems keep the line and column of the text as typed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    marks = [_RAW_MARK_RE.match(line) for line in lines]
    masked = "\n".join(line if m is None else " " * m.end() + line[m.end():] for line, m in zip(lines, marks))
    done = prepare(masked).split("\n")
    if len(done) != len(lines):  # prepare keeps line breaks; be safe if it ever does not
        return prepare(text)
    return "\n".join(line if m is None else m.group(1) + ("" if m.group(1) == "\\" else " ") + line.lstrip()
                     for line, m in zip(done, marks))


def blocks(text: str) -> list[tuple[int, list[TypedLine]]]:
    """The text's paragraphs: (blank lines before it, its typed lines). A mark alone on a line marks the
    rest of its paragraph. Leading and trailing blank lines are dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[tuple[int, list[TypedLine]]] = []
    blank, cur, mark = 0, [], None
    for line in text.split("\n"):
        words = line.split()
        if not words:
            if cur:
                out.append((blank if out else 0, cur))
                cur, mark, blank = [], None, 0
            blank += 1
            continue
        alone = _MARK_RE.fullmatch(" ".join(words))
        if alone:
            mark = MARKS[alone.group(1)]
            continue
        cur.append(typed_line(line, mark))
    if cur:
        out.append((blank if out else 0, cur))
    return out


def _starts_closing(lines: list[TypedLine], k: int) -> bool:
    """Line k opens the block's closing: a closing phrase, or the block's last 2+ lines, all short, the first
    ending with a comma ("Ta-ra,", "Ben")."""
    rest = lines[k:]
    if len(rest[0].text) < FLOW_CHARS and CLOSING_RE.match(rest[0].text):
        return True
    return len(rest) >= 2 and rest[0].text.endswith(",") and all(len(t.text) < FLOW_CHARS for t in rest)


def _joins(lines: list[TypedLine], k: int, breaks: str) -> bool:
    """Does typed line k flow on into line k + 1 (its line break becomes a space)?"""
    a, b = lines[k], lines[k + 1]
    if breaks == "keep" or b.item or b.marked or a.marked:
        return False
    if breaks == "flow":
        return True
    return len(a.text) >= FLOW_CHARS and not _starts_closing(lines, k + 1)


def runs(text: str, breaks: str = "auto") -> Iterator[Run]:
    """The text as runs (see `Run`), in order; `breaks` is one of BREAKS."""
    for b, (space, lines) in enumerate(blocks(text)):
        start = True
        k = 0
        item = ""  # the marker of the list item being continued
        while k < len(lines):
            first = lines[k]
            words = [first.text]
            continues_item = bool(item) and not first.item and first.lead and not first.marked
            while k + 1 < len(lines) and (_joins(lines, k, breaks) or (
                    (first.item or continues_item) and not lines[k + 1].item and lines[k + 1].lead
                    and not lines[k + 1].marked and breaks != "keep")):
                k += 1
                words.append(lines[k].text)
            joined = " ".join(words)
            item = first.item or (item if continues_item else "")
            prose = start and first.align == "left" and not first.item and len(joined) >= FLOW_CHARS
            yield Run(joined, first.align, prose, hang=len(first.item),
                      offset=len(item) if continues_item else 0, space_before=space if start else 0, block=b)
            start = False
            k += 1


def paragraph_lines(text: str, breaks: str = "auto") -> list[list[str]]:
    """Paragraphs (split at blank lines), each the list of its runs' texts (see `runs`)."""
    out: dict[int, list[str]] = {}
    for r in runs(text, breaks):
        out.setdefault(r.block, []).append(r.text)
    return list(out.values())


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
    for word in unbreakable_words(paragraph):  # a lone "?" or "»" never starts a line
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
    A blank line leaves one empty line, except at the top of a page.
    """
    if not (isinstance(char_width, (int, float)) and math.isfinite(char_width) and char_width > 0):
        raise OptionError(f"char_width must be a positive number of mm, got {char_width!r}")
    if max_chars is not None and max_chars < 1:
        raise OptionError(f"max_chars must be >= 1, got {max_chars!r}")
    if opts.envelope:
        from .envelope import envelope_layout

        yield from envelope_layout(text, opts, char_width, max_chars)
        return
    per_page = lines_per_page(opts)
    left, full = opts.text_left, opts.text_width
    n = 0
    for run in runs(text, opts.breaks):
        if n % per_page:  # no space at the top of a page
            n = min(n + run.space_before, -(-n // per_page) * per_page)
        if run.align == "middle":
            x0, width, align = left + full / 2, full / 2, "left"
        else:
            x0, width, align = left + run.offset * char_width, full - run.offset * char_width, run.align
        first_indent = opts.indent if run.prose else 0.0
        hang = min(run.hang * char_width, width / 2)
        wrapped = wrap_paragraph(run.text, width - first_indent, width - hang, char_width, max_chars)
        for k, line_text in enumerate(wrapped):
            page, index = divmod(n, per_page)
            indent = first_indent if k == 0 else hang
            yield LayoutLine(
                text=line_text,
                page=page,
                index=index,
                x=x0 + indent,
                baseline_y=baseline_y(opts, index),
                max_width=width - indent,
                paragraph_start=run.prose and k == 0,
                align=align,
                block=run.block if align == "right" else -1,
            )
            n += 1


def group_pages(lines: Iterable[LayoutLine]) -> Iterator[tuple[int, list[LayoutLine]]]:
    """Group consecutive lines by page: yields (page_number, lines_of_that_page), lazily,
    so a 10,000-line document is handled one page at a time."""
    for page, group in groupby(lines, key=lambda ln: ln.page):
        yield page, list(group)
