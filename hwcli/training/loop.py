"""The one training loop: epochs, steps, time limit, validation, export of the best, checkpoints, resume, DDP.

Every model (the synthesis network in `training.synthesis`, the recognizer in `recognizer.training`) brings a
`Task`: its network, its data order, the loss of a batch, a validation, and how it exports a bundle. `run`
does the rest, top to bottom:

1. an Adam optimizer; on resume the checkpoint's weights, optimizer, step, epoch, position and torch RNG;
2. per step: the learning rate (`lr_at`: warm-up, exponential decay, floor), the task's loss, a gradient
   clipped by global norm (a non-finite step is skipped), progress;
3. every ``val_every`` steps and at ``max_steps``: the task's validation; a better value of the task's
   ``best_metric`` exports ``OUT/best`` (and, with ``snapshots``, every validated step as ``OUT/snap-STEP``); a record in ``OUT/metrics.jsonl``; a checkpoint;
4. a checkpoint at least every ``ckpt_minutes``; the loop ends at ``max_steps`` / ``epochs`` / ``time_limit``;
5. at the end: a validation of the last step if it had none, an export if nothing was exported yet, a
   checkpoint, and under DDP a check that every replica holds bit-identical weights.

Determinism: the data order of epoch ``e`` is a pure function of ``(seed, e)`` and a task's batch randomness of
``(seed, epoch, position)``, so a run resumed from a checkpoint ends with the weights of an uninterrupted run.

Under ``torchrun`` (``WORLD_SIZE > 1``, `distributed`) the network is wrapped in DistributedDataParallel;
rank r takes batches r, r+W, r+2W, ... of each epoch, rank 0 validates, checkpoints and exports, and every
decision that ends the loop is rank 0's (a rank that stopped alone would hang the others).

Checkpoint (``OUT/checkpoint.pt``, written atomically): ``model, optimizer, step, epoch, pos, best, wall,
torch_rng, options, data`` plus what the task adds (``config, scale, alphabet``, ...).
"""
from __future__ import annotations

import io
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import torch

from ..errors import DatasetError, ModelFileError, OptionError, check_seed, check_threads
from ..fileio import atomic_output
from .distributed import _all_stop, _barrier, _check_replicas, dist_info, hardware

CKPT_NAME = "checkpoint.pt"


@dataclass(frozen=True)
class LoopOptions:
    """What every training run takes; a model's options add their own fields (and their own defaults)."""

    out: str = "runs/hwcli"  # output directory: checkpoint, metrics.jsonl, best bundle
    batch_size: int = 32  # lines per step (per process under DDP)
    lr: float = 1e-3  # Adam learning rate after warm-up
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
    max_len: int = 1200  # drop training lines longer than this many points
    seed: int = 0  # initialisation and data order
    device: str = "auto"  # auto | cpu | cuda
    threads: int = 0  # torch intra-op threads (0 = torch's default)
    snapshots: bool = False  # also export every validated step as OUT/snap-STEP (to compare them afterwards)

    def __post_init__(self) -> None:
        for name in ("batch_size", "val_every"):
            if getattr(self, name) < 1:
                raise OptionError(f"--{name.replace('_', '-')} must be a positive integer")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise OptionError("--lr must be positive")
        if not (math.isfinite(self.lr_half_life) and self.lr_half_life > 0):
            raise OptionError("--lr-half-life must be a positive number of steps")
        if self.max_steps is not None and self.max_steps < 1:
            raise OptionError("--max-steps must be >= 1")
        if self.epochs is not None and self.epochs <= 0:
            raise OptionError("--epochs must be > 0")
        if self.time_limit is not None and not self.time_limit > 0:
            raise OptionError("--time-limit must be positive")
        if self.val_lines < 0:
            raise OptionError("--val-lines must be >= 0")
        check_threads(self.threads)
        check_seed(self.seed)
        if self.device not in ("auto", "cpu", "cuda"):
            raise OptionError(f"unknown device {self.device!r}: use auto, cpu or cuda")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise OptionError("--device cuda asked for, but no CUDA GPU is available")


