"""Training loop: length-bucketed batches, validation NLL, atomic checkpoints, exact resume, bundle export, DDP.

Determinism: the data order of epoch ``e`` is a pure function of ``(seed, e)``, and the training step uses no
randomness, so a run resumed from a checkpoint (model, optimizer, step, epoch, position) continues exactly where
it stopped and ends with the same weights as an uninterrupted run (up to float reduction order).

Under ``torchrun`` (``WORLD_SIZE > 1``) the model is wrapped in DistributedDataParallel (gloo on the CPU, nccl
on GPUs); rank r takes batches r, r+W, r+2W, ... of each epoch and rank 0 validates, checkpoints and exports.
Every decision that ends the loop is the same on all ranks (rank 0's clock decides a time limit), and at the end
the ranks compare a digest of their weights (`param_digest`): replicas that differ are a bug and raise.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .alphabet import DEFAULT_CHARS, Alphabet
from .data.dataset import TRAIN_SPLITS, VALID_SPLIT, Dataset
from .errors import DatasetError, ModelFileError, OptionError
from .fileio import atomic_output
from .model import mdn
from .model.bundle import Style, save_bundle
from .model.network import NetworkConfig, build_network

log = logging.getLogger(__name__)
CKPT_NAME = "checkpoint.pt"


@dataclass(frozen=True)
class TrainOptions:
    out: str = "runs/hwcli"  # output directory: checkpoint, metrics.jsonl, previews, bundles
    kind: str = "synthesis"  # "synthesis" or "prediction" (--unconditional)
    hidden: int = 256  # LSTM cells per layer
    layers: int = 3  # LSTM layers
    window_k: int = 10  # attention window Gaussians
    mixtures: int = 20  # output mixture components
    batch_size: int = 32  # lines per step (per process under DDP)
    lr: float = 1e-3  # Adam learning rate at the start
    lr_half_life: float = 2500.0  # steps for the learning rate to halve (exponential decay)
    lr_min: float = 5e-5  # floor of the decayed learning rate
    warmup: int = 100  # linear warm-up steps
    clip: float = 3.0  # global gradient-norm clip
    max_steps: int | None = None  # stop after this many optimizer steps (total, across resumes)
    epochs: float | None = None  # stop after this many epochs
    time_limit: float | None = None  # seconds for this invocation
    val_every: int = 250  # validate (and maybe export) every N steps
    val_lines: int = 512  # validation lines used (0 = all of testset_v)
    ckpt_minutes: float = 5.0  # checkpoint at least this often
    max_len: int = 1200  # drop training lines longer than this many points (after downsampling)
    seed: int = 0  # data order and initialisation
    device: str = "auto"  # auto | cpu | cuda
    threads: int = 0  # torch intra-op threads (0 = torch's default)
    preview: bool = True  # write a preview SVG of sampled lines at each validation
    init: str | None = None  # start from this bundle's weights (name or path); its architecture, alphabet and scale win
    rare_weight: float = 1.0  # lines holding a rare character are sampled this many times as often per epoch
    rare_jitter: float = 0.06  # each extra copy of a rare line is distorted by up to this much (scale, shear)

    def __post_init__(self) -> None:
        if self.kind not in ("synthesis", "prediction"):
            raise OptionError(f"unknown model kind {self.kind!r}")
        for name in ("hidden", "layers", "window_k", "mixtures", "batch_size", "val_every"):
            if getattr(self, name) < 1:
                raise OptionError(f"--{name.replace('_', '-')} must be a positive integer")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise OptionError("--lr must be positive")
        if self.max_steps is not None and self.max_steps < 1:
            raise OptionError("--max-steps must be >= 1")
        if self.epochs is not None and self.epochs <= 0:
            raise OptionError("--epochs must be > 0")
        if self.device not in ("auto", "cpu", "cuda"):
            raise OptionError(f"unknown device {self.device!r}: use auto, cpu or cuda")
        if not (math.isfinite(self.lr_half_life) and self.lr_half_life > 0):
            raise OptionError("--lr-half-life must be a positive number of steps")
        if not (math.isfinite(self.rare_weight) and 1.0 <= self.rare_weight <= 20.0):
            raise OptionError("--rare-weight must be between 1 and 20")
        if not (math.isfinite(self.rare_jitter) and 0.0 <= self.rare_jitter <= 0.3):
            raise OptionError("--rare-jitter must be between 0 and 0.3")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise OptionError("--device cuda asked for, but no CUDA GPU is available")


# ----------------------------------------------------------------------------- data
class LineData:
    """Normalised training tensors of one split set, built once (no work per step beyond slicing)."""

    def __init__(self, ds: Dataset, idx: np.ndarray, alphabet: Alphabet, scale: float, max_len: int):
        keep = [i for i in idx if 2 < ds.lengths[i] <= max_len and all(c in alphabet for c in ds.texts[i])]
        self.skipped = len(idx) - len(keep)
        self.seqs = [torch.from_numpy(ds.line(i) / np.array([scale, scale, 1.0], np.float32)) for i in keep]
        for s in self.seqs:
            s[0, 2] = 1.0  # every line starts with a lifted pen
        self.texts = [ds.texts[i] for i in keep]
        self.chars = [torch.from_numpy(alphabet.encode(t)) for t in self.texts]
        self.lengths = np.array([len(s) for s in self.seqs])
        self.n_chars = len(alphabet)
        self.rare = np.zeros(len(self.seqs), bool)  # set by `mark_rare`

    def mark_rare(self, rare_chars: set[str]) -> None:
        """Flag the lines that hold at least one of `rare_chars`."""
        self.rare = np.array([any(c in rare_chars for c in t) for t in self.texts], bool)

    def __len__(self) -> int:
        return len(self.seqs)

    def batch(self, ids: list[int], device, jitter: float = 0.0, rng: np.random.Generator | None = None) -> tuple:
        """x (B,T,3) inputs, target (B,T,3), mask (B,T), onehot (B,U,C) for lines `ids`.

        An id ``i + len(self)`` (an extra copy of a rare line, see `epoch_batches`) is line ``i`` drawn through a
        random affine distortion of up to `jitter` (x and y scale, shear), so repeats are never identical ink."""
        n_lines = len(self)
        ids = list(ids)
        lines = [i % n_lines for i in ids]
        T = int(self.lengths[lines].max()) - 1
        U = max(len(self.chars[i]) for i in lines)
        B = len(ids)
        seq = torch.zeros(B, T + 1, 3)
        mask = torch.zeros(B, T)
        cidx = torch.zeros(B, U, dtype=torch.long)
        for j, (i, raw) in enumerate(zip(lines, ids)):
            n = len(self.seqs[i])
            seq[j, :n] = self.seqs[i]
            if raw >= n_lines and jitter > 0 and rng is not None:
                sx, sy = 1.0 + rng.uniform(-jitter, jitter, 2)
                sh = rng.uniform(-jitter, jitter)
                dx, dy = seq[j, :n, 0].clone(), seq[j, :n, 1].clone()
                seq[j, :n, 0] = float(sx) * dx + float(sh) * dy
                seq[j, :n, 1] = float(sy) * dy
            mask[j, : n - 1] = 1.0
            cidx[j, : len(self.chars[i])] = self.chars[i]
        onehot = F.one_hot(cidx, self.n_chars).float()
        onehot[..., 0] = 0.0
        return (seq[:, :-1].to(device), seq[:, 1:].to(device), mask.to(device), onehot.to(device))

    def epoch_batches(self, seed: int, epoch: int, batch_size: int, rare_weight: float = 1.0) -> list[list[int]]:
        """Batches of similar length (little padding) in a random order that depends only on (seed, epoch).

        With `rare_weight` w > 1 each rare line (`mark_rare`) appears w times an epoch on average: floor(w - 1)
        extra copies plus one more with probability frac(w - 1). A copy has the id ``line + len(self)``."""
        rng = np.random.default_rng([seed, epoch])
        pool_ids = np.arange(len(self))
        if rare_weight > 1.0 and self.rare.any():
            rare_ids = np.flatnonzero(self.rare)
            extra = np.floor(rare_weight - 1.0).astype(int) + (rng.random(len(rare_ids)) < (rare_weight - 1.0) % 1.0)
            pool_ids = np.concatenate([pool_ids, np.repeat(rare_ids, extra) + len(self)])
        perm = pool_ids[rng.permutation(len(pool_ids))]
        pool = batch_size * 50
        batches = []
        for s in range(0, len(perm), pool):
            chunk = perm[s : s + pool]
            chunk = chunk[np.argsort(self.lengths[chunk % len(self)], kind="stable")]
            batches += [chunk[k : k + batch_size].tolist() for k in range(0, len(chunk), batch_size)]
        order = rng.permutation(len(batches))
        return [batches[k] for k in order if len(batches[k]) > 0]


# ----------------------------------------------------------------------------- helpers
def _lr_at(opts: TrainOptions, step: int) -> float:
    warm = min(1.0, (step + 1) / max(opts.warmup, 1))
    return max(opts.lr * warm * 0.5 ** (step / opts.lr_half_life), opts.lr_min if step >= opts.warmup else 0.0)


def _device(opts: TrainOptions) -> torch.device:
    if opts.device == "cuda" or (opts.device == "auto" and torch.cuda.is_available()):
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def _dist_info() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _save_atomic(obj, path: Path) -> None:
    import io

    buf = io.BytesIO()
    torch.save(obj, buf)
    with atomic_output(path) as fh:
        fh.write(buf.getvalue())


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is the same user error
        raise ModelFileError(f"checkpoint {str(path)!r} cannot be read ({type(exc).__name__}); delete it or train without --resume") from None


def resume_checkpoint(path: Path) -> dict:
    """The checkpoint `--resume` continues from; a clear error when there is none."""
    if not path.is_file():
        raise ModelFileError(f"nothing to resume: {str(path)!r} does not exist")
    return load_checkpoint(path)


def split_indices(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) line indices: the IAM-OnDB task split, or, for a dataset without it (e.g. own
    InkML), every 20th line held out for validation."""
    train_idx, valid_idx = ds.indices(TRAIN_SPLITS), ds.indices([VALID_SPLIT])
    if len(train_idx) == 0:
        all_idx = np.arange(len(ds))
        valid_idx = all_idx[::20] if len(ds) >= 20 else all_idx[:1]
        train_idx = np.setdiff1d(all_idx, valid_idx) if len(ds) >= 2 else all_idx
    return train_idx, valid_idx


