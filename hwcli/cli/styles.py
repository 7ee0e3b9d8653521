"""`hwcli styles`: list the built-in and personal handwriting styles, preview them, add and remove your own."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import clean_progress, err_console, handle_errors

SAMPLE = "The quick brown fox jumps over the lazy dog."

styles_app = typer.Typer(help="List, preview, add and remove handwriting styles.", no_args_is_help=False)


@styles_app.callback(invoke_without_command=True)
@handle_errors
def styles_cmd(
    ctx: typer.Context,
    preview: Annotated[Optional[str], typer.Option("--preview", "-o", help="Write a sheet with a sample line in every style (.pdf/.svg/.png).")] = None,
    style: Annotated[Optional[list[str]], typer.Option("--style", "-s", help="Preview only this style (index, name, a word of its description such as 'cursive', or a personal style); repeat for several.")] = None,
    text: Annotated[str, typer.Option("--text", help="Sample text for the preview sheet.")] = SAMPLE,
    model: Annotated[Optional[Path], typer.Option("--model", "-m", help="Model bundle (.json); default: the bundled model.")] = None,
    bias: Annotated[Optional[float], typer.Option("--bias", "-b", help="Sampling bias for the preview.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the preview.")] = 0,
) -> None:
    """List the handwriting styles: the model's built-in ones (index, name, description, priming text) and your personal ones.

    Examples:
      hwcli styles --preview styles.pdf
      hwcli capture -o mine/ && hwcli styles add me mine/ && hwcli write "Hello" --style me
    """
    if ctx.invoked_subcommand is not None:
        return
    import dataclasses

    from rich.console import Console
    from rich.table import Table

    from ..page.formats import format_for
    from ..model.personal import PERSONAL_SOURCE, list_styles, resolve, styles_dir

    if preview:
        format_for(preview)  # an unknown suffix fails before the model loads
    bundle, keys = resolve(model, style or [])
    n_builtin = next((i for i, s in enumerate(bundle.styles) if s.source.startswith(PERSONAL_SOURCE)), len(bundle.styles))
    table = Table(title=f"styles of {Path(bundle.path).name}")
    table.add_column("style", justify="right")
    table.add_column("name")
    table.add_column("description")
    table.add_column("priming text")
    for i, s in enumerate(bundle.styles[:n_builtin]):
        table.add_row(str(i) + (" (default)" if i == bundle.default_style_index else ""), s.name, s.description, s.text)
    Console().print(table)
    from ..charset import SUMMARY, coverage_note, default_note, routes_to_full_set

    note = coverage_note(bundle.alphabet.chars, Path(bundle.path).name)
    if note and routes_to_full_set(model, bundle):
        note = default_note()  # `hwcli write` takes the full-set model for a text that needs it
    typer.echo(f"hwcli {SUMMARY}" + (f"; {note}." if note else "."))
    personal = list_styles()
    if personal:
        pt = Table(title=f"personal styles in {styles_dir()}")
        pt.add_column("name")
        pt.add_column("lines", justify="right")
        pt.add_column("model")
        pt.add_column("priming text")
        for ps in personal:
            if isinstance(ps, tuple):
                pt.add_row(ps[0], "", "damaged", ps[1])
            else:
                pt.add_row(ps.name, str(ps.lines), ("adapted from " if ps.adapted else "") + Path(ps.model).name, ps.style.text)
        Console().print(pt)
    if not bundle.styles:
        err_console.print("this model has no styles: it writes in its own average hand")
    if preview and bundle.styles:
        from ..writing.document import style_sheet

        # with --style, a sheet of just those styles (personal ones included), numbered in the order given
        shown = dataclasses.replace(bundle, styles=[bundle.style(k) for k in keys]) if style else \
            dataclasses.replace(bundle, styles=bundle.styles[:n_builtin])
        style_sheet(shown, text, bias=bias, seed=seed).save(preview)
        err_console.print(f"wrote {len(shown.styles)} style(s) to {preview}")


@styles_app.command("add")
@handle_errors
def add_cmd(
    name: Annotated[str, typer.Argument(help="Name of the new style (then: --style NAME).")],
    ink: Annotated[list[Path], typer.Argument(help="InkML files or folders (one line each, text as annotation; e.g. from `hwcli capture`), or a .npz from `hwcli convert`.")],
    texts: Annotated[Optional[Path], typer.Option("--texts", help="Text file with one line of text per ink line, in order (for InkML without annotations).")] = None,
    adapt: Annotated[bool, typer.Option("--adapt", help="Also fine-tune the network on your lines (a few minutes; 20 lines recommended).")] = False,
    model: Annotated[Optional[Path], typer.Option("--model", "-m", help="Synthesis bundle the style is for; default: the bundled hwcli-charset (it writes every character of the set).")] = None,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Choose the priming line by reading sampled lines back with the recognizer.")] = True,
    recognizer: Annotated[Optional[Path], typer.Option("--recognizer", help="Recognizer bundle for --check; default: the bundled one.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace a personal style of the same name.")] = False,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Adaptation steps (with --adapt).")] = 60,
    time_limit: Annotated[float, typer.Option("--time-limit", min=10, help="Seconds of adaptation at most (with --adapt).")] = 480.0,
    reg_share: Annotated[float, typer.Option("--reg-share", min=0.0, max=0.9, help="Share of regularisation lines (the bundle's own) in adaptation.")] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    threads: Annotated[int, typer.Option("--threads", min=0, help="CPU threads (0 = torch's default).")] = 0,
) -> None:
    """Add your handwriting as a personal style: clean the ink, choose the priming line, measure the hand.

    Example: hwcli styles add me mine/ --adapt
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..styles.library import add_style

    lines_text = None
    if texts is not None:
        from .inputs import read_text

        lines_text = [ln for ln in read_text(None, texts).split("\n")]
        while lines_text and not lines_text[-1].strip():
            lines_text.pop()
    if threads:
        import torch

        torch.set_num_threads(threads)
    with clean_progress(Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=err_console, transient=True)) as bar:
        tasks: dict = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        ps = add_style(name, [str(p) for p in ink], lines_text, model=model, adapt=adapt, replace=replace, seed=seed,
                       check=check, recognizer=recognizer,
                       adapt_options={"steps": steps, "time_limit": time_limit, "reg_share": reg_share},
                       progress=on_progress)
    sel = ps.info.get("selection", {})
    err_console.print(f"added style {ps.name!r} from {ps.lines} line(s) in {ps.path}", markup=False)
    err_console.print(f"priming line: {ps.style.text!r} ({sel.get('chosen', '')}); letter width {ps.style.char_width:.2f}, "
                      f"body height {ps.style.body_height:.2f} (model units)", markup=False)
    a = ps.info.get("adapt")
    if a and not ps.adapted:
        err_console.print(f"not adapted: {a.get('not_kept_because') or 'the adapted network was not kept'}; the style "
                          "uses the bundled network, primed with your lines", markup=False)
    if ps.adapted:
        err_console.print(f"adapted in {a['steps']} steps ({a['wall_time_s']:.0f} s, {a['cpu_time_s']:.0f} s CPU): validation NLL per point "
                          f"{a['val_nll_point_before']:.3f} -> {a['val_nll_point_after']:.3f} on {a['held_out_lines']} held-out line(s)",
                          markup=False)


@styles_app.command("remove")
@handle_errors
def remove_cmd(name: Annotated[str, typer.Argument(help="Personal style to delete.")]) -> None:
    """Delete a personal style (built-in styles belong to the model and cannot be removed).

    Example: hwcli styles remove me
    """
    from ..styles.library import remove_style

    path = remove_style(name)
    err_console.print(f"removed style {name!r} ({path})", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(styles_app, name="styles")
