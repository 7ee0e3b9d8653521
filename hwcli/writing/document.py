"""The Python API: ``write(text, ...) -> Document``; ``doc.save(path_or_stream)`` renders it.

write:  text -> layout (lines, pages, mm) -> synthesis (a batch per page) -> placement -> Document -> save

`write` validates everything before any sampling (characters, style, options, the recognizer when checking is
on) and returns a `Document` at once; sampling happens while its pages are read: by `Document.save`, by
iterating `Document.pages`, or by asking for `Document.report`.

Memory stays bounded however long the text is: pages are produced one after another and a renderer consumes
each page before the next is sampled. A document of up to `KEEP_PAGES` pages keeps its placed pages after the
first pass (a second `save` in another format costs no sampling); a longer one keeps none, and every pass
samples it again (same seed, same strokes), so a 1000-page text never sits in memory.

Saving is atomic: every output file is rendered to a temporary file first and moved into place only when all
pages rendered, so a failure never leaves a partial file nor overwrites the user's file; a stream receives the
bytes only after the whole document rendered.

Pen-plotter formats (G-code, HP-GL, plotter SVG) render through the same `save` with `plotter` options
(profile, bed, feeds, pen commands, simplification, stroke order; `plotter_setup` checks them) and can write a
toolpath `preview` (SVG or PNG, by its suffix) beside the output; `Document.plans` then holds each page's
toolpath figures and `Document.machine` the resolved machine (for `page.estimate`).
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from ..charset import prepare_text
from ..errors import InputTextError, OptionError, OutputError
from ..fileio import check_writable, describe_os_error, publish_files
from ..model.bundle import Bundle
from ..page import PageOptions, group_pages
from ..page import layout as L
from ..page import options as PO
from ..page.colors import Marks, document_colors, line_colors
from ..page.formats import FORMATS, Format, format_for, page_paths, plotter_setup
from ..page.machines import Machine, PlotterOptions
from ..page.placement import Page
from ..synthesis import SamplingOptions
from .compose import Composer, Progress, Report, hand_metrics

log = logging.getLogger(__name__)
KEEP_PAGES = 50  # documents of up to this many pages keep their placed pages (~0.2 MB a page)


class Document:
    """Pages of placed strokes (mm, y down from the top-left corner) and the `Report` of sampling them.

    Made by `write` (or `style_sheet`); see the module docstring for when sampling happens.
    """

    def __init__(self, produce: Callable[[Report], Iterator[Page]], n_pages: int, page: PageOptions,
                 title: str = "hwcli"):
        self._produce = produce  # produce(report) yields the pages in order and fills `report`
        self.n_pages = n_pages  # known from the layout, before any sampling
        self.page_options = page
        self.title = title
        self._report: Report | None = None
        self._kept: list[Page] | None = None
        self.plans: list = []  # after a plotter `save`: one toolpath.PagePlan per page (travel, points)
        self.machine: Machine | None = None  # after a plotter `save`: the machine it was written for
        self.stale: list[str] = []  # after `save`: numbered pages of an earlier, longer document (left as they are)

    def __len__(self) -> int:
        return self.n_pages

    @property
    def pages(self) -> Iterator[Page]:
        """The pages, one at a time (sampled on the way unless kept from an earlier pass)."""
        if self._kept is not None:
            yield from self._kept
            return
        report = Report()
        kept: list[Page] | None = [] if self.n_pages <= KEEP_PAGES else None
        for pg in self._produce(report):
            if kept is not None:
                kept.append(pg)
            yield pg
        self._report = report
        self._kept = kept

    @property
    def report(self) -> Report:
        """The report of the latest complete pass over the pages (makes one when there was none yet)."""
        if self._report is None:
            for _ in self.pages:
                pass
        assert self._report is not None
        return self._report

    def save(self, target: str | os.PathLike | BinaryIO, format: str | None = None, *, dpi: float = 150,
             plotter: PlotterOptions | None = None, preview: str | os.PathLike | None = None) -> list[str]:
        """Render to `target`: a path ('-' is standard output) or a binary stream; returns what was written.

        `format` (a name in `hwcli.page.formats.FORMATS`) defaults to the path's suffix, PDF for a stream.
        Per-page formats (SVG, PNG, G-code, HP-GL) write ``out-1.svg, out-2.svg, ...`` when there are several
        pages; a stream takes one page of those. `dpi` is used by raster formats; `plotter` and `preview` (a
        toolpath SVG or PNG written beside the output) by plotter formats (`plotter_setup`).
        """
        from ..checks import check_number, check_path, check_type

        stream = target if hasattr(target, "write") else None
        if stream is None:
            check_path(target, "save's target")  # None or 5 would write a file named "None" or "5"
        check_type(format, str, "format", "a format name", none=True)
        check_number(dpi, "dpi", 10, 600)
        check_type(plotter, PlotterOptions, "plotter", "a PlotterOptions (e.g. PlotterOptions(plotter='grbl-servo'))",
                   none=True)
        check_path(preview, "preview", none=True)
        name = None if stream is not None else str(target)
        preview = str(preview) if preview is not None else None
        f, machine = plotter_setup(format_for(name, format).name, plotter, self.page_options, preview, name)
        fmt = FORMATS[f]
        if name == "-":
            stream = sys.stdout.buffer
        targets = page_paths("-" if stream is not None else name, self.n_pages, fmt)
        if preview is not None and Path(preview) in targets:
            raise OptionError("--preview needs a file name of its own")
        extra_targets = [Path(preview)] if preview else []
        if stream is None or extra_targets:
            for t in (targets if stream is None else []) + extra_targets:
                check_writable(t)
        if fmt.name == "png":
            from ..page.png import check_pixels

            check_pixels(self.page_options, dpi)  # before any sampling
        try:
            tmp_cm = tempfile.TemporaryDirectory(prefix="hwcli-")
        except OSError as exc:
            raise OutputError(f"cannot create a temporary folder: {describe_os_error(exc)}") from None
        with tmp_cm as tmpdir:
            try:
                files = self._render(fmt, Path(tmpdir), dpi, machine)
                self.machine = machine
                if preview:
                    from ..page.preview import preview_format, render_preview

                    files.append(Path(tmpdir) / "preview")
                    with open(files[-1], "wb") as fh:
                        render_preview(self.plans, fh, self.page_options, machine, preview_format(preview), dpi)
            except OSError as exc:  # a full disk under the temporary folder: nothing of the user's has changed
                if exc.filename is not None and not str(exc.filename).startswith(str(tmpdir)):
                    raise
                raise OutputError(f"cannot write {name or 'the stream'!r}: {describe_os_error(exc)} (while rendering "
                                  f"in {str(Path(tmpdir).parent)!r}); nothing was changed") from None
            if stream is not None:
                _to_stream(files[0], stream, name)
                files, targets = files[1:], []
            publish_files(list(zip(files, targets + extra_targets)))  # every page or none
        self.stale = stale_pages(name, len(targets), fmt) if stream is None and fmt.per_page else []
        if stream is not None:
            return ["-" if name == "-" else "<stream>"] + [str(t) for t in extra_targets]
        return [str(t) for t in targets + extra_targets]

    def _render(self, fmt: Format, tmpdir: Path, dpi: float, machine: Machine | None = None) -> list[Path]:
        """Render every page into files under `tmpdir` (one, or one per page); returns them in order. A plotter
        format renders with `machine` and leaves its toolpath plans in `self.plans`."""
        render = fmt.renderer()
        extra = fmt.options(title=self.title, dpi=dpi, page_opts=self.page_options)
        setting = machine if fmt.plotter else self.page_options
        self.plans = []
        if fmt.plotter and fmt.per_page:  # G-code, HP-GL: one file (and one plan) per page
            files = []
            for i, pg in enumerate(self.pages):
                files.append(tmpdir / f"page-{i}")
                with open(files[-1], "wb") as fh:
                    self.plans += render([pg], fh, setting, **extra)
            return files
        if not fmt.per_page:
            path = tmpdir / "document"
            with open(path, "wb") as fh:
                plans = render(self.pages, fh, setting, **extra)
            if fmt.plotter:
                self.plans = list(plans)
            return [path]
        files = []
        for i, pg in enumerate(self.pages):
            files.append(tmpdir / f"page-{i}")
            with open(files[-1], "wb") as fh:
                render(pg, fh, setting, **extra)
        return files


def _to_stream(tmp: Path, stream: BinaryIO, name: str | None) -> None:
    """Copy a finished file to a stream; a full disk behind it is one OutputError."""
    try:
        with open(tmp, "rb") as fh:
            shutil.copyfileobj(fh, stream)
        stream.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        where = "standard output" if name in (None, "-") else repr(name)
        raise OutputError(f"cannot write {where}: {describe_os_error(exc)}") from None


def stale_pages(out: str, n_pages: int, fmt: Format) -> list[str]:
    """Numbered pages beyond this document's last one (``out-26.svg, out-27.svg, ...`` after 25 pages, or
    ``out-1.svg ...`` after one page written to ``out.svg``) left by an earlier, longer write. They are never
    deleted (they may be the user's own files); the CLI names them in a warning."""
    from ..fileio import _is_special

    if _is_special(Path(out)):
        return []  # a device or stream has no numbered pages beside it
    found = []
    k = 1 if n_pages == 1 else n_pages + 1
    while True:
        cand = page_paths(out, max(k, 2), fmt)[k - 1]
        if not cand.exists():
            return found
        found.append(str(cand))
        k += 1


def write(
    text: str,
    *,
    style: int | str | None = None,
    bias: float | None = None,
    seed: int | None = None,
    check: bool | None = None,
    page: PageOptions | None = None,
    model: Bundle | str | os.PathLike | None = None,
    sampling: SamplingOptions | None = None,
    on_unsupported: str = "error",
    recognizer: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> Document:
    """Handwrite `text`: a `Document` of placed pages, sampled as it is read (see the module docstring).

    `style`, `bias`, `seed`, `check` override the same fields of `sampling` (None: the bundle's defaults);
    `page` is the paper, margins, line height and pen; `model` a loaded `Bundle`, a bundled model's name or a
    path (None: the bundled synthesis model, whose lines holding characters of hwcli's set that it lacks or
    writes poorly are written by the bundled `hwcli-charset` in the same style, and every line in its print styles
    flagged `full_set`, `charset.writes_all`). A prediction (unconditional) model writes free ink on the
    text's layout. With checking on, lines are read back with `recognizer` (None: the bundled one) and bad
    ones resampled; a recognizer that cannot be loaded is an error, never a silent "off".
    `on_unsupported`: "error" lists every character the model cannot write, "skip" drops them.
    ``progress(done, total)`` counts sampled lines.
    """
    from ..checks import check_callable, check_text, check_type

    check_text(text)
    check_type(page, PageOptions, "page", "a PageOptions", none=True)
    check_type(sampling, SamplingOptions, "sampling", "a SamplingOptions", none=True)
    check_callable(progress, "progress")
    page = page or PageOptions()
    opts = sampling or SamplingOptions()
    given = {k: v for k, v in (("style", style), ("bias", bias), ("seed", seed), ("check", check)) if v is not None}
    opts = replace(opts, **given)
    if on_unsupported not in ("error", "skip"):
        raise OptionError(f"on_unsupported must be 'error' or 'skip', got {on_unsupported!r}")
    comp = Composer.load(model, opts, page.line_height, recognizer)
    text, marks = comp.prepare(text, on_unsupported)
    if not text.strip():
        raise InputTextError("no text to write (the input is empty or only whitespace)")
    n_pages = 0
    for last in comp.lay_out(text, page):
        n_pages = last.page + 1

    def produce(report: Report) -> Iterator[Page]:
        return _pages(comp, text, page, report, progress, marks)

    return Document(produce, n_pages, page, title=_title(text))


def _pages(comp: Composer, text: str, page: PageOptions, report: Report, progress: Progress | None,
           marks: Marks = ()) -> Iterator[Page]:
    """The document's pages, each sampled as one call (its own seed, from the base seed and its number)."""
    lines = list(comp.lay_out(text, page))
    colors = line_colors([ln.text for ln in lines], list(marks)) if marks else []
    inks = document_colors(page.color, [c for _, c in marks]) if marks else []
    total = len(lines)
    report.lines = total
    done = 0
    for number, group in group_pages(lines):

        def on_line(k: int, _n: int, base=done) -> None:
            if progress:
                progress(base + k, total)

        first = done
        results = comp.sample([ln.text for ln in group], seed=(comp.sampling.seed * 100_003 + number) % (2**31),
                              progress=on_line)
        done += len(group)
        report.pages += 1
        yield comp.place_page(number, group, results, page, report, colors[first:first + len(group)], inks)


STYLE_SHEET_PAGE = PageOptions(line_height=12.0, natural=False)


def style_sheet(model: Bundle | str | os.PathLike | None = None, text: str = "The quick brown fox jumps over the lazy dog.",
                bias: float | None = None, seed: int = 0, page: PageOptions = STYLE_SHEET_PAGE) -> Document:
    """A `Document` with one line per style of the bundle, each in its own hand, saying ``"N. text"``."""
    from ..checks import check_text

    check_text(text)
    comp = Composer.load(model, SamplingOptions(bias=bias, seed=seed, check=False), page.line_height)
    bundle = comp.bundle
    if not bundle.styles:
        raise OptionError(f"{Path(bundle.path).name} has no styles to show")
    lines = [f"{i}. {text}" for i in range(len(bundle.styles))]
    prepare_text(bundle, "\n".join(lines))  # every unsupported character at once, before sampling
    per_page = PO.lines_per_page(page)

    def produce(report: Report) -> Iterator[Page]:
        report.lines = len(lines)
        for number, start in enumerate(range(0, len(lines), per_page)):
            mine = range(start, min(start + per_page, len(lines)))
            laid = [L.LayoutLine(lines[i], number, k, page.margin, PO.baseline_y(page, k), page.text_width, False)
                    for k, i in enumerate(mine)]
            results = [comp.sample([lines[i]], style=i)[0] for i in mine]
            scales = [hand_metrics(bundle, bundle.styles[i], page.line_height)[0] for i in mine]
            report.pages += 1
            yield comp.place_page(number, laid, results, page, report, scales=scales)

    return Document(produce, -(-len(lines) // per_page), page, title="hwcli styles")


def _title(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return (first[:60] + "...") if len(first) > 60 else first or "hwcli"