def train_step(model, net: torch.nn.Module, optim: torch.optim.Optimizer, opts: TrainOptions, mixtures: int,
               step: int, x, tgt, mask, oh) -> tuple:
    """One optimizer step on a batch: the learning rate for `step`, the NLL per point, a gradient clipped by
    global norm (a non-finite one is skipped). `model` is `net` or its DDP wrapper.
    Returns (summed NLL, real points, loss) as tensors."""
    for g in optim.param_groups:
        g["lr"] = _lr_at(opts, step)
    y, _, _ = model(x, oh)
    total = mdn.nll(y, tgt, mask, mixtures)
    npts = mask.sum()
    loss = total / npts
    optim.zero_grad(set_to_none=True)
    loss.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(net.parameters(), opts.clip)
    if torch.isfinite(gnorm):
        optim.step()
    return total, npts, loss


def restore_checkpoint(state: dict, net: torch.nn.Module, optim: torch.optim.Optimizer) -> tuple:
    """Load a checkpoint's model, optimizer and torch RNG; returns (step, epoch, pos, best, wall)."""
    net.load_state_dict(state["model"])
    optim.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    return state["step"], state["epoch"], state["pos"], state.get("best"), state.get("wall", 0.0)


def step_limit(max_steps: int | None, epochs: float | None, steps_per_epoch: int) -> int | None:
    """The step to stop at: `max_steps`, or `epochs` worth of steps if that comes first (None = no limit)."""
    if epochs is None:
        return max_steps
    by_epochs = int(math.ceil(epochs * steps_per_epoch))
    return by_epochs if max_steps is None else min(max_steps, by_epochs)


