"""Sampling speed of one A4 page: 25 lines of ~50 characters of ordinary prose, batched and line by line.

    python benchmarks/write_speed.py [--model PATH] [--threads N] [--no-serial] [--check] [--input FILE]

Prints the seconds for the page sampled as one batch (long lines in segments, the model's default), the same
page with every line sampled whole (segments off), the same page sampled line by line (all in the same run,
same model and seed), the ratio, the seconds per line, and the peak resident memory of the process. With
--check, also the page with the read-back self-check on, as `hwcli write` samples it (copies of hard lines,
resampling), twice: copies ranked as shipped (their strained readings, `hwcli.synthesis.checks.STRAINS`) and by
the plain reading alone, the baseline in the same run. --input takes the page's lines from a text file instead.
Targets on a 2-core CPU: page < 3 s batched, batching >= 5x faster than line by line, peak RSS < 600 MB.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time

from bench_args import add_model_args, load_bundle

PROSE = (
    "It was a bright cold morning and the clocks were striking nine as she walked to the station. "
    "The train was late again, so she bought a coffee and read the paper on the platform. "
    "A small dog watched the pigeons with great interest while its owner talked on the phone. "
    "When the train finally arrived, every seat was taken and she stood by the door all the way. "
    "The city looked grey through the window, but the river shone like silver under the bridges. "
    "At the office, the lift was broken and the stairs seemed longer than they had ever been. "
    "Her desk was covered with letters, plans and notes from the meeting the week before. "
    "She made a list of the jobs that could not wait and began with the most difficult one. "
    "By lunch time the sun had come out and the park across the road was full of people. "
    "In the evening she wrote a long letter to her brother, who lived by the sea in the north. "
    "He had asked about the garden, the old house and the neighbours who kept bees. "
    "She told him that the apple tree had given more fruit than ever before this year. "
    "The bees were well, and the honey was dark and sweet, just as he remembered it."
)


def page_lines(n: int = 25, width: int = 50) -> list[str]:
    words, lines, cur = PROSE.split(), [], ""
    while len(lines) < n:
        for w in words:
            if len(cur) + len(w) + 1 > width:
                lines.append(cur)
                cur = w
                if len(lines) == n:
                    break
            else:
                cur = f"{cur} {w}".strip()
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(ap)
    ap.add_argument("--lines", type=int, default=25)
    ap.add_argument("--no-serial", action="store_true", help="skip the line-by-line baseline")
    ap.add_argument("--check", action="store_true", help="also the page with the read-back self-check on")
    ap.add_argument("--input", help="a text file whose non-empty lines are the page (default: the prose page)")
    args = ap.parse_args()

    import torch

    from hwcli.synthesis import SamplingOptions, synthesize

    bundle = load_bundle(args)
    cfg = bundle.config
    if args.input:
        with open(args.input, encoding="utf-8") as fh:
            lines = [ln.strip() for ln in fh if ln.strip()][: args.lines]
    else:
        lines = page_lines(args.lines)
    print(f"model {bundle.path} ({cfg.layers} x {cfg.hidden}), {len(lines)} lines, "
          f"{sum(map(len, lines)) / len(lines):.0f} chars/line, torch threads {torch.get_num_threads()}")
    synthesize(bundle, ["warm up"], SamplingOptions(retries=0, check=False))
    t = time.perf_counter()
    res = synthesize(bundle, lines, SamplingOptions(seed=1, retries=0, check=False))
    batched = time.perf_counter() - t
    pts = sum(len(r.strokes) for r in res)
    print(f"batched:      {batched:7.2f} s  ({batched / len(lines):.3f} s/line, {pts} points, "
          f"{sum(not r.ok for r in res)} lines failing checks, segments of "
          f"{bundle.sampling.segment_chars or 'no'} characters)")
    t = time.perf_counter()
    synthesize(bundle, lines, SamplingOptions(seed=1, retries=0, segment_chars=0, check=False))
    whole = time.perf_counter() - t
    print(f"whole lines:  {whole:7.2f} s  ({whole / len(lines):.3f} s/line)")
    if not args.no_serial:
        t = time.perf_counter()
        synthesize(bundle, lines, SamplingOptions(seed=1, retries=0, batch_size=1, check=False))
        serial = time.perf_counter() - t
        print(f"line by line: {serial:7.2f} s  ({serial / len(lines):.3f} s/line)")
        print(f"speed-up:     {serial / batched:7.1f} x")
    if args.check:
        from hwcli.synthesis import line_checker

        ranked = line_checker(bundle)

        def plain(strokes, texts):  # the same reader without `strained`: copies ranked by the plain CER
            return ranked(strokes, texts)

        synthesize(bundle, ["warm up"], SamplingOptions(retries=0), checker=ranked)
        for name, checker in (("checked:", ranked), ("plain rank:", plain)):
            t = time.perf_counter()
            res = synthesize(bundle, lines, SamplingOptions(seed=1), checker=checker)
            took = time.perf_counter() - t
            print(f"{name:13s} {took:7.2f} s  ({took / len(lines):.3f} s/line, {sum(r.resampled for r in res)} lines "
                  f"resampled, {sum(not r.ok for r in res)} failing)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS:     {rss:7.0f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
