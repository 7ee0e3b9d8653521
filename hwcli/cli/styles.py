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
    from ..formats import format_for

    if preview:
        format_for(preview)  # an unknown suffix fails before the model loads
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
    if preview and bundle.styles:
        from ..document import style_sheet

        style_sheet(bundle, text, bias=bias, seed=seed).save(preview)
        err_console.print(f"wrote {len(bundle.styles)} style(s) to {preview}")


def register(app: typer.Typer) -> None:
    app.command("styles")(handle_errors(styles_cmd))
