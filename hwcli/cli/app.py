"""The `hwcli` command. Command modules are imported here; heavy imports live inside command bodies
so that `hwcli --help` stays instant."""
from __future__ import annotations

import typer

from .. import __version__
from ..charset import SUMMARY
from . import capture, convert, styles, train, train_recognizer, write
from . import eval as eval_
from .common import HwcliGroup

app = typer.Typer(
    name="hwcli",
    cls=HwcliGroup,
    help=f"Write text in realistic handwriting (Graves 2013 synthesis network). hwcli {SUMMARY}.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hwcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Write text in realistic handwriting."""


for _command in (convert, train, train_recognizer, write, styles, eval_, capture):
    _command.register(app)


def main() -> None:
    app()
