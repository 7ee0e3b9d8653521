"""Personal styles: the data folder, `hwcli styles add/remove`, listing, --style NAME in write/eval, safety."""
from __future__ import annotations

import json
import os
import stat
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from hwcli.model import personal as P
from hwcli.styles import library as S
from hwcli.styles import priming as G
from hwcli.cli.app import app
from tiny_bundle import glyph_offsets, make_bundle, write_inkml
from cli_checks import assert_one_line_error

torch.set_num_threads(1)
TEXTS = ["the cat sat", "a dog ran home", "hello world", "one fish two", "so far so good", "red sun set"]
FAST = {"retries": 0, "max_steps_per_char": 5, "bias": 1.0, "check": False}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return str(make_bundle(tmp_path_factory.mktemp("styles") / "synth", defaults=FAST))


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HWCLI_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def write_ink(folder, texts=TEXTS, annotate=True, scale=20.0):
    """InkML files as `hwcli capture` writes them (pixels, with time and pressure)."""
    return write_inkml(folder, texts, annotate, scale)


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_data_dir_follows_hwcli_home_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("HWCLI_HOME", str(tmp_path / "h"))
    assert P.styles_dir() == tmp_path / "h" / "styles"
    monkeypatch.delenv("HWCLI_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "x"))
    assert P.styles_dir() == tmp_path / "x" / "hwcli" / "styles"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "u"))
    assert P.styles_dir() == tmp_path / "u" / ".local" / "share" / "hwcli" / "styles"


def test_add_list_write_remove(model, tmp_path, home):
    ink = write_ink(tmp_path / "mine")
    r = run("styles", "add", "me", ink, "--model", model, "--no-check")
    assert r.exit_code == 0, r.output
    assert "added style 'me' from 6 line(s)" in r.stderr
    folder = home / "styles" / "me"
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700 and stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    for f in folder.iterdir():
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
    doc = json.loads((folder / "style.json").read_text())
    assert doc["model"] == model and doc["adapted"] is None and doc["lines"] == 6
    assert doc["style"]["text"] in TEXTS and doc["style"]["char_width"] > 0 and doc["style"]["body_height"] > 0
    assert len(doc["info"]["selection"]["candidates"]) == 3  # the lines of 12-50 characters
    assert not [p for p in (home / "styles").iterdir() if p.name.startswith(".")]  # no staging left
    # the cleaned lines, in the model's units, ready for `hwcli train --init MODEL --data .../ink.npz`
    from hwcli.data.dataset import Dataset

    ds = Dataset.load(folder / "ink.npz")
    assert ds.texts == TEXTS and ds.scale == 20.0 and ds.splits.count("testset_v") == 0
    assert ds.meta["stats"]["scale"] == P.resolve(model, [])[0].scale

    r = run("styles", "--model", model)
    assert r.exit_code == 0 and "personal styles" in r.stdout and "me" in r.stdout

    out = tmp_path / "page.svg"
    r = run("write", "so we go", "--style", "me", "--model", model, "-o", out, "--no-check", "-q")
    assert r.exit_code == 0, r.output
    root = ET.parse(out).getroot()
    assert any(el.tag.endswith("path") for el in root.iter())
    # the personal style's prime is what primes the lines
    bundle, (key,) = P.resolve(model, ["me"])
    assert bundle.styles[key].name == "me" and bundle.styles[key].text == doc["style"]["text"]

    r = run("styles", "--model", model, "--style", "me", "--preview", tmp_path / "p.svg")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "p.svg").is_file()

    r = run("styles", "add", "me", ink, "--model", model, "--no-check")
    assert_one_line_error(r, "exists already", code=2)
    r = run("styles", "remove", "me")
    assert r.exit_code == 0 and not folder.exists()
    assert_one_line_error(run("styles", "remove", "me"), "no personal style 'me'")
    assert_one_line_error(run("write", "hi", "--style", "me", "--model", model, "-o", tmp_path / "x.svg"), "unknown style 'me'")


