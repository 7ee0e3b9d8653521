"""Time the recognizer reading a 25-line page, and the cost of self-checking inside `synthesize`.

    /work/venv/bin/python benchmarks/recognizer_speed.py [--recognizer PATH] [--data iam.npz] [--model BUNDLE]
        [--lines 25] [--repeats 5] [--threads N]

Reading: 25 real testset_v lines from --data (else 25 synthetic lines of ~330 points, a typical IAM line),
best of --repeats. Target: well under a second on a 2-core CPU.
Checking overhead (with --model, a synthesis bundle): one page sampled without a checker, then with the
recognizer's checker and retries=0 (so nothing is resampled: the pure cost of reading), best of --repeats
each; the overhead is the extra time over sampling alone. Target: below 30%.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from hwcli.evaluation.legibility import eval_lines
from hwcli.recognizer.network import load_recognizer
from hwcli.recognizer.reading import read_strokes
from hwcli.synthesis import line_checker


def _lines(data: str | None, n: int) -> tuple[list[np.ndarray], float | None, list[str]]:
    if data is None:
        rng = np.random.default_rng(0)
        out = []
        for _ in range(n):
            off = rng.normal(0, 1.0, size=(330, 3)).astype(np.float32)
            off[:, 2] = rng.random(330) < 0.06
            out.append(off)
        return out, None, [""] * n
    from hwcli.data.convert import load_dataset
    from hwcli.evaluation.legibility import reference_lines

    ds = load_dataset(data)
    from hwcli.alphabet import Alphabet

    idx = reference_lines(ds, Alphabet(), n)
    return [ds.normalised_line(i) for i in idx], ds.scale, [ds.texts[i] for i in idx]


def _best(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recognizer", default=None, help="recognizer bundle (default: the bundled one)")
    ap.add_argument("--data", default=None, help="converted dataset: read its testset_v lines")
    ap.add_argument("--model", default=None, help="synthesis bundle: also measure the checking overhead")
    ap.add_argument("--lines", type=int, default=25)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    rec = load_recognizer(args.recognizer)
    load_s = time.perf_counter() - t0
    n_params = sum(p.numel() for p in rec.network.parameters())
    lines, scale, texts = _lines(args.data, args.lines)
    read_strokes(rec, lines[:2], scale)  # warm-up (first call allocates)
    dt, hyps = _best(lambda: read_strokes(rec, lines, scale), args.repeats)
    print(f"recognizer  {rec.path} ({n_params:,} parameters), loaded in {1000 * load_s:.0f} ms")
    print(f"threads     {torch.get_num_threads()}")
    print(f"read        {len(lines)} lines ({sum(map(len, lines)):,} points) in {1000 * dt:.0f} ms "
          f"({1000 * dt / len(lines):.1f} ms/line), best of {args.repeats}")
    if args.data:
        from hwcli.recognizer.reading import corpus_error_rates

        r = corpus_error_rates(texts, hyps)
        print(f"accuracy    CER {r['cer']:.3f}  WER {r['wer']:.3f} on these {len(lines)} testset_v lines")

    if args.model:
        from hwcli.model.bundle import load_model
        from hwcli.synthesis import SamplingOptions, synthesize

        bundle = load_model(args.model)
        page = eval_lines(args.lines)
        opts = SamplingOptions(retries=0, check=False)
        plain, _ = _best(lambda: synthesize(bundle, page, opts), args.repeats)
        checker = line_checker(bundle, rec)
        spent = []

        def timed(strokes, txts):
            t = time.perf_counter()
            out = checker(strokes, txts)
            spent.append(time.perf_counter() - t)
            return out

        checked, res = _best(lambda: synthesize(bundle, page, SamplingOptions(retries=0), checker=timed), args.repeats)
        read = min(spent) if spent else 0.0
        print(f"sampling    {len(page)} lines in {plain:.2f} s without checking, {checked:.2f} s with "
              f"(best of {args.repeats}; nothing resampled)")
        print(f"checking    {1000 * read:.0f} ms of reading per page = {100 * read / plain:.1f}% of sampling "
              f"(wall-clock difference {100 * (checked - plain) / plain:+.1f}%)")
        bad = sum(1 for r in res if not r.ok)
        print(f"lines       {bad} of {len(res)} would have been resampled (CER > {bundle.sampling.check_cer})")


if __name__ == "__main__":
    main()
