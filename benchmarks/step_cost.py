"""Cost of one sampling step by batch size: how many rows a (re)sampling pass can hold for about the same time.

    OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/step_cost.py --rows 1,8,16,50 --threads 1

Samples `--rows` copies of one 30-character line in the bundled model's default style (bias 1.5, no
compaction, so every step has all rows), best of `--repeats`, and prints seconds per pass and milliseconds per
step. To compare two versions of the code in one run, run it twice with PYTHONPATH at each checkout.
"""
from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="1,4,8,16,32,50,64", help="comma-separated batch sizes")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--text", default="the quick brown fox jumps over")
    args = ap.parse_args()

    import torch

    from hwcli.model.bundle import load_model
    import hwcli.model.sampling as S
    from hwcli.model.sampling import sample_batch

    step_lines = S._step_lines  # every step has all rows: the compaction turned off
    S._step_lines = lambda *a: step_lines(*a[:14], False, *a[15:])

    torch.set_num_threads(args.threads)
    b = load_model()
    style = b.style(None)
    sample_batch(b, [args.text] * 2, 1.5, torch.Generator().manual_seed(0), style, 25)  # warm up
    print(f"{b.path}, torch threads {torch.get_num_threads()}, text {args.text!r}")
    for rows in [int(v) for v in args.rows.split(",")]:
        best, steps = float("inf"), 0
        for rep in range(args.repeats):
            t = time.perf_counter()
            outs = sample_batch(b, [args.text] * rows, 1.5, torch.Generator().manual_seed(rep), style, 25)
            best = min(best, time.perf_counter() - t)
            steps = max(o.steps for o in outs)
        print(f"{rows:4d} rows  {best:6.2f} s a pass  {1000 * best / steps:6.2f} ms a step  ({steps} steps)", flush=True)


if __name__ == "__main__":
    main()
