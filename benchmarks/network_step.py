"""One network step, as sampling takes it, against the same step through `forward`: what the sequence packing costs.

    OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/network_step.py --rows 8,50 --threads 1

For each batch size in `--rows`, steps the bundled model's synthesis network `--steps` times from a zero state over
a `--chars`-character text, once with `SynthesisNetwork.step` (what `hwcli.model.sampling` calls) and once with
`forward` on one-step sequences (the same arithmetic, packed into sequences), alternating `--repeats` times in one
process, and prints the best milliseconds per step of each. The two give the same numbers to the bit
(tests/test_network.py); this is only their cost. Run it on an idle machine.
"""
from __future__ import annotations

import argparse
import time

from bench_args import add_model_args, load_bundle


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(ap)
    ap.add_argument("--rows", default="8,50", help="comma-separated batch sizes")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--chars", type=int, default=40)
    args = ap.parse_args()

    import torch

    bundle = load_bundle(args)
    net = bundle.network
    C = net.cfg.alphabet_size
    print(f"model {bundle.path} ({net.cfg.layers} x {net.cfg.hidden}), {args.chars} characters, "
          f"torch threads {torch.get_num_threads()}, best of {args.repeats}")
    g = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        for rows in (int(r) for r in args.rows.split(",")):
            oh = torch.zeros(rows, args.chars, C)
            oh[:, torch.arange(args.chars), torch.randint(1, C, (args.chars,), generator=g)] = 1.0
            x = torch.zeros(rows, 3)
            ways = {"step": lambda s: net.step(x, oh, s)[1],
                    "forward": lambda s: net(x[:, None], oh, s, return_phi=True)[1]}
            best = {k: float("inf") for k in ways}
            for _ in range(args.repeats + 1):  # the first round warms up
                for name, one in ways.items():
                    t, s = time.perf_counter(), None
                    for _ in range(args.steps):
                        s = one(s)
                    best[name] = min(best[name], (time.perf_counter() - t) / args.steps * 1e3)
            print(f"{rows:4d} rows   step {best['step']:6.3f} ms   forward {best['forward']:6.3f} ms   "
                  f"({1 - best['step'] / best['forward']:+.0%} of forward's time saved)")


if __name__ == "__main__":
    main()