def test_personal_style_names_resolve_from_python_as_from_the_cli(model, tmp_path, home):
    import hwcli
    from hwcli.errors import StyleNotFoundError
    from hwcli.model.bundle import load_model

    S.add_style("me", [write_ink(tmp_path / "mine")], model=model, check=False)
    opts = dict(seed=3, check=False, page=hwcli.PageOptions(natural=False))
    by_name = hwcli.write("so we go", style="me", model=model, **opts)  # a model's name or path: loaded here
    assert [len(pg.lines) for pg in by_name.pages] == [1]  # random weights: the line may fail its checks
    # what the CLI writes with --style me: the personal style joined to the bundle's styles, by index
    bundle, (key,) = P.resolve(model, ["me"])
    same = [pg.lines for pg in hwcli.write("so we go", style=key, model=bundle, **opts).pages]
    assert all(np.array_equal(a, b) for a, b in zip(same[0], next(iter(by_name.pages)).lines))
    # a loaded bundle is left as it was; its personal style comes in as the Style itself
    loaded = load_model(model)
    n = len(loaded.styles)
    given = [pg.lines for pg in hwcli.write("so we go", style="me", model=loaded, **opts).pages]
    assert len(loaded.styles) == n and all(np.array_equal(a, b) for a, b in zip(same[0], given[0]))
    sheet = hwcli.write_many({"a": "so we go"}, tmp_path / "out", model, style="me", check=False)
    assert [d.status for d in sheet.docs] == ["written"]
    with pytest.raises(StyleNotFoundError, match="unknown style 'nobody'"):
        hwcli.write("so we go", style="nobody", model=model)


def test_texts_file_for_unannotated_ink(model, tmp_path, home):
    ink = write_ink(tmp_path / "mine", annotate=False)
    assert_one_line_error(run("styles", "add", "me", ink, "--model", model, "--no-check"),
                          "line-01.inkml: no transcription", "--texts")
    (tmp_path / "t.txt").write_text("\n".join(TEXTS[:5]) + "\n")
    assert_one_line_error(run("styles", "add", "me", ink, "--model", model, "--no-check", "--texts", tmp_path / "t.txt"),
                          "--texts has 5 line(s) but the ink has 6")
    (tmp_path / "t.txt").write_text("\n".join(TEXTS) + "\n")
    r = run("styles", "add", "me", ink, "--model", model, "--no-check", "--texts", tmp_path / "t.txt")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("texts, fragment", [
    (["the cat sat", "hello wor@ld"], "line-02.inkml: character(s) the model cannot write: '@'"),
    (["the cat sat", "ab"], "line-02.inkml: text 'ab' is too short"),
])
def test_bad_texts_name_the_line(model, tmp_path, home, texts, fragment):
    ink = write_ink(tmp_path / "mine", texts=["the cat sat", "hello world"])
    (tmp_path / "mine" / "line-02.inkml").write_text(
        (tmp_path / "mine" / "line-02.inkml").read_text().replace("hello world", texts[1]))
    assert_one_line_error(run("styles", "add", "me", ink, "--model", model, "--no-check"), fragment)
    assert not (home / "styles" / "me").exists()


def test_text_that_does_not_match_the_ink(model, tmp_path):
    ink = write_ink(tmp_path / "mine", texts=["the cat sat", "hello world"])
    f = tmp_path / "mine" / "line-02.inkml"
    long = "hello world and a great many more words than were ever written here"
    f.write_text(f.read_text().replace("hello world", long))
    assert_one_line_error(run("styles", "add", "me", ink, "--model", model, "--no-check"),
                          "line-02.inkml: the ink is too narrow", "do not match")


def test_bad_names_and_sources(model, tmp_path):
    ink = write_ink(tmp_path / "mine")
    assert_one_line_error(run("styles", "add", "9lives", ink, "--model", model), "invalid style name", code=2)
    assert_one_line_error(run("styles", "add", "neat", ink, "--model", model), "built-in style", code=2)
    assert_one_line_error(run("styles", "add", "me", tmp_path / "nope", "--model", model), "does not exist")
    (tmp_path / "x.txt").write_text("hi")
    assert_one_line_error(run("styles", "add", "me", tmp_path / "x.txt", "--model", model), "neither InkML")


def test_interrupted_add_leaves_the_library_as_it_was(model, tmp_path, home, monkeypatch):
    ink = write_ink(tmp_path / "mine")
    assert run("styles", "add", "me", ink, "--model", model, "--no-check").exit_code == 0
    before = (home / "styles" / "me" / "style.json").read_bytes()

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(S, "choose_prime", interrupt)
    with pytest.raises(KeyboardInterrupt):
        S.add_style("me", [ink], model=model, replace=True, check=False)
    with pytest.raises(KeyboardInterrupt):
        S.add_style("you", [ink], model=model, check=False)
    assert sorted(p.name for p in (home / "styles").iterdir()) == ["me"]
    assert (home / "styles" / "me" / "style.json").read_bytes() == before


