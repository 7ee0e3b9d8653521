"""Issue 22, the second reliability pass: a test per class (batch names, styles race, --skip-existing, special
targets with several pages, bounded batches, short messages, capture requests, full disks in a batch, damaged
styles, the Python API's arguments, options silently ignored, loose ends)."""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import hwcli
from cli_checks import assert_one_line_error
from hwcli.cli.app import app
from hwcli.errors import HwcliError, OptionError
from tiny_bundle import make_bundle

FAST = {"max_steps_per_char": 5, "retries": 0, "check": False}
runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    torch.set_num_threads(1)
    return str(make_bundle(tmp_path_factory.mktemp("m") / "tiny", defaults=FAST)) + ".json"


def write(model, *args, input=None):
    return runner.invoke(app, ["write", "--model", model, "--quiet", *map(str, args)], input=input)


def count_sampling(monkeypatch) -> list:
    """Record every call of the batch's sampling pass (the lines it was asked for)."""
    import hwcli.writing.compose

    calls: list = []
    real = hwcli.writing.compose.synthesize

    def spy(bundle, texts, *a, **k):
        calls.append(list(texts))
        return real(bundle, texts, *a, **k)

    monkeypatch.setattr(hwcli.writing.compose, "synthesize", spy)
    return calls


# ----------------------------------------------------------------------------- 13: options silently ignored
def test_train_init_refuses_architecture_options_that_differ(tmp_path, monkeypatch):
    import hwcli.data.convert as conv
    from tiny_bundle import make_npz

    npz = make_npz(tmp_path, n_lines=6)
    monkeypatch.setattr(conv, "load_dataset", lambda *a, **k: (_ for _ in ()).throw(AssertionError("data read")))
    start = make_bundle(tmp_path / "b", hidden=8)
    base = ["train", "--data", str(npz), "--out", str(tmp_path / "run"), "-q", "--init", str(start)]
    assert_one_line_error(runner.invoke(app, [*base, "--hidden", "128"]), "--hidden 128", "bundle: 8", code=2)
    assert_one_line_error(runner.invoke(app, [*base, "--layers", "3"]), "--layers 3", code=2)


def test_style_names_with_a_trailing_newline_are_refused(tmp_path, monkeypatch):
    from hwcli.model import personal as styles

    monkeypatch.setenv("HWCLI_HOME", str(tmp_path / "home"))
    for bad in ("me\n", "me\r", "a\nb"):
        with pytest.raises(OptionError):
            styles.check_name(bad)
        assert styles.find_style(bad) is None
    assert styles.check_name("me") == "me"


# ----------------------------------------------------------------------------- 6: linear checks, short messages
def test_a_huge_csv_header_is_checked_fast_and_reported_briefly(tmp_path):
    import time

    from hwcli.writing.jobs import merge_jobs

    n = 100_000
    (tmp_path / "t.txt").write_text("Dear {name} " + " ".join(f"{{f{i}}}" for i in range(0, 2 * n, 2)))
    (tmp_path / "dup.csv").write_text(",".join(["name"] + ["x"] * n) + "\n")
    (tmp_path / "wide.csv").write_text(",".join(["name"] + [f"g{i}" for i in range(n)]) + "\nAnn" + "," * n + "\n")
    for csv_name in ("dup.csv", "wide.csv"):
        t0 = time.perf_counter()
        with pytest.raises(HwcliError) as exc:
            merge_jobs(tmp_path / "t.txt", tmp_path / csv_name)
        assert time.perf_counter() - t0 < 20
        assert len(str(exc.value)) < 1000, str(exc.value)[:300]
        assert "more" in str(exc.value) or "appears twice" in str(exc.value)


def test_many_clashing_names_make_a_short_message(tmp_path):
    from hwcli.writing.jobs import merge_jobs

    (tmp_path / "t.txt").write_text("Dear {name}")
    (tmp_path / "d.csv").write_text("name\n" + "Ann\n" * 20_000)
    with pytest.raises(OptionError) as exc:
        merge_jobs(tmp_path / "t.txt", tmp_path / "d.csv", name_column="name")
    assert len(str(exc.value)) < 600 and "more" in str(exc.value)


