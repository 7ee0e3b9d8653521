"""`hwcli write`: text to handwritten PDF / SVG / PNG pages, or to pen-plotter files (G-code, HP-GL, plotter SVG)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..page.formats import FORMATS
from .common import choices, clean_progress, err_console, handle_errors


#: --format choices: every registered output format (hwcli.page.formats; a cheap import, no renderer loads)
Format = choices("Format", tuple(FORMATS))
Pen = choices("Pen", ("uniform", "ballpoint", "fineliner", "fountain", "italic", "marker"))  # hwcli.page.options.PENS (here: `hwcli --help` needs no numpy)
Origin = choices("Origin", ("bottom-left", "top-left"))
YAxis = choices("YAxis", ("up", "down"))
Corner = choices("Corner", ("top-left", "top-right", "bottom-left", "bottom-right"))
Rotate = choices("Rotate", ("0", "90", "auto"))
OnUnsupported = choices("OnUnsupported", ("error", "skip"))
Breaks = choices("Breaks", ("auto", "keep", "flow"))  # hwcli.page.options.BREAKS


def write_cmd(
    text: Annotated[Optional[List[str]], typer.Argument(help="Text to write; '-' or nothing reads standard input. With --out-dir: more input files.", show_default=False)] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Output file (.pdf, .svg, .png, .gcode/.nc, .hpgl/.plt); '-' writes to stdout. [default: handwriting.pdf]", show_default=False)] = None,
    input_file: Annotated[Optional[List[str]], typer.Option("--input", "-i", help="Read the text from this file. With --out-dir: several files or quoted globs ('letters/*.txt'), one document each.")] = None,
    format: Annotated[Optional[Format], typer.Option("--format", "-f", help="Output format (default: from the suffix; pdf for stdout).")] = None,
    style: Annotated[Optional[str], typer.Option("--style", "-s", help="Handwriting style: index, name, or a word of its description such as cursive (see `hwcli styles`).")] = None,
    bias: Annotated[Optional[float], typer.Option("--bias", "-b", help="Neatness: 0 = varied, 1-2 = tidy (default: the model's).")] = None,
    width: Annotated[float, typer.Option("--width", "-w", help="Pen width in mm.")] = 0.5,
    color: Annotated[str, typer.Option("--color", "-c", help="Ink colour: CSS name or #rrggbb.")] = "#1a237e",
    page_size: Annotated[str, typer.Option("--page-size", help="A4, A5, Letter, Legal, or WxH in mm (e.g. 148x210).")] = "A4",
    margin: Annotated[float, typer.Option("--margin", help="Page margin in mm.")] = 20.0,
    line_height: Annotated[float, typer.Option("--line-height", help="Distance between lines in mm.")] = 10.0,
    indent: Annotated[float, typer.Option("--indent", help="Paragraph indent in mm.")] = 8.0,
    ruled: Annotated[bool, typer.Option("--ruled", help="Draw ruled paper.")] = False,
    breaks: Annotated[Breaks, typer.Option("--breaks", help="Line breaks inside a paragraph: keep every one, flow (reflow the paragraph), or auto: keep them, except after a line of 60+ characters (hard-wrapped prose), which flows on unless a list item, a marked line or a closing follows.")] = Breaks.auto,
    envelope: Annotated[Optional[str], typer.Option("--envelope", help="Write an envelope (DL, C6, C5, C4, US10, US9, Monarch), landscape: the text is the recipient's address (with the sender's first, then a blank line, to write it top left). With a mail merge: the size of --envelopes.", rich_help_panel="Envelopes")] = None,
    sender: Annotated[Optional[str], typer.Option("--sender", help="The sender's address for --envelope, written small in the top-left corner ('\\n' or real line breaks between lines).", rich_help_panel="Envelopes")] = None,
    natural: Annotated[bool, typer.Option("--natural/--no-natural", help="Small per-line drift, slant and size variation.")] = True,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same handwriting.")] = 0,
    model: Annotated[Optional[Path], typer.Option("--model", "-m", help="Model bundle (.json); default: the bundled model.")] = None,
    unconditional: Annotated[bool, typer.Option("--unconditional", help="Free handwriting from the prediction network (ignores the text's letters).")] = False,
    check: Annotated[Optional[bool], typer.Option("--check/--no-check", help="Read lines back with the recognizer and resample illegible ones (default: the model's).")] = None,
    on_unsupported: Annotated[OnUnsupported, typer.Option("--on-unsupported", help="What to do with characters the model cannot write.")] = OnUnsupported.error,
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of PNG output.")] = 150,
    threads: Annotated[int, typer.Option("--threads", min=0, help="CPU threads for sampling (0 = torch's default, fastest on an idle machine; 1 is faster when other programs keep the CPU busy).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
    pen: Annotated[Pen, typer.Option("--pen", help="Ink for PDF/SVG/PNG: a uniform line, or pressure-like ink whose width follows the pen's speed (fountain, italic: and the nib's direction; italic: --width is the nib's breadth).", rich_help_panel="Ink")] = Pen.uniform,
    plotter_svg: Annotated[bool, typer.Option("--plotter-svg", help="SVG for a pen plotter: every page a layer, one open path per stroke.", rich_help_panel="Plotters")] = False,
    plotter: Annotated[Optional[str], typer.Option("--plotter", help="Machine profile: grbl-servo, grbl-z, marlin (G-code), hpgl, axidraw, axidraw-a3 (plotter SVG), or your own FILE.toml with the same fields. Default: grbl-servo for G-code, hpgl for HP-GL.", rich_help_panel="Plotters")] = None,
    bed: Annotated[Optional[str], typer.Option("--bed", help="Plotter's drawable area WxH in mm (default: the profile's).", rich_help_panel="Plotters")] = None,
    feed: Annotated[Optional[float], typer.Option("--feed", help="Drawing speed, mm/min.", rich_help_panel="Plotters")] = None,
    travel_feed: Annotated[Optional[float], typer.Option("--travel-feed", help="Pen-up speed, mm/min (default: rapid G0 moves).", rich_help_panel="Plotters")] = None,
    pen_up: Annotated[Optional[str], typer.Option("--pen-up", help="G-code that lifts the pen (e.g. 'M5'; '\\n' between lines, e.g. 'M400\\nM280 P0 S90').", rich_help_panel="Plotters")] = None,
    pen_down: Annotated[Optional[str], typer.Option("--pen-down", help="G-code that lowers the pen (e.g. 'M3 S90').", rich_help_panel="Plotters")] = None,
    pen_dwell: Annotated[Optional[float], typer.Option("--pen-dwell", help="Seconds to wait after each pen move.", rich_help_panel="Plotters")] = None,
    origin: Annotated[Optional[Origin], typer.Option("--origin", help="Corner of the machine's (0, 0).", rich_help_panel="Plotters")] = None,
    start: Annotated[Optional[Corner], typer.Option("--start", help="Corner where the pen starts and parks (default: the profile's: top-left for AxiDraw and plotter SVG, the origin for G-code and HP-GL).", rich_help_panel="Plotters")] = None,
    rotate: Annotated[Optional[Rotate], typer.Option("--rotate", help="Turn the page 90 degrees clockwise onto the bed: 90, or auto (only when it fits no other way).", rich_help_panel="Plotters")] = None,
    y_axis: Annotated[Optional[YAxis], typer.Option("--y-axis", help="Direction of the machine's +y.", rich_help_panel="Plotters")] = None,
    gcode_start: Annotated[Optional[str], typer.Option("--gcode-start", help="Extra G-code lines after G21/G90 ('\\n' between lines).", rich_help_panel="Plotters")] = None,
    gcode_end: Annotated[Optional[str], typer.Option("--gcode-end", help="Extra G-code lines at the end.", rich_help_panel="Plotters")] = None,
    simplify: Annotated[Optional[float], typer.Option("--simplify", help="Path simplification tolerance in mm (0 = off; default 0.05).", rich_help_panel="Plotters")] = None,
    keep_order: Annotated[bool, typer.Option("--keep-order", help="Draw strokes in writing order (no pen-up travel optimisation).", rich_help_panel="Plotters")] = False,
    join: Annotated[bool, typer.Option("--join", help="Draw on without lifting the pen where a stroke starts within a pen width (--width) of the last one's end.", rich_help_panel="Plotters")] = False,
    preview: Annotated[Optional[Path], typer.Option("--preview", help="Also draw the toolpath, .svg or .png by the suffix: pen-up moves in red, start and end marked, the plot-time estimate below.", rich_help_panel="Plotters")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out-dir", help="Write one document per input file or CSV row into this folder, named after it.", rich_help_panel="Many documents")] = None,
    template: Annotated[Optional[Path], typer.Option("--template", help="Mail merge: a text with {column} fields, filled from each row of --data.", rich_help_panel="Many documents")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Mail merge: a UTF-8 CSV file with a header row; one document per row.", rich_help_panel="Many documents")] = None,
    name_column: Annotated[Optional[str], typer.Option("--name-column", help="Mail merge: name each document after this column (default: row-0001, ...).", rich_help_panel="Many documents")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Mail merge: name each document by a pattern over the columns, e.g. '{last}-{first}'.", rich_help_panel="Many documents")] = None,
    envelopes: Annotated[bool, typer.Option("--envelopes", help="Mail merge: also write each row's envelope from --envelope-template, as NAME-envelope.pdf beside its letter (with --one-file: after its letter, interleaved). Size: --envelope (default DL).", rich_help_panel="Many documents")] = False,
    envelope_template: Annotated[Optional[Path], typer.Option("--envelope-template", help="Mail merge: the envelope's text (the recipient's address) with {column} fields.", rich_help_panel="Many documents")] = None,
    one_file: Annotated[bool, typer.Option("--one-file", help="All documents into the one file -o FILE.pdf, each from a new page.", rich_help_panel="Many documents")] = False,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Leave documents whose output is already there (resume a stopped run).", rich_help_panel="Many documents")] = False,
    shard: Annotated[Optional[str], typer.Option("--shard", help="K/N: write only part K of N (inputs or rows number i with i mod N = K-1), for job arrays.", rich_help_panel="Many documents")] = None,
) -> None:
    """Write TEXT in handwriting.

    Examples:
      hwcli write "Dear John" -o letter.pdf
      cat essay.txt | hwcli write --style 3 --bias 0.8 --width 1.2 -o essay.svg
      hwcli write "Dear John" -o card.gcode --plotter grbl-z --page-size A5 --preview toolpath.svg
      hwcli write "Dear John" -o letter.pdf --pen fountain
      hwcli write --input 'letters/*.txt' --out-dir out/ --skip-existing
      hwcli write --template letter.txt --data people.csv --name '{last}-{first}' --out-dir out/ --shard 2/4
      hwcli write --envelope DL $'Ms H. Smith\\n27 Elm Grove\\nLeeds LS6 2AA' --sender 'S. Jones, Whitby' -o env.pdf
      hwcli write --template letter.txt --data people.csv --envelopes --envelope-template address.txt --out-dir out/

    Layout markup, at the start of a line: '>> ' sets it right (a sender's address, a date), '>< ' centres it,
    '> ' starts it at the middle of the line (a closing, a signature); a mark alone on a line applies to the
    rest of its paragraph. Lists ('- ', '* ', '1. ') keep one item a line.
    """
    from ..errors import OptionError, check_threads
    from ..page import PageOptions
    from ..page.machines import PlotterOptions
    from .inputs import read_text

    many = (out_dir is not None or template is not None or data is not None or one_file or skip_existing
            or shard is not None or len(input_file or []) > 1)
    if (envelopes or envelope_template is not None) and template is None:
        raise OptionError("--envelopes and --envelope-template belong to a mail merge (--template, --data); "
                          "one envelope is --envelope SIZE")
    if envelopes != (envelope_template is not None):
        raise OptionError("--envelopes writes each row's envelope from --envelope-template FILE: give both")
    if envelope is not None and not envelopes:
        if page_size != "A4":
            raise OptionError("--envelope is the page size: leave out --page-size")
        page_size = envelope
    if sender is not None:
        if envelope is None or many:
            raise OptionError("--sender is the sender's address on one envelope: use it with --envelope SIZE")
    page = PageOptions(page_size=page_size, margin=margin, line_height=line_height, indent=indent, width=width,
                       color=color, ruled=ruled, natural=natural, seed=seed, pen=pen.value, breaks=breaks.value)
    plot = PlotterOptions(plotter=plotter, bed=bed, feed=feed, travel_feed=travel_feed,
                          pen_up=pen_up, pen_down=pen_down, pen_dwell=pen_dwell,
                          origin=origin.value if origin else None, y_axis=y_axis.value if y_axis else None,
                          gcode_start=gcode_start, gcode_end=gcode_end, keep_order=keep_order,
                          start=start.value if start else None, rotate=rotate.value if rotate else None, join=join,
                          **({} if simplify is None else {"simplify": simplify}))
    check_threads(threads)
    if not 10 <= dpi <= 600:
        raise OptionError(f"--dpi must be between 10 and 600, got {dpi}")
    texts, inputs = list(text or []), list(input_file or [])
    if many:
        from ..synthesis import SamplingOptions
        from .write_many import run

        if preview is not None:
            raise OptionError("--preview draws one document's toolpath: leave it out when writing many documents")
        return run(texts=texts, inputs=inputs, template=template, data=data, name_column=name_column, name=name,
                   out_dir=out_dir, one_file=one_file, output=output or "handwriting.pdf",
                   envelope_template=envelope_template, envelope=(envelope or "DL") if envelopes else None,
                   output_given=output is not None,
                   fmt="plotter-svg" if plotter_svg else (format.value if format else None),
                   skip_existing=skip_existing, shard=shard, quiet=quiet,
                   load=lambda: _load(model, unconditional, threads, style, auto=True),
                   options=lambda chosen_style: dict(
                       sampling=SamplingOptions(bias=bias, style=chosen_style, seed=seed, check=check),
                       page=page, on_unsupported=on_unsupported.value, dpi=dpi, plotter=plot))
    if name is not None or name_column is not None:
        raise OptionError("--name and --name-column name the documents of a mail merge (--template, --data)")
    if len(texts) > 1:
        raise OptionError(f"{len(texts)} TEXT arguments: quote the text as one argument (or write many files "
                          "with --input FILE... --out-dir DIR)")
    output = output or "handwriting.pdf"
    body = read_text(texts[0] if texts else None, Path(inputs[0]) if inputs else None)
    if sender is not None:
        body = sender.replace("\\n", "\n").strip("\n") + "\n\n" + body.strip("\n")

    from ..page.formats import plotter_setup
    from ..writing.document import write
    from ..page.formats import format_for

    fmt = format_for(output, format.value if format else ("svg" if plotter_svg and output == "-" else None)).name
    if plotter_svg:
        if fmt not in ("svg", "plotter-svg"):
            raise OptionError(f"--plotter-svg writes SVG: use -o FILE.svg, not {fmt}")
        fmt = "plotter-svg"
    # every plotter problem is reported here, before the model is loaded or anything sampled
    fmt, _ = plotter_setup(fmt, plot, page, str(preview) if preview else None, output)

    bundle, style = _load(model, unconditional, threads, style, auto=True)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with clean_progress(Progress(TextColumn("writing"), BarColumn(), MofNCompleteColumn(), TextColumn("lines"), TimeRemainingColumn(),
                  console=err_console, disable=quiet, transient=True)) as bar:
        task = None

        def on_progress(done: int, total: int) -> None:
            nonlocal task
            if total <= 5:
                return
            if task is None:
                task = bar.add_task("write", total=total)
            bar.update(task, completed=done)

        doc = write(body, model=bundle, style=style, bias=bias, seed=seed, check=check, page=page,
                    on_unsupported=on_unsupported.value, progress=on_progress)
        outputs = doc.save(output, fmt, dpi=dpi, plotter=plot, preview=preview)
    report = doc.report
    if doc.stale:
        shown = ", ".join(doc.stale[:3]) + (f" and {len(doc.stale) - 3} more" if len(doc.stale) > 3 else "")
        err_console.print(f"hwcli: warning: {shown} from an earlier, longer document {'was' if len(doc.stale) == 1 else 'were'} "
                          "left as they are (not part of this one)", markup=False, soft_wrap=True)
    for f in report.failed:
        err_console.print(f"hwcli: warning: page {f.page} line {f.line} may be illegible ({f.reason}): {f.text!r}",
                          markup=False)
    if not quiet:
        from ..page.estimate import describe, plot_time, total_time

        for plan in doc.plans:
            cut = 100 * (1 - plan.travel_after / plan.travel_before) if plan.travel_before > 0 else 0.0
            err_console.print(f"page {plan.number + 1}: pen-up travel {plan.travel_after:.0f} mm (writing order "
                              f"{plan.travel_before:.0f} mm, {cut:.0f}% less); {plan.points_after} points "
                              f"(simplified from {plan.points_before}); {describe(plot_time(plan, doc.machine))}",
                              markup=False, soft_wrap=True)
        if len(doc.plans) > 1:
            err_console.print(f"{len(doc.plans)} pages: {describe(total_time(doc.plans, doc.machine))}",
                              markup=False, soft_wrap=True)
        dest = ", ".join(outputs) if outputs[:1] != ["-"] else ", ".join(["standard output"] + outputs[1:])
        extra = f", {report.resampled} line(s) resampled" if report.resampled else ""
        err_console.print(f"wrote {report.lines} line(s) on {report.pages} page(s) to {dest}{extra}", markup=False)


def _load(model: Path | None, unconditional: bool, threads: int, style: str | None, auto: bool = False):
    """(bundle, style) for the command's model and style options (a personal style joins the bundle's
    styles); sets torch's thread count. With `auto` and no --model, (None, the style as given), loading
    nothing: the writer loads the bundled model itself (`writing.compose.Composer.load`, which refuses a bad
    style before sampling) and the full-set one for the lines that need it (`Composer.full_set`)."""
    import torch

    from ..errors import OptionError
    from ..model.bundle import DEFAULT_UNCONDITIONAL, load_model

    if threads:
        torch.set_num_threads(threads)
    if auto and model is None and not unconditional:
        return None, style  # resolved (and a bad style refused) when the writer loads the bundle, before sampling
    if unconditional and model is None:
        bundle = load_model(DEFAULT_UNCONDITIONAL)
    else:
        from ..model.personal import resolve

        bundle, (style,) = resolve(model, [style])
    if unconditional and bundle.is_synthesis:
        raise OptionError("--unconditional needs a prediction-network bundle; this model is a synthesis network")
    if not unconditional and not bundle.is_synthesis:
        raise OptionError(f"{bundle.path!r} is a prediction network: it cannot write your text, only free "
                          "scribble; add --unconditional for that, or use a synthesis model")
    return bundle, style


def register(app: typer.Typer) -> None:
    app.command("write")(handle_errors(write_cmd))