def test_adapt_writes_a_personal_bundle_the_style_uses(model, tmp_path, home, monkeypatch):
    # random tiny weights imitate nothing: here the adapted network is taken as nearer the hand than priming
    monkeypatch.setattr("hwcli.styles.adapt.keeps_adaptation", lambda pick, primed: (True, None))
    ink = write_ink(tmp_path / "mine")
    r = run("styles", "add", "me", ink, "--model", model, "--no-check", "--adapt", "--steps", "4")
    assert r.exit_code == 0, r.output
    assert "adapted in 4 steps" in r.stderr
    folder = home / "styles" / "me"
    doc = json.loads((folder / "style.json").read_text())
    assert doc["adapted"] == "model" and doc["info"]["adapt"]["steps"] == 4
    assert doc["info"]["adapt"]["regularisation_lines"] > 0 and doc["info"]["adapt"]["held_out_lines"] == 1
    assert not (folder / ".adapt").exists()
    compared = doc["info"]["adapt"]["compared"]  # the validated steps, compared by their writing
    assert [m["step"] for m in compared if m.get("chosen")] == [doc["info"]["adapt"]["best_step"]]
    assert compared[-1]["step"] == 0 and "likeness_distance" in compared[-1]  # and priming alone beside them
    assert doc["info"]["adapt"]["kept"] is True
    bundle, (key,) = P.resolve(None, ["me"])
    assert bundle.path == str(folder / "model") and bundle.styles[key].name == "me"
    base = P.resolve(model, [])[0]
    from hwcli.styles.adapt import ADAPT_FREEZE

    mine, theirs = bundle.network.state_dict(), base.network.state_dict()
    frozen = [k for k in mine if k.startswith(ADAPT_FREEZE)]
    assert frozen and all(torch.equal(mine[k], theirs[k]) for k in frozen)  # the attention stays the bundle's
    assert any(not torch.equal(mine[k], theirs[k]) for k in mine if k not in frozen)  # the hand moves
    r = run("write", "so we go", "--style", "me", "-o", tmp_path / "a.svg", "--no-check", "-q")
    assert r.exit_code == 0, r.output
    from hwcli.styles.adapt import ADAPTED_DEFAULTS

    # an adapted network is read back more strictly than the bundle it came from
    assert ADAPTED_DEFAULTS["check_cer"] < base.sampling.check_cer
    assert all(bundle.defaults[k] == v for k, v in ADAPTED_DEFAULTS.items())
    assert bundle.defaults["bias"] == base.defaults["bias"]  # the rest as the bundle had it


