"""The imitation measure: stroke features, the writer classifier, distances, and `hwcli eval --like`."""
from __future__ import annotations

import json

import numpy as np
import torch
from typer.testing import CliRunner

from hwcli.alphabet import Alphabet
from hwcli.cli.app import app
from hwcli.evaluation.imitation import WriterClassifier, score
from hwcli.styles.likeness import FEATURES, distribution_distance, line_features, load_reference
from hwcli.recognizer.network import Recognizer, RecognizerConfig, save_recognizer
from hwcli.strokes import to_offsets, to_points
from tiny_bundle import TEXTS, glyph_offsets, make_bundle
from test_styles import write_ink

torch.set_num_threads(1)


def sheared(text: str, shear: float, sx: float = 1.0, seed: int = 0) -> np.ndarray:
    """A glyph line leaning right by `shear` (x moves right as y goes up; y points down), widened by `sx`."""
    p = to_points(glyph_offsets(text)).astype(np.float64)
    rng = np.random.default_rng(seed)
    p[:, :2] += rng.normal(0, 0.03, (len(p), 2))
    p[:, 0] = sx * p[:, 0] - shear * p[:, 1]
    return to_offsets(p.astype(np.float32))


def test_features_see_slant_width_and_lifts():
    t = "hello world"
    upright, leaning = line_features(sheared(t, 0.0), t), line_features(sheared(t, 0.5), t)
    f = {n: i for i, n in enumerate(FEATURES)}
    assert leaning[f["slant"]] > upright[f["slant"]] + 0.1  # loops: less than atan(0.5) of a straight stem
    wide = line_features(sheared(t, 0.0, sx=1.6), t)
    assert wide[f["width"]] > 1.4 * upright[f["width"]]
    assert abs(upright[f["lifts"]] - 1.0) < 1e-9  # every glyph is one stroke
    assert abs(upright[f["dir0"]:].sum() - 1.0) < 1e-9
    # units do not matter: the same line in pixels has the same features
    px = glyph_offsets(t) * np.array([37.0, 37.0, 1.0], np.float32)
    assert np.allclose(line_features(px, t), line_features(glyph_offsets(t), t), atol=1e-6)


def test_classifier_tells_writers_apart_and_distance_is_smaller_for_the_same_hand():
    X, y = [], []
    for w, (sh, sx) in enumerate([(0.0, 1.0), (0.4, 1.0), (0.0, 1.5), (0.4, 1.5)]):
        for k in range(12):
            t = TEXTS[(k // 2) % len(TEXTS)]  # each text twice: once to enrol, once to identify
            X.append(line_features(sheared(t, sh, sx, seed=100 * w + k), t))
            y.append(w)
    X = np.array(X)
    clf = WriterClassifier(X[::2], y[::2])
    acc = np.mean([p == t for p, t in zip(clf.predict(X[1::2]), y[1::2])])
    assert acc >= 0.9
    unit = X.std(0) + 1e-9
    Y = np.array(y)
    assert distribution_distance(X[Y == 0][:6], X[Y == 0][6:], unit) < distribution_distance(X[Y == 0], X[Y == 3], unit)


def test_score_on_the_shipped_reference_writers():
    ref = {w: np.asarray(v) for w, v in load_reference()["writers"].items()}
    assert len(ref) >= 11 and all(np.asarray(v).shape[1] == len(FEATURES) for v in ref.values())
    target, others = list(ref)[0], {w: v for w, v in list(ref.items())[1:]}
    real = ref[target]
    # "generated" lines that are the writer's own are identified as the writer; another writer's are not
    same = score(real[:30], real[30:], others)
    other = score(real[:30], ref[list(others)[0]], {w: v for w, v in list(others.items())[1:]})
    assert same.writers == 11 and same.generated_id > 0.6 and other.generated_id < 0.3
    assert same.distance < other.distance and same.real_id > 0.6


def test_eval_like_reports_imitation(tmp_path, monkeypatch):
    monkeypatch.setenv("HWCLI_HOME", str(tmp_path / "home"))
    synth = make_bundle(tmp_path / "synth", defaults={"retries": 0, "max_steps_per_char": 5, "bias": 1.0, "check": False})
    torch.manual_seed(0)
    rec = save_recognizer(tmp_path / "rec", Recognizer(RecognizerConfig(conv_channels=8, hidden=8, layers=1,
                                                                        alphabet_size=len(Alphabet()))), Alphabet(), 20.0)
    ink = write_ink(tmp_path / "mine")
    r = CliRunner().invoke(app, ["styles", "add", "me", str(ink), "--model", str(synth), "--no-check"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["eval", "--model", str(synth), "--recognizer", str(rec), "--style", "me", "--like",
                                 str(ink), "-n", "2", "--no-check", "--json", "-q"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    (row,) = doc["imitation"]
    assert row["style"].endswith("me") and row["writers"] == 11 and 0.0 <= row["generated_id"] <= 1.0
    assert row["lines"] <= 6 and "cer" in row and row["distance_real_vs_others"] > 0
    r = CliRunner().invoke(app, ["eval", "--model", str(synth), "--recognizer", str(rec), "--like", str(tmp_path / "nope"), "-q"])
    assert r.exit_code == 1 and "hwcli: error:" in r.stderr and "does not exist" in r.stderr


def test_the_third_judge_finds_the_writer_among_a_crowd_of_other_hands():
    from hwcli.evaluation.imitation import identify_among

    rng = np.random.default_rng(5)
    centres = rng.normal(scale=3.0, size=(9, 6))
    crowd = {f"w{k}": centres[k] + rng.normal(size=(20, 6)) for k in range(1, 9)}
    real = centres[0] + rng.normal(size=(20, 6))
    same = centres[0] + rng.normal(size=(30, 6))
    share, rank = identify_among(real, same, crowd)
    assert share > 0.8 and rank < 0.5
    other = centres[3] + rng.normal(size=(30, 6))  # another writer's hand is not the writer's
    share, rank = identify_among(real, other, crowd)
    assert share < 0.1 and rank >= 1
    assert identify_among(real, np.zeros((0, 6)), crowd)[0] == 0.0

