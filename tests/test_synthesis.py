"""The sampling engine on tiny random-weights bundles: batching, determinism, stop rule, failures, styles."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hwcli.errors import OptionError, StyleNotFoundError
from hwcli.model.bundle import load_model
from hwcli.synthesis import SamplingOptions, check_line, sample_batch, synthesize
from tiny_bundle import glyph_offsets, make_bundle

FAST = {"max_steps_per_char": 6, "retries": 1, "check": False}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.set_num_threads(1)
    return load_model(make_bundle(tmp_path_factory.mktemp("b") / "tiny", defaults=FAST))


def test_same_seed_same_strokes_and_other_seed_differs(bundle):
    lines = ["hello there", "a b", "quick brown fox"]
    a = synthesize(bundle, lines, SamplingOptions(seed=3))
    b = synthesize(bundle, lines, SamplingOptions(seed=3))
    c = synthesize(bundle, lines, SamplingOptions(seed=4))
    assert [r.text for r in a] == lines
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.strokes, y.strokes)
    assert any(not np.array_equal(x.strokes, y.strokes) for x, y in zip(a, c))


def test_each_line_stops_on_its_own_within_its_cap(bundle):
    g = torch.Generator().manual_seed(0)
    outs = sample_batch(bundle, ["ab", "a much longer line of text"], 0.5, g, None, max_steps_per_char=6)
    short, long = outs
    assert short["steps"] <= 2 * 6 + 20
    assert long["steps"] <= 26 * 6 + 20
    assert short["steps"] < long["steps"] or short["reached_end"]
    for o in outs:
        assert o["strokes"].shape == (o["steps"], 3)
        assert o["strokes"][-1, 2] == 1.0  # ends with the pen up


def test_failed_lines_are_reported_not_dropped(bundle):
    # random weights never move the window to the end: every line fails, and is kept with its reason
    res = synthesize(bundle, ["one", "", "three"], SamplingOptions(retries=1))
    assert [r.text for r in res] == ["one", "", "three"]
    assert res[1].ok and len(res[1].strokes) == 0  # an empty line is nothing to write, not a failure
    bad = [r for r in (res[0], res[2]) if not r.ok]
    assert bad, "a random model should fail the checks"
    assert all(r.reason and r.attempts == 2 for r in bad)


def test_progress_counts_every_line(bundle):
    seen = []
    synthesize(bundle, ["a", "b", "c"], SamplingOptions(retries=0), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (3, 3)


def test_styles_prime_and_unknown_style_is_an_error(bundle):
    a = synthesize(bundle, ["word"], SamplingOptions(style=0, retries=0))[0]
    b = synthesize(bundle, ["word"], SamplingOptions(style="loose", retries=0))[0]
    assert not np.array_equal(a.strokes, b.strokes)
    with pytest.raises(StyleNotFoundError):
        synthesize(bundle, ["word"], SamplingOptions(style=17))


def test_checker_failures_trigger_resampling(bundle):
    calls = []

    def checker(strokes, texts):
        calls.append(len(texts))
        return [0.9] * len(texts)  # every reading is wrong

    res = synthesize(bundle, ["abc"], SamplingOptions(retries=2), checker=checker)[0]
    assert len(calls) == 3 and res.attempts == 3 and not res.ok


def test_unconditional_sampling(tmp_path):
    pred = load_model(make_bundle(tmp_path / "pred", kind="prediction", defaults=FAST))
    res = synthesize(pred, ["x" * 10, "y" * 10], SamplingOptions(seed=1))
    assert all(len(r.strokes) > 0 and r.ok for r in res)


def test_sampling_options_validated():
    with pytest.raises(OptionError):
        SamplingOptions(bias=-1)
    with pytest.raises(OptionError):
        SamplingOptions(retries=-2)


def test_check_line_catches_absurd_lines():
    good = glyph_offsets("hello world")
    assert check_line(good, "hello world", True, False) == ""
    assert "end" in check_line(good, "hello world", False, False)
    assert "cap" in check_line(good, "hello world", True, True)
    jump = good.copy()
    jump[5, 1] = 500.0
    assert check_line(jump, "hello world", True, False) != ""