def test_adapted_weights_are_chosen_by_how_they_write_among_steps_near_the_best_nll(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from hwcli.styles.adapt import NLL_SLACK, choose_weights

    work = tmp_path / "work"
    work.mkdir()
    for step, seed in ((10, 1), (20, 2), (30, 3)):
        make_bundle(work / f"snap-{step:06d}", seed=seed, defaults=FAST)
    lines = [SimpleNamespace(text=t, offsets=glyph_offsets(t), name=f"l{i}") for i, t in enumerate(TEXTS)]
    metrics = [{"step": 0, "val_nll_point": 1.0}, {"step": 10, "val_nll_point": -0.5 + NLL_SLACK + 0.01},
               {"step": 20, "val_nll_point": -0.5}, {"step": 30, "val_nll_point": -0.5 + NLL_SLACK / 2},
               {"step": 40, "val_nll_point": -0.9}]  # no snapshot of step 40: not a candidate
    monkeypatch.setattr("hwcli.synthesis.run.check_line", lambda *a, **k: "")  # random weights: the reading decides

    def reads(cer_of):  # a stand-in recognizer: every line of snapshot STEP reads at cer_of[STEP]
        return lambda b, rec: (lambda strokes, texts: [cer_of[int(b.path.split("-")[-1])]] * len(texts))

    monkeypatch.setattr("hwcli.synthesis.line_checker", reads({20: 0.3, 30: 0.05}))
    path, compared = choose_weights(work, metrics, lines, recognizer=object())
    # step 10 is too far from the best held-out NLL; of 20 and 30, the one whose lines read back within 0.12
    assert [m["step"] for m in compared] == [20, 30] and path == work / "snap-000030.json"
    assert compared[1]["chosen"] and compared[1]["passed"] == 1.0 and compared[0]["passed"] == 0.0
    monkeypatch.setattr("hwcli.synthesis.line_checker", reads({20: 0.05, 30: 0.05}))
    # both legible: the one whose lines are nearer the writer's in stroke features
    monkeypatch.setattr("hwcli.styles.adapt._likeness", _by_step({20: 0.9, 30: 0.4}))
    assert choose_weights(work, metrics, lines, recognizer=object())[0] == work / "snap-000030.json"
    monkeypatch.setattr("hwcli.styles.adapt._likeness", _by_step({20: 0.3, 30: 0.4}))
    assert choose_weights(work, metrics, lines, recognizer=object())[0] == work / "snap-000020.json"
    # likeness decides only within the legibility bound: a nearer hand that fails the read-back is not chosen
    monkeypatch.setattr("hwcli.synthesis.line_checker", reads({20: 0.3, 30: 0.05}))
    assert choose_weights(work, metrics, lines, recognizer=object())[0] == work / "snap-000030.json"
    assert choose_weights(tmp_path / "none", metrics, lines) == (None, [])


def test_a_blend_with_the_bundle_is_chosen_when_it_reads_back_better(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import hwcli.styles.adapt as A
    from hwcli.model.bundle import load_model

    work = tmp_path / "work"
    work.mkdir()
    for step, seed in ((20, 2), (30, 3)):
        make_bundle(work / f"snap-{step:06d}", seed=seed, defaults=FAST)
    base = load_model(make_bundle(tmp_path / "base", seed=9, defaults=FAST))
    lines = [SimpleNamespace(text=t, offsets=glyph_offsets(t), name=f"l{i}") for i, t in enumerate(TEXTS)]
    metrics = [{"step": 20, "val_nll_point": -0.5}, {"step": 30, "val_nll_point": -0.49}]
    monkeypatch.setattr("hwcli.synthesis.run.check_line", lambda *a, **k: "")
    real_blend = A.blend
    shares = []

    def marked_blend(adapted, b, share):
        shares.append(share)
        out = real_blend(adapted, b, share)
        out.blended = share
        return out
    monkeypatch.setattr(A, "blend", marked_blend)
    monkeypatch.setattr("hwcli.styles.adapt._likeness", _by_step({20: 0.5, 30: 0.4, 0: 0.9}))
    # the steps and the bundle read back badly, a blend well: the blend of the chosen step (30) is written
    monkeypatch.setattr("hwcli.synthesis.line_checker",
                        lambda b, rec: (lambda strokes, texts: [0.05 if getattr(b, "blended", None) == 0.5 else 0.3] * len(texts)))
    path, compared = A.choose_weights(work, metrics, lines, recognizer=object(), base=base, mix_shares=(0.5, 0.75))
    assert shares == [0.5, 0.75] and path == work / "mix-000030.json"
    chosen = [m for m in compared if m.get("chosen")]
    assert len(chosen) == 1 and chosen[0]["mix"] == 0.5 and chosen[0]["step"] == 30 and chosen[0]["passed"] == 1.0
    mine = load_model(work / "snap-000030").network.state_dict()
    got = load_model(path).network.state_dict()
    theirs = base.network.state_dict()
    for k in got:
        assert torch.allclose(got[k], 0.5 * mine[k] + 0.5 * theirs[k], atol=1e-6)
    assert load_model(path).provenance["blend"] == {"adapted_share": 0.5}
    # blends that read no better than the step: the step stands (no blend written); no base, no blends
    monkeypatch.setattr("hwcli.synthesis.line_checker", lambda b, rec: (lambda strokes, texts: [0.05] * len(texts)))
    (work / "mix-000030.json").unlink()
    path, compared = A.choose_weights(work, metrics, lines, recognizer=object(), base=base, mix_shares=(0.5,))
    assert path == work / "snap-000030.json" and not (work / "mix-000030.json").exists()
    assert [m.get("mix") for m in compared] == [None, None, None, 0.5] and compared[1]["chosen"]
    shares.clear()
    assert A.choose_weights(work, metrics, lines, recognizer=object(), mix_shares=(0.5,))[0] == work / "snap-000030.json"
    assert shares == []


def _by_step(dist: dict):
    """A stand-in likeness: the lines of snapshot STEP are at distance dist[STEP] from the writer's."""
    import inspect

    def likeness(outs, texts, real, unit):
        b = inspect.currentframe().f_back.f_locals["b"]  # the bundle choose_weights is measuring
        tail = b.path.split("-")[-1]
        return dist[int(tail) if tail.isdigit() else 0]
    return likeness


def test_an_adaptation_that_imitates_worse_than_priming_is_not_shipped():
    from hwcli.styles.adapt import PASS_DROP, keeps_adaptation

    primed = {"step": 0, "likeness_distance": 0.5, "passed": 0.9}
    assert keeps_adaptation({"step": 20, "likeness_distance": 0.4, "passed": 0.9}, primed) == (True, None)
    kept, why = keeps_adaptation({"step": 20, "likeness_distance": 0.6, "passed": 1.0}, primed)
    assert not kept and "less like your lines than priming alone" in why and "0.60 against 0.50" in why
    kept, why = keeps_adaptation({"step": 20, "likeness_distance": 0.3, "passed": 0.9 - PASS_DROP - 0.05}, primed)
    assert not kept and "less legibly" in why
    assert keeps_adaptation({"step": 20, "likeness_distance": 0.9, "passed": 0.1}, None) == (True, None)


def test_add_keeps_the_style_primed_when_the_adaptation_is_not_kept(model, tmp_path, home, monkeypatch):
    monkeypatch.setattr("hwcli.styles.adapt.keeps_adaptation", lambda pick, primed: (False, "it wrote less like you"))
    ink = write_ink(tmp_path / "mine")
    r = run("styles", "add", "me", ink, "--model", model, "--no-check", "--adapt", "--steps", "4")
    assert r.exit_code == 0, r.output
    assert "not adapted: it wrote less like you" in r.stderr and "adapted in" not in r.stderr
    folder = home / "styles" / "me"
    doc = json.loads((folder / "style.json").read_text())
    assert doc["adapted"] is None and doc["info"]["adapt"]["kept"] is False
    assert not list(folder.glob("model.*")) and not (folder / ".adapt").exists()
    bundle, (key,) = P.resolve(None, ["me"])
    assert bundle.path == P.resolve(model, [])[0].path  # the bundled network, primed with the writer's lines


def _upstrokes(n: int = 24, lean: float = 0.1) -> np.ndarray:
    """A line of n letter-like strokes (up, over, down) leaning by `lean`, as offsets."""
    pts = []
    for i in range(n):
        x = 1.2 * i
        for t in np.linspace(0, 1, 8):
            pts.append([x + lean * t, -t, 0.0])
        for t in np.linspace(1, 0, 8):
            pts.append([x + 0.5 + lean * t, -t, 0.0])
        pts[-1][2] = 1.0
    pts = np.asarray(pts, np.float32)
    off = np.diff(np.vstack([[0, 0, 0], pts]), axis=0).astype(np.float32)
    off[:, 2] = pts[:, 2]
    return off


def test_geometry_correction_gives_the_writers_width_and_slant():
    from hwcli.strokes import restyle

    text = "x" * 24
    lines = [(_upstrokes(lean=0.1), text), (_upstrokes(lean=0.14), text)]
    before = G.hand_geometry(lines)
    assert 0.05 < before["slant"] < 0.25 and before["width"] > 0
    writer = {"slant": before["slant"] + 0.2, "width": before["width"] * 0.85}  # within the limits
    g = G.geometry_correction(writer, lines)
    after = G.hand_geometry([(restyle(o, g["x_scale"], g["shear"]), t) for o, t in lines])
    assert after["width"] == pytest.approx(writer["width"], rel=0.02)
    assert after["slant"] == pytest.approx(writer["slant"], abs=0.02)
    assert g["corrected_slant"] == pytest.approx(after["slant"], abs=1e-3)
    far = G.geometry_correction({"slant": 3.0, "width": before["width"] * 9}, lines)  # never beyond the limits
    assert far["x_scale"] == pytest.approx(G.MAX_X_SCALE, abs=1e-4) and far["shear"] == pytest.approx(G.MAX_SHEAR)
    assert G.geometry_correction({}, lines) == {"x_scale": 1.0, "shear": 0.0}
    assert G.geometry_correction(writer, []) == {"x_scale": 1.0, "shear": 0.0}
    np.testing.assert_array_equal(restyle(lines[0][0], 1.0, 0.0), lines[0][0])  # identity leaves it alone


def test_a_styles_geometry_is_applied_to_every_line_and_kept_in_its_json(model, tmp_path):
    from dataclasses import replace

    from hwcli.model.bundle import Style, load_model
    from hwcli.strokes import restyle
    from hwcli.synthesis import SamplingOptions, synthesize

    b = load_model(model)
    plain = b.styles[0]
    b.styles.append(replace(plain, name="reshaped", x_scale=0.8, shear=0.15))
    texts = ["the cat sat", "hello world"]
    a = synthesize(b, texts, SamplingOptions(style=0, seed=5, check=False))
    c = synthesize(b, texts, SamplingOptions(style=len(b.styles) - 1, seed=5, check=False))
    for x, y in zip(a, c):
        np.testing.assert_allclose(y.strokes, restyle(x.strokes, 0.8, 0.15), atol=1e-5)
    d = b.styles[-1].to_json()
    assert d["x_scale"] == 0.8 and d["shear"] == 0.15 and "x_scale" not in plain.to_json()
    assert Style.from_json(d).shear == 0.15


@pytest.mark.parametrize("key,value", [("x_scale", 0.1), ("shear", 3.0), ("shear", "0.1")])
def test_out_of_range_style_geometry_is_refused(model, tmp_path, key, value):
    from hwcli.errors import ModelFileError
    from hwcli.model.bundle import load_model

    stem = make_bundle(tmp_path / "bad", defaults=FAST)
    doc = json.loads(stem.with_suffix(".json").read_text())
    doc["styles"][0][key] = value
    stem.with_suffix(".json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=key):
        load_model(stem)


def test_added_style_records_its_geometry(model, tmp_path, home):
    ink = write_ink(tmp_path / "mine")
    assert run("styles", "add", "me", ink, "--model", model, "--no-check").exit_code == 0
    doc = json.loads((home / "styles" / "me" / "style.json").read_text())
    g = doc["info"]["selection"]["geometry"]
    if g:  # some sampled line passed the checks: the correction is measured and stored with the style
        assert 1 / G.MAX_X_SCALE - 1e-3 <= g["x_scale"] <= G.MAX_X_SCALE + 1e-3 and abs(g["shear"]) <= G.MAX_SHEAR
        assert doc["style"].get("x_scale", 1.0) == pytest.approx(g["x_scale"])
        assert doc["style"].get("shear", 0.0) == pytest.approx(g["shear"])
        assert {"writer_slant", "sampled_slant", "writer_width", "sampled_width"} <= set(g)
    else:
        assert doc["info"]["selection"]["measured_on"] == "the writer's lines"


def test_adapt_needs_enough_lines(model, tmp_path):
    ink = write_ink(tmp_path / "mine", texts=TEXTS[:3])
    assert_one_line_error(run("styles", "add", "me", ink, "--model", model, "--no-check", "--adapt"),
                          "--adapt needs at least 5 lines")


def test_personal_ink_gets_the_point_density_per_letter_of_training_lines():
    """`style_ink.normalise` resamples a line at fractional point indices: a hand with much ink per letter gets
    about LETTER_POINTS points per letter (steps kept inside STEP_RANGE); stroke ends and pen lifts stay."""
    from hwcli.styles.ink import LETTER_POINTS, STEP_RANGE, median_step, normalise, resample_density
    from hwcli.strokes import to_points

    t = np.linspace(0, 2 * np.pi, 401)
    loop = np.stack([np.cos(t) * 5, np.sin(t) * 5, np.zeros_like(t)], 1)  # even speed: median step = mean step
    loop[-1, 2] = 1.0
    line = np.concatenate([loop + [k * 30, 0, 0] for k in range(12)]).astype(np.float32)  # 12 strokes, dense
    for target in (0.3, 0.62, 1.1):
        r = resample_density(line, target, 1.05)
        assert abs(median_step(r) / target - 1) < 0.05
        assert int(r[:, 2].sum()) == 12 and r[-1, 2] == 1.0
        ends = r[r[:, 2] > 0.5, :2]
        np.testing.assert_allclose(ends, line[line[:, 2] > 0.5, :2], atol=1e-4)
    # the same ink as few letters (much ink each) or as more: about LETTER_POINTS points a letter, steps in range
    norm = to_points(normalise(line, cleaned=True))
    d = np.hypot(*np.diff(norm[:, :2], axis=0).T)
    ink = float(d[norm[:-1, 2] < 0.5].sum())
    mid = int(round(ink / (0.7 * LETTER_POINTS)))  # letters that need a step of about 0.7
    for letters in (mid, int(mid * 0.85)):
        p = to_points(normalise(line, cleaned=True, letters=letters))
        assert abs(len(p) / letters / LETTER_POINTS - 1) < 0.15
    few = to_points(normalise(line, cleaned=True, letters=2))  # would need a step far beyond the range: capped
    assert median_step(few) <= STEP_RANGE[1] * 1.1 and len(few) / 2 > 2 * LETTER_POINTS
