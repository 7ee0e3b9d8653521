"""Training the recognizer: CTC loss, length-bucketed batches, augmentation, validation CER, checkpoints, resume.

Uses the synthesis trainer's data layer (`training.LineData`: normalised lines of the training splits, their
encoded texts and the length-bucketed epoch order) and its conventions: the data order of epoch ``e`` and the
augmentation of each step are pure functions of ``(seed, epoch, position)``, the checkpoint (model,
optimizer, step, epoch, position, torch RNG) is written atomically, and ``resume`` continues where it stopped.
The best validation CER (greedy decoding on ``testset_v``) is exported as ``OUT/best`` (a recognizer bundle).
"""
from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .alphabet import DEFAULT_CHARS, Alphabet
from .data.dataset import TRAIN_SPLITS, VALID_SPLIT, Dataset
from .errors import DatasetError, OptionError
from .model.recognizer import N_FEATURES, Recognizer, RecognizerConfig, features, save_recognizer
from .recognition import corpus_error_rates, recognize
from .training import (CKPT_NAME, LineData, _device, _hardware, _lr_at, _save_atomic, restore_checkpoint,
                       resume_checkpoint, split_indices, step_limit, validation_subset)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecognizerTrainOptions:
    out: str = "runs/recognizer"  # output directory: checkpoint.pt, metrics.jsonl, best.json/.safetensors
    hidden: int = 128  # LSTM cells per direction and layer
    layers: int = 2  # bidirectional LSTM layers
    conv_channels: int = 64  # channels of the input convolutions
    dropout: float = 0.1  # between LSTM layers and before the output
    batch_size: int = 32  # lines per step
    lr: float = 2e-3  # Adam learning rate after warm-up
    lr_half_life: float = 6000.0  # steps for the learning rate to halve
    lr_min: float = 1e-4  # floor of the decayed learning rate
    warmup: int = 200  # linear warm-up steps
    clip: float = 5.0  # global gradient-norm clip
    max_steps: int | None = None  # stop after this many steps in total (across resumes)
    epochs: float | None = None  # stop after this many epochs
    time_limit: float | None = None  # seconds for this invocation
    val_every: int = 400  # validate, checkpoint and maybe export every N steps
    val_lines: int = 300  # validation lines used while training (0 = all of testset_v)
    ckpt_minutes: float = 5.0  # checkpoint at least this often
    max_len: int = 1200  # drop training lines longer than this many points
    augment: bool = True  # random scale, stretch, shear and rotation of each training line
    seed: int = 0  # initialisation, data order and augmentation
    device: str = "auto"  # auto | cpu | cuda
    threads: int = 0  # torch intra-op threads (0 = torch's default)

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "conv_channels", "batch_size", "val_every"):
            if getattr(self, name) < 1:
                raise OptionError(f"--{name.replace('_', '-')} must be a positive integer")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise OptionError("--lr must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise OptionError("--dropout must be in [0, 1)")
        if self.max_steps is not None and self.max_steps < 1:
            raise OptionError("--max-steps must be >= 1")
        if self.epochs is not None and self.epochs <= 0:
            raise OptionError("--epochs must be > 0")
        if self.time_limit is not None and self.time_limit <= 0:
            raise OptionError("--time-limit must be positive")
        if self.val_lines < 0:
            raise OptionError("--val-lines must be >= 0")
        if self.device not in ("auto", "cpu", "cuda"):
            raise OptionError(f"unknown device {self.device!r}: use auto, cpu or cuda")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise OptionError("--device cuda asked for, but no CUDA GPU is available")


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


def make_batch(seqs: list[np.ndarray], targets: list[torch.Tensor]) -> tuple:
    """Padded features (B, T, F), point lengths (B,), concatenated targets, target lengths (B,)."""
    T = max(len(s) for s in seqs)
    x = torch.zeros(len(seqs), T, N_FEATURES)
    for j, s in enumerate(seqs):
        x[j, : len(s)] = torch.from_numpy(features(s))
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


def train_recognizer(ds: Dataset, opts: RecognizerTrainOptions, resume: bool = False,
                     progress: Callable[[dict], None] | None = None, data_desc: str = "") -> RecognizerTrainResult:
    """Train (or resume) a recognizer on `ds`; see the module docstring. `progress` gets a dict per step."""
    if opts.threads:
        torch.set_num_threads(opts.threads)
    device = _device(opts)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / CKPT_NAME
    alphabet = Alphabet(DEFAULT_CHARS)
    train_idx, valid_idx = split_indices(ds)
    tdata = LineData(ds, train_idx, alphabet, ds.scale, opts.max_len)
    vdata = LineData(ds, valid_idx if len(valid_idx) else train_idx[:1], alphabet, ds.scale, 10**9)
    if len(tdata) == 0:
        raise DatasetError("no usable training lines (all too long or with unknown characters)")
    for s in tdata.seqs + vdata.seqs:
        s[0, 2] = 0.0  # LineData lifts the pen at the first point (a synthesis convention); keep the data's own
    val_ids = validation_subset(len(vdata), opts.val_lines, opts.seed)

    cfg = RecognizerConfig(conv_channels=opts.conv_channels, hidden=opts.hidden, layers=opts.layers,
                           dropout=opts.dropout, alphabet_size=len(alphabet))
    state = None
    if resume:
        state = resume_checkpoint(ckpt_path)
        cfg = RecognizerConfig.from_dict(state["config"])
    torch.manual_seed(opts.seed)
    net = Recognizer(cfg).to(device)
    optim = torch.optim.Adam(net.parameters(), lr=opts.lr)
    step, epoch, pos, best, wall = 0, 0, 0, None, 0.0
    if state is not None:
        step, epoch, pos, best, wall = restore_checkpoint(state, net, optim)

    n_batches = len(tdata.epoch_batches(opts.seed, 0, opts.batch_size))
    max_steps = step_limit(opts.max_steps, opts.epochs, n_batches)
    run_info = {"data": data_desc, "train_lines": len(tdata), "valid_lines": len(val_ids), "splits_train": list(TRAIN_SPLITS),
                "split_valid": VALID_SPLIT, "options": asdict(opts)}
    t0 = last_ckpt = time.time()
    metrics: list = []
    stopped_by = "completed"
    bundle_path = str(out / "best") if best is not None and (out / "best.json").is_file() else None

    def elapsed() -> float:
        return wall + time.time() - t0

    def checkpoint() -> None:
        _save_atomic({"model": net.state_dict(), "optimizer": optim.state_dict(), "step": step, "epoch": epoch,
                      "pos": pos, "best": best, "wall": elapsed(), "config": cfg.to_dict(), "scale": ds.scale,
                      "alphabet": alphabet.chars, "torch_rng": torch.get_rng_state(), "options": asdict(opts),
                      "data": data_desc}, ckpt_path)

    def validate_and_export(rec: dict) -> None:
        nonlocal best, bundle_path
        v = validate(net, alphabet, vdata, val_ids)
        rec.update(val_cer=v["cer"], val_wer=v["wer"])
        if best is None or v["cer"] < best["val_cer"]:
            best = {"val_cer": v["cer"], "val_wer": v["wer"], "step": step, "val_lines": len(val_ids)}
            prov = {**run_info, "steps": step, "epochs": round(epoch + pos / max(n_batches, 1), 3),
                    "wall_time_s": round(elapsed(), 1), "hardware": _hardware(device, 1), **best}
            bundle_path = str(save_recognizer(out / "best", net, alphabet, ds.scale, prov))
            rec["best"] = True
        net.train()
        with open(out / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        metrics.append(rec)

    win_loss, win_n, win_t = 0.0, 0, time.time()
    net.train()
    while True:
        batches = tdata.epoch_batches(opts.seed, epoch, opts.batch_size)
        while pos < len(batches):
            if max_steps is not None and step >= max_steps:
                stopped_by = "max steps"
                break
            if opts.time_limit is not None and time.time() - t0 >= opts.time_limit:
                stopped_by = "time limit"
                break
            ids = batches[pos]
            seqs = [tdata.seqs[i].numpy() for i in ids]
            if opts.augment:
                rng = np.random.default_rng([opts.seed, epoch, pos])
                seqs = [augment_offsets(s, rng) for s in seqs]
            x, lengths, tg, tl = make_batch(seqs, [tdata.chars[i] for i in ids])
            for g in optim.param_groups:
                g["lr"] = _lr_at(opts, step)
            loss = ctc_loss(net, x.to(device), lengths.to(device), tg.to(device), tl.to(device))
            optim.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(net.parameters(), opts.clip)
            if torch.isfinite(gnorm) and torch.isfinite(loss):
                optim.step()
            step += 1
            pos += 1
            win_loss += float(loss.detach()) * len(ids)
            win_n += len(ids)
            if progress:
                progress({"step": step, "max_steps": max_steps, "epoch": epoch, "loss": float(loss.detach()),
                          "lines_per_s": win_n / max(time.time() - win_t, 1e-9), "lr": optim.param_groups[0]["lr"],
                          "elapsed": time.time() - t0, "time_limit": opts.time_limit,
                          "best_cer": best and best["val_cer"]})
            if step % opts.val_every == 0 or (max_steps is not None and step == max_steps):
                rec = {"step": step, "epoch": round(epoch + pos / max(len(batches), 1), 3), "train_ctc": win_loss / max(win_n, 1),
                       "lines_per_s": win_n / max(time.time() - win_t, 1e-9), "lr": optim.param_groups[0]["lr"],
                       "wall_s": round(elapsed(), 1)}
                validate_and_export(rec)
                checkpoint()
                last_ckpt = time.time()
                win_loss, win_n, win_t = 0.0, 0, time.time()
            elif time.time() - last_ckpt > opts.ckpt_minutes * 60:
                checkpoint()
                last_ckpt = time.time()
        else:
            epoch += 1
            pos = 0
            continue
        break
    if not metrics or metrics[-1]["step"] != step:
        validate_and_export({"step": step, "wall_s": round(elapsed(), 1), "train_ctc": win_loss / max(win_n, 1)})
    checkpoint()
    return RecognizerTrainResult(step, epoch + pos / max(n_batches, 1), best and best["val_cer"], bundle_path,
                                 stopped_by, metrics)
