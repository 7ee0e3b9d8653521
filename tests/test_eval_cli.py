"""`hwcli eval` through CliRunner with a tiny random synthesis bundle and a tiny random recognizer."""
from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from hwcli.alphabet import Alphabet
from hwcli.cli.eval import COLUMNS
from hwcli.evaluation.legibility import SENTENCES, eval_lines
from hwcli.recognizer.network import Recognizer, RecognizerConfig, save_recognizer
from tiny_bundle import make_bundle, make_npz
from cli_checks import assert_one_line_error

torch.set_num_threads(1)
FAST = {"retries": 0, "max_steps_per_char": 5, "bias": 1.0}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("eval")
    synth = make_bundle(d / "synth", defaults=FAST)
    torch.manual_seed(0)
    rec = save_recognizer(d / "rec", Recognizer(RecognizerConfig(conv_channels=8, hidden=8, layers=1,
                                                                 alphabet_size=len(Alphabet()))), Alphabet(), 20.0)
    lines = d / "lines.txt"
    lines.write_text("ab\n\ncd e\n")
    return {"dir": d, "synth": str(synth), "rec": str(rec), "lines": str(lines)}


def run(models, *args, input=None):
    base = ["eval", "--model", models["synth"], "--recognizer", models["rec"], "-q"]
    return CliRunner().invoke(app_(), [*base, *map(str, args)], input=input)


def app_():
    from hwcli.cli.app import app

    return app



