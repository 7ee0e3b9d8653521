"""The loaded parts of one write, in one object: `Composer` holds the bundle, the sampling options resolved against
it, the read-back checker and the hand's metrics on the page, and assembles pages from sampled lines.

`write`, `style_sheet` and `write_many` all build one (`Composer.load`) and place every page through
`Composer.place_page`, so a page is laid out, sampled, sized and placed the same way whichever of them asks; they
differ only in how they group lines into sampling calls (a page at a time; a group of documents at a time).
`Report` is what sampling a document did, for all three.
"""
from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np

from ..charset import BUNDLED, FULL_SET, needs_full_set, prepare_text, route_lines, routes_to_full_set, writes_all
from ..model.bundle import Bundle, Style
from ..model.personal import resolve_style
from ..page import PageOptions, estimate_scale, iter_layout
from ..page import layout as L
from ..page.colors import Marks, split_colors
from ..page.placement import BODY_FRACTION, Page, align_lines, build_page, place_line, size_factors
from ..strokes import to_points, x_height
from ..synthesis import Checker, LineResult, Sampling, SamplingOptions, line_checker, synthesize

log = logging.getLogger(__name__)

MAX_CHARS_PER_LINE = 90  # the model was trained on lines of up to ~70 characters; longer ones get wrapped

#: Body height (10th-90th percentile of y) of a style's sampled lines, as a fraction of the line height.
#: Sampled lines are neater than their primes, with shorter ascenders and descenders, so their body is
#: mostly x-height: at `BODY_FRACTION` (0.42, right for real lines) the bundled styles came out at ~33
#: characters per A4 line. 0.31 gives ~50, an ordinary hand on 10 mm ruling (mean over the bundled styles
#: of char_width / body_height is 1.09, so one character advances ~0.34 line heights).
SAMPLED_BODY_FRACTION = 0.31

Progress = Callable[[int, int], None]  # progress(lines done, lines in the document)


@dataclass(frozen=True)
class FailedLine:
    page: int  # 1-based
    line: int  # 1-based, on its page
    text: str
    reason: str


@dataclass
class Report:
    """What sampling a document did. Complete once every page has been produced."""

    pages: int = 0
    lines: int = 0  # lines laid out (blank lines between paragraphs included)
    resampled: int = 0  # lines sampled again because a check failed
    failed: list[FailedLine] = field(default_factory=list)  # lines still failing after their retries


def hand_metrics(bundle: Bundle, style: Style | None, line_height: float) -> tuple[float, float]:
    """(mm per model unit, mm per character) for one hand at `line_height`."""
    if style is not None and len(style.strokes) > 10:
        if style.body_height > 0:
            # measured on lines sampled in this style: the prime's own height depends on its letters
            scale = SAMPLED_BODY_FRACTION * line_height / style.body_height
        else:
            scale = estimate_scale([style.strokes], line_height)
        if style.char_width > 0:
            per_char = style.char_width  # measured on lines sampled in this style when the bundle was made
        else:
            pts = to_points(style.strokes)
            per_char = float(np.ptp(pts[:, 0])) / max(len(style.text), 1)
    else:
        body = float(bundle.meta.get("body_height", 3.5))  # normalised units, 10-90th percentile height
        scale = BODY_FRACTION * line_height / body
        per_char = float(bundle.meta.get("char_width", 3.2))
    return scale, max(per_char * scale, 0.3)


def _full_set_loader(sampling: SamplingOptions, line_height: float, recognizer, checker: Checker | None):
    """A function loading (once) the `Composer` of the bundled full-set model with the caller's options and
    style (a built-in style has the same index and name in both bundles, a personal one is added to it)."""

    @functools.cache
    def load() -> "Composer":
        log.info("%s writes the lines holding characters of the set that %s lacks or writes poorly (every line in "
                 "the styles flagged full_set)", FULL_SET, BUNDLED)
        return Composer.load(FULL_SET, sampling, line_height, recognizer, checker)

    return load


def even_sizes(lines: list[L.LayoutLine], results) -> list[L.LayoutLine]:
    """The lines of one page with their `size` pulled towards one x-height (`placement.size_factors`), measured
    on each sampled line's small letters through its attention window (`results`: its LineResults)."""
    heights = [x_height(to_points(r.strokes), r.chars, r.text) if len(r.strokes) else 0.0 for r in results]
    return [replace(ln, size=ln.size * f) if f != 1.0 else ln for ln, f in zip(lines, size_factors(heights))]