def validation_subset(n: int, k: int, seed: int) -> list[int]:
    """A fixed random subset of k of n validation lines (all when k is 0 or >= n), sorted."""
    if not k or n <= k:
        return list(range(n))
    return sorted(np.random.default_rng(seed).choice(n, k, replace=False).tolist())


@torch.no_grad()
def evaluate(net, data: LineData, ids: list[int], batch_size: int, mixtures: int, device) -> dict:
    """Validation NLL in nats per line and per point; when some lines are marked rare (`LineData.mark_rare`),
    also per point on the rare lines (``val_nll_point_rare``) and on the others (``val_nll_point_plain``)."""
    net.eval()
    sums = {True: [0.0, 0.0], False: [0.0, 0.0]}  # rare? -> [nats, points]
    order = sorted(ids, key=lambda i: data.lengths[i])
    for s in range(0, len(order), batch_size):
        chunk = order[s : s + batch_size]
        x, tgt, mask, oh = data.batch(chunk, device)
        y, _, _ = net(x, oh)
        per_line = mdn.nll_per_line(y, tgt, mask, mixtures)
        pts = mask.sum(1)
        for j, i in enumerate(chunk):
            acc = sums[bool(data.rare[i])]
            acc[0] += float(per_line[j])
            acc[1] += float(pts[j])
    net.train()
    total, points = sums[True][0] + sums[False][0], sums[True][1] + sums[False][1]
    rec = {"val_nll_line": total / max(len(ids), 1), "val_nll_point": total / max(points, 1.0)}
    if sums[True][1] > 0 and sums[False][1] > 0:
        rec["val_nll_point_rare"] = sums[True][0] / sums[True][1]
        rec["val_nll_point_plain"] = sums[False][0] / sums[False][1]
    return rec


