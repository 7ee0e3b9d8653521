"""`hwcli write` as a user runs it: files opened with a user's tools, stdin/stdout, every bad input."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from hwcli.cli.app import app
from cli_checks import assert_one_line_error
from tiny_bundle import make_bundle

FAST = {"max_steps_per_char": 5, "retries": 0, "check": False}
runner = CliRunner()


@pytest.fixture(scope="module")
def model(tiny_model) -> str:
    return tiny_model


def write(model, *args, input=None):
    return runner.invoke(app, ["write", "--model", model, "--quiet", *args], input=input)


def pdf_paths(reader: PdfReader) -> str:
    return "".join(p.get_contents().get_data().decode("latin-1") for p in reader.pages)


def test_text_to_pdf_has_vector_curves(model, tmp_path):
    out = tmp_path / "letter.pdf"
    res = write(model, "Dear John, see you soon.", "-o", str(out))
    assert res.exit_code == 0, res.output
    reader = PdfReader(str(out))
    assert len(reader.pages) == 1
    ops = pdf_paths(reader)
    assert " c\n" in ops or " c " in ops  # cubic curves, not an image
    assert res.stdout == ""


def test_stdin_to_svg_on_stdout(model):
    res = write(model, "-o", "-", "--format", "svg", input="hello from a pipe\n")
    assert res.exit_code == 0, res.stderr
    root = ET.fromstring(res.stdout)
    ns = {"s": "http://www.w3.org/2000/svg"}
    paths = root.findall(".//s:path", ns)
    assert paths and root.get("width") == "210mm"


def test_input_file_long_text_makes_several_pdf_pages(model, tmp_path):
    src = tmp_path / "essay.txt"
    src.write_text("\n\n".join("word " * 40 for _ in range(12)))
    out = tmp_path / "essay.pdf"
    res = write(model, "--input", str(src), "-o", str(out), "--line-height", "30")
    assert res.exit_code == 0, res.output
    assert len(PdfReader(str(out)).pages) > 1


def test_several_svg_pages_are_numbered_and_inside_the_page(model, tmp_path):
    out = tmp_path / "notes.svg"
    res = write(model, "alpha beta gamma " * 30, "-o", str(out), "--line-height", "40")
    assert res.exit_code == 0, res.output
    files = sorted(tmp_path.glob("notes-*.svg"))
    assert len(files) >= 2 and not out.exists()
    for f in files:
        root = ET.parse(f).getroot()
        for p in root.iter("{http://www.w3.org/2000/svg}path"):
            nums = [float(v) for v in re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)", p.get("d"))]
            xs, ys = nums[0::2], nums[1::2]
            assert min(xs) >= 0 and max(xs) <= 210 and min(ys) >= 0 and max(ys) <= 297


def test_png_output(model, tmp_path):
    out = tmp_path / "x.png"
    res = write(model, "png please", "-o", str(out), "--dpi", "50")
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_file(model, tmp_path):
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    assert write(model, "same seed", "-o", str(a), "--seed", "5").exit_code == 0
    assert write(model, "same seed", "-o", str(b), "--seed", "5").exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_typographic_characters_are_mapped(model, tmp_path):
    res = write(model, "“Cafe” − naive…", "-o", str(tmp_path / "t.pdf"))
    assert res.exit_code == 0, res.output


def test_an_old_model_refuses_characters_of_the_set_it_lacks(model, tmp_path):
    out = tmp_path / "t.pdf"
    msg = assert_one_line_error(write(model, "“Café” – naïve… ☃", "-o", str(out)))
    assert msg.count("unsupported character(s)") == 1 and "'é' at 1:5" in msg and "'☃' at 1:19" in msg  # columns of the text as normalised (… is ...)
    assert "lacks 'é–ï'" in msg and "trained without them" in msg  # said, never silently changed
    assert not out.exists()


def test_a_full_set_model_writes_accents_and_symbols(tmp_path):
    import hwcli
    from hwcli.alphabet import CHARSET

    stem = make_bundle(tmp_path / "full", defaults={"retries": 0, "max_steps_per_char": 5}, chars=CHARSET)
    text = "Crème brûlée – £18.99 @ 20°C «oui» Łódź"
    doc = hwcli.write(text, model=str(stem), check=False)
    assert " ".join(t for pg in doc.pages for t in pg.texts) == text
    res = write(str(stem), text + " ☃", "-o", str(tmp_path / "f.pdf"), "--no-check")
    msg = assert_one_line_error(res)
    assert "1 unsupported character(s): '☃'" in msg and "lacks" not in msg


def test_unsupported_characters_listed_at_once_or_skipped(model, tmp_path):
    out = tmp_path / "u.pdf"
    msg = assert_one_line_error(write(model, "snow ☃\nheart ♥", "-o", str(out)))
    assert "1:6" in msg and "2:7" in msg
    assert not out.exists()
    assert write(model, "snow ☃", "-o", str(out), "--on-unsupported", "skip").exit_code == 0


def test_long_word_is_split_not_lost(model, tmp_path):
    import hwcli

    word = "".join("abcdefghij"[i % 10] for i in range(2000))
    out = tmp_path / "w.pdf"
    res = write(model, word, "-o", str(out), "--line-height", "40")
    assert res.exit_code == 0, res.output
    doc = hwcli.write(word, model=model, page=hwcli.PageOptions(line_height=40))
    pages = list(doc.pages)
    written = [t for pg in pages for t in pg.texts]
    assert "".join(written) == word  # every character, in order, none twice
    assert len(written) > 10 and all(len(ln) for pg in pages for ln in pg.lines)  # each piece has ink
    assert len(PdfReader(str(out)).pages) == len(pages)


@pytest.mark.parametrize(
    "args, needle, code",
    [
        (["--width", "-1"], "width", 2),
        (["--page-size", "B7"], "page", 2),
        (["--style", "9"], "style", 1),
        (["--bias", "-3"], "bias", 2),
        (["--color", "notacolour"], "colo", 2),
        (["--margin", "200"], "margin", 2),
    ],
)
def test_nonsense_options(model, tmp_path, args, needle, code):
    out = tmp_path / "o.pdf"
    msg = assert_one_line_error(write(model, "text", "-o", str(out), *args), code=code)
    assert needle in msg.lower()
    assert not out.exists()


def test_unknown_format_and_enum_values(model, tmp_path):
    assert write(model, "t", "-o", str(tmp_path / "o.docx")).exit_code != 0
    res = write(model, "t", "-o", str(tmp_path / "o.pdf"), "--on-unsupported", "maybe")
    assert res.exit_code == 2


def test_empty_and_binary_input(model, tmp_path):
    assert_one_line_error(write(model, "-o", str(tmp_path / "e.pdf"), input=""))
    assert_one_line_error(write(model, "-o", str(tmp_path / "e.pdf"), input="   \n\n "))
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 20)
    msg = assert_one_line_error(write(model, "--input", str(blob), "-o", str(tmp_path / "e.pdf")))
    assert "binary" in msg or "UTF-8" in msg
    assert_one_line_error(write(model, "--input", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "e.pdf")))


def test_unwritable_output_and_users_file_kept(model, tmp_path):
    assert_one_line_error(write(model, "hi", "-o", str(tmp_path / "no" / "such" / "dir.pdf")))
    assert_one_line_error(write(model, "hi", "-o", str(tmp_path)))
    mine = tmp_path / "mine.pdf"
    mine.write_bytes(b"precious")
    assert_one_line_error(write(model, "bad ☃", "-o", str(mine)))
    assert mine.read_bytes() == b"precious"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mine.pdf")]


def test_corrupt_or_missing_model(model, tmp_path):
    stem = Path(model).with_suffix("")
    (tmp_path / "copy").mkdir()
    bad = tmp_path / "copy" / stem.name
    shutil.copy(stem.with_suffix(".json"), bad.with_suffix(".json"))
    data = bytearray(stem.with_suffix(".safetensors").read_bytes())
    data[-5] ^= 0xFF
    bad.with_suffix(".safetensors").write_bytes(bytes(data))
    msg = assert_one_line_error(write(str(bad) + ".json", "hi", "-o", str(tmp_path / "o.pdf")))
    assert "sha256" in msg
    assert_one_line_error(write(str(tmp_path / "nope.json"), "hi", "-o", str(tmp_path / "o.pdf")))
    (tmp_path / "garbage.json").write_text("{not json")
    assert_one_line_error(write(str(tmp_path / "garbage.json"), "hi", "-o", str(tmp_path / "o.pdf")))


def test_installed_entry_point(model, tmp_path):
    exe = Path(sys.executable).with_name("hwcli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "hwcli"]
    out = tmp_path / "sub.pdf"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd + ["write", "--model", model, "-o", str(out), "-"], input=b"from a subprocess",
                          capture_output=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert len(PdfReader(str(out)).pages) == 1
    proc = subprocess.run(cmd + ["write", "--model", model, "-o", str(out), "--width", "0"], input=b"x",
                          capture_output=True, env=env, timeout=120)
    assert proc.returncode != 0 and b"Traceback" not in proc.stderr


def test_checking_without_a_recognizer_says_why(model, tmp_path, monkeypatch):
    import hwcli.recognizer.network as network
    from hwcli.synthesis import checks

    monkeypatch.setattr(network, "bundled_recognizer_path", lambda: tmp_path / "hwcli-recognizer")
    checks._cached_recognizer.cache_clear()
    out = tmp_path / "c.pdf"
    msg = assert_one_line_error(write(model, "hi", "-o", str(out), "--check"))
    assert "recognizer cannot be loaded" in msg and "not installed" in msg and "--no-check" in msg
    checking = str(make_bundle(tmp_path / "checking", defaults={**FAST, "check": True})) + ".json"
    assert_one_line_error(write(checking, "hi", "-o", str(out)), "recognizer cannot be loaded")  # never silently off
    assert not out.exists()
    assert write(checking, "hi", "-o", str(out), "--no-check").exit_code == 0
    checks._cached_recognizer.cache_clear()
