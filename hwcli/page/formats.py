"""Output formats: a small registry from a format's name (and file suffixes) to the function that renders it.

A renderer is a function over placed pages (`Page`, mm, y down) in one of two shapes:

- ``per_page=False`` (PDF): ``render(pages: Iterable[Page], fh: BinaryIO, opts: PageOptions, ...)`` writes the
  whole document into one file;
- ``per_page=True`` (SVG, PNG): ``render(page: Page, fh: BinaryIO, opts: PageOptions, ...)`` writes one page;
  a document of several pages goes to ``out-1.svg``, ``out-2.svg``, ... (`page_paths`).

Plotter formats (``plotter=True``: G-code, HP-GL, plotter SVG) take a resolved `machines.Machine` in place of
the `PageOptions` (``render(pages, fh, machine, ...)``, one page at a time when ``per_page``) and return the
toolpath plans they drew (`toolpath.PagePlan`).

The renderers live in `hwcli.page`; this registry sits outside it so that naming the formats (the CLI's
``--format`` choices) imports nothing but the standard library.

Extra keyword arguments a renderer accepts (``title``, ``dpi``) are passed when `Document.save` has them; a
renderer simply leaves out those it does not take. Renderers are named as ``"module:function"`` and imported on
first use, so this registry stays cheap to import (the CLI builds its ``--format`` choices from it). A new
output is one line here, e.g. ``register("gcode", "hwcli.page.gcode:render_gcode")``.
"""
from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import OptionError

if TYPE_CHECKING:
    from .options import PageOptions
    from .machines import Machine, PlotterOptions


@dataclass(frozen=True)
class Format:
    name: str  # what --format and `Document.save(format=...)` take
    target: str  # "module:function" of the renderer
    suffixes: tuple[str, ...]  # file suffixes (no dot) that pick this format; the first names new files
    per_page: bool = False  # one file per page (see the module docstring)
    plotter: bool = False  # a pen-plotter format: renders with a `Machine` (see the module docstring)
    label: str = ""  # how messages name it ("G-code"); default: the name in capitals

    def renderer(self) -> Callable:
        module, _, name = self.target.partition(":")
        return getattr(import_module(module), name)

    def options(self, **available) -> dict:
        """The keyword arguments among `available` that this format's renderer accepts."""
        params = inspect.signature(self.renderer()).parameters
        return {k: v for k, v in available.items() if k in params}


FORMATS: dict[str, Format] = {}


def register(name: str, target: str, suffixes: tuple[str, ...] | None = None, per_page: bool = False,
             plotter: bool = False, label: str = "") -> Format:
    """Add (or replace) an output format; returns it. `suffixes` None means the name; () means none (only
    ``--format`` or a plotter profile picks it)."""
    suffixes = (name,) if suffixes is None else suffixes
    fmt = Format(name, target, tuple(s.lower().lstrip(".") for s in suffixes), per_page, plotter, label or name.upper())
    FORMATS[name] = fmt
    return fmt


register("pdf", "hwcli.page.pdf:render_pdf")
register("svg", "hwcli.page.svg:render_svg", per_page=True)
register("png", "hwcli.page.png:render_png", per_page=True)
register("gcode", "hwcli.page.gcode:render_gcode", ("gcode", "nc"), per_page=True, plotter=True, label="G-code")
register("hpgl", "hwcli.page.hpgl:render_hpgl", ("hpgl", "plt"), per_page=True, plotter=True, label="HP-GL")
register("plotter-svg", "hwcli.page.plotter_svg:render_plotter_svg", (), plotter=True, label="plotter SVG")

DEFAULT_FORMAT = "pdf"  # for a stream (stdout) without --format


def format_for(out: str | os.PathLike | None, fmt: str | None = None) -> Format:
    """The format named `fmt`, else the one `out`'s suffix names; '-' or a stream (None) without `fmt` is PDF."""
    if fmt:
        key = fmt.lower()
    elif out is None or str(out) == "-":
        key = DEFAULT_FORMAT
    else:
        suffix = Path(out).suffix.lower().lstrip(".")
        key = next((f.name for f in FORMATS.values() if suffix in f.suffixes), suffix or DEFAULT_FORMAT)
    if key not in FORMATS:
        suffixes = " ".join(f".{x}" for f in FORMATS.values() for x in f.suffixes)
        raise OptionError(f"unknown output format {key!r}: use one of {', '.join(FORMATS)} (by suffix: {suffixes}, "
                          "or --format)")
    return FORMATS[key]