@dataclass(frozen=True)
class Composer:
    """One hand ready to write: see the module docstring. Build it with `load`."""

    bundle: Bundle
    sampling: SamplingOptions  # the caller's options, the style resolved and `check` decided
    resolved: Sampling  # ...resolved against the bundle (every field concrete)
    checker: Checker | None  # reads lines back (None: checking is off)
    scale: float  # mm per model unit on the page
    char_width: float  # mm per character (for wrapping)
    #: with no model asked for: the same hand in the bundled model that writes the whole character set
    #: (`charset.FULL_SET`), loaded when a text first needs it; it writes the lines that need it (`needs_full`)
    full_set: Callable[[], "Composer"] | None = field(default=None, compare=False, repr=False)
    #: ...and it writes every line, not only those that need it (the style is flagged `full_set`)
    all_full: bool = False

    @classmethod
    def load(cls, model: Bundle | str | os.PathLike | None, sampling: SamplingOptions, line_height: float,
             recognizer=None, checker: Checker | None = None) -> "Composer":
        """Load the bundle and resolve the style (a personal style's name included, `model.personal.resolve_style`)
        and the options; with checking on, the checker is `checker` or one reading with `recognizer` (None: the
        bundled one; one that cannot load raises here, before any sampling). With `model` None and the bundled
        default chosen (not an adapted personal style's own model), the lines holding characters of the set that
        the default lacks or writes poorly are written by the bundled full-set model (`full_set`)."""
        bundle, style = resolve_style(model, sampling.style)
        opts = replace(sampling, style=style)
        resolved = opts.resolve(bundle)  # unknown style -> StyleNotFoundError now, not after sampling
        if not resolved.check:
            checker = None
        elif checker is None:
            checker = line_checker(bundle, recognizer)
        scale, char_w = hand_metrics(bundle, resolved.style, line_height)
        full = None
        if routes_to_full_set(model, bundle):
            full = _full_set_loader(sampling, line_height, recognizer, checker if resolved.check else None)
        every = full is not None and writes_all(bundle, resolved.style)
        if every:  # the page is laid out and sized for the hand as the full-set model writes it (its style metrics)
            scale, char_w = full().scale, full().char_width
        return cls(bundle, replace(opts, check=resolved.check), resolved, checker, scale, char_w, full, every)

    def needs_full(self, text: str) -> bool:
        """Whether `text` (or a line of it) is written by the bundled full-set model (`full_set`): it holds a
        character of the set this bundle lacks or writes poorly (`charset.needs_full_set`)."""
        return self.full_set is not None and (self.all_full or needs_full_set(text, self.bundle.alphabet))

    def prepare(self, text: str, on_unsupported: str) -> tuple[str, Marks]:
        """The text as the model will write it (its {color:...} marks split off, characters mapped or refused,
        `charset.prepare_text`) and the marks; checked against the full-set model's characters when lines of
        it will be written by that model (`full_set`)."""
        if self.needs_full(text):
            return self.full_set().prepare(text, on_unsupported)
        bundle = self.bundle
        text, marks = split_colors(text, (lambda t: prepare_text(bundle, t, "skip")) if bundle.is_synthesis else None)
        if bundle.is_synthesis:
            text = L.prepare_marked(text, lambda t: prepare_text(bundle, t, on_unsupported))
        return text, marks

    def lay_out(self, text: str, page: PageOptions):
        """The text's lines on pages of `page` in this hand (`LayoutLine`s, one after another)."""
        return iter_layout(text, page, self.char_width, MAX_CHARS_PER_LINE)

    def sample(self, texts: Sequence[str], seed: int | None = None, seeds: Sequence[int] | None = None,
               progress: Progress | None = None, style: int | Style | None = None) -> list[LineResult]:
        """The lines sampled and checked (`synthesis.synthesize`), with base seed `seed` or per-line `seeds`, in
        another of the bundle's styles than the composer's when `style` is given."""
        st = self.resolved.style if style is None else self.bundle.style(style) if isinstance(style, int) else style
        mine, theirs = ((list(range(len(texts))), []) if self.full_set is None
                        else route_lines(texts, self.bundle, st))
        out: list = [None] * len(texts)
        done = 0
        for idx in (mine, theirs):
            if not idx:
                continue
            comp = self if idx is mine else self.full_set()
            opts = comp.sampling if seed is None else replace(comp.sampling, seed=seed)
            if style is not None:
                opts = replace(opts, style=style)
            res = synthesize(comp.bundle, [texts[k] for k in idx], opts, checker=comp.checker,
                             progress=(lambda n, _t, base=done: progress(base + n, len(texts))) if progress else None,
                             seeds=None if seeds is None else [seeds[k] for k in idx])
            for k, r in zip(idx, res):
                out[k] = r
            done += len(idx)
        return out

    def place_page(self, number: int, lines: Sequence[L.LayoutLine], results: Sequence[LineResult], page: PageOptions,
                   report: Report, colors: Sequence = (), inks: Sequence = (),
                   scales: Sequence[float] | None = None) -> Page:
        """One page from its laid-out lines and their sampled results, its lines counted into `report`. The lines of one
        hand are evened to one x-height and aligned; with `scales` (one per line: a sheet of different hands,
        `style_sheet`) each line keeps its own hand's size."""
        placed = []
        sized = even_sizes(list(lines), results) if scales is None else lines
        for k, (ln, res) in enumerate(zip(sized, results)):
            report.resampled += int(res.resampled)
            if not res.ok:
                report.failed.append(FailedLine(ln.page + 1, ln.index + 1, ln.text, res.reason))
            placed.append(place_line(res.strokes, ln, self.scale if scales is None else scales[k], page))
        if scales is None:
            placed = align_lines(placed, lines)
        return build_page(number, placed, page, [ln.text for ln in lines], colors, inks)
