"""`hwcli capture`: write lines in your own hand on a local web page; they are saved as InkML for `styles add`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import err_console, handle_errors


@handle_errors
def capture_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the InkML lines (line-01.inkml, ...); lines already there count as done.")] = Path("my-handwriting"),
    sentences: Annotated[Optional[Path], typer.Option("--sentences", help="Text file with the sentences to prompt, one per line; default: a built-in set with every letter, digit and punctuation mark.")] = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0 = a free one).")] = 0,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open the page in the default browser (else only print its address).")] = True,
) -> None:
    """Open a page to write your handwriting with a pen tablet, touch screen or mouse, one sentence at a time.

    The page is served on 127.0.0.1 only, under a random token. Stop with Done on the page, or Ctrl-C here.

    Example: hwcli capture -o mine/ && hwcli styles add me mine/
    """
    from ..capture.server import start
    from ..errors import InputTextError

    texts = None
    if sentences is not None:
        from .inputs import read_text

        texts = [" ".join(ln.split()) for ln in read_text(None, sentences).splitlines() if ln.strip()]
        if not texts:
            raise InputTextError(f"{str(sentences)!r} has no sentences")

    def on_saved(path: Path, text: str) -> None:
        err_console.print(f"saved {path}: {text}", markup=False)

    server, session, url = start(output, texts, port, on_saved)
    try:
        err_console.print(f"write your lines at {url}\n(press Done on the page, or Ctrl-C here, to stop)", markup=False)
        if browser:
            import webbrowser

            try:
                webbrowser.open(url)
            except Exception:  # noqa: BLE001 - no browser: the printed address is enough
                pass
        while not session.finished.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    n = len(session.saved)
    err_console.print(f"{n} line(s) in {output}" + (f"; add them as a style: hwcli styles add NAME {output}" if n else ""),
                      markup=False)


def register(app: typer.Typer) -> None:
    app.command("capture")(capture_cmd)
