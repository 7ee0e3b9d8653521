"""Training throughput: the bare network versus the full training step on real IAM-OnDB batches.

(a) bare: `SynthesisNetwork` forward + MDN loss + backward + Adam step on one dense random batch
    (B lines x T points, U characters, no padding);
(b) full: what `hwcli.training.train` does per step on real variable-length batches: `LineData.epoch_batches`
    + `LineData.batch` + learning-rate schedule + forward + loss + backward + gradient clipping + Adam step,
    counting only real (unpadded) points.

Both use the same network sizes and batch size, and their steps are timed interleaved (bare, full, full, bare,
...) so that a busy machine slows both alike; ``efficiency`` = full / bare points per second, i.e. how much of the
network's speed survives batching, padding and the loop's Python work.

Usage (from the repository root):

    python benchmarks/train_throughput.py /tmp/iam.npz --hidden 256 --batch 32
    python benchmarks/train_throughput.py /tmp/iam.npz --threads 1   # on a machine busy with other work
    python benchmarks/train_throughput.py            # converts ../shared/iam-ondb on the fly (slow)
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from hwcli.alphabet import DEFAULT_CHARS, Alphabet
from hwcli.data.convert import load_dataset
from hwcli.data.dataset import TRAIN_SPLITS
from hwcli.model import mdn
from hwcli.model.network import NetworkConfig, build_network
from hwcli.training import LineData, TrainOptions, train_step

REPO = Path(__file__).resolve().parents[1]


def bare_step(cfg: NetworkConfig, batch: int, points: int, chars: int):
    """A step function: forward + loss + backward + Adam on one dense (batch, points) batch; returns points."""
    torch.manual_seed(0)
    net = build_network(cfg).train()
    optim = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.randn(batch, points, 3)
    x[..., 2] = (torch.rand(batch, points) < 0.05).float()
    target = torch.roll(x, -1, dims=1)
    mask = torch.ones(batch, points)
    idx = torch.randint(1, cfg.alphabet_size, (batch, chars))
    onehot = torch.nn.functional.one_hot(idx, cfg.alphabet_size).float()

    def step() -> float:
        y, _, _ = net(x, onehot)
        loss = mdn.nll(y, target, mask, cfg.mixtures) / (batch * points)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        return float(batch * points)

    return step


def full_step(cfg: NetworkConfig, data: LineData, batch: int, seed: int = 0):
    """A step function doing what `hwcli.training.train` does per step; returns the real (unpadded) points.

    Its ``padding`` attribute holds [real, total] batch-tensor points so far, ``shapes`` the (T, U) of each batch.
    """
    opts = TrainOptions(hidden=cfg.hidden, layers=cfg.layers, window_k=cfg.window_k, mixtures=cfg.mixtures,
                        batch_size=batch, device="cpu")
    torch.manual_seed(0)
    net = build_network(cfg).train()
    optim = torch.optim.Adam(net.parameters(), lr=opts.lr)
    batches = iter(data.epoch_batches(seed, 0, batch))
    counter = {"step": 0}

    def step() -> float:
        ids = next(batches)
        x, tgt, mask, oh = data.batch(ids, "cpu")
        total, npts, _ = train_step(net, net, optim, opts, cfg.mixtures, counter["step"], x, tgt, mask, oh)
        counter["step"] += 1
        float(total.detach())  # train() reads the loss every step
        step.padding[0] += float(npts)
        step.padding[1] += mask.numel()
        step.shapes.append((x.shape[1], oh.shape[1]))
        return float(npts)

    step.padding = [0.0, 0.0]
    step.shapes = []  # (T, U) of every batch
    return step


def measure(steps: dict, warmup: int, n: int) -> dict:
    """Warm each step function up, then time them interleaved (a, b, b, a, a, b, ...), so that a machine whose
    load changes during the run slows both alike; -> name: [points, wall seconds, CPU seconds of this process]."""
    for fn in steps.values():
        for _ in range(warmup):
            fn()
    done = {k: [0.0, 0.0, 0.0] for k in steps}
    for i in range(n):
        for k, fn in (list(steps.items()) if i % 2 == 0 else list(steps.items())[::-1]):
            t0, c0 = time.perf_counter(), time.process_time()
            done[k][0] += fn()
            done[k][1] += time.perf_counter() - t0
            done[k][2] += time.process_time() - c0
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", default=str(REPO.parent / "shared" / "iam-ondb"),
                    help="converted .npz, or IAM-OnDB (converted on the fly); default ../shared/iam-ondb")
    ap.add_argument("--hidden", type=int, default=400)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--window-k", type=int, default=10)
    ap.add_argument("--mixtures", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64, help="lines per step (both measurements)")
    ap.add_argument("--points", type=int, default=300, help="points per line of the dense batch")
    ap.add_argument("--chars", type=int, default=0, help="characters per line of the dense batch (0: points / 11, "
                    "IAM-OnDB's mean ratio after downsampling; a real batch pads to its wordiest line, about points / 8)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--max-len", type=int, default=1200, help="as `hwcli train`: longer lines are dropped")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    alphabet = Alphabet(DEFAULT_CHARS)
    cfg = NetworkConfig(kind="synthesis", hidden=a.hidden, layers=a.layers, window_k=a.window_k,
                        mixtures=a.mixtures, alphabet_size=len(alphabet))
    print(f"network {a.layers} x {a.hidden}, K {a.window_k}, M {a.mixtures}; batch {a.batch}; "
          f"{torch.get_num_threads()} threads; torch {torch.__version__}")

    t = time.perf_counter()
    ds = load_dataset(a.data)
    data = LineData(ds, ds.indices(TRAIN_SPLITS), alphabet, ds.scale, a.max_len)
    print(f"data: {len(data)} training lines from {a.data} (loaded in {time.perf_counter() - t:.1f} s), "
          f"mean {np.mean(data.lengths):.0f} points, mean {np.mean([len(c) for c in data.chars]):.0f} characters")

    chars = a.chars or max(1, a.points // 11)
    fns = {"bare": bare_step(cfg, a.batch, a.points, chars), "full": full_step(cfg, data, a.batch)}
    res = measure(fns, a.warmup, a.steps)
    bare = res["bare"][0] / res["bare"][1]
    full = res["full"][0] / res["full"][1]
    real, total = fns["full"].padding
    print(f"bare network: {bare:,.0f} points/s  ({a.batch} x {a.points} points, {chars} characters, dense; "
          f"{a.steps} steps in {res['bare'][1]:.1f} s)")
    T, U = np.mean(fns["full"].shapes, axis=0)
    print(f"full training step: {full:,.0f} real points/s  ({1 - real / total:.1%} of the batch tensors is padding; "
          f"mean T {T:.0f}, U {U:.0f}, i.e. {T / U:.1f} points per character slot; {a.steps} steps in {res['full'][1]:.1f} s)")
    # CPU time counts only the time this process ran: steadier than wall time on a machine busy with other work
    # (with one thread; with several, threads spinning while they wait count too)
    cpu = (res["full"][0] / res["full"][2]) / (res["bare"][0] / res["bare"][2])
    print(f"cpu-time efficiency {cpu:.3f}  (bare {res['bare'][0] / res['bare'][2]:,.0f}, "
          f"full {res['full'][0] / res['full'][2]:,.0f} points per CPU second)")
    print(f"efficiency {full / bare:.3f}")


if __name__ == "__main__":
    main()