# ----------------------------------------------------------------------------- 1: names through page numbers
@pytest.mark.parametrize("fmt", ["svg", "png", "gcode", "hpgl"])
def test_a_name_that_a_numbered_page_would_take_is_refused_before_sampling(model, tmp_path, monkeypatch, fmt):
    calls = count_sampling(monkeypatch)
    docs = {"a": "one\n\ntwo\n\nthree", "a-1": "other"}
    with pytest.raises(OptionError, match="'a-1'.*beside 'a'"):
        hwcli.write_many(docs, tmp_path / "out", model, fmt=fmt, page=hwcli.PageOptions(line_height=90))
    assert calls == [] and not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True
    hwcli.write_many(docs, tmp_path / "pdf", model, fmt="pdf")  # one file per document: no clash
    assert sorted(p.name for p in (tmp_path / "pdf").iterdir()) == ["a-1.pdf", "a.pdf"]


def test_mail_merge_names_that_clash_with_pages_are_refused_in_every_shard(model, tmp_path):
    (tmp_path / "t.txt").write_text("Dear {n}")
    (tmp_path / "d.csv").write_text("n\nBo\nBo-2\nCy\n")
    out = tmp_path / "out"
    for shard in ("1/3", "2/3", "3/3"):
        r = write(model, "--template", tmp_path / "t.txt", "--data", tmp_path / "d.csv", "--name-column", "n",
                  "--out-dir", out, "--format", "svg", "--shard", shard)
        assert_one_line_error(r, "'Bo-2'", code=2)
    assert not out.exists() or not list(out.iterdir())


# ----------------------------------------------------------------------------- 13: over-long names before sampling
def test_an_overlong_output_name_fails_before_sampling_and_the_others_are_written(model, tmp_path, monkeypatch):
    calls = count_sampling(monkeypatch)
    long = "\U0001d4b6" * 70  # 70 letters of 4 bytes: past the 255-byte limit of a file name
    rep = hwcli.write_many({"ok": "hi there", long: "x\n\n" * 12 + "y"}, tmp_path, model, fmt="svg",
                           page=hwcli.PageOptions(line_height=90))
    by = {d.name: d for d in rep.docs}
    assert by["ok"].status == "written"
    assert by[long].status == "failed" and "too long" in by[long].error
    assert all(long not in t for call in calls for t in call)  # its lines were never sampled
    assert "x" not in [t for call in calls for t in call]


# ----------------------------------------------------------------------------- 3: --skip-existing checks the file
@pytest.mark.parametrize("fmt", ["pdf", "svg", "png", "gcode", "hpgl"])
def test_skip_existing_rewrites_empty_and_truncated_outputs(model, tmp_path, fmt):
    out = tmp_path / "out"
    rep = hwcli.write_many({"a": "hello", "b": "there"}, out, model, fmt=fmt)
    ext = {"gcode": "gcode", "hpgl": "hpgl"}.get(fmt, fmt)
    good = (out / f"a.{ext}").read_bytes()
    (out / f"a.{ext}").write_bytes(b"")
    (out / f"b.{ext}").write_bytes((out / f"b.{ext}").read_bytes()[:-40])
    rep = hwcli.write_many({"a": "hello", "b": "there"}, out, model, fmt=fmt, skip_existing=True)
    assert [d.status for d in rep.docs] == ["written", "written"]
    assert (out / f"a.{ext}").read_bytes() == good
    rep = hwcli.write_many({"a": "hello", "b": "there"}, out, model, fmt=fmt, skip_existing=True)
    assert [d.status for d in rep.docs] == ["skipped", "skipped"]


def test_skip_existing_one_file_checks_the_pdf(model, tmp_path):
    out = tmp_path / "all.pdf"
    out.write_bytes(b"%PDF-1.3\n")  # cut short
    rep = hwcli.write_many({"a": "hello"}, None, model, one_file=out, skip_existing=True)
    assert rep.docs[0].status == "written" and out.read_bytes().rstrip().endswith(b"%%EOF")


# ----------------------------------------------------------------------------- 4: special files, several pages
@pytest.mark.parametrize("target", ["/dev/null", "/dev/stdout"])
def test_a_special_file_takes_one_page_of_a_per_page_format(model, target, monkeypatch):
    import hwcli.writing.compose

    before = set(os.listdir("/dev"))
    monkeypatch.setattr(hwcli.writing.compose, "synthesize",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError("sampled")))
    r = write(model, "one\n\ntwo\n\nthree", "--line-height", "90", "-o", target, "--format", "svg")
    assert_one_line_error(r, "not a regular file", "the text needs", code=2)
    assert set(os.listdir("/dev")) == before


def test_a_special_file_takes_a_one_page_svg(model):
    r = write(model, "one", "-o", "/dev/null", "--format", "svg")
    assert r.exit_code == 0, r.output


