"""Tiny fixtures for model, training and synthesis tests: a synthetic dataset and a random-weights bundle.

- `glyph_offsets(text)`: deterministic print-like "handwriting" for a text: every character is a small loop,
  its own stroke, whose shape depends on the character. Normalised units (about 1 per point, ~2.5 per character),
  float32 ``(N, 3)`` rows ``[dx, dy, eos]``.
- `make_dataset(tmp_path, n_lines=6)`: a `Dataset` of such lines (sensor units, ``meta["stats"]["scale"]``),
  splits trainset / testset_v, also saved as ``tmp_path / "tiny.npz"`` (see `make_npz`).
- `make_bundle(path, kind="synthesis", hidden=16, styles=True)`: a random-weights bundle with 3 styles,
  saved with `save_bundle`; returns the stem (`load_model(stem)` loads it).
- `steer(bundle)`: a loaded random-weights synthesis bundle edited so that its lines reach their end and pass
  the geometric checks (for tests of checks, retries, measurement).
- `make_recognizer(path)`: a random-weights recognizer bundle (`TINY_RECOGNIZER`); returns the stem.

Everything is a pure function of its arguments (seeded), small enough for tests that run in milliseconds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from hwcli.alphabet import Alphabet
from hwcli.data.dataset import Dataset
from hwcli.model.bundle import Style, save_bundle
from hwcli.model.network import NetworkConfig, build_network

SCALE = 20.0  # sensor units per normalised unit in the synthetic datasets
POINTS_PER_CHAR = 6
TEXTS = ["the cat", "a dog", "hello", "bird", "one fish", "so far", "tiny", "red sun", "ink", "we go"]
STYLE_TEXTS = [("neat", "abc"), ("loose", "hi there"), ("small", "ok")]


def glyph_offsets(text: str, points_per_char: int = POINTS_PER_CHAR) -> np.ndarray:
    """Offsets (N, 3) float32, normalised units, for `text`; the first row is a zero move, the last lifts the pen.

    Print-like: every character is its own stroke, a loop of `points_per_char` points drifting right by 2.5 units
    whose radius, turning direction, extent and height are set by its code point (so different letters look
    different); a space adds a 2-unit gap.
    """
    pts: list[tuple[float, float, float]] = []
    x0 = 0.0
    for ch in text:
        if ch == " ":
            x0 += 2.0
            continue
        k = ord(ch)
        r = 0.5 + 0.15 * (k % 5)  # loop radius
        turn = (1.0 if (k // 2) % 2 else 0.75) * (1 if k % 2 else -1)  # turns, and which way
        h = 0.6 * (k % 3)  # height above the baseline
        for j in range(points_per_char):
            a = 2 * np.pi * turn * j / points_per_char
            pts.append((x0 + 2.5 * j / points_per_char + r * np.sin(a), h + r * (1 - np.cos(a)), 0.0))
        pts[-1] = pts[-1][:2] + (1.0,)  # end of the character: lift the pen
        x0 += 2.5
    if not pts:
        return np.zeros((0, 3), np.float32)
    p = np.asarray(pts, np.float64)
    off = np.zeros_like(p)
    off[1:, :2] = np.diff(p[:, :2], axis=0)
    off[:, 2] = p[:, 2]
    return off.astype(np.float32)


def write_inkml(folder: str | Path, texts, annotate: bool = True, scale: float = 20.0) -> Path:
    """InkML files of `texts` as `hwcli capture` writes them (pixels, with time and pressure), one a line."""
    from hwcli.capture.server import inkml_document
    from hwcli.strokes import to_points

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, t in enumerate(texts):
        pts = to_points(glyph_offsets(t)) * np.array([scale, scale, 1.0], np.float32)
        strokes, cur = [], []
        for k, (x, y, e) in enumerate(pts):
            cur.append([float(x) + 50, float(y) + 80, 8.0 * k, 0.5])
            if e > 0.5:
                strokes.append(cur)
                cur = []
        doc = inkml_document(t, strokes, f"line-{i + 1:02d}")
        if not annotate:
            doc = doc.replace(f'<annotation type="truth">{t}</annotation>', "")
        (folder / f"line-{i + 1:02d}.inkml").write_text(doc, encoding="utf-8")
    return folder


def make_dataset(tmp_path: str | Path | None = None, n_lines: int = 6, n_valid: int = 2,
                 texts: list[str] | None = None, seed: int = 0, points_per_char: int = POINTS_PER_CHAR) -> Dataset:
    """A synthetic `Dataset` of `n_lines` lines (the last `n_valid` in testset_v, the rest in trainset).

    Offsets are in sensor units (`SCALE` per normalised unit, with a little seeded jitter so lines of the same
    text differ); texts cycle through `texts` (default `TEXTS`), `points_per_char` as in `glyph_offsets`.
    With `tmp_path`, also saved to ``tmp_path / "tiny.npz"``.
    """
    texts = list(texts or TEXTS)
    rng = np.random.default_rng(seed)
    offs, txts, ids, writers, splits = [], [], [], [], []
    for i in range(n_lines):
        t = texts[i % len(texts)]
        o = glyph_offsets(t, points_per_char) * np.array([SCALE, SCALE, 1.0], np.float32)
        o[1:, :2] += rng.normal(0.0, 0.02 * SCALE, size=(len(o) - 1, 2)).astype(np.float32)
        offs.append(o)
        txts.append(t)
        ids.append(f"syn-{i:03d}")
        writers.append(i % 3)
        splits.append("testset_v" if i >= n_lines - n_valid else "trainset")
    meta = {"stats": {"scale": SCALE, "scale_from": "synthetic"}, "preprocessing": {"steps": []},
            "source": {"kind": "synthetic"}}
    ds = Dataset.from_lines(offs, txts, ids, writers, splits, meta)
    if tmp_path is not None:
        ds.save(Path(tmp_path) / "tiny.npz")
    return ds


def make_npz(tmp_path: str | Path, n_lines: int = 6, **kw) -> Path:
    """`make_dataset` saved as ``tmp_path / "tiny.npz"``; returns that path."""
    make_dataset(tmp_path, n_lines=n_lines, **kw)
    return Path(tmp_path) / "tiny.npz"


def tiny_config(kind: str = "synthesis", hidden: int = 16, layers: int = 2, window_k: int = 3,
                mixtures: int = 3, alphabet: Alphabet | None = None) -> NetworkConfig:
    """A `NetworkConfig` with the default alphabet (or `alphabet`) and tiny sizes."""
    return NetworkConfig(kind=kind, hidden=hidden, layers=layers, window_k=window_k, mixtures=mixtures,
                         alphabet_size=len(alphabet or Alphabet()))


def make_styles() -> list[Style]:
    """Three priming styles (names "neat", "loose", "small") with `glyph_offsets` strokes."""
    return [Style(name, text, glyph_offsets(text), source=f"synthetic-{i}")
            for i, (name, text) in enumerate(STYLE_TEXTS)]


def make_bundle(path: str | Path, kind: str = "synthesis", hidden: int = 16, styles: bool = True,
                layers: int = 2, mixtures: int = 3, seed: int = 0, defaults: dict | None = None,
                chars: str | None = None) -> Path:
    """Save a random-weights bundle at `path` (``path.json`` + ``path.safetensors``); returns the stem.

    Seeded: the same arguments give the same weights (the global torch RNG is left as it was). `styles` adds
    `make_styles()` (synthesis only); `defaults` overrides sampling defaults (e.g. ``{"retries": 0}``); `chars`
    is the alphabet (default: IAM-OnDB's, `DEFAULT_CHARS`; `CHARSET` for a model of the full set).
    """
    alphabet = Alphabet(chars) if chars is not None else Alphabet()
    cfg = tiny_config(kind, hidden, layers, mixtures=mixtures, alphabet=alphabet)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_network(cfg)
    return save_bundle(path, net, cfg, alphabet, SCALE, defaults=defaults,
                       styles=make_styles() if styles and kind == "synthesis" else [],
                       provenance={"data": "random weights (tests)", "steps": 0},
                       meta={"char_width": 2.5})


def tiny_recognizer_config(chars: str | None = None):
    from hwcli.recognizer.network import RecognizerConfig

    size = len(Alphabet(chars) if chars is not None else Alphabet())
    return RecognizerConfig(conv_channels=8, hidden=8, layers=1, dropout=0.0, alphabet_size=size)


def tiny_recognizer(seed: int = 0, cfg=None):
    """A random-weights `Recognizer` (eval mode), seeded; `cfg` defaults to `tiny_recognizer_config()`."""
    from hwcli.recognizer.network import Recognizer

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Recognizer(cfg or tiny_recognizer_config()).eval()


def make_recognizer(path: str | Path, seed: int = 0, scale: float = SCALE, chars: str | None = None) -> Path:
    """Save `tiny_recognizer(seed)` as a recognizer bundle at `path` (alphabet `chars`, default IAM-OnDB's);
    returns the stem."""
    from hwcli.recognizer.network import save_recognizer

    alphabet = Alphabet(chars) if chars is not None else Alphabet()
    return save_recognizer(path, tiny_recognizer(seed, tiny_recognizer_config(chars)), alphabet, scale,
                           {"data": "random weights (tests)"})


def steer(bundle):
    """A loaded random-weights synthesis bundle that writes plausible lines (changed in place, returned).

    Random weights never move the attention window: make it advance 0.15 characters a step and the pen
    drift right ~0.4 units a step, lifting now and then, so lines reach their end and the stop rule, the
    geometric checks and the read-back policy all see real cases."""
    net = bundle.network
    K, M = net.cfg.window_k, net.cfg.mixtures
    with torch.no_grad():
        net.window.weight[K:].zero_()
        net.window.bias[K : 2 * K].fill_(0.0)
        net.window.bias[2 * K :].fill_(float(np.log(0.15 / net.cfg.kappa_scale)))
        net.output.weight.mul_(0.3)
        net.output.bias[0] = -1.5  # end of stroke about one step in five
        net.output.bias[1 + M : 1 + 2 * M] += 0.4  # mu_x
    return bundle
