"""Output is unchanged by reshaping the code: stored digests of sampling output on a tiny random-weights bundle.

Each digest is the sha256 of the strokes rounded to 3 decimals as float32 (plus each line's ok / reason /
attempts), for a fixed seed, text and options. A change that is meant to leave the handwriting alone must
leave these digests alone; a change that is meant to change it (a new sampling rule) updates the digest it
changes, and says so in its commit.

- `plain`: whole lines, a style, a bias, one retry (the sampler, stop rule, checks and retry policy);
- `segments`: long lines cut into segments and joined, with the size ramp (segment logic and geometry);
- `read_back`: a fake checker makes some lines read back wrong (the read-back resampling policy);
- `prediction`: the unconditional prediction network;
- `pages`: a short document laid out and placed on pages in mm (layout, scale, placement).

The digests rely on hwcli's portable arithmetic rule (hwcli/arithmetic.py: MKL's compatible branch, torch's AVX2
kernels), which tests/conftest.py sets for the whole suite: under it they are the same on every x86-64 CPU with
AVX2 (recorded on an AMD EPYC; `segments` and `pages` were recorded on an AVX-512 Intel before the rule existed).
`test_the_portable_rule_is_in_force` fails if something loaded torch before the rule could be set.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from hwcli.model.bundle import load_model
from tiny_bundle import make_bundle, steer

DIGESTS = {
    "plain": "53e462ad2f2e40a6d6f8ed7cbce2a5e9f9703a803edca2bc02195bfe3ddfe713",
    "segments": "d76612f5e781e1161294df0dd0b669821e11045ea9efd4c66e31cddad542ae1a",
    "read_back": "cc393454ea2228141018822b45f14a3ac5c2656115c909b58f9a37335c2ced2c",
    "prediction": "cc23f45a072001f525adaa632568fe4db36c906a1ed64f74203fcc3a6ce257ba",
    "pages": "3e4558996126bb5409ac031d0a06b931e45b44893a0e05a80a331f29e06bef07",
}

LINES = ["the cat sat", "", "hello world", "a b"]
LONG = ["the quick brown fox jumps over the lazy dog", "one fish two fish red fish blue fish", "short"]
DOC = "Dear John,\n\nthe cat sat on the mat and looked at the red sun for a while.\nOne more line here."


def _digest(arrays, extra=()) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.round(np.asarray(a, np.float32), 3).astype(np.float32).tobytes())
        h.update(b"|")
    h.update(repr(list(extra)).encode())
    return h.hexdigest()


def _lines_digest(results) -> str:
    return _digest([r.strokes for r in results], [(r.text, r.ok, r.reason, r.attempts, r.resampled) for r in results])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("digest")
    fast = {"max_steps_per_char": 12, "retries": 1, "check": False}
    seg = {**fast, "segment_chars": 12, "size_ramp": 0.2}
    return {
        "plain": steer(load_model(make_bundle(root / "plain", defaults=fast))),
        "segments": steer(load_model(make_bundle(root / "seg", defaults=seg))),
        "prediction": load_model(make_bundle(root / "pred", kind="prediction", defaults=fast)),
    }


def _sample(bundle, lines, checker=None, **opts):
    from hwcli.synthesis import SamplingOptions, synthesize

    return synthesize(bundle, lines, SamplingOptions(**opts), checker=checker)


def test_the_portable_rule_is_in_force(tiny):
    from hwcli import arithmetic

    assert arithmetic.rule_name() == "portable"
    assert arithmetic.verify() in ("portable", "no-mkl")
    if arithmetic.mkl_mode() is not None:
        assert arithmetic.mkl_mode() == arithmetic.wanted_mode() == 3 | 0x10000  # COMPATIBLE, STRICT
    if torch.backends.cpu.get_cpu_capability() != "DEFAULT":  # a CPU without AVX2 falls back below it
        assert torch.backends.cpu.get_cpu_capability() == "AVX2"


def test_plain_lines(tiny):
    res = _sample(tiny["plain"], LINES, style="loose", bias=0.5, seed=7)
    assert _lines_digest(res) == DIGESTS["plain"]


def test_segmented_lines(tiny):
    res = _sample(tiny["segments"], LONG, style=2, bias=1.0, seed=11)
    assert _lines_digest(res) == DIGESTS["segments"]


def test_read_back_resampling(tiny):
    def checker(strokes, texts):  # deterministic "reading": long texts read badly, and so do long inks
        return [0.9 if len(t) > 4 and len(s) % 2 else 0.1 for s, t in zip(strokes, texts)]

    res = _sample(tiny["plain"], LINES, checker=checker, seed=5, retries=2)
    assert _lines_digest(res) == DIGESTS["read_back"]


def test_prediction_network(tiny):
    res = _sample(tiny["prediction"], ["x", "two lines"], seed=3)
    assert _lines_digest(res) == DIGESTS["prediction"]


def test_placed_pages(tiny):
    pages = _placed_pages(tiny["plain"], DOC)
    assert _digest([ln for pg in pages for ln in pg.lines], [len(pages)]) == DIGESTS["pages"]


def _placed_pages(bundle, text):
    import hwcli

    page = hwcli.PageOptions(page_size="90x50", margin=8.0, line_height=9.0, seed=4, ruled=True)
    return list(hwcli.write(text, model=bundle, style=1, seed=2, page=page).pages)
