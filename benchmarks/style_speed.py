"""Sampling speed of one page in each style: the bundled styles beside personal ones (primed or adapted).

    HWCLI_HOME=... python benchmarks/style_speed.py [--threads N] [--seeds 2] [--check] [PERSONAL_STYLE ...]

For every built-in style of the bundled model and every personal style named, the page of
`write_speed.py` (25 lines of ~50 characters) is sampled once per seed, as `hwcli write` samples it (segments,
the style's own bundle for an adapted style, its geometry); prints seconds per page (median over seeds), points
written per character (a hand that writes more points per letter needs more sequential steps) and, with
--check, the share of lines resampled by the read-back check. Personal styles "sample at the same speed" when
their page times fall within the spread of the built-in styles'.
"""
from __future__ import annotations

import argparse
import statistics
import time

from write_speed import page_lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("styles", nargs="*", help="personal style names")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="with the read-back check (the default of `hwcli write`)")
    args = ap.parse_args()

    import torch

    from hwcli.model.bundle import load_model
    from hwcli.model.personal import find_style, resolve
    from hwcli.synthesis import SamplingOptions, synthesize

    if args.threads:
        torch.set_num_threads(args.threads)
    checker = None
    if args.check:
        from hwcli.recognizer.network import load_recognizer
        from hwcli.synthesis import line_checker

        rec = load_recognizer()
    base = load_model()
    lines = page_lines(25)
    n_chars = sum(len(t.replace(" ", "")) for t in lines)
    jobs = [(f"{i}: {s.name}", base, i, True) for i, s in enumerate(base.styles)]
    for name in args.styles:
        bundle, (key,) = resolve(None, [name])
        jobs.append((f"{name} ({'adapted' if find_style(name).adapted else 'primed'})", bundle, key, False))
    synthesize(base, ["warm up"], SamplingOptions(retries=0, check=False))
    print(f"{len(lines)} lines, {n_chars} letters, torch threads {torch.get_num_threads()}, check {'on' if args.check else 'off'}")
    builtin = []
    for label, bundle, key, is_builtin in jobs:
        if args.check:
            checker = line_checker(bundle, rec)
        times, pts, resampled = [], [], []
        for seed in range(args.seeds):
            t = time.perf_counter()
            res = synthesize(bundle, lines, SamplingOptions(style=key, seed=seed, check=args.check), checker=checker)
            times.append(time.perf_counter() - t)
            pts.append(sum(len(r.strokes) for r in res) / n_chars)
            resampled.append(sum(r.resampled for r in res) / len(res))
        med = statistics.median(times)
        if is_builtin:
            builtin.append(med)
        print(f"{label:28s} {med:6.2f} s/page  {statistics.mean(pts):5.1f} points/letter"
              + (f"  {100 * statistics.mean(resampled):3.0f}% resampled" if args.check else ""), flush=True)
    if builtin:
        print(f"built-in styles: {min(builtin):.2f}-{max(builtin):.2f} s/page (median {statistics.median(builtin):.2f})")


if __name__ == "__main__":
    main()
