"""Training the recognizer with the shared loop (`hwcli.training.loop.run`): CTC loss, augmentation, CER validation.

Uses the synthesis trainer's data layer (`training.data.LineData`: normalised lines of the training splits,
their encoded texts and the length-bucketed epoch order) and its loop: the data order of epoch ``e`` and the
augmentation of each step are pure functions of ``(seed, epoch, position)``, the checkpoint is written
atomically, and ``resume`` continues where it stopped. The best validation CER (greedy decoding on
``testset_v``) is exported as ``OUT/best`` (a recognizer bundle).
"""
from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..alphabet import Alphabet, data_alphabet
from ..data.dataset import TRAIN_SPLITS, VALID_SPLIT, Dataset
from ..errors import DatasetError, OptionError
from ..model.grow import grow_recognizer_state, grown, split_marks_state
from .data import LineData, split_indices, validation_subset
from .loop import CKPT_NAME, LoopOptions, device_for, resume_checkpoint, run
from ..recognizer.network import (N_FEATURES, Recognizer, RecognizerConfig, features, load_recognizer, reading_alphabet,
                                  save_recognizer)
from ..recognizer.reading import corpus_error_rates, recognize

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecognizerTrainOptions(LoopOptions):
    out: str = "runs/recognizer"  # output directory: checkpoint.pt, metrics.jsonl, best.json/.safetensors
    lr: float = 2e-3  # Adam learning rate after warm-up
    lr_half_life: float = 6000.0  # steps for the learning rate to halve
    lr_min: float = 1e-4  # floor of the decayed learning rate
    warmup: int = 200  # linear warm-up steps
    clip: float = 5.0  # global gradient-norm clip
    val_every: int = 400  # validate, checkpoint and maybe export every N steps
    val_lines: int = 300  # validation lines used while training (0 = all of testset_v)
    hidden: int = 128  # LSTM cells per direction and layer
    layers: int = 2  # bidirectional LSTM layers
    conv_channels: int = 64  # channels of the input convolutions
    dropout: float = 0.1  # between LSTM layers and before the output
    augment: bool = True  # random scale, stretch, shear and rotation of each training line
    init: str | None = None  # start from this recognizer bundle's weights (path, or "hwcli-recognizer" for the bundled one)
    grow_alphabet: bool = False  # with init: the bundle's alphabet grown to hwcli's whole character set (model/grow.py)
    reorder_delayed: bool = False  # read delayed strokes where their letter is (recognizer/network.py); with init: switched on for the bundle's weights
    split_marks: bool = False  # classes are letters and accent marks apart (alphabet.MarkAlphabet); with init: the bundle's rows remapped

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "conv_channels"):
            if getattr(self, name) < 1:
                raise OptionError(f"--{name.replace('_', '-')} must be a positive integer")
        if not 0.0 <= self.dropout < 1.0:
            raise OptionError("--dropout must be in [0, 1)")
        if self.grow_alphabet and not self.init:
            raise OptionError("--grow-alphabet needs --init (a fresh run takes every character of the set that its data holds)")
        super().__post_init__()


@dataclass
class RecognizerTrainResult:
    step: int
    epoch: float
    best_val_cer: float | None
    bundle: str | None
    stopped_by: str
    metrics: list = field(default_factory=list)


