"""Issue 13 through the CLI: special outputs, all-or-nothing pages, modes, OS errors, options, fail early, SIGTERM."""
from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from pypdf import PdfReader
from typer.testing import CliRunner

from cli_checks import assert_one_line_error, fail_on_call
from hwcli.cli.app import app
from tiny_bundle import make_bundle

FAST = {"max_steps_per_char": 5, "retries": 0, "check": False}
runner = CliRunner()
LONG = "alpha beta gamma " * 30  # three SVG pages at --line-height 40


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("m")
    return {"synth": str(make_bundle(d / "tiny", defaults=FAST)) + ".json",
            "pred": str(make_bundle(d / "pred", kind="prediction", defaults=FAST)) + ".json"}


def write(models, *args, input=None):
    return runner.invoke(app, ["write", "--model", models["synth"], "--quiet", *map(str, args)], input=input)


def no_sampling(monkeypatch):
    """Make any sampling fail the test: the error must come before it."""
    import hwcli.synthesis

    def boom(*a, **k):
        raise AssertionError("sampling started before the input was checked")

    monkeypatch.setattr(hwcli.synthesis, "synthesize", boom)
    monkeypatch.setattr("hwcli.writing.compose.synthesize", boom)


# ----------------------------------------------------------------------------- class 2: special output paths
def test_write_to_dev_null_keeps_the_device(models):
    ino = os.stat("/dev/null").st_ino
    r = write(models, "to nowhere", "-o", "/dev/null", "--format", "pdf")
    assert r.exit_code == 0, r.output
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and os.stat("/dev/null").st_ino == ino


def test_write_into_a_fifo(models, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    t = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    t.start()
    r = write(models, "through a pipe", "-o", fifo, "--format", "pdf")
    t.join(30)
    assert r.exit_code == 0, r.output
    assert got and got[0].startswith(b"%PDF") and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_write_to_dev_full_is_one_line(models):
    r = write(models, "no room", "-o", "/dev/full", "--format", "svg")
    assert_one_line_error(r, "/dev/full", "no space left on device")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_symlink_output_replaces_the_target(models, tmp_path):
    real = tmp_path / "real.pdf"
    real.write_bytes(b"old")
    link = tmp_path / "link.pdf"
    link.symlink_to(real)
    assert write(models, "via a link", "-o", link).exit_code == 0
    assert link.is_symlink() and real.read_bytes().startswith(b"%PDF")


# ----------------------------------------------------------------------------- class 4: modes
def test_new_output_follows_umask_replaced_keeps_mode(models, tmp_path):
    old = os.umask(0o022)
    try:
        assert write(models, "mode", "-o", tmp_path / "a.pdf").exit_code == 0
        assert stat.S_IMODE(os.stat(tmp_path / "a.pdf").st_mode) == 0o644
        os.chmod(tmp_path / "a.pdf", 0o640)
        assert write(models, "again", "-o", tmp_path / "a.pdf").exit_code == 0
        assert stat.S_IMODE(os.stat(tmp_path / "a.pdf").st_mode) == 0o640
    finally:
        os.umask(old)


# ----------------------------------------------------------------------------- class 3: all pages or none
def test_disk_full_half_way_keeps_the_old_page_set(models, tmp_path, monkeypatch):
    out = tmp_path / "notes.svg"
    assert write(models, LONG, "-o", out, "--line-height", "40").exit_code == 0
    pages = sorted(tmp_path.glob("notes-*.svg"))
    assert len(pages) >= 3
    before = {p: p.read_bytes() for p in pages}
    monkeypatch.setattr(os, "fsync", fail_on_call(os.fsync, 2, errno.ENOSPC, "No space left on device"))
    r = write(models, LONG, "-o", out, "--line-height", "40", "--seed", "9")
    assert_one_line_error(r, "no space left on device", "no page was changed")
    assert {p: p.read_bytes() for p in pages} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".hw-")]