#: What a complete output of each format starts and ends with (`is_complete`): the renderers' own header and
#: trailer, so a file cut short (a killed run before atomic writes, a copy that failed, an empty file) is not
#: taken for a finished one.
_ENDS: dict[str, tuple[bytes, bytes]] = {
    "pdf": (b"%PDF-", b"%%EOF"),
    "svg": (b"<", b"</svg>"),
    "plotter-svg": (b"<", b"</svg>"),
    "png": (b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"),
    "gcode": (b"", b"M2 ; end of program"),
    "hpgl": (b"IN;", b"SP0;"),
}


def is_complete(path: str | os.PathLike, fmt: str) -> bool:
    """True when `path` is a regular, non-empty file that starts with the header and ends with the trailer
    format `fmt` writes (only the first and last kilobyte are read: cheap for any file size)."""
    head, tail = _ENDS.get(fmt, (b"", b""))
    try:
        with open(path, "rb") as fh:
            if not os.path.isfile(path):
                return False
            first = fh.read(1024)
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - 1024))
            last = fh.read()
    except OSError:
        return False
    return bool(first) and first.lstrip().startswith(head) and last.rstrip().endswith(tail)


def page_paths(base_path: str | os.PathLike, n_pages: int, fmt: Format) -> list[Path]:
    """Output file names for a document of `n_pages` pages in a per-page format (a one-file format: the path).

    One page: ``[out.svg]`` (the path as given). Several: ``out-1.svg, out-2.svg, ...`` beside it, numbered
    from 1, with the format's suffix when the path has none. '-' (stdout) and any other special file (a device
    such as /dev/null, a FIFO, /dev/stdout, /proc/self/fd/N) take a single page only: several pages there are an
    OptionError, never numbered files beside the device.
    """
    if n_pages < 1:
        raise OptionError(f"a document has at least one page, got {n_pages}")
    if str(base_path) == "-":
        if fmt.per_page and n_pages > 1:
            raise OptionError(f"{fmt.label or fmt.name.upper()} output to stdout holds one page but the text needs "
                              f"{n_pages}: use -o FILE (one file per page) or PDF")
        return [Path("-")]
    base = Path(base_path)
    if n_pages == 1 or not fmt.per_page:
        return [base]
    from ..fileio import _is_special  # stdlib only

    if _is_special(base):
        raise OptionError(f"{fmt.label or fmt.name.upper()} writes one file per page, and {str(base)!r} is not a "
                          f"regular file: it can take one page, but the text needs {n_pages}; use -o FILE "
                          f"(one file per page) or PDF")
    suffix = base.suffix or (f".{fmt.suffixes[0]}" if fmt.suffixes else "")
    stem = base.name[: -len(base.suffix)] if base.suffix else base.name
    return [base.with_name(f"{stem}-{i}{suffix}") for i in range(1, n_pages + 1)]


def plotter_setup(f: str, plotter: PlotterOptions | None, page: PageOptions, preview: str | None = None,
                  out: str | None = None) -> tuple[str, Machine | None]:
    """(format, machine) for output format `f` with the user's plotter options; every bad combination
    is an OptionError here, before sampling. An SVG with a plotter-SVG profile becomes plotter SVG."""
    from .machines import PlotterOptions, profile, resolve  # the plotter machinery loads only when asked for

    plot = plotter or PlotterOptions()
    if f == "svg" and plot.plotter and profile(plot.plotter).format == "plotter-svg":
        f = "plotter-svg"
    if not FORMATS[f].plotter:
        if plot.plotter:
            prof = profile(plot.plotter)
            suffix = {"gcode": ".gcode", "hpgl": ".hpgl", "plotter-svg": ".svg"}[prof.format]
            raise OptionError(f"plotter profile {plot.plotter!r} writes {prof.format}: use -o FILE{suffix}")
        if plot.changed() or preview:
            names = ", ".join("--" + n.replace("_", "-") for n in plot.changed() + (["preview"] if preview else []))
            raise OptionError(f"{names} only apply to plotter output (.gcode, .nc, .hpgl, .plt, or --format "
                              f"plotter-svg), not {f}")
        return f, None
    if preview is not None and (preview == "-" or (out is not None and Path(preview) == Path(out))):
        raise OptionError("--preview needs a file name of its own")
    if preview is not None:
        from .preview import preview_format

        preview_format(preview)
    if page.pen != "uniform":
        raise OptionError(f"--pen {page.pen} draws pressure-like ink in PDF, SVG and PNG; a plotter draws with "
                          "its own pen: leave --pen out for plotter output")
    return f, resolve(f, plot, page.page_mm, page.width)
