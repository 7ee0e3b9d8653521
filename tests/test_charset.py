"""hwcli's character set for users: refusals that name the model, personal styles and adaptation keep the set."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from hwcli import charset
from hwcli.alphabet import CHARSET, DEFAULT_CHARS, Alphabet
from hwcli.errors import UnsupportedCharactersError
from hwcli.model.bundle import Style, load_model
from tiny_bundle import glyph_offsets, make_bundle
from cli_checks import assert_one_line_error

torch.set_num_threads(1)
FAST = {"retries": 0, "max_steps_per_char": 5, "bias": 1.0, "check": False}
NEW = [c for c in CHARSET if c not in DEFAULT_CHARS]


@pytest.fixture(scope="module")
def old(tmp_path_factory):
    return str(make_bundle(tmp_path_factory.mktemp("old") / "old", defaults=FAST))


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    return str(make_bundle(tmp_path_factory.mktemp("full") / "full", defaults=FAST, chars=CHARSET))


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HWCLI_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def run(*args):
    from hwcli.cli.app import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_refusal_names_the_model_and_one_that_writes_the_characters(old, monkeypatch):
    bundle = load_model(old)
    with pytest.raises(UnsupportedCharactersError) as info:
        charset.prepare_text(bundle, "Cr\u00e8me at 5\u20ac")
    msg = str(info.value)
    assert "2 unsupported character(s)" in msg and f"{old} lacks '\u00e8\u20ac'" in msg
    # the bundled models that write them, the default first, then hwcli-charset; else "a model trained on ..."
    monkeypatch.setattr(charset, "bundled_alphabet", lambda name=charset.BUNDLED: None)
    with pytest.raises(UnsupportedCharactersError, match="a model trained on the full set writes them"):
        charset.prepare_text(bundle, "Cr\u00e8me")
    monkeypatch.setattr(charset, "bundled_alphabet", lambda name=charset.BUNDLED: CHARSET if name == "hwcli-charset" else None)
    with pytest.raises(UnsupportedCharactersError, match=r"the bundled hwcli-charset \(--model hwcli-charset\) writes them"):
        charset.prepare_text(bundle, "Cr\u00e8me")
    monkeypatch.setattr(charset, "bundled_alphabet", lambda name=charset.BUNDLED: CHARSET)
    with pytest.raises(UnsupportedCharactersError, match="the bundled hwcli-synthesis writes them"):
        charset.prepare_text(bundle, "Cr\u00e8me")
    with pytest.raises(UnsupportedCharactersError) as info:  # outside the set: no word about the model
        charset.prepare_text(bundle, "snow \u2603")
    assert "lacks" not in str(info.value)
    assert charset.prepare_text(bundle, "Cr\u00e8me \u2603", "skip") == "Crme "


def test_coverage_note_and_summary():
    assert charset.coverage_note(CHARSET) is None
    note = charset.coverage_note(DEFAULT_CHARS, "old")
    assert note.startswith(f"old writes {len(DEFAULT_CHARS)} of the {len(CHARSET)} characters: it lacks {len(NEW)}")
    assert charset.lacking(DEFAULT_CHARS) == "".join(NEW)
    assert "printable ASCII" in charset.SUMMARY and all(c in charset.SUMMARY for c in "\u20ac\u00a3\u00a5\u00b1")
    assert charset.bundled_alphabet() is not None  # read from the bundled JSON, no torch needed


def test_help_and_styles_say_the_set(old, full):
    r = run("--help")
    assert r.exit_code == 0 and "printable ASCII" in " ".join(r.stdout.split())
    r = run("styles", "--model", old)
    assert r.exit_code == 0, r.output
    assert "printable ASCII" in " ".join(r.stdout.split()) and f"lacks {len(NEW)}" in " ".join(r.output.split())
    r = run("styles", "--model", full)
    assert r.exit_code == 0 and "lacks" not in r.output


# ----------------------------------------------------------------------------- personal styles
def write_ink(folder, texts):
    from tiny_bundle import write_inkml

    return write_inkml(folder, texts)


ACCENTED = ["Cr\u00e8me br\u00fbl\u00e9e", "\u0141\u00f3d\u017a in May", "Stra\u00dfe 12", "j.price@example.org",
            "\u00a318.99 each", "20\u00b0C today"]

def test_styles_add_accepts_ink_holding_the_models_characters(full, old, tmp_path, home):
    ink = write_ink(tmp_path / "mine", ACCENTED)
    r = run("styles", "add", "me", ink, "--model", full, "--no-check")
    assert r.exit_code == 0, r.output
    doc = json.loads((home / "styles" / "me" / "style.json").read_text(encoding="utf-8"))
    assert doc["lines"] == len(ACCENTED)
    # the same ink for a model without these characters: refused, naming the line and why
    r = run("styles", "add", "you", ink, "--model", old, "--no-check")
    assert_one_line_error(r, "line-01.inkml: character(s) the model cannot write: '\u00e8\u00e9\u00fb'",
                          "trained without")


def test_regularisation_prefers_lines_with_the_new_characters(full, old, monkeypatch):
    from hwcli.styles.adapt import REPLAY_CHARSET_SHARE, REPLAY_CHARSET_TEXTS, REPLAY_TEXTS, regularisation_lines, replay_texts

    assert set(NEW) <= set("".join(REPLAY_CHARSET_TEXTS)) and set("".join(REPLAY_CHARSET_TEXTS)) <= set(CHARSET)
    # an old alphabet replays exactly the plain texts, as before
    assert replay_texts(Alphabet(), 20) == [REPLAY_TEXTS[j % len(REPLAY_TEXTS)] for j in range(20)]
    texts = replay_texts(Alphabet(CHARSET), 20)
    with_new = [t for t in texts if any(c in NEW for c in t)]
    assert len(with_new) == int(20 * REPLAY_CHARSET_SHARE) and texts[1] in with_new and texts[0] not in with_new
    # a partial alphabet: texts cut to what it has, and kept only where a new character is left
    part = Alphabet(DEFAULT_CHARS + "\u00e9\u00e8@")
    got = replay_texts(part, 40)
    assert all(c in part for t in got for c in t) and any("\u00e9" in t for t in got) and any("@" in t for t in got)
    # priming lines holding new characters come first (a tiny "base data": the bundle's styles)
    bundle = load_model(full)
    bundle.styles.append(Style("accents", "Cr\u00e8me", glyph_offsets("Cr\u00e8me"), source="synthetic"))
    lines = regularisation_lines(bundle, 2)
    assert [t for _, t in lines] == ["Cr\u00e8me", "abc"]
    # the sampled share holds them too (what the bundle is asked to write; sampling itself is tested elsewhere)
    import hwcli.synthesis as S

    asked = []

    def fake(bundle, texts, opts, **kw):
        asked.extend(texts)
        return [type("R", (), {"ok": True, "strokes": glyph_offsets(t), "text": t})() for t in texts]

    monkeypatch.setattr(S, "synthesize", fake)
    lines = regularisation_lines(bundle, 14)
    assert len(lines) == 14 and len(asked) == 10 and sum(any(c in NEW for c in t) for t in asked) == 5
    asked.clear()
    regularisation_lines(load_model(old), 6)
    assert asked and all(all(c in DEFAULT_CHARS for c in t) for t in asked)


def test_the_character_sheet_shows_every_character_of_the_set():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "docs_sheet.py"
    spec = importlib.util.spec_from_file_location("docs_sheet", path)
    sheet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sheet)
    assert set(CHARSET) <= set(" ".join(sheet.LINES)) and set(" ".join(sheet.LINES)) <= set(CHARSET)
    assert max(map(len, sheet.LINES)) <= 52  # one column of the sheet


# ----------------------------------------------------------------------------- no --model: the full-set model
@pytest.fixture
def bundled(tmp_path, monkeypatch):
    """Tiny stand-ins for the bundled models: the default (IAM-OnDB's characters) and the full-set one."""
    from hwcli.model import bundle as bundle_module

    models = tmp_path / "models"
    models.mkdir()
    make_bundle(models / charset.BUNDLED, defaults=FAST)
    make_bundle(models / charset.FULL_SET, defaults=FAST, chars=CHARSET)
    monkeypatch.setattr(bundle_module, "bundled_model_path", lambda name=bundle_module.DEFAULT_MODEL: models / name)
    monkeypatch.setattr(charset, "_bundled_json", lambda name: models / f"{name}.json")
    charset.bundled_alphabet.cache_clear()
    charset._bundled_doc.cache_clear()
    yield models
    charset.bundled_alphabet.cache_clear()
    charset._bundled_doc.cache_clear()


def _written_by(bundle):
    from pathlib import Path

    return Path(bundle.path).name


def test_with_no_model_the_lines_the_default_lacks_or_writes_poorly_go_to_the_full_set_model(bundled, monkeypatch):
    from hwcli.page import PageOptions
    from hwcli.synthesis import SamplingOptions
    from hwcli.writing import compose
    from hwcli.writing.compose import Composer

    wrote = []
    real = compose.synthesize

    def spy(bundle, lines, *a, **k):  # which bundle writes which lines
        wrote.append((_written_by(bundle), list(lines)))
        return real(bundle, lines, *a, **k)

    monkeypatch.setattr(compose, "synthesize", spy)
    comp = Composer.load(None, SamplingOptions(style=1, check=False), PageOptions().line_height)
    assert _written_by(comp.bundle) == charset.BUNDLED
    assert not comp.needs_full("Plain words, 3 of them.") and comp.needs_full("3/11") and comp.needs_full("caf\u00e9")
    assert comp.needs_full("see [3]") and comp.needs_full("[sic]") and not comp.needs_full("see (3)")  # brackets: weak
    assert comp.prepare("Cr\u00e8me @ \u00a318", "error")[0] == "Cr\u00e8me @ \u00a318"
    lines = ["Plain words.", "Cr\u00e8me @ \u00a318", "On 3/11 at 5.", "More plain words."]
    res = comp.sample(lines, seeds=[1, 2, 3, 4])
    assert [r.text for r in res] == lines
    assert wrote == [(charset.BUNDLED, [lines[0], lines[3]]), (charset.FULL_SET, [lines[1], lines[2]])]
    # each line's strokes depend on its text and seed alone, not on which other lines were written with it
    alone = comp.sample([lines[3]], seeds=[4])[0]
    assert np.array_equal(alone.strokes, res[3].strokes)
    wrote.clear()
    comp.sample(["Only plain words."], seeds=[5])
    assert wrote == [(charset.BUNDLED, ["Only plain words."])]
    # outside the set: still refused (by what the full-set model lacks alone), or left out
    with pytest.raises(UnsupportedCharactersError) as info:
        comp.prepare("caf\u00e9 \u2603", "error")
    assert "1 unsupported character(s): '\u2603'" in str(info.value) and "lacks" not in str(info.value)
    assert comp.prepare("caf\u00e9 \u2603", "skip")[0] == "caf\u00e9 "
    # a model asked for by name is never swapped: it refuses what it lacks and names the one that writes it
    named = Composer.load(charset.BUNDLED, SamplingOptions(check=False), PageOptions().line_height)
    assert not named.needs_full("caf\u00e9")
    with pytest.raises(UnsupportedCharactersError, match=r"hwcli-charset \(--model hwcli-charset\) writes them"):
        named.prepare("caf\u00e9", "error")


def test_in_the_full_set_styles_the_full_set_model_writes_every_line(bundled, monkeypatch):
    """In a built-in style flagged `full_set` in the default bundle (print hands it reads better in) the full-set model writes
    every line with no model asked for, plain ones too; in the other styles only the lines that need it; `hwcli
    eval` routes them the same way; a model asked for by name never."""
    from hwcli.cli.eval import _full_set
    from hwcli.evaluation import legibility
    from hwcli.page import PageOptions
    from hwcli.synthesis import SamplingOptions
    from hwcli.writing import compose
    from hwcli.writing.compose import Composer

    flag = bundled / f"{charset.BUNDLED}.json"  # the tiny default bundle's style 1 is flagged
    doc = json.loads(flag.read_text(encoding="utf-8"))
    doc["styles"][1]["full_set"] = True
    flag.write_text(json.dumps(doc), encoding="utf-8")
    charset._bundled_doc.cache_clear()
    # the full-set model writes style 1 twice as wide and half as tall (its own measurements of the style)
    path = bundled / f"{charset.FULL_SET}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["styles"][1]["char_width"] = 2 * (doc["styles"][1].get("char_width") or 3.0)
    doc["styles"][1]["body_height"] = 0.5 * (doc["styles"][1].get("body_height") or 3.0)
    path.write_text(json.dumps(doc), encoding="utf-8")
    wrote = []
    real = compose.synthesize

    def spy(bundle, lines, *a, **k):
        wrote.append((_written_by(bundle), list(lines)))
        return real(bundle, lines, *a, **k)

    monkeypatch.setattr(compose, "synthesize", spy)
    h = PageOptions().line_height
    comp = Composer.load(None, SamplingOptions(style=1, check=False), h)
    assert comp.all_full and comp.needs_full("Plain words.")
    # ...so the page is laid out and sized for the hand as that model writes it
    mine = compose.hand_metrics(load_model(None), load_model(None).style(1), h)
    theirs = compose.hand_metrics(load_model(charset.FULL_SET), load_model(charset.FULL_SET).style(1), h)
    assert (comp.scale, comp.char_width) == theirs != mine
    lines = ["Plain words.", "Caf\u00e9 at 5."]
    comp.sample(lines, seeds=[1, 2])
    assert wrote == [(charset.FULL_SET, lines)]
    wrote.clear()
    comp.sample(lines, seeds=[1, 2], style=0)  # another style asked for in the call: routed as that style is
    assert wrote == [(charset.BUNDLED, lines[:1]), (charset.FULL_SET, lines[1:])]
    other = Composer.load(None, SamplingOptions(style=0, check=False), h)
    assert not other.all_full and not other.needs_full("Plain words.") and other.needs_full("caf\u00e9")
    named = Composer.load(charset.BUNDLED, SamplingOptions(style=1, check=False), h)
    assert named.full_set is None and not named.all_full
    default = load_model(None)
    assert charset.writes_all(default, default.style(1)) and not charset.writes_all(default, default.style(0))
    assert not charset.writes_all(default, Style("loose", "abc", glyph_offsets("abc"), full_set=True))  # not built in
    assert charset._full_set_style_numbers() == " (styles 1)"
    # eval: the full-set model is loaded for plain lines in such a style, and writes them all
    assert _full_set(None, default, ["1"], ["Plain words."]) is not None
    assert _full_set(None, default, ["0"], ["Plain words."]) is None
    assert _full_set(None, default, ["all"], ["Plain words."]) is not None
    full = load_model(charset.FULL_SET)
    from hwcli.synthesis import synthesize as plain_synthesize

    calls = []
    monkeypatch.setattr("hwcli.synthesis.synthesize", lambda b, ls, *a, **k: calls.append(_written_by(b)) or
                        plain_synthesize(b, ls, *a, **k))
    monkeypatch.setattr("hwcli.recognizer.reading.read_strokes", lambda rec, strokes, scale=None: [""] * len(strokes))
    legibility.evaluate(default, None, ["Plain words.", "Caf\u00e9."], 1, 1.0, False, full=full)
    legibility.evaluate(default, None, ["Plain words.", "Caf\u00e9."], 0, 1.0, False, full=full)
    assert calls == [charset.FULL_SET, charset.BUNDLED, charset.FULL_SET]


def test_the_full_set_styles_are_the_print_styles_both_bundled_models_have():
    """The default bundle flags every style that is not joined-up cursive (the full-set model joins those even
    more); the full-set model has the same styles at the same numbers."""
    from pathlib import Path

    import hwcli

    models = Path(hwcli.__file__).resolve().parent.parent / "models"
    default, full = (json.loads((models / f"{n}.json").read_text(encoding="utf-8"))["styles"]
                     for n in (charset.BUNDLED, charset.FULL_SET))
    assert [s["name"] for s in default] == [s["name"] for s in full]
    flagged = {s["name"] for s in default if s.get("full_set")}
    print_styles = {s["name"] for s in default if "joined cursive" not in s.get("description", "")}
    assert flagged == print_styles and len(flagged) >= 19
    assert not {"flowing cursive", "running hand", "narrow cursive", "looped cursive"} & flagged


def test_write_and_the_cli_with_no_model_write_every_character_of_the_set(bundled, tmp_path):
    import hwcli
    from hwcli.cli.app import app

    text = "Cr\u00e8me br\u00fbl\u00e9e \u2013 \u00a318.99 @ 20\u00b0C"
    doc = hwcli.write(text, check=False)
    assert " ".join(t for pg in doc.pages for t in pg.texts) == text
    out = tmp_path / "t.svg"
    r = CliRunner().invoke(app, ["write", text, "-o", str(out), "--quiet", "--no-check"])
    assert r.exit_code == 0, r.output
    assert out.is_file()
    r = CliRunner().invoke(app, ["write", text, "-o", str(tmp_path / "m.svg"), "--model", charset.BUNDLED, "--quiet"])
    assert_one_line_error(r, "unsupported character(s)", "lacks")  # asked for by name: refused, said why
    r = CliRunner().invoke(app, ["--help"])
    assert f"the bundled {charset.FULL_SET}, in the same style, every line holding another character" in " ".join(r.output.split())


def test_a_batch_writes_every_character_of_the_set_with_no_model(bundled, tmp_path):
    from hwcli.writing.batch import write_many

    docs = {"a": "Plain words.", "b": "Caf\u00e9 @ 5 \u20ac\nand plain words", "c": "More plain words.",
            "d": "\u00a1Ol\u00e9!"}
    report = write_many(docs, tmp_path / "out", fmt="svg", check=False, seed=3)
    assert [r.status for r in report.docs] == ["written"] * 4, [r.error for r in report.docs]
    alone = write_many({"b": docs["b"]}, tmp_path / "alone", fmt="svg", check=False, seed=3)
    assert alone.docs[0].status == "written"
    assert (tmp_path / "out" / "b.svg").read_bytes() == (tmp_path / "alone" / "b.svg").read_bytes()
    bad = write_many({"e": "snow \u2603 caf\u00e9"}, tmp_path / "bad", fmt="svg", check=False)
    assert bad.docs[0].status == "failed" and "'\u2603'" in bad.docs[0].error


def test_personal_styles_with_no_model_write_every_character_of_the_set(bundled, tmp_path, home):
    """With no model, a style is made for the full-set model, from ink holding characters the default lacks or
    not; a style made for the default (asked for by name, or made before session 20) writes the lines that need
    the full set with that model in the same hand."""
    accented = write_ink(tmp_path / "accented", ACCENTED)
    r = run("styles", "add", "mine", accented, "--no-check")
    assert r.exit_code == 0, r.output
    assert json.loads((home / "styles" / "mine" / "style.json").read_text(encoding="utf-8"))["model"] == charset.FULL_SET
    plain = write_ink(tmp_path / "plain", ["The quick brown fox", "jumps over the lazy dog", "and runs away home"])
    r = run("styles", "add", "yours", plain, "--no-check")
    assert r.exit_code == 0, r.output
    assert json.loads((home / "styles" / "yours" / "style.json").read_text(encoding="utf-8"))["model"] == charset.FULL_SET
    r = run("styles", "add", "theirs", plain, "--no-check", "--model", charset.BUNDLED)
    assert r.exit_code == 0, r.output
    assert json.loads((home / "styles" / "theirs" / "style.json").read_text(encoding="utf-8"))["model"] == charset.BUNDLED
    for style in ("mine", "yours", "theirs"):
        out = tmp_path / f"{style}.svg"
        r = run("write", "Cr\u00e8me br\u00fbl\u00e9e @ 20\u00b0C\nand plain words", "--style", style, "-o", str(out),
                "--no-check", "--quiet")
        assert r.exit_code == 0, r.output
        assert out.is_file()
