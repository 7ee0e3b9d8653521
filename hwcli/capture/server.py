"""`hwcli capture`: a local web page for writing lines of handwriting, saved as InkML that `styles add` takes.

The server (stdlib `http.server`) listens on 127.0.0.1 only, on a free port, and answers only under a random
token path (``http://127.0.0.1:PORT/TOKEN/``), so other local users and web pages cannot read or write
through it; requests whose Host is not the loopback address (DNS rebinding) are refused. The page
(``static/index.html`` + ``capture.js``) records Pointer Events on a canvas (x, y in CSS pixels, time in ms,
pressure where the device gives it), prompts one sentence at a time, lets the writer redo a line, and POSTs
each line; the server writes ``line-NN.inkml`` (traces X Y T F, text as ``annotation type="truth"``)
atomically into the output folder. Lines already in the folder are shown as done, so a session can resume.
The server stops when the page says it is done, or on Ctrl-C.
"""
from __future__ import annotations

import contextlib
import errno
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Callable, Sequence
from xml.sax.saxutils import escape

from ..errors import HwcliError, InputTextError, OptionError, shorten
from ..fileio import atomic_output

#: Prompts: every letter, digit and punctuation mark of the bundled alphabet, in lines of IAM-OnDB length.
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs!",
    "Sphinx of black quartz, judge my vow.",
    "How vexingly quick daft zebras jump?",
    "We met at 10:45 on the 3rd of June, 1987.",
    "\"Yes,\" said Kate; \"it costs 26% more.\"",
    "Quiet (very quiet) rooms & warm light",
    "Add 7 + 8 * 9 and write it down [twice].",
    "Val's new flat is at 52 Elm Road/North.",
    "Xavier, Olivia and Uma left for Geneva.",
    "In May, Carl wrote to Henry, Fred and Walt.",
    "Dear Zoe - the party starts at 6 o'clock.",
    "Is it true that Yves won the Paris race?",
    "Remember: buy milk, eggs and bread.",
    "Quentin, Noel and Sam left Bath today.",
    "Luke's dog ran off; we found it at 4 pm.",
    "Every morning the baker opens at seven.",
    "Please write back soon, with love, Anna",
    "The river runs past the old mill at dawn",
    "Ivy asked Bob: \"Is the bus late again?\"",
]
MAX_BODY = 8_000_000  # bytes of one POSTed line (a long line with a pen at 240 Hz is ~300 kB)
PAGE_FILES = {"": ("index.html", "text/html; charset=utf-8"), "capture.js": ("capture.js", "text/javascript; charset=utf-8")}


@dataclass
class CaptureSession:
    out: Path  # folder the InkML files go to
    sentences: list[str]
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    saved: dict[int, Path] = field(default_factory=dict)  # sentence index -> file
    on_saved: Callable[[Path, str], None] | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def file_for(self, i: int) -> Path:
        return self.out / f"line-{i + 1:02d}.inkml"


def inkml_document(text: str, strokes: Sequence[Sequence[Sequence[float]]], line_id: str) -> str:
    """An InkML document of one line: traces of ``x y t pressure`` points (CSS px, ms, 0-1), y down."""
    traces = []
    for s in strokes:
        pts = ", ".join(" ".join(_num(v) for v in p) for p in s)
        traces.append(f'  <trace contextRef="#ctx">{pts}</trace>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ink xmlns="http://www.w3.org/2003/InkML">\n'
        f'  <annotation type="truth">{escape(text)}</annotation>\n'
        f'  <annotation type="id">{escape(line_id)}</annotation>\n'
        '  <annotation type="source">hwcli capture</annotation>\n'
        '  <definitions>\n    <context xml:id="ctx">\n      <traceFormat>\n'
        '        <channel name="X" type="decimal" units="px"/>\n        <channel name="Y" type="decimal" units="px"/>\n'
        '        <channel name="T" type="decimal" units="ms"/>\n        <channel name="F" type="decimal"/>\n'
        '      </traceFormat>\n    </context>\n  </definitions>\n'
        + "\n".join(traces) + "\n</ink>\n"
    )


def _num(v: float) -> str:
    return f"{float(v):.2f}".rstrip("0").rstrip(".") or "0"


def _valid_strokes(strokes) -> list[list[list[float]]]:
    """The POSTed strokes as lists of [x, y, t, p] floats; ValueError when malformed."""
    import math

    if not isinstance(strokes, list) or not strokes:
        raise ValueError("no strokes")
    out = []
    for s in strokes:
        if not isinstance(s, list):
            raise ValueError("a stroke is not a list")
        pts = []
        for p in s:
            if not isinstance(p, list) or len(p) != 4:
                raise ValueError("a point is not [x, y, t, pressure]")
            vals = [float(v) for v in p]
            if not all(math.isfinite(v) for v in vals):
                raise ValueError("a point is not finite")
            pts.append(vals)
        if pts:
            out.append(pts)
    if not out:
        raise ValueError("no points")
    return out


