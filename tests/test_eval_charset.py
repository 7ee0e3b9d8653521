"""`hwcli eval --set charset / everyday`: the line sets, the per-character and per-class figures, tesseract's
language data, models that lack characters (reported, not refused)."""
from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
from typer.testing import CliRunner

from hwcli.alphabet import CHAR_CLASSES, CHARSET, DEFAULT_CHARS
from hwcli.evaluation.charset_sets import CHARSET_CONTEXTS, CHARSET_COPIES, EVERYDAY, MIN_CONTEXTS
from hwcli.evaluation.legibility import char_accuracy, eval_lines, set_class_accuracy
from tiny_bundle import make_bundle, make_recognizer

torch.set_num_threads(1)
FAST = {"retries": 0, "max_steps_per_char": 5, "bias": 1.0}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("evalset")
    return {"old": str(make_bundle(d / "old", defaults=FAST)), "full": str(make_bundle(d / "full", defaults=FAST, chars=CHARSET)),
            "rec": str(make_recognizer(d / "rec")), "recfull": str(make_recognizer(d / "recfull", chars=CHARSET))}


def run(*args, input=None):
    from hwcli.cli.app import app

    return CliRunner().invoke(app, ["eval", "-q", *map(str, args)], input=input)


def test_every_character_of_the_set_in_several_contexts():
    per_line = Counter(c for t in CHARSET_CONTEXTS for c in set(t))
    assert all(per_line[c] >= MIN_CONTEXTS for c in CHARSET if c != " "), [c for c in CHARSET if per_line[c] < MIN_CONTEXTS]
    assert set("".join(CHARSET_CONTEXTS + EVERYDAY)) <= set(CHARSET)  # nothing a full-set model would refuse
    assert len(set(CHARSET_CONTEXTS)) == len(CHARSET_CONTEXTS) and len(set(EVERYDAY)) == len(EVERYDAY)
    assert eval_lines(line_set="charset") == [t for _ in range(CHARSET_COPIES) for t in CHARSET_CONTEXTS]
    for example in ("Cr\u00e8me br\u00fbl\u00e9e", "\u0141\u00f3d\u017a", "j.price@example.org", "20\u00b0C", "\u00a7 12",
                    "\u00ab oui \u00bb", "QXZ-47", "x <= 7", "#42", "Zebra", "3/11"):
        assert any(example in t for t in CHARSET_CONTEXTS), example


def test_everyday_set_holds_what_people_write():
    assert 30 <= len(EVERYDAY) <= 60
    text = "\n".join(EVERYDAY)
    for needed in ("@", "www.", "$", "\u00a3", "\u20ac", "\u00a5", "#", "\u00b0C", "/", "%", ">=", "<", "Invoice"):
        assert needed in text, needed
    accented = [t for t in EVERYDAY if any(c not in DEFAULT_CHARS and c.isalpha() for c in t)]
    assert len(accented) >= 10


def test_eval_sets_are_disjoint_from_every_set_that_chooses_or_trains_weights():
    from hwcli.styles.adapt import REPLAY_CHARSET_TEXTS, REPLAY_TEXTS
    from hwcli.evaluation.legibility import HARD_SENTENCES, SENTENCES
    from hwcli.evaluation.selection import charset_lines, hard_lines
    from hwcli.texts import CALIBRATION

    ours = set(CHARSET_CONTEXTS) | set(EVERYDAY)
    chosen_by = [charset_lines(400, s) for s in range(3)] + [hard_lines(400, s) for s in range(3)]
    others = set(REPLAY_TEXTS) | set(REPLAY_CHARSET_TEXTS) | set(CALIBRATION) | set().union(*map(set, chosen_by))
    assert not ours & others
    assert not set(CHARSET_CONTEXTS) & set(EVERYDAY) and not ours & (set(SENTENCES) | set(HARD_SENTENCES))
    # no line shares a run of four words with a replay line (those teach an adapted network)
    def runs(t):
        w = t.split()
        return {tuple(w[i:i + 4]) for i in range(len(w) - 3)}
    assert not set().union(*map(runs, ours)) & set().union(*map(runs, REPLAY_CHARSET_TEXTS + REPLAY_TEXTS))


def test_per_character_and_per_class_figures_come_from_the_alignment():
    chars = char_accuracy(["Cr\u00e8me 5\u20ac", "#42"], ["Creme 5", "#4Z"])
    assert chars["\u00e8"] == {"right": 0, "total": 1} and chars["\u20ac"] == {"right": 0, "total": 1}
    assert chars["C"] == {"right": 1, "total": 1} and chars["2"] == {"right": 0, "total": 1} and " " not in chars
    cls = set_class_accuracy(chars)
    assert list(cls) == list(CHAR_CLASSES)
    assert cls["letters"] == {"right": 4, "total": 4, "accuracy": 1.0}
    assert cls["accented letters"]["accuracy"] == 0.0 and cls["digits"] == {"right": 2, "total": 3, "accuracy": 2 / 3}
    assert cls["symbols"] == {"right": 1, "total": 2, "accuracy": 0.5} and cls["punctuation"]["accuracy"] is None