def rare_characters(texts: list[str], alphabet: Alphabet, share: float = 0.001) -> set[str]:
    """The alphabet's characters (space aside) that make up less than `share` of the characters of `texts`:
    on IAM-OnDB (share 0.001) every digit, a third of the capitals, j q z and the rarer punctuation: 20% of the lines."""
    counts = {c: 0 for c in alphabet.chars if c != " "}
    n = 0
    for t in texts:
        for c in t:
            if c in counts:
                counts[c] += 1
                n += 1
    return {c for c, k in counts.items() if k < share * max(n, 1)}


def init_from_bundle(spec: str):
    """The bundle `--init` names (a bundled model's name or a path): its network, config, alphabet and scale."""
    from .model.bundle import load_model

    return load_model(spec)


# ----------------------------------------------------------------------------- the loop
@dataclass
class TrainResult:
    step: int
    epoch: float
    best_val_point: float | None
    best_val_line: float | None
    bundle: str | None
    stopped_by: str
    metrics: list = field(default_factory=list)
    replica_digest: str | None = None  # under DDP: `param_digest` of the weights, the same on every rank


def train(
    ds: Dataset,
    opts: TrainOptions,
    resume: bool = False,
    progress: Callable[[dict], None] | None = None,
    data_desc: str = "",
) -> TrainResult:
    """Train (or resume) a network on `ds`; see the module docstring. `progress` gets a dict per step."""
    rank, world = _dist_info()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    device = _device(opts)
    if device.type == "cuda":
        torch.cuda.set_device(device)  # NCCL collectives without a tensor (barrier) use the current device
    out = Path(opts.out)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / CKPT_NAME
    alphabet = Alphabet(DEFAULT_CHARS)
    scale = ds.scale
    cfg = NetworkConfig(kind=opts.kind, hidden=opts.hidden, layers=opts.layers, window_k=opts.window_k,
                        mixtures=opts.mixtures, alphabet_size=len(alphabet))
    state, init = None, None
    if resume:
        state = resume_checkpoint(ckpt_path)
        cfg = NetworkConfig.from_dict(state["config"])
        # the checkpoint's normalisation and alphabet, so a run started with --init keeps the bundle's
        scale = float(state.get("scale", scale))
        alphabet = Alphabet(state.get("alphabet", alphabet.chars))
    elif opts.init:
        init = init_from_bundle(opts.init)
        if init.config.kind != opts.kind:
            raise OptionError(f"--init {opts.init}: a {init.config.kind} model cannot start a {opts.kind} run"
                              + (" (add --unconditional)" if init.config.kind == "prediction" else ""))
        # the bundle's architecture, alphabet and normalisation: its weights mean nothing with others
        cfg, alphabet, scale = init.config, init.alphabet, init.scale
    train_idx, valid_idx = split_indices(ds)
    tdata = LineData(ds, train_idx, alphabet, scale, opts.max_len)
    vdata = LineData(ds, valid_idx if len(valid_idx) else train_idx[:1], alphabet, scale, opts.max_len)
    if len(tdata) == 0:
        raise DatasetError("no usable training lines (all too long or with unknown characters)")
    rare = rare_characters(tdata.texts, alphabet)
    tdata.mark_rare(rare)
    vdata.mark_rare(rare)
    val_ids = validation_subset(len(vdata), opts.val_lines, opts.seed)

    torch.manual_seed(opts.seed)
    net = build_network(cfg).to(device)
    if init is not None:
        net.load_state_dict(init.network.state_dict())
    optim = torch.optim.Adam(net.parameters(), lr=opts.lr)
    step, epoch, pos, best, wall = 0, 0, 0, None, 0.0
    metrics_hist: list = []
    if state is not None:
        step, epoch, pos, best, wall = restore_checkpoint(state, net, optim)
    model = net
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        model = DDP(net, device_ids=[device.index] if device.type == "cuda" else None)

    run_info = {"data": data_desc, "train_lines": len(tdata), "valid_lines": len(val_ids), "splits_train": list(TRAIN_SPLITS),
                "split_valid": VALID_SPLIT, "options": asdict(opts), "world_size": world,
                "rare_chars": "".join(sorted(rare)), "rare_train_lines": int(tdata.rare.sum())}
    if state is not None and state.get("init"):
        run_info["init"] = state["init"]
    elif init is not None:
        run_info["init"] = {"model": opts.init, "steps": init.provenance.get("steps"),
                            "wall_time_s": init.provenance.get("wall_time_s"),
                            "val_nll_point": init.provenance.get("val_nll_point")}
    t0 = time.time()
    last_ckpt = time.time()
    n_batches = len(tdata.epoch_batches(opts.seed, 0, opts.batch_size, opts.rare_weight))
    if n_batches < world:
        # every rank takes len(batches) // world steps per epoch: zero would loop over epochs forever
        raise DatasetError(f"{n_batches} training batch(es) of {opts.batch_size} lines cannot be shared by {world} "
                           "processes: use a smaller --batch-size, more data or fewer processes")
    steps_per_epoch = max(1, math.ceil(n_batches / world))
    max_steps = step_limit(opts.max_steps, opts.epochs, steps_per_epoch)
    stopped_by = "completed"
    metrics_path = out / "metrics.jsonl"

    def write_metrics(rec: dict) -> None:
        if rank == 0:
            with open(metrics_path, "a") as fh:
                fh.write(json.dumps(rec) + "\n")

    def checkpoint() -> None:
        if rank == 0:
            _save_atomic({"model": net.state_dict(), "optimizer": optim.state_dict(), "step": step, "epoch": epoch,
                          "pos": pos, "best": best, "wall": wall + time.time() - t0, "config": cfg.to_dict(),
                          "scale": scale, "alphabet": alphabet.chars, "torch_rng": torch.get_rng_state(),
                          "options": asdict(opts), "data": data_desc, "init": run_info.get("init"),
                          "carry": carry}, ckpt_path)

    def export(name: str, val: dict) -> str:
        prov = {**run_info, "steps": step, "epochs": round(epoch + pos / max(steps_per_epoch * world, 1), 3),
                "wall_time_s": round(wall + time.time() - t0, 1), "hardware": _hardware(device, world), **val}
        stem = save_bundle(out / name, net, cfg, alphabet, scale, provenance=prov, defaults=carry.get("defaults"),
                           styles=[Style.from_json(d) for d in carry.get("styles", [])],
                           meta={"char_width": carry.get("char_width") or _char_width(ds)})
        return str(stem)

    # what a run started with --init keeps of its bundle: sampling defaults, styles and letter width
    carry: dict = dict(state.get("carry") or {}) if state is not None else {}
    if init is not None:
        carry = {"defaults": dict(init.defaults), "styles": [st.to_json() for st in init.styles],
                 "char_width": init.meta.get("char_width")}
    bundle_path = None
    if init is not None and rank == 0:
        # the starting point's validation NLL: a run from a bundle exports only what beats it
        rec = {"step": 0, "init": opts.init, **evaluate(net, vdata, val_ids, opts.batch_size, cfg.mixtures, device)}
        best = {k: rec[k] for k in ("val_nll_line", "val_nll_point")} | {"step": 0}
        write_metrics(rec)
        metrics_hist.append(rec)
    window_loss, window_pts, window_seqs, window_t = 0.0, 0.0, 0, time.time()
    net.train()
    while True:
        batches = tdata.epoch_batches(opts.seed, epoch, opts.batch_size, opts.rare_weight)
        mine = batches[rank::world]
        n_local = len(batches) // world  # every rank takes the same number of steps
        while pos < n_local:
            if max_steps is not None and step >= max_steps:
                stopped_by = "max steps"
                break
            if opts.time_limit is not None and _all_stop(time.time() - t0 >= opts.time_limit, world, device):
                stopped_by = "time limit"
                break
            ids = mine[pos]
            x, tgt, mask, oh = tdata.batch(ids, device, opts.rare_jitter, np.random.default_rng([opts.seed, epoch, pos, rank]))
            total, npts, loss = train_step(model, net, optim, opts, cfg.mixtures, step, x, tgt, mask, oh)
            step += 1
            pos += 1
            window_loss += float(total.detach())
            window_pts += float(npts)
            window_seqs += len(ids) * world
            if progress and rank == 0:
                el = time.time() - window_t
                progress({"step": step, "max_steps": max_steps, "epoch": epoch, "loss": float(loss.detach()),
                          "seq_per_s": window_seqs / max(el, 1e-9), "lr": optim.param_groups[0]["lr"],
                          "elapsed": time.time() - t0, "time_limit": opts.time_limit})
            if step % opts.val_every == 0 or (max_steps is not None and step == max_steps):
                rec = {"step": step, "epoch": round(epoch + pos / max(n_local, 1), 3), "train_nll_point": window_loss / max(window_pts, 1),
                       "seq_per_s": window_seqs / max(time.time() - window_t, 1e-9), "lr": optim.param_groups[0]["lr"],
                       "wall_s": round(wall + time.time() - t0, 1)}
                window_loss, window_pts, window_seqs, window_t = 0.0, 0.0, 0, time.time()
                if rank == 0:
                    rec.update(evaluate(net, vdata, val_ids, opts.batch_size, cfg.mixtures, device))
                    if best is None or rec["val_nll_point"] < best["val_nll_point"]:
                        best = {k: rec[k] for k in ("val_nll_line", "val_nll_point", "step")}
                        bundle_path = export("best", best)
                        rec["best"] = True
                    if opts.preview:
                        _preview(out / f"preview-{step:06d}.svg", net, cfg, alphabet, scale, vdata, device)
                    write_metrics(rec)
                    metrics_hist.append(rec)
                    checkpoint()
                    last_ckpt = time.time()
                _barrier(world)
            elif time.time() - last_ckpt > opts.ckpt_minutes * 60:
                checkpoint()
                last_ckpt = time.time()
        else:
            epoch += 1
            pos = 0
            continue
        break
    checkpoint()
    digest = _check_replicas(net, world, device) if world > 1 else None
    if rank == 0 and (best is None or bundle_path is None):
        rec = {"step": step, **evaluate(net, vdata, val_ids, opts.batch_size, cfg.mixtures, device)}
        best = {k: rec[k] for k in ("val_nll_line", "val_nll_point", "step")}
        bundle_path = export("best", best)
        write_metrics(rec)
        metrics_hist.append(rec)
    _barrier(world)
    return TrainResult(step, epoch + pos / max(steps_per_epoch, 1), best and best["val_nll_point"], best and best["val_nll_line"],
                       bundle_path, stopped_by, metrics_hist, digest)


