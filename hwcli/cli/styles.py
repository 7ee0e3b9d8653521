"""`hwcli styles`: list the bundle's handwriting styles, optionally write a preview sheet of them."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import err_console, handle_errors

SAMPLE = "The quick brown fox jumps over the lazy dog."


def styles_cmd(
    preview: Annotated[Optional[str], typer.Option("--preview", "-o", help="Write a sheet with a sample line in every style (.pdf/.svg/.png).")] = None,
    text: Annotated[str, typer.Option("--text", help="Sample text for the preview sheet.")] = SAMPLE,
    model: Annotated[Optional[Path], typer.Option("--model", "-m", help="Model bundle (.json); default: the bundled model.")] = None,
    bias: Annotated[Optional[float], typer.Option("--bias", "-b", help="Sampling bias for the preview.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the preview.")] = 0,
) -> None:
    """List the handwriting styles of the model (index, name, the priming text).

    Example: hwcli styles --preview styles.pdf
    """
    from rich.console import Console
    from rich.table import Table

    from ..model.bundle import load_model

    bundle = load_model(model)
    table = Table(title=f"styles of {Path(bundle.path).name}")
    table.add_column("style", justify="right")
    table.add_column("name")
    table.add_column("priming text")
    for i, s in enumerate(bundle.styles):
        table.add_row(str(i) + (" (default)" if i == 0 else ""), s.name, s.text)
    Console().print(table)
    if not bundle.styles:
        err_console.print("this model has no styles: it writes in its own average hand")
    if preview:
        # one line per style, each in its own hand, saying its own number
        from ..document import format_for, hand_metrics
        from ..page import layout as L
        from ..page import PageOptions
        from ..page.placement import build_page, place_line
        from ..synthesis import SamplingOptions, synthesize

        fmt = format_for(preview, None)
        page = PageOptions(line_height=12.0, natural=False)
        per_page = L.lines_per_page(page)
        placed, pages = [], []
        for i, s in enumerate(bundle.styles):
            scale, _ = hand_metrics(bundle, s, page.line_height)
            line_text = f"{i}. {text}"
            res = synthesize(bundle, [line_text], SamplingOptions(style=i, bias=bias, seed=seed))[0]
            k = len(placed)
            ln = L.LayoutLine(line_text, 0, k, page.margin, L.baseline_y(page, k), page.text_width, False)
            placed.append(place_line(res.strokes, ln, scale, page))
            if len(placed) >= per_page:
                pages.append(build_page(len(pages), placed, page))
                placed = []
        if placed:
            pages.append(build_page(len(pages), placed, page))
        _write_pages(pages, preview, fmt, page)
        err_console.print(f"wrote {len(bundle.styles)} style(s) to {preview}")


def _write_pages(pages, out: str, fmt: str, opts) -> None:
    from ..fileio import atomic_output

    if fmt == "pdf":
        from ..page.pdf import render_pdf

        with atomic_output(out) as fh:
            render_pdf(iter(pages), fh, opts, title="hwcli styles")
        return
    from ..page.png import render_png
    from ..page.svg import render_svg, svg_page_paths

    for pg, target in zip(pages, svg_page_paths(out, len(pages))):
        with atomic_output(target) as fh:
            (render_svg if fmt == "svg" else render_png)(pg, fh, opts)


def register(app: typer.Typer) -> None:
    app.command("styles")(handle_errors(styles_cmd))
