"""A compact reader of online handwriting: offsets -> per-frame character scores for CTC.

Network: per-point features ``[dx, dy, eos, pen_was_up]`` -> two 1-D convolutions (the first with stride 2,
halving the frame rate: IAM-OnDB lines downsampled by 2 have ~11 points per character, so ~5 frames per
character remain, enough for CTC's blanks between repeated letters) -> a stack of bidirectional LSTM layers ->
a linear layer to the alphabet plus the CTC blank. Class 0 is the blank, class ``i + 1`` is ``chars[i]``:
the same indexing as `hwcli.alphabet.Alphabet` (whose index 0 is padding), so ``Alphabet.encode`` gives CTC
targets directly.

Shapes: B batch, T points, T' = frames after the strided convolution, F features, H hidden, C classes.

The bundle has the synthesis bundles' layout (see `bundle.py`): ``NAME.safetensors`` + ``NAME.json`` with
``format_version``, ``config`` (``kind: "recognizer"`` and every architecture field), ``alphabet``,
``stats.scale`` (sensor units per normalised unit of the training data), ``provenance`` and the sha256.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save
from torch import Tensor, nn

from ..alphabet import Alphabet, MarkAlphabet
from ..errors import ModelFileError
from ..fileio import atomic_output
from ..model.bundle import bundled_model_path, model_path
from ..model.files import (FORMAT_VERSION, load_tensors, read_bundle_json, read_verified_tensors, stem_of,
                          tensor_file)

DEFAULT_RECOGNIZER = "hwcli-recognizer"
N_FEATURES = 4
FEATURE_CLIP = 20.0  # normalised units; pen-up jumps between words can be far longer and say little more


@dataclass(frozen=True)
class RecognizerConfig:
    kind: str = "recognizer"  # tells a recognizer bundle from a synthesis one
    conv_channels: int = 64  # channels of both convolutions
    conv_kernel: int = 5  # kernel of the strided convolution (odd)
    conv_stride: int = 2  # time reduction before the LSTM
    hidden: int = 128  # LSTM cells per direction and layer
    layers: int = 2  # bidirectional LSTM layers
    dropout: float = 0.1  # between LSTM layers and before the output (training only)
    alphabet_size: int = 82  # C: CTC classes, blank (index 0) included
    reorder_delayed: bool = False  # read delayed strokes (i-dots, t-bars, accents) where their letter is (below)
    split_marks: bool = False  # classes are letters and accent marks apart (`hwcli.alphabet.MarkAlphabet`)

    def __post_init__(self) -> None:
        if self.kind != "recognizer":
            raise ValueError(f"not a recognizer config (kind {self.kind!r})")
        if min(self.conv_channels, self.conv_kernel, self.conv_stride, self.hidden, self.layers, self.alphabet_size) < 1:
            raise ValueError("recognizer sizes must be positive")
        if self.conv_kernel % 2 == 0:
            raise ValueError("conv_kernel must be odd")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RecognizerConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


DELAY_MARGIN = 0.25  # a stroke is delayed when its centre lies this far (x line heights) left of the ink before it
DELAY_MAX_WIDTH = 1.5  # ... and it is at most this wide (x line heights): a mark, not a word written late


def reorder_delayed_strokes(offsets: np.ndarray) -> np.ndarray:
    """The same points, with each *delayed* stroke moved to where the pen first passed its letter.

    People write the dot of an i, the bar of a t and an accent's mark after the letter, often after the whole
    word; the mark then comes many frames after its letter, and a reader that reads in time order must carry
    it back. Here a stroke whose horizontal centre ``c`` lies left of the ink written before it (by more than
    ``DELAY_MARGIN`` line heights; line height = the 5-95 % spread of y) and that is no wider than
    ``DELAY_MAX_WIDTH`` line heights is taken out and put back just before the first point of the other
    strokes at or right of ``c``; the pen is lifted before and after it (``eos`` set where the new order
    jumps). Point count and positions are unchanged; a line without delayed strokes comes back as it was.
    Offsets ``(N, 3)`` [dx, dy, eos] (the first relative to the origin) -> offsets ``(N, 3)`` float32.
    """
    off = np.asarray(offsets, dtype=np.float32)
    n = len(off)
    if n < 3:
        return off
    pts = np.cumsum(off[:, :2].astype(np.float64), axis=0)
    cuts = np.union1d([0, n], np.flatnonzero(off[:-1, 2] > 0.5) + 1)
    if len(cuts) < 3:
        return off
    height = float(np.percentile(pts[:, 1], 95) - np.percentile(pts[:, 1], 5))
    if not height > 0:
        return off
    main: list[np.ndarray] = []
    delayed: list[tuple[float, np.ndarray]] = []
    reach = -np.inf
    for a, b in zip(cuts[:-1], cuts[1:]):
        xs = pts[a:b, 0]
        lo, hi = float(xs.min()), float(xs.max())
        centre = 0.5 * (lo + hi)
        if main and centre < reach - DELAY_MARGIN * height and hi - lo <= DELAY_MAX_WIDTH * height:
            delayed.append((centre, np.arange(a, b)))
        else:
            main.append(np.arange(a, b))
            reach = max(reach, hi)
    if not delayed:
        return off
    order_main = np.concatenate(main)
    xm = pts[order_main, 0]
    # first main point at or right of each mark's centre (its letter's first stroke there); stable for ties
    first_right = np.maximum.accumulate(xm)
    slots = np.searchsorted(first_right, [c for c, _ in delayed], side="left")
    pieces, last = [], 0
    for k in np.unique(slots):
        pieces.append(order_main[last:k])
        pieces.extend(idx for (_, idx), s in zip(delayed, slots) if s == k)
        last = k
    pieces.append(order_main[last:])
    order = np.concatenate(pieces)
    out = np.empty_like(off)
    p = pts[order]
    out[0, :2] = p[0]
    out[1:, :2] = np.diff(p, axis=0)
    jumps = np.zeros(n, bool)
    jumps[:-1] = order[1:] != order[:-1] + 1
    out[:, 2] = np.where(jumps | (off[order, 2] > 0.5), 1.0, 0.0)
    out[-1, 2] = off[order[-1], 2]
    return out


def features(offsets: np.ndarray, reorder_delayed: bool = False) -> np.ndarray:
    """Normalised offsets ``(N, 3)`` [dx, dy, eos] -> float32 features ``(N, 4)`` [dx, dy, eos, pen_was_up].

    ``pen_was_up[i] = eos[i - 1]``: the move into point i was made in the air (1 for the first point).
    With `reorder_delayed` the points are first put in reading order (`reorder_delayed_strokes`).
    """
    off = reorder_delayed_strokes(offsets) if reorder_delayed else np.asarray(offsets, dtype=np.float32)
    out = np.empty((len(off), N_FEATURES), np.float32)
    out[:, :2] = np.clip(off[:, :2], -FEATURE_CLIP, FEATURE_CLIP)
    out[:, 2] = off[:, 2] > 0.5
    out[:1, 3] = 1.0
    out[1:, 3] = out[:-1, 2]
    return out


def reading_alphabet(chars: str, cfg: "RecognizerConfig") -> Alphabet:
    """The alphabet whose classes a recognizer of `cfg` reads: `chars` itself, or letters and marks apart."""
    return MarkAlphabet(chars) if cfg.split_marks else Alphabet(chars)


class Recognizer(nn.Module):
    """``forward(x, lengths)`` -> (log_probs (B, T', C), frame lengths (B,)); x is (B, T, F) padded features."""

    def __init__(self, cfg: RecognizerConfig):
        super().__init__()
        self.cfg = cfg
        ch, k = cfg.conv_channels, cfg.conv_kernel
        self.conv1 = nn.Conv1d(N_FEATURES, ch, k, stride=cfg.conv_stride, padding=k // 2)
        self.conv2 = nn.Conv1d(ch, ch, 3, padding=1)
        # one forward and one backward LSTM per layer rather than nn.LSTM(bidirectional=True) on a packed
        # sequence: the packed backward pass is ~7x slower on a CPU; `_reverse` keeps it exact (below)
        self.fwd = nn.ModuleList(nn.LSTM(ch if i == 0 else 2 * cfg.hidden, cfg.hidden, batch_first=True)
                                 for i in range(cfg.layers))
        self.bwd = nn.ModuleList(nn.LSTM(ch if i == 0 else 2 * cfg.hidden, cfg.hidden, batch_first=True)
                                 for i in range(cfg.layers))
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(2 * cfg.hidden, cfg.alphabet_size)

    def frames(self, lengths: Tensor) -> Tensor:
        """Frame count after the strided convolution for `lengths` points."""
        k, s = self.cfg.conv_kernel, self.cfg.conv_stride
        return torch.div(lengths + 2 * (k // 2) - k, s, rounding_mode="floor") + 1

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        h = torch.relu(self.conv1(x.transpose(1, 2)))  # (B, ch, T')
        flen = self.frames(lengths).clamp(min=1, max=h.shape[2])
        # zero the frames past each line's end, so a line reads the same alone and padded in a batch
        h = h * (torch.arange(h.shape[2], device=h.device).unsqueeze(0) < flen.unsqueeze(1)).unsqueeze(1)
        h = torch.relu(self.conv2(h)).transpose(1, 2)  # (B, T', ch)
        rev = _reversal_index(flen, h.shape[1])
        for i, (f, b) in enumerate(zip(self.fwd, self.bwd)):
            if i:
                h = self.drop(h)
            hf, _ = f(h)  # causal: padding after a line's end cannot reach its frames
            hb, _ = b(_gather(h, rev))  # each line reversed within its own length, padding left at the end
            h = torch.cat([hf, _gather(hb, rev)], dim=-1)
        return self.out(self.drop(h)).log_softmax(-1), flen


def _reversal_index(flen: Tensor, T: int) -> Tensor:
    """(B, T) time index that reverses frames 0..flen-1 of each row and keeps the padding where it is."""
    t = torch.arange(T, device=flen.device).unsqueeze(0)
    r = flen.unsqueeze(1) - 1 - t
    return torch.where(r >= 0, r, t)


def _gather(h: Tensor, index: Tensor) -> Tensor:
    return h.gather(1, index.unsqueeze(-1).expand_as(h))


@dataclass
class RecognizerBundle:
    network: Recognizer
    config: RecognizerConfig
    alphabet: Alphabet
    scale: float  # sensor units per normalised unit of the data it was trained on
    provenance: dict = field(default_factory=dict)
    path: str = ""


def save_recognizer(path: str | os.PathLike, network: Recognizer, alphabet: Alphabet, scale: float,
                    provenance: dict | None = None) -> Path:
    """Write ``path.safetensors`` then ``path.json`` (each atomically); returns the stem."""
    stem = stem_of(path)
    tensors = {k: v.detach().to("cpu").contiguous().float() for k, v in network.state_dict().items()}
    blob = save(tensors)
    with atomic_output(stem.with_suffix(".safetensors")) as fh:
        fh.write(blob)
    doc = {
        "format_version": FORMAT_VERSION,
        "config": network.cfg.to_dict(),
        "alphabet": alphabet.chars,
        "stats": {"scale": float(scale)},
        "provenance": provenance or {},
        "tensors": {"file": stem.with_suffix(".safetensors").name, "sha256": hashlib.sha256(blob).hexdigest(),
                    "dtype": "float32"},
    }
    with atomic_output(stem.with_suffix(".json")) as fh:
        fh.write(json.dumps(doc, indent=1).encode())
    return stem


def bundled_recognizer_path() -> Path:
    """The recognizer shipped with the package, found like the synthesis model."""
    return bundled_model_path(DEFAULT_RECOGNIZER)


def load_recognizer(path: str | os.PathLike | None = None, device: str = "cpu") -> RecognizerBundle:
    """Load a recognizer bundle by path or name (default: the bundled one); checks version, kind and the tensor
    file's sha256.

    Cheap (a few MB, no data); a missing or wrong file raises ModelFileError with the path in the message.
    """
    if path is None and not bundled_recognizer_path().with_suffix(".json").is_file():
        raise ModelFileError(f"the bundled recognizer {str(bundled_recognizer_path().with_suffix('.json'))!r} is not installed "
                             "(train one with `hwcli train-recognizer`, or pass --recognizer PATH)")
    # a path, or a bundled model's name (e.g. hwcli-recognizer), resolved as `load_model` resolves them
    stem, doc = read_bundle_json(model_path(path) if path is not None else bundled_recognizer_path())
    kind = doc["config"].get("kind") if isinstance(doc["config"], dict) else None
    if kind != "recognizer":
        raise ModelFileError(f"model {str(stem)!r} is a {kind or 'unknown'} model, not a recognizer")
    blob = read_verified_tensors(stem, doc, "recognizer")
    try:
        cfg = RecognizerConfig.from_dict(doc["config"])
        alphabet = reading_alphabet(doc["alphabet"], cfg)
        if len(alphabet) != cfg.alphabet_size:
            raise ValueError(f"alphabet has {len(alphabet)} classes, config says {cfg.alphabet_size}")
        if not (isinstance(cfg.hidden, int) and 1 <= cfg.hidden <= 4096 and isinstance(cfg.layers, int)
                and 1 <= cfg.layers <= 16 and isinstance(cfg.conv_channels, int) and 1 <= cfg.conv_channels <= 4096):
            raise ValueError("config sizes out of range (hidden 1..4096, layers 1..16, conv_channels 1..4096)")
        net = Recognizer(cfg)
    except (ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise ModelFileError(f"recognizer {str(stem)!r} cannot be rebuilt: {str(exc).splitlines()[0]}") from None
    net.load_state_dict(load_tensors(blob, str(tensor_file(stem, doc, "recognizer")), net.state_dict(), "recognizer"))
    net.eval().to(device)
    return RecognizerBundle(net, cfg, alphabet, float(doc.get("stats", {}).get("scale", 1.0)),
                            doc.get("provenance", {}), str(stem))