def augment_offsets(off: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random affine map of a line's pen moves (size, width, slant, a little rotation); pen states kept.

    Offsets ``(N, 3)`` normalised -> same shape. y points down, so ``dx += k * dy`` slants the writing.
    """
    s = math.exp(rng.uniform(-0.2, 0.2))
    sx = s * math.exp(rng.uniform(-0.12, 0.12))
    k = rng.uniform(-0.35, 0.35)
    a = rng.uniform(-0.06, 0.06)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    m = rot @ np.array([[sx, k * s], [0.0, s]])
    out = off.copy()
    out[:, :2] = off[:, :2] @ m.T.astype(np.float32)
    return out


def make_batch(seqs: list[np.ndarray], targets: list[torch.Tensor], reorder_delayed: bool = False) -> tuple:
    """Padded features (B, T, F), point lengths (B,), concatenated targets, target lengths (B,)."""
    T = max(len(s) for s in seqs)
    x = torch.zeros(len(seqs), T, N_FEATURES)
    for j, s in enumerate(seqs):
        x[j, : len(s)] = torch.from_numpy(features(s, reorder_delayed))
    lengths = torch.tensor([len(s) for s in seqs])
    return x, lengths, torch.cat(targets), torch.tensor([len(t) for t in targets])


def ctc_loss(net: Recognizer, x, lengths, targets, target_lengths) -> torch.Tensor:
    """Mean CTC loss per target character (lines the frames cannot fit count zero, not infinity)."""
    lp, flen = net(x, lengths)
    return F.ctc_loss(lp.transpose(0, 1), targets, flen, target_lengths, blank=0, reduction="mean",
                      zero_infinity=True)


def validate(net: Recognizer, alphabet: Alphabet, data: LineData, ids: list[int], batch_size: int = 64) -> dict:
    """Greedy-decoding CER and WER of lines `ids` of `data` (leaves the network in eval mode)."""
    hyps = recognize(net, alphabet, [data.seqs[i].numpy() for i in ids], batch_size)
    return corpus_error_rates([data.texts[i] for i in ids], hyps)


class RecognizerTask:
    """The recognizer for `loop.run`: CTC loss on augmented lines, greedy-decoding CER validation, export."""

    train_metric = "train_ctc"
    rate_name = "lines_per_s"
    best_metric = "val_cer"

    def __init__(self, ds: Dataset, opts: RecognizerTrainOptions, state: dict | None, device: torch.device,
                 data_desc: str):
        self.opts, self.device, self.scale = opts, device, ds.scale
        self.alphabet = data_alphabet(ds)
        init = None
        if state is None and opts.init:
            # a fresh run from a bundle: its architecture, alphabet and normalisation win (a resumed run has
            # them in its checkpoint and its weights there)
            init = load_recognizer(opts.init)
            self.alphabet, self.scale = init.alphabet, init.scale
            if opts.grow_alphabet:
                self.alphabet = grown(init.alphabet)
        elif state is not None:
            self.alphabet, self.scale = Alphabet(state["alphabet"]), float(state["scale"])
        self.cfg = RecognizerConfig(conv_channels=opts.conv_channels, hidden=opts.hidden, layers=opts.layers,
                                    dropout=opts.dropout, reorder_delayed=opts.reorder_delayed,
                                    split_marks=opts.split_marks)
        if state is not None:
            self.cfg = RecognizerConfig.from_dict(state["config"])
        elif init is not None:
            self.cfg = replace(init.config, reorder_delayed=init.config.reorder_delayed or opts.reorder_delayed,
                               split_marks=init.config.split_marks or opts.split_marks)
        if init is not None and init.config.split_marks and self.alphabet.chars != init.alphabet.chars:
            raise OptionError("--grow-alphabet cannot grow a recognizer that reads letters and marks apart")
        self.alphabet = reading_alphabet(self.alphabet.chars, self.cfg)  # the classes it reads
        self.cfg = replace(self.cfg, alphabet_size=len(self.alphabet))
        train_idx, valid_idx = split_indices(ds)
        self.tdata = LineData(ds, train_idx, self.alphabet, self.scale, opts.max_len)
        self.vdata = LineData(ds, valid_idx if len(valid_idx) else train_idx[:1], self.alphabet, self.scale, 10**9)
        if len(self.tdata) == 0:
            raise DatasetError("no usable training lines (all too long or with unknown characters)")
        for s in self.tdata.seqs + self.vdata.seqs:
            s[0, 2] = 0.0  # LineData lifts the pen at the first point (a synthesis convention); keep the data's own
        self.val_ids = validation_subset(len(self.vdata), opts.val_lines, opts.seed)
        torch.manual_seed(opts.seed)
        self.net = Recognizer(self.cfg).to(device)
        if init is not None:
            weights, classes = init.network.state_dict(), init.alphabet
            if self.alphabet.chars != classes.chars:
                weights = grow_recognizer_state(weights, classes, Alphabet(self.alphabet.chars), opts.seed)
                classes = Alphabet(self.alphabet.chars)
            if self.cfg.split_marks and not init.config.split_marks:
                weights = split_marks_state(weights, classes, self.alphabet)
            self.net.load_state_dict(weights)
        self.run_info = {"data": data_desc, "train_lines": len(self.tdata), "valid_lines": len(self.val_ids),
                         "splits_train": list(TRAIN_SPLITS), "split_valid": VALID_SPLIT, "options": asdict(opts)}
        if state is not None and state.get("init"):
            self.run_info["init"] = state["init"]
        elif init is not None:
            prov = init.provenance if isinstance(init.provenance, dict) else {}
            self.run_info["init"] = {"model": opts.init, "steps": prov.get("steps"),
                                     "wall_time_s": prov.get("wall_time_s"), "val_cer": prov.get("val_cer")}

    def batches(self, epoch: int) -> list[list[int]]:
        return self.tdata.epoch_batches(self.opts.seed, epoch, self.opts.batch_size)

    def loss(self, model, ids: list[int], epoch: int, pos: int, rank: int) -> tuple:
        seqs = [self.tdata.seqs[i].numpy() for i in ids]
        if self.opts.augment:
            rng = np.random.default_rng([self.opts.seed, epoch, pos])
            seqs = [augment_offsets(s, rng) for s in seqs]
        x, lengths, tg, tl = make_batch(seqs, [self.tdata.chars[i] for i in ids], self.cfg.reorder_delayed)
        d = self.device
        loss = ctc_loss(model, x.to(d), lengths.to(d), tg.to(d), tl.to(d))
        return loss, float(loss.detach()) * len(ids), len(ids)

    def validate(self, step: int) -> dict:
        v = validate(self.net, self.alphabet, self.vdata, self.val_ids)
        return {"val_cer": v["cer"], "val_wer": v["wer"]}

    def best_of(self, rec: dict) -> dict:
        return {"val_cer": rec["val_cer"], "val_wer": rec["val_wer"], "step": rec["step"],
                "val_lines": len(self.val_ids)}

    def baseline(self) -> None:
        return None

    def export(self, out: Path, provenance: dict) -> str:
        return str(save_recognizer(out, self.net, self.alphabet, self.scale, provenance))

    def checkpoint_state(self) -> dict:
        return {"config": self.cfg.to_dict(), "scale": self.scale, "alphabet": self.alphabet.chars,
                "init": self.run_info.get("init")}


def train_recognizer(ds: Dataset, opts: RecognizerTrainOptions, resume: bool = False,
                     progress: Callable[[dict], None] | None = None, data_desc: str = "") -> RecognizerTrainResult:
    """Train (or resume) a recognizer on `ds`; see the module docstring. `progress` gets a dict per step."""
    if opts.threads:
        torch.set_num_threads(opts.threads)
    device = device_for(opts)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    state = resume_checkpoint(out / CKPT_NAME) if resume else None
    if state is not None:
        from ..model.checkpoint import check_resume

        check_resume(state, out / CKPT_NAME, "recognizer", {})
    task = RecognizerTask(ds, opts, state, device, data_desc)
    res = run(task, opts, state, device, data_desc, progress)
    return RecognizerTrainResult(res.step, res.epoch, res.best and res.best["val_cer"], res.bundle, res.stopped_by,
                                 res.metrics)