def test_a_fifo_with_several_pages_is_refused(model, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = write(model, "one\n\ntwo\n\nthree", "--line-height", "90", "-o", fifo, "--format", "svg")
    assert_one_line_error(r, "not a regular file", code=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


# ----------------------------------------------------------------------------- 8 and 9: a batch and its errors
def test_a_full_disk_stops_the_batch_at_the_first_document(model, tmp_path, monkeypatch):
    import hwcli.writing.document
    from cli_checks import fail_on_call

    calls = count_sampling(monkeypatch)
    monkeypatch.setattr(hwcli.writing.document, "publish_files",
                        fail_on_call(hwcli.writing.document.publish_files, 1, errno.ENOSPC, "No space left on device"))
    docs = {f"d{i}": f"letter number {i}" for i in range(6)}
    rep = hwcli.write_many(docs, tmp_path, model, group_lines=1)
    assert [d.status for d in rep.docs] == ["failed"] * 6
    assert "no space left" in rep.docs[0].error.lower()
    assert all("stopped at 'd0'" in d.error for d in rep.docs[1:])
    assert len(calls) == 1  # one group sampled, not six


def test_one_renderer_error_loses_no_other_document(model, tmp_path, monkeypatch):
    import hwcli.page.svg as svg

    real = svg.render_svg
    seen = []

    def flaky(page, fh, *a, **k):
        seen.append(page.texts)
        if any("boom" in t for t in page.texts):
            raise UnicodeEncodeError("ascii", "\u00e9", 0, 1, "a renderer bug")
        return real(page, fh, *a, **k)

    monkeypatch.setattr(svg, "render_svg", flaky)
    rep = hwcli.write_many({"a": "hello", "b": "boom", "c": "there"}, tmp_path, model, fmt="svg")
    assert [d.status for d in rep.docs] == ["written", "failed", "written"]
    assert "bug in hwcli" in rep.docs[1].error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.svg", "c.svg"]


# ----------------------------------------------------------------------------- 2 and 10: the style library
def _store_style(name: str, doc_extra: dict | None = None) -> Path:
    from hwcli.styles import library as styles
    from tiny_bundle import make_styles

    with styles.staging(name) as folder:
        styles.write_style(folder, name, "hwcli-synthesis", make_styles()[0], 3, None, {})
    return styles.styles_dir() / name


def test_a_style_that_appears_while_adding_is_never_replaced(tmp_path, monkeypatch):
    from hwcli.styles import library as styles

    monkeypatch.setenv("HWCLI_HOME", str(tmp_path / "home"))
    with pytest.raises(OptionError, match="exists already"):
        with styles.staging("me") as folder:
            (folder / "style.json").write_text("{}")
            _store_style("me")  # a second `styles add me` that finished first
    kept = json.loads((styles.styles_dir() / "me" / "style.json").read_text())
    assert kept["name"] == "me" and kept["lines"] == 3  # the other add's style, untouched
    assert [p.name for p in styles.styles_dir().iterdir()] == ["me"]  # no staging folder left
    with styles.staging("me", replace=True) as folder:  # asked for: replaced
        (folder / "style.json").write_text('{"replaced": true}')
    assert json.loads((styles.styles_dir() / "me" / "style.json").read_text()) == {"replaced": True}


@pytest.mark.parametrize("content", ['[]', '"text"', '{"name": 3}', '{"format_version": "2"}', '{"name": "x", "model": "m", "style": []}',
                                     '{"name": "x", "model": "m", "style": {"text": "hi", "strokes": "abc"}}',
                                     '{"name": "x", "model": "m", "style": {"text": 5, "strokes": []}}', '\xff'])
def test_one_damaged_style_never_hides_the_others(model, tmp_path, monkeypatch, content):
    monkeypatch.setenv("HWCLI_HOME", str(tmp_path / "home"))
    _store_style("good")
    bad = _store_style("bad")
    (bad / "style.json").write_text(content, encoding="latin-1")
    r = runner.invoke(app, ["styles", "--model", model])
    assert r.exit_code == 0, r.output
    assert "good" in r.stdout and "bad" in r.stdout and "damaged" in r.stdout
    assert "Traceback" not in r.output
    assert_one_line_error(runner.invoke(app, ["write", "--model", model, "hi", "--style", "bad", "-o",
                                              str(tmp_path / "x.pdf")]), "damaged")


# ----------------------------------------------------------------------------- 7, 11, 14: the capture server
def _raw(port: int, head: str, body: bytes = b"", read: bool = True) -> tuple[int, bytes]:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        if not read:
            return 0, b""
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data.split(b"\r\n\r\n", 1)[-1]


@pytest.fixture
def capture(tmp_path):
    from hwcli.capture.server import start

    server, session, url = start(tmp_path / "mine", ["abc def", "ghi jkl"])
    yield server.server_address[1], session, tmp_path / "mine"
    server.shutdown()
    server.server_close()


def _post(port, token, body: bytes, length: str | None = None) -> tuple[int, bytes]:
    cl = f"\r\nContent-Length: {len(body) if length is None else length}" if length != "none" else ""
    return _raw(port, f"POST /{token}/line HTTP/1.1\r\nHost: 127.0.0.1{cl}\r\nConnection: close", body)


def test_capture_refuses_bad_content_lengths(capture):
    port, session, out = capture
    for length, code in (("-1", 400), ("-100000", 400), ("abc", 400), ("1e3", 400), ("", 400), ("none", 411),
                         ("99999999999999999999", 413)):
        status, body = _post(port, session.token, b'{"index": 0}', length)
        assert status == code, (length, status, body)
        assert json.loads(body)["error"]
    assert not list(out.iterdir())


def test_capture_answers_every_bad_body(capture):
    port, session, out = capture
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"index": ' + b"9" * 10_000 + b"}", b'{"index": 1e999}',
                 b'{"index": 0, "strokes": [[[1e999, 0, 0, 0]]]}', b"[1, 2]", b'"x"', b"\xff\xfe", b'{"index": [1]}',
                 b'{"index": 0, "strokes": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"):
        status, answer = _post(port, session.token, body)
        assert status == 400, (body[:40], status, answer)
        assert json.loads(answer)["error"]
    assert not list(out.iterdir())


def test_capture_full_disk_is_an_answer(capture, monkeypatch):
    import hwcli.fileio
    from cli_checks import fail_on_call

    port, session, out = capture
    monkeypatch.setattr(hwcli.fileio.os, "fsync", fail_on_call(os.fsync, 1, errno.ENOSPC, "No space left on device"))
    status, answer = _post(port, session.token, json.dumps({"index": 0, "strokes": [[[0, 0, 0, 0], [5, 5, 8, 0.5]]]}).encode())
    assert status == 507 and "no space left" in json.loads(answer)["error"]
    assert not list(out.iterdir())


def test_capture_a_client_that_leaves_does_not_stop_the_server(capture):
    port, session, out = capture
    _raw(port, f"POST /{session.token}/line HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000", b'{"ind', read=False)
    good = json.dumps({"index": 1, "strokes": [[[0, 0, 0, 0], [5, 5, 8, 0.5]]]}).encode()
    status, _ = _post(port, session.token, good)
    assert status == 200 and (out / "line-02.inkml").is_file()


def test_capture_files_and_folders_are_private(tmp_path):
    from hwcli.capture.server import start

    old = os.umask(0o022)
    try:
        server, session, _ = start(tmp_path / "a" / "mine", ["abc def"])
        try:
            good = json.dumps({"index": 0, "strokes": [[[0, 0, 0, 0], [5, 5, 8, 0.5]]]}).encode()
            assert _post(server.server_address[1], session.token, good)[0] == 200
        finally:
            server.shutdown()
            server.server_close()
    finally:
        os.umask(old)
    for d in (tmp_path / "a", tmp_path / "a" / "mine"):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "mine" / "line-01.inkml").st_mode) == 0o600