class Task(Protocol):
    """What a model brings to `run`."""

    net: torch.nn.Module  # the bare network (on its device)
    run_info: dict  # provenance of every exported bundle (data, options, line counts, ...)
    train_metric: str  # name of the training loss in metrics.jsonl ("train_nll_point")
    rate_name: str  # name of the throughput in metrics and progress ("seq_per_s")
    best_metric: str  # validation key to minimise ("val_nll_point")

    def batches(self, epoch: int) -> list[list[int]]:
        """Every batch of epoch `epoch` (line ids), in order: a pure function of (seed, epoch)."""

    def loss(self, model: torch.nn.Module, ids: list[int], epoch: int, pos: int, rank: int) -> tuple:
        """(loss to minimise, sum, count): the window's training metric is sum(sums) / sum(counts)."""

    def validate(self, step: int) -> dict:
        """Validation metrics of the current weights (rank 0 only; may leave the network in eval mode)."""

    def best_of(self, rec: dict) -> dict:
        """What of a validation record is kept as the best (and written into the exported bundle)."""

    def baseline(self) -> dict | None:
        """A step-0 validation record that the first export must beat (None: the first validation exports)."""

    def export(self, out: Path, provenance: dict) -> str:
        """Write the current weights as a bundle at `out`; returns its stem."""

    def checkpoint_state(self) -> dict:
        """What the task needs in the checkpoint to rebuild itself on resume (config, scale, alphabet, ...)."""

    # optional: ``after_step(lr)``, called after every optimizer step that stepped, with the gradients still there
    # (the synthesis task's shared accent marks, training/marks.py); its state goes in `checkpoint_state`.


@dataclass
class LoopResult:
    step: int
    epoch: float
    best: dict | None  # `Task.best_of` of the best validation
    bundle: str | None  # the exported bundle's stem
    stopped_by: str  # "completed", "max steps" or "time limit"
    metrics: list = field(default_factory=list)  # the records written to metrics.jsonl by this invocation
    replica_digest: str | None = None  # under DDP: `param_digest` of the weights, the same on every rank


# ----------------------------------------------------------------------------- schedule, device, checkpoints
def lr_at(opts: LoopOptions, step: int) -> float:
    """Learning rate of `step`: linear warm-up, then halving every ``lr_half_life`` steps, never below lr_min."""
    warm = min(1.0, (step + 1) / max(opts.warmup, 1))
    return max(opts.lr * warm * 0.5 ** (step / opts.lr_half_life), opts.lr_min if step >= opts.warmup else 0.0)


def device_for(opts: LoopOptions) -> torch.device:
    if opts.device == "cuda" or (opts.device == "auto" and torch.cuda.is_available()):
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def save_checkpoint(obj: dict, path: Path) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    with atomic_output(path) as fh:
        fh.write(buf.getvalue())


def load_checkpoint(path: Path) -> dict:
    """The checkpoint at `path`: tensors and plain values only (a crafted pickle is refused, never run)."""
    from ..model.checkpoint import load_checkpoint as safe_load

    return safe_load(path)


def resume_checkpoint(path: Path) -> dict:
    """The checkpoint `--resume` continues from; a clear error when there is none."""
    if not path.is_file():
        raise ModelFileError(f"nothing to resume: {str(path)!r} does not exist")
    return load_checkpoint(path)


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


def optimizer_step(net: torch.nn.Module, optim: torch.optim.Optimizer, loss: torch.Tensor, lr: float,
                   clip: float) -> bool:
    """Backpropagate `loss` and step at learning rate `lr` with the gradient clipped to global norm `clip`;
    a step whose loss or gradient is not finite is skipped (returns whether it stepped)."""
    for g in optim.param_groups:
        g["lr"] = lr
    optim.zero_grad(set_to_none=True)
    loss.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
    if torch.isfinite(gnorm) and torch.isfinite(loss):
        optim.step()
        return True
    return False