def test_stale_pages_of_a_longer_document_are_named(models, tmp_path):
    out = tmp_path / "doc.svg"
    assert write(models, LONG, "-o", out, "--line-height", "40").exit_code == 0
    n = len(list(tmp_path.glob("doc-*.svg")))
    r = runner.invoke(app, ["write", "--model", models["synth"], "short", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.exists()
    assert "doc-1.svg" in r.stderr and "earlier, longer document" in r.stderr
    assert len(list(tmp_path.glob("doc-*.svg"))) == n  # left as they are, never deleted


# ----------------------------------------------------------------------------- class 9: OS errors
def test_long_valid_name_and_too_long_name(models, tmp_path):
    ok = tmp_path / ("n" * 245 + ".pdf")
    assert write(models, "long name", "-o", ok).exit_code == 0 and ok.exists()
    assert_one_line_error(write(models, "x", "-o", tmp_path / ("n" * 300 + ".pdf")), "file name too long")


def test_output_under_a_file(models, tmp_path):
    (tmp_path / "f").write_text("x")
    assert_one_line_error(write(models, "x", "-o", tmp_path / "f" / "o.pdf"), "is a file, not a directory")


def test_stdout_disk_full_is_one_line(models, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open("/dev/full", "wb") as full:
        p = subprocess.run([sys.executable, "-m", "hwcli", "write", "hi", "-o", "-", "--format", "svg", "-q",
                            "--model", models["synth"]], stdout=full, stderr=subprocess.PIPE, env=env, timeout=120)
    err = p.stderr.decode().strip().splitlines()
    assert p.returncode == 1 and len(err) == 1 and err[0].startswith("hwcli: error:") and "no space" in err[0], err


# ----------------------------------------------------------------------------- class 7: resource limits
def test_png_pixel_limit_before_sampling(models, tmp_path, monkeypatch):
    no_sampling(monkeypatch)
    r = write(models, "big", "-o", tmp_path / "x.png", "--page-size", "2000x2000", "--dpi", "600")
    assert_one_line_error(r, "Mpx", "--dpi", code=2)


# ----------------------------------------------------------------------------- class 10: options
@pytest.mark.parametrize("args, needle", [(["--seed", "-1"], "--seed"), (["--seed", str(2**70)], "--seed"),
                                          (["--threads", "-1"], "--threads")])
def test_bad_numbers_fail_before_sampling(models, tmp_path, monkeypatch, args, needle):
    no_sampling(monkeypatch)
    assert_one_line_error(write(models, "x", "-o", tmp_path / "o.pdf", *args), needle, code=2)


@pytest.mark.parametrize("args, needle", [(["--dpi", "abc"], "--dpi"), (["--bogus"], "--bogus"),
                                          (["--format", "gif"], "--format")])
def test_typer_parse_errors_are_one_line(models, tmp_path, args, needle):
    r = write(models, "x", "-o", tmp_path / "o.pdf", *args)
    line = assert_one_line_error(r, needle, code=2)
    assert "╭" not in r.stderr and "hwcli write --help" in line


def test_missing_required_option_is_one_line():
    assert_one_line_error(runner.invoke(app, ["train"]), "--data", code=2)


def test_prediction_bundle_needs_unconditional(models, tmp_path):
    r = runner.invoke(app, ["write", "--model", models["pred"], "-q", "text", "-o", str(tmp_path / "o.pdf")])
    assert_one_line_error(r, "prediction network", "--unconditional", code=2)
    r = runner.invoke(app, ["write", "--model", models["pred"], "-q", "--unconditional", "x", "-o", str(tmp_path / "o.pdf")])
    assert r.exit_code == 0, r.output


# ----------------------------------------------------------------------------- class 11: fail early
def test_styles_preview_into_a_missing_folder_fails_before_sampling(models, tmp_path, monkeypatch):
    no_sampling(monkeypatch)
    r = runner.invoke(app, ["styles", "--model", models["synth"], "--preview", str(tmp_path / "nope" / "s.pdf")])
    assert r.exit_code == 1 and "hwcli: error:" in r.stderr and "does not exist" in r.stderr
    assert "Traceback" not in r.output


def test_eval_bad_reference_fails_before_sampling(models, tmp_path, monkeypatch):
    from hwcli.alphabet import Alphabet
    from hwcli.recognizer.network import Recognizer, RecognizerConfig, save_recognizer

    torch.manual_seed(0)
    rec = save_recognizer(tmp_path / "rec", Recognizer(RecognizerConfig(conv_channels=8, hidden=8, layers=1,
                                                                         alphabet_size=len(Alphabet()))), Alphabet(), 20.0)
    import hwcli.evaluation.legibility as legibility

    monkeypatch.setattr(legibility, "evaluate", lambda *a, **k: (_ for _ in ()).throw(AssertionError("sampled")))
    bad = tmp_path / "ref.npz"
    bad.write_bytes(b"not a zip")
    r = runner.invoke(app, ["eval", "--model", models["synth"], "--recognizer", str(rec), "-q", "--reference", str(bad)])
    assert_one_line_error(r, "ref.npz")


# ----------------------------------------------------------------------------- class 13: SIGTERM
def test_sigterm_cleans_up_like_ctrl_c(models, tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "out" / "long.svg"
    out.parent.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "OMP_NUM_THREADS": "1"}
    p = subprocess.Popen([sys.executable, "-m", "hwcli", "write", "word " * 3000, "-o", str(out), "-q",
                          "--line-height", "12", "--model", models["synth"]], stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmpdir.glob("hwcli-*")) and p.poll() is None:
        time.sleep(0.05)
    assert p.poll() is None, "finished before it could be stopped"
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    assert err.decode().strip().splitlines()[-1] == "hwcli: terminated"
    assert list(tmpdir.iterdir()) == [] and list(out.parent.iterdir()) == []


# ----------------------------------------------------------------------------- class 10: a damaged .npz
@pytest.mark.parametrize("damage, needle", [("order", "out of order"), ("nan", "NaN"), ("scale", "stats.scale")])
def test_npz_with_a_damaged_index_is_one_line(tmp_path, damage, needle):
    import json

    import numpy as np

    from tiny_bundle import make_npz

    src = make_npz(tmp_path, n_lines=6)
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    if damage == "order":
        arrays["starts"] = arrays["starts"].copy()
        arrays["starts"][2], arrays["starts"][3] = arrays["starts"][3], arrays["starts"][2]
    elif damage == "nan":
        arrays["offsets"] = arrays["offsets"].copy()
        arrays["offsets"][5, 0] = np.nan
    else:
        meta = json.loads(str(arrays["meta"]))
        meta["stats"]["scale"] = 0
        arrays["meta"] = np.array(json.dumps(meta))
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    r = runner.invoke(app, ["train", "--data", str(bad), "--out", str(tmp_path / "run"), "--max-steps", "1", "-q",
                            "--hidden", "8", "--layers", "1", "--threads", "1", "--device", "cpu"])
    assert_one_line_error(r, "bad.npz", needle)


# ----------------------------------------------------------------------------- class 9: disk full everywhere
def _full_after(monkeypatch, n_ok: int = 0):
    real, calls = os.fsync, []

    def fsync(fd):
        calls.append(fd)
        if len(calls) > n_ok:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("fmt", ["pdf", "png", "svg"])
def test_disk_full_on_each_page_format_keeps_the_old_file(models, tmp_path, monkeypatch, fmt):
    out = tmp_path / f"o.{fmt}"
    out.write_bytes(b"precious")
    os.chmod(out, 0o604)
    _full_after(monkeypatch)
    assert_one_line_error(write(models, "full disk", "-o", out, "--dpi", "30"), "no space left on device")
    assert out.read_bytes() == b"precious" and stat.S_IMODE(os.stat(out).st_mode) == 0o604
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_disk_full_on_npz_and_checkpoint(tmp_path, monkeypatch):
    from tiny_bundle import make_dataset

    ds = make_dataset()
    npz = tmp_path / "d.npz"
    npz.write_bytes(b"old")
    ck = tmp_path / "checkpoint.pt"
    ck.write_bytes(b"old")
    _full_after(monkeypatch)
    from hwcli.errors import OutputError
    from hwcli.training.loop import save_checkpoint

    with pytest.raises(OutputError, match="no space left on device"):
        ds.save(npz)
    with pytest.raises(OutputError, match="no space left on device"):
        save_checkpoint({"step": 1}, ck)
    assert npz.read_bytes() == b"old" and ck.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "d.npz"]


def test_convert_disk_full_is_one_line(iam_dir, tmp_path, monkeypatch):
    _full_after(monkeypatch)
    r = runner.invoke(app, ["convert", str(iam_dir.root), "-o", str(tmp_path / "x.npz"), "-q"])
    assert_one_line_error(r, "x.npz", "no space left on device")


def test_eval_json_to_a_full_disk_is_one_line(models, tmp_path):
    from hwcli.alphabet import Alphabet
    from hwcli.recognizer.network import Recognizer, RecognizerConfig, save_recognizer

    torch.manual_seed(0)
    rec = save_recognizer(tmp_path / "rec", Recognizer(RecognizerConfig(conv_channels=8, hidden=8, layers=1,
                                                                         alphabet_size=len(Alphabet()))), Alphabet(), 20.0)
    lines = tmp_path / "l.txt"
    lines.write_text("ab\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open("/dev/full", "wb") as full:
        p = subprocess.run([sys.executable, "-m", "hwcli", "eval", "--model", models["synth"], "--recognizer", str(rec),
                            "--input", str(lines), "--json", "-q"], stdout=full, stderr=subprocess.PIPE, env=env,
                           timeout=180)
    err = p.stderr.decode().strip().splitlines()
    assert p.returncode == 1 and len(err) == 1 and err[0].startswith("hwcli: error:") and "no space" in err[0], err


def test_every_written_file_follows_the_umask(models, tmp_path):
    from tiny_bundle import make_dataset

    old = os.umask(0o027)
    try:
        make_dataset().save(tmp_path / "d.npz")
        stem = make_bundle(tmp_path / "b", hidden=8)
        assert write(models, "x", "-o", tmp_path / "p.png", "--dpi", "30").exit_code == 0
    finally:
        os.umask(old)
    for p in (tmp_path / "d.npz", stem.with_suffix(".json"), stem.with_suffix(".safetensors"), tmp_path / "p.png"):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o640, p


def test_inkml_folder_follows_umask_and_a_long_name(tmp_path):
    from hwcli.data.inkml import write_inkml
    from tiny_bundle import make_dataset

    out = tmp_path / ("d" * 249)
    old = os.umask(0o022)
    try:
        write_inkml(make_dataset(), out)
    finally:
        os.umask(old)
    assert out.is_dir() and stat.S_IMODE(os.stat(out).st_mode) == 0o755 and len(list(out.iterdir())) == 6


def test_train_out_that_is_a_file(tmp_path):
    from tiny_bundle import make_npz

    npz = make_npz(tmp_path, n_lines=6)
    (tmp_path / "f").write_text("x")
    r = runner.invoke(app, ["train", "--data", str(npz), "--out", str(tmp_path / "f" / "run"), "-q"])
    assert_one_line_error(r, "is a file")


def test_train_checks_init_and_options_before_reading_data(tmp_path, monkeypatch):
    import hwcli.data.convert as conv

    from tiny_bundle import make_npz

    npz = make_npz(tmp_path, n_lines=6)
    monkeypatch.setattr(conv, "load_dataset", lambda *a, **k: (_ for _ in ()).throw(AssertionError("data read")))
    base = ["--data", str(npz), "--out", str(tmp_path / "run"), "-q"]
    assert_one_line_error(runner.invoke(app, ["train", *base, "--init", str(tmp_path / "none.json")]), "none.json")
    pred = make_bundle(tmp_path / "p", kind="prediction", hidden=8)
    assert_one_line_error(runner.invoke(app, ["train", *base, "--init", str(pred)]), "--unconditional", code=2)
    assert_one_line_error(runner.invoke(app, ["train", *base, "--seed", "-3"]), "--seed", code=2)
    assert_one_line_error(runner.invoke(app, ["train", *base, "--threads", "-1"]), "--threads", code=2)
    assert_one_line_error(runner.invoke(app, ["train", *base, "--lr-half-life", "0"]), "--lr-half-life", code=2)
    assert_one_line_error(runner.invoke(app, ["train-recognizer", *base, "--lr-half-life", "0"]), "--lr-half-life", code=2)
    assert_one_line_error(runner.invoke(app, ["train-recognizer", *base, "--threads", "-1"]), "--threads", code=2)


def test_proc_self_fd_1_writes_to_stdout(models):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-m", "hwcli", "write", "hi", "-o", "/proc/self/fd/1", "--format", "svg", "-q",
                        "--model", models["synth"]], capture_output=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.lstrip().startswith(b"<?xml") and b"<svg" in p.stdout


def test_failed_command_erases_its_progress_bar():
    import io

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    from hwcli.cli.common import clean_progress

    def run(guarded: bool) -> str:
        buf = io.StringIO()
        con = Console(file=buf, force_terminal=True, width=60)
        bar = Progress(TextColumn("train"), BarColumn(), console=con, transient=False)
        with pytest.raises(RuntimeError):
            with (clean_progress(bar) if guarded else bar):
                bar.add_task("t", total=10, completed=3)
                bar.refresh()
                raise RuntimeError("bad")
        return buf.getvalue()

    import re

    tail = lambda s: re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", s.rsplit("\x1b[2K", 1)[-1])  # noqa: E731
    assert "train" in tail(run(False))  # rich alone leaves the bar (and its line) behind
    assert tail(run(True)).strip() == "" and not run(True).endswith("\n\n")