def test_capture_sentences_with_control_characters_are_refused(tmp_path):
    import xml.etree.ElementTree as ET

    from hwcli.capture.server import SENTENCES, inkml_document

    (tmp_path / "s.txt").write_text("fine line\nbell \x07 here\n")
    r = runner.invoke(app, ["capture", "-o", str(tmp_path / "mine"), "--sentences", str(tmp_path / "s.txt"),
                            "--no-browser"])
    assert_one_line_error(r, "control character", "2")
    for s in SENTENCES:  # what it does save is well-formed
        ET.fromstring(inkml_document(s, [[[0, 0, 0, 0]]], "line-01").encode())


# ----------------------------------------------------------------------------- 12: the Python API's arguments
def test_api_arguments_raise_hwcli_errors(model, tmp_path, monkeypatch):
    from hwcli.page.machines import PlotterOptions

    monkeypatch.chdir(tmp_path)
    doc = hwcli.write("hi", model=model)
    bad = {
        "write(None)": lambda: hwcli.write(None, model=model),
        "write(bytes)": lambda: hwcli.write(b"hi", model=model),
        "bias='1'": lambda: hwcli.write("hi", model=model, bias="1"),
        "check='no'": lambda: hwcli.write("hi", model=model, check="no"),
        "style=[1]": lambda: hwcli.write("hi", model=model, style=[1]),
        "page='A5'": lambda: hwcli.write("hi", model=model, page="A5"),
        "sampling={}": lambda: hwcli.write("hi", model=model, sampling={}),
        "model=5": lambda: hwcli.write("hi", model=5),
        "progress=5": lambda: hwcli.write("hi", model=model, progress=5),
        "save(None)": lambda: doc.save(None),
        "save(5)": lambda: doc.save(5),
        "save(dpi=nan)": lambda: doc.save("x.png", dpi=float("nan")),
        "save(dpi='x')": lambda: doc.save("x.png", dpi="x"),
        "save(plotter='grbl')": lambda: doc.save("x.gcode", plotter="grbl"),
        "save(format=5)": lambda: doc.save("x.pdf", format=5),
        "write_many([1])": lambda: hwcli.write_many([1], "out", model),
        "write_many({'a': None})": lambda: hwcli.write_many({"a": None}, "out", model),
        "write_many('abc')": lambda: hwcli.write_many("abc", "out", model),
        "shard=(0, 0)": lambda: hwcli.write_many({"a": "x"}, "out", model, shard=(0, 0)),
        "shard=(3, 2)": lambda: hwcli.write_many({"a": "x"}, "out", model, shard=(3, 2)),
        "shard='1/2'": lambda: hwcli.write_many({"a": "x"}, "out", model, shard="1/2"),
        "group_lines=0": lambda: hwcli.write_many({"a": "x"}, "out", model, group_lines=0),
        "wm plotter='grbl'": lambda: hwcli.write_many({"a": "x"}, "out", model, fmt="gcode", plotter="grbl"),
        "wm sampling=None": lambda: hwcli.write_many({"a": "x"}, "out", model, sampling=None),
        "load_model(5)": lambda: hwcli.load_model(5),
        "SamplingOptions(retries='1')": lambda: hwcli.SamplingOptions(retries="1"),
    }
    for what, call in bad.items():
        with pytest.raises(HwcliError) as exc:
            call()
        assert "\n" not in str(exc.value) and len(str(exc.value)) < 300, what
    assert sorted(os.listdir(tmp_path)) == []  # no file named "None" or "5", no out/ folder
    doc.save("ok.svg", plotter=None, dpi=150)
    doc.save("ok.gcode", plotter=PlotterOptions(plotter="grbl-z"))
    assert hwcli.write_many({"a": "x"}, "out", model, shard=[1, 1]).docs[0].status == "written"