def param_digest(state_dict: dict) -> str:
    """sha256 of the tensors' names and bytes in name order: equal digests <=> bit-identical weights."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        h.update(name.encode())
        h.update(state_dict[name].detach().to("cpu").contiguous().numpy().tobytes())
    return h.hexdigest()


def _all_stop(flag: bool, world: int, device: torch.device) -> bool:
    """Rank 0's decision for every rank: a rank that stops alone would leave the others waiting in DDP's all-reduce."""
    if world == 1:
        return flag
    import torch.distributed as dist

    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.broadcast(t, src=0)
    return bool(t.item() > 0)


def _check_replicas(net: torch.nn.Module, world: int, device: torch.device) -> str:
    """Gather every rank's `param_digest`; raise when they differ (DDP keeps replicas identical, so it is a bug)."""
    import torch.distributed as dist

    digest = param_digest(net.state_dict())
    mine = torch.tensor(list(bytes.fromhex(digest)), dtype=torch.uint8, device=device)
    every = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(every, mine)
    digests = [bytes(t.cpu().tolist()).hex() for t in every]
    if len(set(digests)) != 1:
        raise RuntimeError(f"DDP replicas ended with different weights: sha256 per rank {digests}")
    log.info("%d DDP replicas ended with identical weights (sha256 %s)", world, digest)
    return digest


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