def _handler(session: CaptureSession):
    class Handler(BaseHTTPRequestHandler):
        server_version = "hwcli-capture"
        timeout = 60  # a client that stops sending mid-request is let go after a minute, not waited on forever

        def log_message(self, *args) -> None:  # the CLI reports what matters
            pass

        def _route(self) -> str | None:
            """The path after /TOKEN/, or None (and a 403/404 already sent) when the request is not ours."""
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            if host not in ("127.0.0.1", "localhost"):
                self._send(403, b"forbidden host", "text/plain")
                return None
            parts = self.path.split("?", 1)[0].split("/", 2)
            if len(parts) < 3 or not hmac.compare_digest(parts[1].encode(), session.token.encode()):
                self._send(404, b"not found", "text/plain")
                return None
            return parts[2]

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code: int, obj) -> None:
            self._send(code, json.dumps(obj).encode(), "application/json")

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            route = self._route()
            if route is None:
                return
            if route in PAGE_FILES:
                name, ctype = PAGE_FILES[route]
                body = (resources.files(__package__) / "static" / name).read_bytes()
                self._send(200, body, ctype)
            elif route == "state":
                self._json(200, {"sentences": session.sentences, "saved": sorted(session.saved)})
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            """Every request gets an HTTP status and a reason the page shows (never a traceback and a dropped
            connection); a client that left is simply let go."""
            try:
                self._post()
            except (BrokenPipeError, ConnectionError, TimeoutError):
                self.close_connection = True  # the client left: nobody to answer
            except Exception as exc:  # noqa: BLE001 - a bug: still an answer, not a dropped connection
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self._json(500, {"error": f"hwcli could not handle this request ({type(exc).__name__})"})

        def _body(self) -> bytes | None:
            """The request body, or None after answering 400/411/413 for a bad or missing Content-Length."""
            raw = self.headers.get("Content-Length")
            if raw is None:
                self._json(411, {"error": "a Content-Length header is needed"})
                return None
            if not raw.strip().isdigit() or not raw.strip().isascii():  # '-1', '1e3', ' ', '+5', '٣' are refused
                self._json(400, {"error": f"bad Content-Length {raw[:20]!r}"})
                return None
            n = int(raw)
            if n > MAX_BODY:
                self._json(413, {"error": f"line too large ({n:,} bytes, at most {MAX_BODY:,})"})
                return None
            data = self.rfile.read(n)
            if len(data) < n:
                raise ConnectionError("the client sent less than its Content-Length and left")
            return data

        def _post(self) -> None:
            route = self._route()
            if route is None:
                return
            data = self._body()
            if data is None:
                return
            try:
                msg = json.loads(data or b"{}")
            except (ValueError, RecursionError):  # not JSON, bad UTF-8, numbers too long, nesting too deep
                self._json(400, {"error": "the request is not valid JSON"})
                return
            if not isinstance(msg, dict):
                self._json(400, {"error": "the request is not a JSON object"})
                return
            if route == "line":
                try:
                    index = msg["index"]
                    if isinstance(index, bool) or not isinstance(index, (int, float, str)):
                        raise ValueError("index is not a number")
                    i = int(index)
                    if not 0 <= i < len(session.sentences):
                        raise ValueError("no such sentence")
                    strokes = _valid_strokes(msg.get("strokes"))
                except KeyError:
                    self._json(400, {"error": "no index"})
                    return
                except (TypeError, ValueError, OverflowError) as exc:
                    self._json(400, {"error": str(exc)[:200]})
                    return
                path = session.file_for(i)
                text = session.sentences[i]
                try:
                    with atomic_output(path, mode=0o600) as fh:  # personal data: private, like the style library
                        fh.write(inkml_document(text, strokes, path.stem).encode())
                except HwcliError as exc:  # a full disk, a folder removed meanwhile: the page shows why
                    full = "no space left" in str(exc)
                    self._json(507 if full else 500, {"error": f"could not save the line: {exc}"})
                    return
                session.saved[i] = path
                if session.on_saved:
                    session.on_saved(path, text)
                self._json(200, {"saved": path.name, "count": len(session.saved)})
            elif route == "done":
                self._json(200, {"saved": len(session.saved)})
                session.finished.set()
            else:
                self._send(404, b"not found", "text/plain")

    return Handler


def _xml_char(c: str) -> bool:
    """True for a character XML 1.0 allows in text (tab, newline, carriage return, no other controls)."""
    o = ord(c)
    return c in "\t\n\r" or 0x20 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or 0x10000 <= o <= 0x10FFFF


def _make_private_dirs(out: Path) -> None:
    """`out` and any missing parents, created 0700 (the writer's ink is personal data, like the style library);
    a folder that already exists is left as it is."""
    missing = []
    p = out
    while not p.exists() and p.parent != p:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=0o700)
            os.chmod(d, 0o700)  # mkdir's mode is masked by the umask
    if not out.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(out))


def start(out: Path, sentences: Sequence[str] | None = None, port: int = 0,
          on_saved: Callable[[Path, str], None] | None = None) -> tuple[ThreadingHTTPServer, CaptureSession, str]:
    """Start serving in a background thread; returns (server, session, URL). Stop with `server.shutdown()`."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OptionError(f"output {str(out)!r} is a file: give a folder for the InkML lines")
    sentences = list(sentences or SENTENCES)
    if not sentences:
        raise OptionError("no sentences to prompt")
    if not all(isinstance(s, str) for s in sentences):
        raise OptionError("the sentences to prompt must be texts")
    bad = [f"{k + 1} ({next(c for c in s if not _xml_char(c))!r})" for k, s in enumerate(sentences)
           if not all(map(_xml_char, s))]
    if bad:  # XML 1.0 cannot hold them at all: a saved line would not be well-formed InkML
        raise InputTextError(f"{len(bad)} sentence(s) hold a control character: line(s) {shorten(bad, 5)}")
    try:
        _make_private_dirs(out)
    except OSError as exc:
        raise OptionError(f"cannot create {str(out)!r}: {exc.strerror or exc}") from None
    session = CaptureSession(out, sentences, on_saved=on_saved)
    session.saved = {i: session.file_for(i) for i in range(len(sentences)) if session.file_for(i).is_file()}
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(session))
    except OSError as exc:
        raise OptionError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="hwcli-capture", daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{session.token}/"
    return server, session, url