def test_charset_set_with_a_full_set_model(models):
    r = run("--model", models["full"], "--recognizer", models["recfull"], "--set", "charset", "--lines", "6", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["set"] == "charset" and doc["lines"] == 6 and doc["ocr_languages"] is None
    assert doc["coverage"] == {"lines": 6, "refused_lines": 0, "not_in_model": "", "not_in_recognizer": ""}
    (row,) = doc["rows"]
    written = "".join(CHARSET_CONTEXTS[:6]).replace(" ", "")
    assert sum(d["total"] for d in row["chars"].values()) == len(written)
    assert set(row["set_classes"]) == set(CHAR_CLASSES) and row["set_classes"]["accented letters"]["total"] > 0
    # the table: classes, the coverage line, a table per character, the characters under the target
    r = run("--model", models["full"], "--recognizer", models["recfull"], "--set", "charset", "--lines", "6")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "accented" in out and "refused lines (holding characters the model lacks): 0 of 6" in out
    assert "per character" in out and "\u00e8" in out and "less than 85%" in out


def test_an_old_model_reports_what_it_lacks_instead_of_failing(models):
    r = run("--model", models["old"], "--recognizer", models["rec"], "--set", "everyday", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    cov = doc["coverage"]
    asked = set("".join(EVERYDAY))
    assert cov["lines"] == len(EVERYDAY) and 0 < cov["refused_lines"] < len(EVERYDAY)
    assert set(cov["not_in_model"]) == {c for c in asked if c not in DEFAULT_CHARS and c != " "}
    assert doc["lines"] == len(EVERYDAY)  # every line written, without what the model lacks
    (row,) = doc["rows"]
    assert not set(row["chars"]) & set(cov["not_in_model"])
    r = run("--model", models["old"], "--recognizer", models["rec"], "--set", "charset", "--lines", "4")
    assert r.exit_code == 0, r.output
    assert "not in the model" in r.stdout and "refused lines" in r.stdout
    # a full-set model read by an old recognizer: the characters it cannot read are said
    r = run("--model", models["full"], "--recognizer", models["rec"], "--set", "everyday", "--lines", "3", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["coverage"]["not_in_recognizer"] == "@_"
    # --input stays strict: one error listing every character the model cannot write
    from cli_checks import assert_one_line_error

    r = CliRunner().invoke(__import__("hwcli.cli.app", fromlist=["app"]).app,
                           ["eval", "--model", models["old"], "--recognizer", models["rec"], "--input", "-"],
                           input="Cr\u00e8me\n")
    assert_one_line_error(r, "1 unsupported character(s)", "lacks '\u00e8'")


def test_tesseract_language_data_for_accents(monkeypatch):
    from hwcli.evaluation import ocr as ocr

    monkeypatch.setattr(ocr, "installed_languages", lambda: ["deu", "eng", "osd", "pol", "fra"])
    assert ocr.accent_languages() == "eng+fra+deu+pol"
    monkeypatch.setattr(ocr, "installed_languages", lambda: [])
    assert ocr.accent_languages() == "eng"


def test_tesseract_reads_the_charset_set_with_the_accent_languages(models, monkeypatch):
    from hwcli.evaluation import ocr as ocr

    seen = []
    monkeypatch.setattr(ocr, "tesseract_path", lambda needed_by="": "/bin/true")
    monkeypatch.setattr(ocr, "accent_languages", lambda: "eng+fra")

    def fake_read(lines, mm_per_unit, page=None, dpi=200, languages="eng"):
        seen.append(languages)
        return ["" for _ in lines]

    monkeypatch.setattr(ocr, "read_lines", fake_read)
    r = run("--model", models["full"], "--recognizer", models["recfull"], "--set", "everyday", "--lines", "2",
            "--reader", "tesseract", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert seen == ["eng+fra"] and doc["ocr_languages"] == "eng+fra"
    assert doc["rows"][0]["ocr_set_classes"]["letters"]["accuracy"] == 0.0
    assert doc["rows"][0]["ocr_empty"] == 2  # both lines have ink and were read as nothing: said, not hidden
    seen.clear()
    r = run("--model", models["full"], "--recognizer", models["recfull"], "--lines", "2", "--reader", "tesseract", "--json")
    assert r.exit_code == 0 and seen == ["eng"]  # the ordinary set is read as before
    seen.clear()
    for text, langs in (("Joyeux No\u00ebl\n", "eng+fra"), ("Dear John, 12 pm\n", "eng")):
        r = run("--model", models["full"], "--recognizer", models["recfull"], "--input", "-", "--reader", "tesseract",
                "--json", input=text)
        assert r.exit_code == 0, r.output
        assert seen[-1] == langs and json.loads(r.stdout)["ocr_languages"] == langs  # --input lines with accents too


def test_checkpoint_scoring_reports_the_accented_letters_and_symbols_of_the_charset_lines(models, monkeypatch):
    import hwcli.evaluation.ocr as ocr
    from hwcli.evaluation.selection import charset_lines, readback_score
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.network import load_recognizer

    langs = []

    def fake_read(strokes, scale, languages="eng", **kw):
        langs.append(languages)
        return ["" for _ in strokes]

    monkeypatch.setattr(ocr, "read_lines", fake_read)
    monkeypatch.setattr(ocr, "accent_languages", lambda: "eng+fra+deu")
    out = readback_score(load_model(models["full"]), load_recognizer(models["recfull"]), [], ["May 4, 1999"],
                         tesseract=True, charset=charset_lines(4))
    for k in ("readback_charset_accented", "readback_charset_symbols", "readback_charset_ocr_accented"):
        assert k in out and (out[k] is None or 0.0 <= out[k] <= 1.0), k
    assert out["readback_charset_ocr_accented"] in (0.0, None)  # tesseract read nothing
    assert langs == ["eng", "eng+fra+deu"]  # the charset lines are read with the accents' language data


def test_with_no_model_eval_writes_the_lines_the_default_lacks_with_the_full_set_model(models, tmp_path, monkeypatch):
    """As `hwcli write` with no --model: a line holding characters the bundled default lacks (or writes poorly,
    `charset.WEAK`) is written by the bundled full-set model, so no line is refused; the others stay with the
    default."""
    from hwcli import charset
    from hwcli.model import bundle as bundle_module

    bundled = tmp_path / "models"
    bundled.mkdir()
    make_bundle(bundled / charset.BUNDLED, defaults=FAST)  # the same weights as models["old"] and ["full"]
    make_bundle(bundled / charset.FULL_SET, defaults=FAST, chars=CHARSET)
    monkeypatch.setattr(bundle_module, "bundled_model_path", lambda name=bundle_module.DEFAULT_MODEL: bundled / name)
    monkeypatch.setattr(charset, "_bundled_json", lambda name: bundled / f"{name}.json")
    charset.bundled_alphabet.cache_clear()
    import hwcli.synthesis as synthesis_module

    seen = []
    real = synthesis_module.synthesize

    def spy(b, lines, *a, **k):  # which bundle writes which lines
        seen.append((b.path.rsplit("/", 1)[-1], list(lines)))
        return real(b, lines, *a, **k)

    monkeypatch.setattr(synthesis_module, "synthesize", spy)
    try:
        r = run("--recognizer", models["recfull"], "--set", "everyday", "--lines", "8", "--json", "--no-check")
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert doc["coverage"]["refused_lines"] == 0 and doc["coverage"]["not_in_model"] == ""
        assert doc["full_set_model"].endswith(charset.FULL_SET) and doc["lines"] == 8
        by = dict(seen)
        assert set(by) == {charset.BUNDLED, charset.FULL_SET}
        plain = set(DEFAULT_CHARS) - set(charset.WEAK)  # what the default writes well
        assert all(set(t) <= plain for t in by[charset.BUNDLED])
        assert all(not set(t) <= plain for t in by[charset.FULL_SET])
        assert sorted(by[charset.BUNDLED] + by[charset.FULL_SET]) == sorted(" ".join(t.split()) for t in EVERYDAY[:8])
        # a model asked for by name is measured alone
        r = run("--model", models["old"], "--recognizer", models["rec"], "--set", "everyday", "--lines", "8", "--json")
        assert json.loads(r.stdout)["coverage"]["refused_lines"] > 0 and json.loads(r.stdout)["full_set_model"] is None
    finally:
        charset.bundled_alphabet.cache_clear()


def test_the_table_says_when_tesseract_read_a_line_as_nothing(models, monkeypatch):
    """tesseract's page segmentation now and then finds no text in a plainly written line; the figure counts it
    as all wrong, and the table says how many such lines there were (none: nothing said)."""
    from hwcli.evaluation import ocr as ocr

    monkeypatch.setattr(ocr, "tesseract_path", lambda needed_by="": "/bin/true")
    readings = {"n": 0}

    def fake_read(lines, mm_per_unit, page=None, dpi=200, languages="eng"):
        readings["n"] += 1
        return ["" if readings["mode"] == "empty" and i == 0 else "some words" for i, _ in enumerate(lines)]

    monkeypatch.setattr(ocr, "read_lines", fake_read)
    for mode, said in (("empty", True), ("all", False)):
        readings["mode"] = mode
        r = run("--model", models["full"], "--recognizer", models["recfull"], "--lines", "2", "--reader", "tesseract",
                "--no-check")
        assert r.exit_code == 0, r.output
        text = " ".join(r.stdout.split())
        assert ("tesseract read nothing in 1 line(s) with ink" in text) is said, text[-400:]


def test_the_table_title_names_both_bundles_by_file_name():
    from hwcli.cli.eval import _model_label

    assert _model_label("/x/models/hwcli-synthesis", None) == "hwcli-synthesis"
    assert (_model_label("/x/models/hwcli-synthesis", "/x/models/hwcli-charset")
            == "hwcli-synthesis (lines with other characters of the set: hwcli-charset)")