def _hardware(device: torch.device, world: int) -> str:
    if device.type == "cuda":
        return f"{world} x {torch.cuda.get_device_name(device)}"
    return f"{world} x CPU ({platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def _char_width(ds: Dataset) -> float:
    """Median advance per character in normalised units: the page layout's width estimate."""
    w = []
    for i in range(0, len(ds), max(1, len(ds) // 500)):
        o = ds.line(i)
        n = len(ds.texts[i])
        if n >= 5:
            w.append(float(np.ptp(np.cumsum(o[:, 0]))) / n)
    return float(np.median(w) / ds.scale) if w else 2.5


def _preview(path: Path, net, cfg, alphabet, scale, vdata: LineData, device) -> None:
    """A few sampled validation texts, so a person can watch the model learn."""
    try:
        from .data.preview import write_preview
        from .model.bundle import Bundle
        from .model.sampling import sample_batch

        b = Bundle(net, cfg, alphabet, scale)
        texts = [vdata.texts[i] for i in range(min(3, len(vdata)))] if cfg.kind == "synthesis" else ["", "", ""]
        g = torch.Generator().manual_seed(0)
        outs = sample_batch(b, texts, 1.0, g, None, 30, unconditional_steps=300)
        n = len(outs)
        samples = Dataset.from_lines([o.strokes for o in outs], texts, [f"step {path.stem[8:]}"] * n, [-1] * n, [""] * n)
        write_preview(samples, path, n=n)
    except Exception as exc:  # noqa: BLE001 - a preview must never stop training
        log.warning("preview failed: %s", exc)
    finally:
        net.train()
