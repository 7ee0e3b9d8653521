"""Text -> handwritten document: layout -> synthesis (one batch per page) -> placement -> render.

Pages are produced and written one after another, so memory stays bounded on long documents. Outputs go
to temporary files that are renamed only when everything succeeded: a failure never leaves a partial file
nor overwrites the user's file.
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np

from .errors import InputTextError, OptionError
from .fileio import check_writable
from .model.bundle import Bundle, Style
from .page import PageOptions, estimate_scale, group_pages, iter_layout
from .page.machines import PROFILES, Machine, PlotterOptions, resolve
from .page.placement import BODY_FRACTION, Page, build_page, place_line
from .strokes import to_points
from .synthesis import LineResult, SamplingOptions, synthesize

log = logging.getLogger(__name__)
FORMATS = ("pdf", "svg", "png", "gcode", "hpgl", "plotter-svg")
PLOTTER_FORMATS = ("gcode", "hpgl", "plotter-svg")
SUFFIXES = {"nc": "gcode", "plt": "hpgl"}  # other suffixes name their format
MAX_CHARS_PER_LINE = 90  # the model was trained on lines of up to ~70 characters; longer ones get wrapped


@dataclass
class WriteReport:
    pages: int = 0
    lines: int = 0
    resampled: int = 0  # lines sampled again because a check failed
    failed: list[tuple[int, int, str, str]] = field(default_factory=list)  # (page, line, text, reason), 1-based
    outputs: list[str] = field(default_factory=list)
    plans: list = field(default_factory=list)  # plotter output: one toolpath.PagePlan per page (travel, points)


def format_for(out: str, fmt: str | None) -> str:
    """Output format from `fmt` or the suffix of `out` ('-' needs --format or defaults to pdf)."""
    if fmt:
        f = fmt.lower()
    else:
        suffix = Path(out).suffix.lower().lstrip(".") if out != "-" else "pdf"
        f = SUFFIXES.get(suffix, suffix) or "pdf"
    if f not in FORMATS:
        raise OptionError(f"unknown output format {f!r}: use one of {', '.join(FORMATS)} (by suffix: .pdf .svg "
                          f".png .gcode .nc .hpgl .plt, or --format)")
    return f


def plotter_setup(f: str, plotter: PlotterOptions | None, page: PageOptions, preview: str | None = None,
                  out: str | None = None) -> tuple[str, Machine | None]:
    """(format, machine) for output format `f` with the user's plotter options; every bad combination
    is an OptionError here, before sampling. An SVG with a plotter-SVG profile becomes plotter SVG."""
    plot = plotter or PlotterOptions()
    if f == "svg" and plot.plotter and PROFILES[plot.plotter].format == "plotter-svg":
        f = "plotter-svg"
    if f not in PLOTTER_FORMATS:
        if plot.plotter:
            prof = PROFILES[plot.plotter]
            suffix = {"gcode": ".gcode", "hpgl": ".hpgl", "plotter-svg": ".svg"}[prof.format]
            raise OptionError(f"plotter profile {plot.plotter!r} writes {prof.format}: use -o FILE{suffix}")
        if plot.changed() or preview:
            names = ", ".join("--" + n.replace("_", "-") for n in plot.changed() + (["preview"] if preview else []))
            raise OptionError(f"{names} only apply to plotter output (.gcode, .nc, .hpgl, .plt, or --format "
                              f"plotter-svg), not {f}")
        return f, None
    if preview is not None and (preview == "-" or (out is not None and Path(preview) == Path(out))):
        raise OptionError("--preview needs a file name of its own")
    if page.pen != "uniform":
        raise OptionError(f"--pen {page.pen} draws pressure-like ink in PDF, SVG and PNG; a plotter draws with "
                          "its own pen: leave --pen out for plotter output")
    return f, resolve(f, plot, page.page_mm)


#: Body height (10th-90th percentile of y) of a style's sampled lines, as a fraction of the line height.
#: Sampled lines are neater than their primes, with shorter ascenders and descenders, so their body is
#: mostly x-height: at `BODY_FRACTION` (0.42, right for real lines) the bundled styles came out at ~33
#: characters per A4 line. 0.31 gives ~50, an ordinary hand on 10 mm ruling (mean over the bundled styles
#: of char_width / body_height is 1.09, so one character advances ~0.34 line heights).
SAMPLED_BODY_FRACTION = 0.31


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


def _pages(text: str, bundle: Bundle, sampling: SamplingOptions, page: PageOptions, report: WriteReport,
           checker, progress: Callable[[int, int], None] | None) -> Iterator[Page]:
    style = bundle.style(sampling.style) if bundle.is_synthesis else None
    scale, char_w = hand_metrics(bundle, style, page.line_height)
    lines = list(iter_layout(text, page, char_w, MAX_CHARS_PER_LINE))
    total = len(lines)
    report.lines = total
    done = 0
    for number, group in group_pages(lines):
        texts = [ln.text for ln in group]

        def on_line(k: int, _n: int, base=done) -> None:
            if progress:
                progress(base + k, total)

        opts = replace(sampling, seed=(sampling.seed * 100_003 + number) % (2**31))
        results: list[LineResult] = synthesize(bundle, texts, opts, progress=on_line, checker=checker)
        done += len(group)
        placed = []
        for ln, res in zip(group, results):
            report.resampled += int(res.resampled)
            if not res.ok:
                report.failed.append((ln.page + 1, ln.index + 1, ln.text, res.reason))
            placed.append(place_line(res.strokes, ln, scale, page))
        report.pages += 1
        yield build_page(number, placed, page)


def count_pages(text: str, bundle: Bundle, sampling: SamplingOptions, page: PageOptions) -> int:
    style = bundle.style(sampling.style) if bundle.is_synthesis else None
    _, char_w = hand_metrics(bundle, style, page.line_height)
    last = None
    for last in iter_layout(text, page, char_w, MAX_CHARS_PER_LINE):
        pass
    return 0 if last is None else last.page + 1


def write_document(
    text: str,
    out: str | os.PathLike,
    bundle: Bundle,
    sampling: SamplingOptions = SamplingOptions(),
    page: PageOptions = PageOptions(),
    fmt: str | None = None,
    on_unsupported: str = "error",
    checker=None,
    progress: Callable[[int, int], None] | None = None,
    dpi: float = 150,
    stdout: BinaryIO | None = None,
    plotter: PlotterOptions | None = None,
    preview: str | os.PathLike | None = None,
) -> WriteReport:
    """Write `text` in handwriting to `out` ('-' = `stdout`). Validates everything before sampling.

    Plotter formats (gcode, hpgl, plotter-svg) take `plotter` (profile, bed, feeds, pen commands,
    simplification, stroke order); `preview` is then an SVG file showing the toolpath.
    """
    out = str(out)
    preview = str(preview) if preview is not None else None
    f, machine = plotter_setup(format_for(out, fmt), plotter, page, preview, out)
    if on_unsupported not in ("error", "skip"):
        raise OptionError(f"--on-unsupported must be 'error' or 'skip', got {on_unsupported!r}")
    if bundle.is_synthesis:
        text = bundle.alphabet.prepare(text, on_unsupported)
        bundle.style(sampling.style)  # unknown style -> StyleNotFoundError now, not after sampling
    if not text.strip():
        raise InputTextError("no text to write (the input is empty or only whitespace)")
    n_pages = count_pages(text, bundle, sampling, page)
    report = WriteReport()
    if f in ("pdf", "plotter-svg"):
        targets = [Path(out)]  # every page in one file
    else:
        from .page.svg import svg_page_paths

        kind = {"gcode": "G-code", "hpgl": "HP-GL"}.get(f, f.upper())
        targets = svg_page_paths(out, n_pages, kind=kind)  # same numbering rule for every one-page-per-file format
        if f == "png":
            targets = [t.with_suffix(".png") if str(t) != "-" else t for t in targets]
    if preview == "-" or (preview is not None and Path(preview) in targets):
        raise OptionError("--preview needs a file name of its own")
    for t in targets + ([Path(preview)] if preview else []):
        if str(t) != "-":
            check_writable(t)
    pages = _pages(text, bundle, sampling, page, report, checker, progress)
    tmpdir = Path(tempfile.mkdtemp(prefix="hwcli-"))
    try:
        tmp_files = [tmpdir / f"page-{i}" for i in range(len(targets))]
        if f == "pdf":
            from .page.pdf import render_pdf

            with open(tmp_files[0], "wb") as fh:
                render_pdf(pages, fh, page, title=_title(text))
        elif machine is not None:
            report.plans = _render_plotter(f, pages, tmp_files, machine, page)
            if preview:
                from .page.plotter_svg import render_preview

                tmp_files.append(tmpdir / "preview")
                targets = targets + [Path(preview)]
                with open(tmp_files[-1], "wb") as fh:
                    render_preview(report.plans, fh, page)
        else:
            from .page.png import render_png
            from .page.svg import render_svg

            for i, pg in enumerate(pages):
                with open(tmp_files[i], "wb") as fh:
                    if f == "svg":
                        render_svg(pg, fh, page)
                    else:
                        render_png(pg, fh, page, dpi=dpi)
        # every page rendered: now publish
        for tmp, target in zip(tmp_files, targets):
            if str(target) == "-":
                dst = stdout if stdout is not None else sys.stdout.buffer
                with open(tmp, "rb") as fh:
                    shutil.copyfileobj(fh, dst)
                dst.flush()
                report.outputs.append("-")
            else:
                _publish(tmp, target)
                report.outputs.append(str(target))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return report


def _render_plotter(f: str, pages: Iterator[Page], tmp_files: list[Path], machine: Machine,
                    page: PageOptions) -> list:
    """Plan and write plotter output: one file per page (G-code, HPGL) or one for all (plotter SVG)."""
    if f == "plotter-svg":
        from .page.plotter_svg import render_plotter_svg

        with open(tmp_files[0], "wb") as fh:
            return render_plotter_svg(pages, fh, machine, page)
    from .page.gcode import render_gcode
    from .page.hpgl import render_hpgl

    render = render_gcode if f == "gcode" else render_hpgl
    plans = []
    for i, pg in enumerate(pages):
        with open(tmp_files[i], "wb") as fh:
            plans += render([pg], fh, machine)
    return plans


def _publish(tmp: Path, target: Path) -> None:
    """Move a finished file into place atomically (copy to a temp beside the target, then rename)."""
    from .fileio import atomic_output

    with atomic_output(target) as fh, open(tmp, "rb") as src:
        shutil.copyfileobj(src, fh)


def _title(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return (first[:60] + "...") if len(first) > 60 else first or "hwcli"