# ----------------------------------------------------------------------------- the loop
def run(task: Task, opts: LoopOptions, state: dict | None, device: torch.device, data_desc: str = "",
        progress: Callable[[dict], None] | None = None) -> LoopResult:
    """Train `task.net` (resuming from checkpoint `state` when given); see the module docstring.

    ``progress(dict)`` (rank 0) gets per step: step, max_steps, epoch, loss, the task's rate, lr, elapsed,
    time_limit and best (the best value of the task's ``best_metric`` so far, or None)."""
    rank, world = dist_info()
    out = Path(opts.out)
    net = task.net
    after_step = getattr(task, "after_step", None)  # optional: more weights to step after the optimizer's
    optim = torch.optim.Adam(net.parameters(), lr=opts.lr)
    step, epoch, pos, best, wall = 0, 0, 0, None, 0.0
    if state is not None:
        step, epoch, pos, best, wall = restore_checkpoint(state, net, optim)
    model = net
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        model = DDP(net, device_ids=[device.index] if device.type == "cuda" else None)
    n_batches = len(task.batches(0))
    if n_batches < world:
        # every rank takes len(batches) // world steps per epoch: zero would loop over epochs forever
        raise DatasetError(f"{n_batches} training batch(es) of {opts.batch_size} lines cannot be shared by {world} "
                           "processes: use a smaller --batch-size, more data or fewer processes")
    steps_per_epoch = max(1, math.ceil(n_batches / world))
    max_steps = step_limit(opts.max_steps, opts.epochs, steps_per_epoch)
    key = task.best_metric
    metrics: list = []
    stopped_by = "completed"
    bundle_path = str(out / "best") if best is not None and (out / "best.json").is_file() else None
    t0 = last_ckpt = time.time()

    def elapsed() -> float:
        return wall + time.time() - t0

    def write_metrics(rec: dict) -> None:
        with open(out / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        metrics.append(rec)

    def checkpoint() -> None:
        if rank == 0:
            save_checkpoint({"model": net.state_dict(), "optimizer": optim.state_dict(), "step": step, "epoch": epoch,
                             "pos": pos, "best": best, "wall": elapsed(), "torch_rng": torch.get_rng_state(),
                             "options": asdict(opts), "data": data_desc, **task.checkpoint_state()}, out / CKPT_NAME)

    def validate(rec: dict) -> None:
        """Rank 0: the task's validation into `rec`; export when it beats the best; write the record."""
        nonlocal best, bundle_path
        rec.update(task.validate(step))
        net.train()
        if best is None or key not in best or rec[key] < best[key]:  # (a resumed run may choose by another key)
            best = task.best_of(rec)
            bundle_path = export()
            rec["best"] = True
        if opts.snapshots:
            export(f"snap-{step:06d}", task.best_of(rec))
        write_metrics(rec)

    def export(name: str = "best", scores: dict | None = None) -> str:
        prov = {**task.run_info, "steps": step, "epochs": round(epoch + pos / steps_per_epoch, 3),
                "wall_time_s": round(elapsed(), 1), "hardware": hardware(device, world), **(scores or best)}
        return task.export(out / name, prov)

    if rank == 0 and state is None:
        rec = task.baseline()
        if rec is not None:  # e.g. the bundle a run starts from: the first export has to beat it
            best = task.best_of(rec)
            write_metrics(rec)
    win_sum, win_count, win_lines, win_t = 0.0, 0.0, 0, time.time()
    net.train()
    while True:
        batches = task.batches(epoch)
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
            loss, total, count = task.loss(model, ids, epoch, pos, rank)
            lr = lr_at(opts, step)
            if optimizer_step(net, optim, loss, lr, opts.clip) and after_step is not None:
                after_step(lr)  # e.g. the shared accent marks (training/marks.py), on the same gradient
            step += 1
            pos += 1
            win_sum += float(total)
            win_count += float(count)
            win_lines += len(ids) * world
            rate = win_lines / max(time.time() - win_t, 1e-9)
            if progress and rank == 0:
                progress({"step": step, "max_steps": max_steps, "epoch": epoch, "loss": float(loss.detach()),
                          task.rate_name: rate, "lr": optim.param_groups[0]["lr"], "elapsed": time.time() - t0,
                          "time_limit": opts.time_limit, "best": best and best[key]})
            if step % opts.val_every == 0 or (max_steps is not None and step == max_steps):
                rec = {"step": step, "epoch": round(epoch + pos / max(n_local, 1), 3),
                       task.train_metric: win_sum / max(win_count, 1e-9), task.rate_name: rate,
                       "lr": optim.param_groups[0]["lr"], "wall_s": round(elapsed(), 1)}
                win_sum, win_count, win_lines, win_t = 0.0, 0.0, 0, time.time()
                if rank == 0:
                    validate(rec)
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
    if rank == 0:
        if not metrics or metrics[-1]["step"] != step:  # the last step has not been validated
            validate({"step": step, "wall_s": round(elapsed(), 1), task.train_metric: win_sum / max(win_count, 1e-9)})
        if bundle_path is None:  # nothing beat the baseline: still export what the run ends with
            best = task.best_of(metrics[-1])
            bundle_path = export()
    checkpoint()
    digest = _check_replicas(net, world, device) if world > 1 else None
    _barrier(world)
    return LoopResult(step, epoch + pos / steps_per_epoch, best, bundle_path, stopped_by, metrics, digest)
