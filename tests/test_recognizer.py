"""The recognizer: network, CTC training, greedy decoding, error rates, bundle save/load, trainer and its CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from hwcli.alphabet import Alphabet
from hwcli.cli.app import app
from hwcli.errors import ModelFileError
from hwcli.recognizer.network import Recognizer, RecognizerConfig, features, load_recognizer, reorder_delayed_strokes
from hwcli.recognizer.reading import (cer, corpus_error_rates, edit_distance, greedy_decode, read_back, read_strokes,
                               recognize, wer)
from hwcli.training.recognizer import (RecognizerTrainOptions, augment_offsets, ctc_loss, make_batch,
                                       train_recognizer)
from cli_checks import assert_one_line_error
from tiny_bundle import glyph_offsets, make_bundle, make_dataset, make_npz, make_recognizer, tiny_recognizer_config

torch.set_num_threads(1)
TINY = tiny_recognizer_config()


def tiny_recognizer(seed: int = 0, cfg: RecognizerConfig = TINY) -> Recognizer:
    torch.manual_seed(seed)
    return Recognizer(cfg).eval()


save_tiny = make_recognizer


# ----------------------------------------------------------------------------- error rates
def test_edit_distance_and_rates():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "") == 3 and edit_distance("same", "same") == 0
    assert edit_distance(["a", "b"], ["a", "c", "b"]) == 1
    assert cer("abcd", "abxd") == pytest.approx(0.25)
    assert cer("", "") == 0.0 and cer("", "x") == 1.0
    assert wer("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert wer("a b", "a  b ") == 0.0  # whitespace runs do not count
    r = corpus_error_rates(["ab", "cdef"], ["ab", "cxef"])
    assert r["cer"] == pytest.approx(1 / 6) and r["wer"] == pytest.approx(0.5) and r["lines"] == 2


# ----------------------------------------------------------------------------- decoding
def test_greedy_decode_collapses_repeats_and_drops_blanks():
    path = [0, 3, 3, 0, 3, 5, 5, 5, 0, 0, 7, 9]
    lp = torch.full((1, len(path), 10), -10.0)
    lp[0, torch.arange(len(path)), torch.tensor(path)] = 0.0
    assert greedy_decode(lp, torch.tensor([len(path)])) == [[3, 3, 5, 7, 9]]
    # frames past a line's length are ignored
    assert greedy_decode(lp, torch.tensor([4])) == [[3]]


def test_features_mark_moves_in_the_air():
    off = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 1], [5, 0, 0], [1, 0, 1]], np.float32)
    f = features(off)
    assert f.shape == (5, 4) and f.dtype == np.float32
    assert f[:, 2].tolist() == [0, 0, 1, 0, 1]
    assert f[:, 3].tolist() == [1, 0, 0, 1, 0]
    assert features(np.array([[100.0, -100.0, 0.0]]))[0, :2].tolist() == [20.0, -20.0]  # clipped


def _offsets(strokes: list[list[tuple[float, float]]]) -> np.ndarray:
    """Absolute strokes -> offsets [dx, dy, eos] (the first point relative to the origin)."""
    pts = np.array([p for s in strokes for p in s], np.float64)
    eos = np.array([float(i == len(s) - 1) for s in strokes for i in range(len(s))])
    out = np.zeros((len(pts), 3), np.float32)
    out[0, :2] = pts[0]
    out[1:, :2] = np.diff(pts, axis=0)
    out[:, 2] = eos
    return out


def test_delayed_marks_are_read_where_their_letter_is():
    # a word written as one stroke from x=0 to x=20 (a zigzag 2 high), then an i-dot above x=4 and an accent
    # above x=12, both written after the word: each is moved to just before the pen first reached its x
    word = [(float(x), 2.0 * (x % 2)) for x in range(21)]
    dot = [(3.9, -2.0), (4.1, -2.2)]
    accent = [(11.5, -2.5), (12.0, -3.0), (12.5, -2.5)]
    off = _offsets([word, dot, accent])
    r = reorder_delayed_strokes(off)
    assert r.shape == off.shape and r.dtype == np.float32
    p = np.cumsum(r[:, :2].astype(np.float64), axis=0)
    xy = [tuple(np.round(q, 4)) for q in p]
    assert xy[:4] == [(0, 0), (1, 2), (2, 0), (3, 2)]  # the word up to x=3
    assert xy[4:6] == [(3.9, -2.0), (4.1, -2.2)]  # the dot before the word's point at x=4
    assert xy[6] == (4, 0)
    assert xy[14:17] == [(11.5, -2.5), (12.0, -3.0), (12.5, -2.5)]  # the accent before x=12
    assert xy[17] == (12, 0)
    assert sorted(xy) == sorted(tuple(np.round(q, 4)) for q in np.cumsum(off[:, :2].astype(np.float64), axis=0))
    # the pen is lifted wherever the new order jumps: after x=3, after the dot, after x=11, after the accent
    assert np.flatnonzero(r[:, 2]).tolist() == [3, 5, 13, 16, 25]
    # features with the option read the reordered points
    assert np.array_equal(features(off, reorder_delayed=True), features(r))


def test_lines_without_delayed_strokes_are_left_as_they_are():
    # print letters left to right, a mark written straight after its letter, and a wide stroke written late
    # (an underline: a word, not a mark) all stay in time order
    a = [(0.0, 0.0), (1.0, 4.0), (2.0, 0.0)]
    b = [(3.0, 0.0), (3.5, 4.0), (4.0, 0.0)]
    c = [(6.0, 0.0), (7.0, 4.0), (8.0, 0.0)]
    dot = [(7.0, -1.0), (7.2, -1.1)]
    underline = [(0.0, 4.5), (10.0, 4.5)]
    off = _offsets([a, b, c, dot, underline])
    assert not np.array_equal(reorder_delayed_strokes(_offsets([a, b, c, dot, [(1.0, -1.0), (1.2, -1.0)]])),
                              _offsets([a, b, c, dot, [(1.0, -1.0), (1.2, -1.0)]]))  # a late mark over a moves
    assert np.array_equal(reorder_delayed_strokes(off), off)
    for tiny in (np.zeros((0, 3), np.float32), off[:2], _offsets([a])):
        assert np.array_equal(reorder_delayed_strokes(tiny), tiny)


def test_a_reordering_recognizer_reads_reordered_lines(tmp_path):
    cfg = RecognizerConfig(**{**TINY.to_dict(), "reorder_delayed": True})
    net = tiny_recognizer(cfg=cfg)
    word = [(float(x), 2.0 * (x % 2)) for x in range(21)]
    off = _offsets([word, [(4.0, -2.0), (4.2, -2.2)]])
    x = torch.from_numpy(features(reorder_delayed_strokes(off)))[None]
    direct = greedy_decode(*net(x, torch.tensor([len(off)])))[0]
    assert recognize(net, Alphabet(), [off]) == [Alphabet().decode(direct)]
    from hwcli.recognizer.network import save_recognizer

    stem = save_recognizer(tmp_path / "r", net, Alphabet(), 1.0)
    assert load_recognizer(stem).config.reorder_delayed is True
    assert load_recognizer(save_tiny(tmp_path / "plain")).config.reorder_delayed is False  # older bundles: off


def test_training_with_reordering_and_its_resume_check(tmp_path):
    npz = make_npz(tmp_path, n_lines=4)
    out = tmp_path / "run"
    common = ["--data", str(npz), "--out", str(out), "--hidden", "8", "--layers", "1", "--conv-channels", "8",
              "--batch-size", "2", "--val-every", "1", "--threads", "1", "--device", "cpu", "-q"]
    r = CliRunner().invoke(app, ["train-recognizer", *common, "--max-steps", "1", "--reorder-delayed"])
    assert r.exit_code == 0, r.output
    assert load_recognizer(out / "best").config.reorder_delayed is True
    r = CliRunner().invoke(app, ["train-recognizer", *common[:2], "--out", str(tmp_path / "plain"), *common[4:],
                                 "--max-steps", "1"])
    assert r.exit_code == 0, r.output
    # --init a plain bundle with --reorder-delayed switches it over; the weights are the bundle's
    r = CliRunner().invoke(app, ["train-recognizer", "--data", str(npz), "--out", str(tmp_path / "switched"),
                                 "--init", str(tmp_path / "plain" / "best"), "--reorder-delayed", "--max-steps", "1",
                                 "--batch-size", "2", "--threads", "1", "--device", "cpu", "-q"])
    assert r.exit_code == 0, r.output
    assert load_recognizer(tmp_path / "switched" / "best").config.reorder_delayed is True
    # resuming a plain run with --reorder-delayed would silently keep reading in time order: refused
    r = CliRunner().invoke(app, ["train-recognizer", *common[:2], "--out", str(tmp_path / "plain"), *common[4:],
                                 "--max-steps", "2", "--resume", "--reorder-delayed"])
    assert_one_line_error(r, "reorder-delayed", code=2)
    # --split-marks: the same plumbing (a bundle that reads letters and marks apart loads with its classes)
    r = CliRunner().invoke(app, ["train-recognizer", "--data", str(npz), "--out", str(tmp_path / "marks"),
                                 "--init", str(tmp_path / "plain" / "best"), "--split-marks", "--max-steps", "1",
                                 "--batch-size", "2", "--threads", "1", "--device", "cpu", "-q"])
    assert r.exit_code == 0, r.output
    rec = load_recognizer(tmp_path / "marks" / "best")
    assert rec.config.split_marks is True and type(rec.alphabet).__name__ == "MarkAlphabet"
    r = CliRunner().invoke(app, ["train-recognizer", *common[:2], "--out", str(tmp_path / "plain"), *common[4:],
                                 "--max-steps", "2", "--resume", "--split-marks"])
    assert_one_line_error(r, "split-marks", code=2)


def test_a_line_reads_the_same_alone_and_in_a_padded_batch():
    net = tiny_recognizer()
    lines = [glyph_offsets("hello there"), glyph_offsets("ok"), glyph_offsets("a longer line of ink")]
    together = recognize(net, Alphabet(), lines, batch_size=8)
    alone = [recognize(net, Alphabet(), [ln])[0] for ln in lines]
    assert together == alone
    x, lengths, _, _ = make_batch(lines, [torch.tensor([1])] * 3)
    lp, flen = net(x, lengths)
    for i, ln in enumerate(lines):
        lp1, f1 = net(torch.from_numpy(features(ln))[None], torch.tensor([len(ln)]))
        assert int(flen[i]) == int(f1[0])
        assert torch.allclose(lp[i, : flen[i]], lp1[0], atol=1e-5)


def test_reading_leaves_the_thread_setting_alone():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        recognize(tiny_recognizer(), Alphabet(), [glyph_offsets("ab")])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_ctc_training_step_reduces_loss():
    net = tiny_recognizer()
    net.train()
    a = Alphabet()
    texts = ["ab ba", "cab"]
    x, lengths, tg, tl = make_batch([glyph_offsets(t) for t in texts], [torch.from_numpy(a.encode(t)) for t in texts])
    opt = torch.optim.Adam(net.parameters(), lr=0.03)
    first = ctc_loss(net, x, lengths, tg, tl).item()
    for _ in range(30):
        loss = ctc_loss(net, x, lengths, tg, tl)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.isfinite(loss)
    assert ctc_loss(net, x, lengths, tg, tl).item() < 0.7 * first


def test_augmentation_changes_moves_not_pen_states():
    off = glyph_offsets("augment me")
    out = augment_offsets(off, np.random.default_rng(1))
    assert out.shape == off.shape and out.dtype == np.float32
    assert (out[:, 2] == off[:, 2]).all() and not np.allclose(out[:, :2], off[:, :2])
    assert np.allclose(augment_offsets(off, np.random.default_rng(1)), out)


# ----------------------------------------------------------------------------- bundle
def test_save_load_round_trip(tmp_path):
    stem = save_tiny(tmp_path / "rec", scale=12.5)
    doc = json.loads((tmp_path / "rec.json").read_text())
    assert doc["config"]["kind"] == "recognizer" and doc["alphabet"] == Alphabet().chars
    assert doc["stats"]["scale"] == 12.5 and len(doc["tensors"]["sha256"]) == 64 and doc["format_version"] == 1
    rec = load_recognizer(stem)
    assert rec.config == TINY and rec.scale == 12.5 and not rec.network.training
    assert rec.provenance["data"].startswith("random")
    for k, v in tiny_recognizer().state_dict().items():
        assert torch.equal(rec.network.state_dict()[k], v)
    assert load_recognizer(tmp_path / "rec.json").path == str(stem)  # the .json path works too


def test_load_refuses_modified_missing_and_wrong_files(tmp_path):
    stem = save_tiny(tmp_path / "rec")
    with pytest.raises(ModelFileError, match="not found"):
        load_recognizer(tmp_path / "nope")
    blob = bytearray((tmp_path / "rec.safetensors").read_bytes())
    blob[-1] ^= 1
    (tmp_path / "rec.safetensors").write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match="sha256"):
        load_recognizer(stem)
    (tmp_path / "rec.safetensors").unlink()
    with pytest.raises(ModelFileError, match="weights .* not found"):
        load_recognizer(stem)
    synth = make_bundle(tmp_path / "synth")
    with pytest.raises(ModelFileError, match="not a recognizer"):
        load_recognizer(synth)
    save_tiny(tmp_path / "new")
    doc = json.loads((tmp_path / "new.json").read_text())
    (tmp_path / "new.json").write_text(json.dumps({**doc, "format_version": 99}))
    with pytest.raises(ModelFileError, match="version 99"):
        load_recognizer(tmp_path / "new")


def test_checker_converts_units(tmp_path):
    rec = load_recognizer(save_tiny(tmp_path / "rec", scale=20.0))
    lines = [glyph_offsets("one line"), glyph_offsets("two")]
    base = read_strokes(rec, lines)
    # the same ink in units twice as large (a synthesis bundle with half the scale) reads the same
    halved = [ln * np.array([2, 2, 1], np.float32) for ln in lines]
    assert read_strokes(rec, halved, scale=10.0) == base
    from types import SimpleNamespace

    from hwcli.synthesis import line_checker

    # the checker reads ink in the units of the synthesis bundle it is made for (its scale is used)
    chk = line_checker(SimpleNamespace(scale=20.0), rec)
    cers = chk(lines, ["one line", "two"])
    assert len(cers) == 2 and all(isinstance(c, float) and c >= 0 for c in cers)
    assert line_checker(SimpleNamespace(scale=10.0), rec)(halved, ["one line", "two"]) == cers
    assert read_strokes(rec, [np.zeros((0, 3), np.float32)]) == [""]
    # each result also says what was read and how many of the text's digits it got wrong
    res = chk(lines, ["one 12", "two"])
    read = [" ".join(b.split()) for b in base]  # runs of spaces collapsed, as the CER is taken
    assert [c.reading for c in res] == read
    assert res[0].wrong_digits == read_back("one 12", read[0]).wrong_digits and res[1].wrong_digits == 0
    # ...and the mean CER of the line read as written and squeezed and slanted (`STRAINS`), which ranks copies
    from hwcli.recognizer.reading import cer
    from hwcli.synthesis.checks import STRAINS, strain

    ranked = chk.strained(lines, ["one 12", "two"], res)
    for k, (ln, text) in enumerate(zip(lines, ["one 12", "two"])):
        strained = [" ".join(h.split()) for h in read_strokes(rec, [strain(ln, a, sh) for a, sh in STRAINS])]
        assert ranked[k] == pytest.approx((float(res[k]) + sum(cer(text, h) for h in strained)) / (1 + len(STRAINS)))


def test_a_strain_squeezes_and_slants_the_ink_and_keeps_its_pen_lifts():
    from hwcli.synthesis.checks import strain

    ink = glyph_offsets("ab c")
    out = strain(ink, 0.5, 0.25)
    assert out.dtype == np.float32 and out.shape == ink.shape and (out[:, 2] == ink[:, 2]).all()
    np.testing.assert_allclose(out[:, 0], ink[:, 0] * 0.5 + 0.25 * ink[:, 1], rtol=1e-6, atol=1e-6)
    assert (out[:, 1] == ink[:, 1]).all() and (strain(ink, 1.0, 0.0) == ink).all()


def test_read_back_counts_digits_not_given_back_as_themselves():
    def misread_digits(ref, hyp):
        return read_back(ref, hyp).wrong_digits

    assert misread_digits("call 0161 234", "call 0161 234") == 0
    assert misread_digits("call 0161 234", "call 0l6l 234") == 2  # two 1s read as l
    assert misread_digits("at 9:30", "at g:30") == 1
    assert misread_digits("at 9:30", "at 9:3") == 1  # a dropped digit
    assert misread_digits("at 9:30", "at 19:30") == 0  # an added one is the CER's business
    assert misread_digits("no digits", "xx") == 0
    assert misread_digits("42", "") == 2
    # accented letters and symbols the data set lacks are held to the same rule; letters it has are not
    assert misread_digits("Noël à 9 €", "Noel a 9 €") == 2
    assert misread_digits("j.price@example.org", "j.priceoexample.org") == 1
    assert misread_digits("Noël", "Naël") == 0  # a plain letter misread: the CER's business
    assert misread_digits("Łódź", "Łódź") == 0 and misread_digits("Łódź", "Lodz") == 3
    # so are the marks that carry a number's meaning: a colon, a separator between two digits
    assert misread_digits("Score: 3:2", "Score. 3.2") == 2
    assert misread_digits("Coffee $3.80, tea", "Coffee $380, tea") == 1
    assert misread_digits("¥1,480 and 3/4 cup", "¥1480 and 3l4 cup") == 2
    assert misread_digits("Ends. Then, 3.", "Ends Then 3") == 0  # a full stop or comma outside a number: the CER's
    assert misread_digits("3 /4", "3 l4") == 0 and misread_digits("a/b", "alb") == 0
    # the CER comes from the same alignment, equal to the plain one
    for ref, hyp in (("call 0161 234", "call 0l6l 234"), ("at 9:30", "at 19:3"), ("no digits", "xx"), ("42", "")):
        r = read_back(ref, hyp)
        assert float(r) == cer(ref, hyp) and r.reading == hyp


# ----------------------------------------------------------------------------- trainer
def test_train_resume_and_export(tmp_path):
    ds = make_dataset(n_lines=6, n_valid=2)
    opts = dict(out=str(tmp_path / "run"), hidden=8, layers=1, conv_channels=8, batch_size=2, val_every=2,
                threads=1, device="cpu")
    res = train_recognizer(ds, RecognizerTrainOptions(max_steps=3, **opts))
    assert res.step == 3 and res.stopped_by == "max steps" and res.best_val_cer is not None
    rec = load_recognizer(res.bundle)
    assert rec.scale == ds.scale and rec.config.hidden == 8
    assert rec.provenance["split_valid"] == "testset_v" and rec.provenance["train_lines"] == 4
    steps = [json.loads(ln)["step"] for ln in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 3]
    res2 = train_recognizer(ds, RecognizerTrainOptions(max_steps=5, **opts), resume=True)
    assert res2.step == 5


def test_train_from_a_recognizer_bundle(tmp_path):
    ds = make_dataset(n_lines=6, n_valid=2)
    first = train_recognizer(ds, RecognizerTrainOptions(out=str(tmp_path / "a"), hidden=8, layers=1, conv_channels=8,
                                                        batch_size=2, val_every=2, threads=1, device="cpu",
                                                        max_steps=2))
    start = load_recognizer(first.bundle)
    # --init: the bundle's architecture wins over the (default) sizes given, and its weights are the starting point
    opts = RecognizerTrainOptions(out=str(tmp_path / "b"), batch_size=2, val_every=1, threads=1, device="cpu",
                                  max_steps=1, lr=1e-12, lr_min=0.0, warmup=0, init=first.bundle)
    res = train_recognizer(ds, opts)
    rec = load_recognizer(res.bundle)
    assert rec.config == start.config and rec.provenance["init"]["model"] == first.bundle
    for k, v in start.network.state_dict().items():
        assert torch.allclose(v, rec.network.state_dict()[k], atol=1e-6), k
    # resuming keeps the run's own weights and config, and where it started from
    res2 = train_recognizer(ds, RecognizerTrainOptions(**{**opts.__dict__, "max_steps": 2}), resume=True)
    assert res2.step == 2 and load_recognizer(res2.bundle).provenance["init"]["model"] == first.bundle
    with pytest.raises(ModelFileError, match="not found"):
        train_recognizer(ds, RecognizerTrainOptions(out=str(tmp_path / "c"), max_steps=1, init=str(tmp_path / "nope")))


def test_train_recognizer_cli(tmp_path):
    npz = make_npz(tmp_path, n_lines=4)
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["train-recognizer", "--data", str(npz), "--out", str(out), "--hidden", "8",
                                 "--layers", "1", "--conv-channels", "8", "--batch-size", "2", "--max-steps", "2",
                                 "--val-every", "1", "--threads", "1", "--device", "cpu", "-q"])
    assert r.exit_code == 0, r.output
    assert load_recognizer(out / "best").config.hidden == 8
    bad = CliRunner().invoke(app, ["train-recognizer", "--data", str(tmp_path / "missing.npz"), "--out", str(out)])
    assert_one_line_error(bad, "missing.npz")
    r = CliRunner().invoke(app, ["train-recognizer", "--data", str(npz), "--out", str(tmp_path / "fresh"), "--resume", "-q"])
    assert_one_line_error(r, "nothing to resume")
    r = CliRunner().invoke(app, ["train-recognizer", "--data", str(npz), "--out", str(tmp_path / "fresh"),
                                 "--init", str(tmp_path / "no-such-bundle"), "-q"])
    assert_one_line_error(r, "no-such-bundle")
    r = CliRunner().invoke(app, ["train-recognizer", "--data", str(npz), "--out", str(tmp_path / "more"), "--init",
                                 str(out / "best"), "--max-steps", "1", "--batch-size", "2", "--threads", "1",
                                 "--device", "cpu", "-q"])
    assert r.exit_code == 0, r.output
    assert load_recognizer(tmp_path / "more" / "best").config.hidden == 8


def test_train_recognizer_options_are_validated():
    from hwcli.errors import OptionError

    with pytest.raises(OptionError, match="--hidden"):
        RecognizerTrainOptions(hidden=0)
    with pytest.raises(OptionError, match="--lr"):
        RecognizerTrainOptions(lr=-1)


def test_missing_bundled_recognizer_is_a_clear_error(monkeypatch, tmp_path):
    import hwcli.recognizer.network as mod

    monkeypatch.setattr(mod, "bundled_recognizer_path", lambda: tmp_path / "hwcli-recognizer")
    with pytest.raises(ModelFileError, match="not installed .*train-recognizer"):
        load_recognizer()


@pytest.mark.slow
def test_bundled_recognizer():
    from hwcli.recognizer.network import bundled_recognizer_path

    if not bundled_recognizer_path().with_suffix(".json").is_file():
        pytest.skip("no bundled recognizer")
    rec = load_recognizer()
    assert load_recognizer("hwcli-recognizer").path == rec.path  # by name, as --init and --recognizer take it
    assert bundled_recognizer_path().with_suffix(".safetensors").stat().st_size < 5_000_000
    assert rec.provenance["split_valid"] == "testset_v" and rec.provenance["val_cer"] < 0.3
    assert isinstance(read_strokes(rec, [glyph_offsets("hello")])[0], str)


def test_key_positions_are_key_characters_colons_and_separators_inside_numbers():
    from hwcli.texts import key_positions

    text = "Total: £18.99, 3/4 of 1,480. Done."
    assert [text[i] for i in key_positions(text)] == [":", "£", "1", "8", ".", "9", "9", "3", "/", "4", "1", ",", "4",
                                                      "8", "0"]
    assert key_positions("plain words, a full stop.") == [] and key_positions("") == []
    assert key_positions(".5") == [1] and key_positions("5.") == [0]  # a separator needs a digit on both sides
