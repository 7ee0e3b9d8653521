"""`hwcli convert`: IAM-OnDB / InkML -> training set (.npz), InkML export, or an SVG preview."""
from __future__ import annotations

import enum
import os
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import err_console, handle_errors


class OutputFormat(str, enum.Enum):
    npz = "npz"
    inkml = "inkml"
    svg = "svg"


@handle_errors
def convert(
    src: Annotated[Path, typer.Argument(help="IAM-OnDB directory (extracted, or holding the .tar.gz files), an .inkml file or directory, or a converted .npz (to export it).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output: .npz (dataset), .inkml (one file), a directory (one .inkml per line) or .svg (preview only).", show_default=False)],
    format: Annotated[Optional[OutputFormat], typer.Option("--format", "-f", help="Output format; default: from the suffix of --output.", show_default=False)] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first unreadable line instead of skipping it.")] = False,
    allow_partial: Annotated[bool, typer.Option("--allow-partial", help="Convert what a truncated or corrupt .tar.gz holds up to where it breaks (default: fail, saying how much was read).")] = False,
    downsample: Annotated[Optional[int], typer.Option(min=1, help="Keep every k-th point of each stroke (1: all). [default: 2]", show_default=False)] = None,
    straighten: Annotated[bool, typer.Option("--straighten/--no-straighten", help="Rotate each line so its baseline is level.")] = True,
    smooth: Annotated[Optional[float], typer.Option(min=0.0, max=0.49, help="Neighbour weight of the smoothing filter (0: off). [default: 0.25]", show_default=False)] = None,
    spike_factor: Annotated[Optional[float], typer.Option(help="A point this many median steps off both neighbours is a sensor spike. [default: 8]", show_default=False)] = None,
    jump_factor: Annotated[Optional[float], typer.Option(help="A pen-down step this many median steps long splits the stroke. [default: 25]", show_default=False)] = None,
    max_gap_factor: Annotated[Optional[float], typer.Option(help="Pen-up moves are clipped to this many median steps. [default: 60]", show_default=False)] = None,
    preview: Annotated[int, typer.Option(min=0, help="Also draw the first N lines with their text into an SVG (N defaults to 20 when --output is .svg).")] = 0,
    preview_out: Annotated[Optional[Path], typer.Option(help="Where --preview draws; default: the output path with .svg.", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
) -> None:
    """Convert handwriting data into the training set `hwcli train` reads, or export it as InkML.

    Lines that cannot be used (malformed XML, no transcription, empty or glitched ink, an archive member over 4 MiB) are skipped and counted by reason in the summary; --strict stops at the first one instead. A truncated archive is an error (it says how much was read) unless --allow-partial. The format follows the suffix of --output: .npz, .inkml, a directory (InkML files) or .svg (a preview).

    Example:

        hwcli convert ../shared/iam-ondb -o iam.npz --preview 30 --preview-out iam.svg
    """
    from ..data.convert import ConvertReport, convert as convert_source, detect_kind
    from ..data.dataset import Dataset
    from ..errors import OptionError
    from ..fileio import check_writable
    from ..cleaning import PreprocessOptions

    kind = detect_kind(src)  # names what was expected when src is neither IAM-OnDB, InkML nor .npz
    fmt = _output_format(output, format)
    if fmt is OutputFormat.svg:
        preview, preview_out = preview or 20, output
    elif preview and preview_out is None:
        preview_out = output.with_suffix(".svg")
    if kind == "npz" and fmt is OutputFormat.npz:
        raise OptionError(f"{str(src)!r} is already a converted dataset: export it with -o NAME.inkml or -o DIR")
    # before the long part: a path that cannot be written fails now, not after minutes of parsing
    if fmt is OutputFormat.inkml and output.suffix.lower() != ".inkml":
        _check_dir_writable(output)
    elif fmt is not OutputFormat.svg:
        check_writable(output)
    if preview_out is not None:
        check_writable(preview_out)

    try:
        opts = PreprocessOptions(**{k: v for k, v in dict(
            downsample=downsample, straighten=straighten, smooth=smooth, spike_factor=spike_factor,
            jump_factor=jump_factor, max_gap_factor=max_gap_factor).items() if v is not None})
    except ValueError as exc:
        raise OptionError(str(exc)) from None

    started = time.perf_counter()
    if kind == "npz":
        ds = Dataset.load(src)
        report = ConvertReport.from_dataset(ds, str(src))
    else:
        with _progress(quiet, f"reading {src.name or src}") as on_progress:
            ds, report = convert_source(src, opts, strict=strict, progress=on_progress, allow_partial=allow_partial)

    if fmt is OutputFormat.npz:
        ds.save(output)
    elif fmt is OutputFormat.inkml:
        from ..data.inkml import write_inkml

        write_inkml(ds, output)
    drawn = 0
    if preview_out is not None:
        from ..data.preview import write_preview

        drawn = write_preview(ds, preview_out, preview)
    if not quiet:
        # paths go on lines of their own, unwrapped, so they can be copied from the terminal
        err_console.print(f"hwcli convert: {src} ({report.kind})", soft_wrap=True, markup=False)
        err_console.print(_summary(report, time.perf_counter() - started))
        if fmt is not OutputFormat.svg:
            err_console.print(f"wrote {output}", soft_wrap=True, markup=False)
        if preview_out is not None:
            err_console.print(f"wrote {preview_out} ({drawn} lines drawn)", soft_wrap=True, markup=False)


def _summary(report, seconds: float):
    """The counts a user checks after a conversion, as a two-column rich table."""
    from rich import box
    from rich.columns import Columns
    from rich.table import Table
    from rich.text import Text

    t = Table(show_header=False, box=box.SIMPLE, pad_edge=False)
    t.add_column(style="bold", no_wrap=True)
    t.add_column()
    kept = sum(report.splits.values())
    t.add_row("lines kept", f"{kept:,} of {report.lines_read:,} read")
    t.add_row("lines skipped", f"{sum(report.skipped.values()):,}")
    for reason, n in report.skipped.most_common():
        t.add_row(Text(f"  {reason}"), f"{n:,}")
    for what in report.truncated:
        t.add_row("partial archive", Text(what))
    if report.preprocessed:
        t.add_row("already cleaned", f"{report.preprocessed:,} lines, kept as they were")
    share = f" ({report.points / report.points_raw:.0%})" if report.points_raw else ""
    t.add_row("points", f"{report.points_raw:,} raw -> {report.points:,} kept{share}")
    chars = report.char_counts
    t.add_row("characters", f"{sum(chars.values()):,} ({len(chars)} distinct)")
    # laid out as columns of "char count" pairs: plain wrapping would part a character from its count
    shown = {" ": "\u2423", "\t": "\\t", "\n": "\\n"}
    t.add_row("", Columns([Text(f"{shown.get(c, c)} {n:,}") for c, n in chars.most_common()], padding=(0, 2)))
    t.add_row("writers", f"{report.writers:,}")
    t.add_row("lines per split", Text(", ".join(f"{s} {n:,}" for s, n in sorted(report.splits.items())) or "-"))
    t.add_row("time", f"{seconds:.1f} s")
    return t


def _output_format(output: Path, given: OutputFormat | None) -> OutputFormat:
    from ..errors import OptionError

    if str(output) == "-":
        raise OptionError("convert writes files: give -o NAME.npz, NAME.inkml, a directory or NAME.svg")
    if given is not None:
        return given
    suffix = output.suffix.lower()
    if suffix in (".npz", ".inkml", ".svg"):
        return OutputFormat(suffix[1:])
    if output.is_dir() or not suffix:
        return OutputFormat.inkml
    raise OptionError(f"cannot tell the output format from {str(output)!r}: use .npz, .inkml, .svg, a directory, or --format")


def _check_dir_writable(path: Path) -> None:
    from ..errors import OutputError

    if path.exists() and not path.is_dir():
        raise OutputError(f"cannot write InkML files into {str(path)!r}: it is a file (use a .inkml name for one file)")
    target = path if path.is_dir() else (path.parent if str(path.parent) else Path("."))
    if not target.is_dir():
        raise OutputError(f"cannot write {str(path)!r}: directory {str(target)!r} does not exist")
    if not os.access(target, os.W_OK):
        raise OutputError(f"cannot write {str(path)!r}: directory {str(target)!r} is not writable")


class _progress:
    """A rich progress bar on stderr fed by the reader's (done, total) callback (files or compressed bytes).

    Refreshed by hand at most ten times a second: no refresh thread (the converter forks worker processes)
    and no cost per file on a set of ten thousand files."""

    def __init__(self, quiet: bool, label: str):
        self.quiet, self.label, self.last = quiet, label, 0.0

    def __enter__(self):
        if self.quiet or not err_console.is_terminal:
            return None
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                            TimeRemainingColumn(), console=err_console, auto_refresh=False, transient=True)
        self.task = self.bar.add_task(self.label, total=None)
        self.bar.start()
        return self.update

    def update(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)
        now = time.monotonic()
        if now - self.last > 0.1:  # stop() draws the final state
            self.last = now
            self.bar.refresh()

    def __exit__(self, *exc) -> None:
        if getattr(self, "bar", None) is not None:
            self.bar.stop()


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
