"""The second writer judge (hwcli/evaluation/hinge.py): hinge histograms of the pen's path, nearest writer."""
from __future__ import annotations

import numpy as np

from hwcli.evaluation import hinge


def _hand(rng, lean: float, round_: float, n: int = 20) -> np.ndarray:
    """A line of n letter-like strokes: an upstroke leaning by `lean`, an arc whose bulge is `round_`."""
    pts = []
    for i in range(n):
        x = 1.3 * i + rng.normal(0, 0.05)
        for t in np.linspace(0, 1, 10):
            pts.append([x + lean * t, -t, 0.0])
        for t in np.linspace(0, np.pi, 10):
            pts.append([x + lean + 0.25 + 0.25 * np.cos(np.pi - t) + rng.normal(0, 0.01),
                        -1 + round_ * np.sin(t) + rng.normal(0, 0.01), 0.0])
        pts[-1][2] = 1.0
    pts = np.asarray(pts, np.float32)
    off = np.diff(np.vstack([[0, 0, 0], pts]), axis=0).astype(np.float32)
    off[:, 2] = pts[:, 2]
    return off


def test_the_histogram_is_unit_free_and_normalised():
    off = _hand(np.random.default_rng(0), 0.3, 0.5)
    h = hinge.hinge_histogram(off)
    assert h.shape == (hinge.BINS * hinge.BINS,) and np.isclose((h ** 2).sum(), 1.0)
    big = off.copy()
    big[:, :2] *= 37.0  # another tablet's units
    np.testing.assert_allclose(hinge.hinge_histogram(big), h, atol=1e-6)
    assert not hinge.hinge_histogram(np.zeros((1, 3), np.float32)).any()  # no ink, no hinge


def test_lines_go_to_the_writer_whose_hand_they_share():
    rng = np.random.default_rng(1)
    hands = {"upright": (0.0, 0.2), "slanted": (0.45, 0.2), "round": (0.0, 0.9)}
    real = {w: hinge.histograms([_hand(rng, *p) for _ in range(8)]) for w, p in hands.items()}
    for w, p in hands.items():
        new = hinge.histograms([_hand(rng, *p) for _ in range(5)])
        others = {v: real[v] for v in hands if v != w}
        gen, ceiling = hinge.identify(real[w], new, others)
        assert gen == 1.0 and ceiling == 1.0, w
        # lines of another hand are not the writer's
        wrong = hinge.histograms([_hand(rng, *hands[next(v for v in hands if v != w)]) for _ in range(5)])
        assert hinge.identify(real[w], wrong, others)[0] == 0.0


def test_the_imitation_report_carries_both_judges(tmp_path):
    from types import SimpleNamespace

    from hwcli.evaluation.imitation import evaluate_imitation
    from hwcli.styles.likeness import FEATURES
    from hwcli.model.bundle import load_model
    from tiny_bundle import glyph_offsets, make_bundle

    bundle = load_model(make_bundle(tmp_path / "m", defaults={"retries": 0, "max_steps_per_char": 5}))
    rng = np.random.default_rng(2)
    texts = ["the cat", "a dog ran", "hello there", "one fish", "so far so", "red sun"]
    like = [SimpleNamespace(text=t, offsets=glyph_offsets(t), name=f"me-{i}") for i, t in enumerate(texts)]
    others = {f"w{k}": [_hand(rng, 0.2 * k, 0.3) for _ in range(4)] for k in range(3)}
    reference = {"writers": {w: rng.normal(size=(4, len(FEATURES))).tolist() for w in others}}
    out = evaluate_imitation(bundle, 0, like, check=False, reference=reference, hinge_reference=others)
    assert 0.0 <= out["hinge_id"] <= 1.0 and 0.0 <= out["hinge_real_id"] <= 1.0
    assert 0.0 <= out["generated_id"] <= 1.0 and out["writers"] == 4
    assert "hinge_id" not in evaluate_imitation(bundle, 0, like, check=False, reference=reference)
    crowd = {f"t{k}": rng.normal(size=(5, len(FEATURES))) for k in range(6)}
    third = evaluate_imitation(bundle, 0, like, check=False, reference=reference, distractors=crowd)
    assert 0.0 <= third["disjoint_id"] <= 1.0 and 0.0 <= third["disjoint_rank"] <= 6 and third["disjoint_writers"] == 7
    assert 0.0 <= third["disjoint_real_id"] <= 1.0


def test_the_imitation_report_reads_the_real_lines_beside_the_generated(tmp_path, monkeypatch):
    """With tesseract, the writer's own lines are read the same way (`real_ocr_cer`: how legible a perfect
    imitation could be), beside the generated lines' `ocr_cer`."""
    from types import SimpleNamespace

    from hwcli.evaluation import legibility
    from hwcli.evaluation.imitation import evaluate_imitation
    from hwcli.model.bundle import load_model
    from hwcli.styles.likeness import FEATURES
    from tiny_bundle import glyph_offsets, make_bundle

    bundle = load_model(make_bundle(tmp_path / "m", defaults={"retries": 0, "max_steps_per_char": 5}))
    texts = ["the cat", "a dog ran", "hello there", "one fish"]
    like = [SimpleNamespace(text=t, offsets=glyph_offsets(t), name=f"me-{i}") for i, t in enumerate(texts)]
    seen = {}

    def real(b, strokes, languages="eng"):
        seen["real"] = strokes
        return [t[:-1] for t in texts]  # one character short each

    monkeypatch.setattr(legibility, "read_real_as_page", real)
    monkeypatch.setattr(legibility, "read_as_page", lambda b, st, strokes, languages="eng": list(texts))
    rng = np.random.default_rng(0)
    reference = {"writers": {f"w{k}": rng.normal(size=(4, len(FEATURES))).tolist() for k in range(3)}}
    out = evaluate_imitation(bundle, 0, like, check=False, reference=reference, tesseract=True)
    assert out["ocr_cer"] == 0.0
    assert out["real_ocr_cer"] == len(texts) / sum(len(t) for t in texts)
    assert all(a is ln.offsets for a, ln in zip(seen["real"], like)) and len(seen["real"]) == len(like)