# ----------------------------------------------------------------------------- 14: loose ends
@pytest.mark.parametrize("args", [["write", "hi", "-o", "/dev/full"], ["styles", "add", "zz", "INK", "--no-check"]])
def test_no_blank_line_before_the_error_when_stderr_is_not_a_terminal(model, tmp_path, args):
    import subprocess
    import sys

    ink = tmp_path / "ink"
    ink.mkdir()
    (ink / "line-01.inkml").write_text("<ink/>")
    args = [str(ink) if a == "INK" else a for a in args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HWCLI_HOME": str(tmp_path / "home")}
    p = subprocess.run([sys.executable, "-m", "hwcli", *args, "--model", model], capture_output=True, env=env,
                       timeout=120)
    assert p.returncode != 0
    assert p.stderr.decode().startswith("hwcli: error: ") and p.stderr.count(b"\n") == 1, p.stderr


def test_a_glob_never_takes_the_out_dirs_own_files(model, tmp_path):
    src = tmp_path / "letters"
    src.mkdir()
    (src / "a.txt").write_text("hello")
    (src / "b.txt").write_text("there")
    for _ in range(2):  # the second run sees letters/out/a.pdf, b.pdf through the glob
        r = write(model, "--input", str(src / "**"), "--out-dir", src / "out", "--skip-existing")
        assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (src / "out").iterdir()) == ["a.pdf", "b.pdf"]
    r = write(model, "--input", str(src / "out*"), "--out-dir", src / "out")
    assert_one_line_error(r, "no file matches", code=2)