def test_json_has_the_columns(models):
    r = run(models, "--input", models["lines"], "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["lines"] == 2 and doc["reference"] is None and doc["columns"] == list(COLUMNS)
    (row,) = doc["rows"]
    assert set(COLUMNS) <= set(row)
    assert row["style"].startswith("0") and row["bias"] == 1.0 and row["check"] is True and row["lines"] == 2
    for k in ("cer", "wer", "failed", "resampled"):
        assert 0.0 <= row[k] <= 10.0
    assert row["sample_s_per_line"] > 0
    texts = [t.strip() for t in open(models["lines"], encoding="utf-8") if t.strip()]
    assert [d["text"] for d in row["readings"]] == texts  # each line with what the readers made of it
    assert all(isinstance(d["recognizer"], str) and d["tesseract"] is None and d["attempts"] >= 1
               for d in row["readings"])


def test_every_style_bias_and_check_setting(models, tmp_path):
    npz = make_npz(tmp_path, n_lines=4)
    r = run(models, "--input", "-", "--style", "all", "--bias", "0.5", "--bias", "2", "--compare-check",
            "--reference", npz, "--reference-lines", "0", "--json", input="hi\n")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    combos = {(row["style"].split(":")[0], row["bias"], row["check"]) for row in doc["rows"]}
    assert combos == {(s, b, c) for s in "012" for b in (0.5, 2.0) for c in (True, False)}
    assert doc["reference"]["lines"] == 2 and 0.0 <= doc["reference"]["cer"]
    assert doc["reference"]["classes"]["lower"]["total"] > 0 and doc["reference"]["ocr_cer"] is None


def test_hard_set_reference_reads_only_real_lines_with_digits_or_capitals(models, tmp_path):
    # testset_v holds the last 3 lines: one with digits, one with three capitals, one plain
    npz = make_npz(tmp_path, n_lines=5, n_valid=3, texts=["ab", "cd", "Call 0161", "ab cd", "ABC de"])
    r = run(models, "--set", "hard", "--lines", "1", "--reference", npz, "--reference-lines", "0", "--json")
    assert r.exit_code == 0, r.output
    ref = json.loads(r.stdout)["reference"]
    assert ref["lines"] == 2 and ref["classes"]["digits"]["total"] == 4 and ref["classes"]["capitals"]["total"] == 4
    # the ordinary set reads every validation line
    r = run(models, "--lines", "1", "--reference", npz, "--reference-lines", "0", "--json")
    assert json.loads(r.stdout)["reference"]["lines"] == 3
    # a reference with no such line is one clear error, before sampling
    (tmp_path / "plain").mkdir()
    plain = make_npz(tmp_path / "plain", n_lines=4, n_valid=2, texts=["ab", "cd"])
    assert_one_line_error(run(models, "--set", "hard", "--reference", plain), "digits or capitals")


def test_table_on_stdout(models):
    r = run(models, "--input", models["lines"], "--style", "loose", "--no-check", "--threads", "1")
    assert r.exit_code == 0, r.output
    assert "CER" in r.stdout and "WER" in r.stdout and "1: loose" in r.stdout and "off" in r.stdout


def test_missing_recognizer(models, tmp_path):
    r = CliRunner().invoke(app_(), ["eval", "--model", models["synth"], "--recognizer", str(tmp_path / "none"),
                                    "--input", models["lines"]])
    assert_one_line_error(r, "not found")


def test_unknown_styles_are_reported_together(models):
    r = run(models, "--input", models["lines"], "--style", "7", "--style", "fancy", "--style", "neat")
    assert_one_line_error(r, "7", "fancy", "0: neat")


def test_bad_inputs(models, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("ok\nno \u4e2d here \u263a\n")
    assert_one_line_error(run(models, "--input", bad), "2 unsupported")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    assert_one_line_error(run(models, "--input", empty), "no text lines")
    assert_one_line_error(run(models, "--input", tmp_path / "nope.txt"), "does not exist")
    binary = tmp_path / "lines.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)  # the same input checks as `hwcli write`
    assert_one_line_error(run(models, "--input", binary), "binary")
    assert_one_line_error(run(models, "--input", models["lines"], "--bias", "-1"), "bias", code=2)
    assert_one_line_error(run(models, "--input", models["lines"], "--reference", tmp_path / "x.npz"), "does not exist")
    assert_one_line_error(run(models, "--input", models["lines"], "--segment-chars", "3"), "segment_chars", code=2)


def test_segment_chars_reaches_the_sampler(models, tmp_path):
    long = tmp_path / "long.txt"
    long.write_text("the quick brown fox jumps over the lazy dog and runs far away\n")
    for n in (0, 12):
        r = run(models, "--input", long, "--segment-chars", n, "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["segment_chars"] == n


def test_builtin_sentences():
    assert len(SENTENCES) == 100 == len(set(SENTENCES))
    assert all(30 <= len(s) <= 60 and not Alphabet().unsupported(s) for s in SENTENCES)
    assert eval_lines(3) == list(SENTENCES[:3]) and len(eval_lines(120)) == 120


# ----------------------------------------------------------------------------- hard set, classes, tesseract
def test_class_accuracy_counts_aligned_characters():
    from hwcli.evaluation.legibility import class_accuracy

    acc = class_accuracy(["Call 0161 at 9:30.", "QUICK fox"], ["Cali 0l61 at 9:3o", "QUICK fix"])
    assert acc["digits"] == {"right": 5, "total": 7, "accuracy": 5 / 7}  # '1' read 'l', '0' read 'o'
    assert acc["capitals"]["right"] == acc["capitals"]["total"] == 6
    assert acc["punctuation"] == {"right": 1, "total": 2, "accuracy": 0.5}  # the final '.' is missing
    assert acc["lower"]["total"] == 8 and acc["lower"]["right"] == 6  # 'l' -> 'i', 'o' -> 'i'
    assert class_accuracy([], [])["digits"]["accuracy"] is None


def test_hard_set_is_writable_and_full_of_what_is_hard():
    from hwcli.evaluation.legibility import HARD_SENTENCES, SENTENCES, char_class

    alphabet = Alphabet()
    assert len(HARD_SENTENCES) >= 40 and not set(HARD_SENTENCES) & set(SENTENCES)
    for s in HARD_SENTENCES:
        assert all(c in alphabet for c in s), s
        assert len(s) <= 60
    classes = [char_class(c) for s in HARD_SENTENCES for c in s]
    assert classes.count("digits") > 200 and classes.count("capitals") > 150
    assert sum(s.isupper() for s in HARD_SENTENCES) >= 6  # all-caps lines


def test_hard_set_and_classes_through_the_cli(models):
    r = run(models, "--set", "hard", "--lines", "2", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["set"] == "hard" and doc["lines"] == 2
    assert doc["rows"][0]["classes"]["digits"]["total"] > 0 and doc["rows"][0]["ocr_cer"] is None


def test_tesseract_missing_is_one_line_before_sampling(models, monkeypatch):
    import shutil

    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "tesseract" else real(name, *a, **k))
    r = run(models, "--reader", "tesseract", "--lines", "1")
    assert_one_line_error(r, "tesseract")


@pytest.mark.skipif(__import__("shutil").which("tesseract") is None, reason="tesseract is not installed")
def test_tesseract_reads_a_rendered_line():
    """The OCR path end to end on clean synthetic ink: printed-like block letters 'IL IL' must read back."""
    import numpy as np

    from hwcli.evaluation.ocr import line_image, read_lines

    def letters() -> np.ndarray:
        pts = []
        x = 0.0
        for ch in "IL IL":
            if ch == "I":
                pts += [[x, -10, 0], [x, 0, 1]]
            elif ch == "L":
                pts += [[x, -10, 0], [x, 0, 0], [x + 5, 0, 1]]
            x += 9.0
        pts = np.array(pts, np.float32)
        off = pts.copy()
        off[1:, :2] = np.diff(pts[:, :2], axis=0)
        return off

    img = line_image(letters(), 0.6)
    assert img.shape[2] == 3 and img.min() < 128 and (img[0] == 255).all()  # ink inside a white border
    (text,) = read_lines([letters()], 0.6)
    assert text.replace(" ", "").upper().count("L") >= 1 and len(text) >= 3, text


def test_tesseract_eval_row(models):
    pytest.importorskip("shutil").which("tesseract") or pytest.skip("tesseract is not installed")
    r = run(models, "--input", models["lines"], "--reader", "tesseract", "--json")
    assert r.exit_code == 0, r.output
    row = json.loads(r.stdout)["rows"][0]
    assert row["ocr_cer"] is not None and row["ocr_cer"] >= 0 and "digits" in row["ocr_classes"]


def test_tesseract_reads_the_reference_too(models, tmp_path):
    pytest.importorskip("shutil").which("tesseract") or pytest.skip("tesseract is not installed")
    npz = make_npz(tmp_path, n_lines=4)
    r = run(models, "--input", models["lines"], "--reader", "tesseract", "--reference", npz, "--json")
    assert r.exit_code == 0, r.output
    ref = json.loads(r.stdout)["reference"]
    assert ref["lines"] == 2 and ref["ocr_cer"] >= 0 and "digits" in ref["ocr_classes"]


def test_line_seeds_give_each_line_its_own_stream(models, tmp_path, monkeypatch):
    """--line-seeds: each line is drawn from (seed, its number), so a line is written the same beside other
    neighbours, and the JSON says so."""
    import numpy as np

    from hwcli.synthesis import synthesize as plain

    seen = []

    def spy(b, lines, *a, **k):
        out = plain(b, lines, *a, **k)
        seen.append((list(lines), k.get("seeds"), [np.array(r.strokes) for r in out]))
        return out

    monkeypatch.setattr("hwcli.synthesis.synthesize", spy)
    docs = []
    for second in ("cd e", "xy zz"):
        f = tmp_path / "in.txt"
        f.write_text(f"ab\n{second}\n")
        r = run(models, "--input", f, "--json", "--line-seeds", "--seed", 3)
        assert r.exit_code == 0, r.output
        docs.append(json.loads(r.stdout))
    assert all(d["line_seeds"] is True for d in docs)
    (l1, s1, o1), (l2, s2, o2) = seen
    assert s1 == s2 and len(s1) == 2 and s1[0] != s1[1]  # a seed per line, from the seed and the line's number
    np.testing.assert_array_equal(o1[0], o2[0])  # "ab" written the same beside another line
    r = run(models, "--input", tmp_path / "in.txt", "--json")
    assert json.loads(r.stdout)["line_seeds"] is False and seen[-1][1] is None
