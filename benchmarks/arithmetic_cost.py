"""What each arithmetic rule (hwcli/arithmetic.py) costs: one page sampled under each, in fresh processes.

    python benchmarks/arithmetic_cost.py [--threads N] [--repeats R]

Runs `write_speed.py --no-serial` R times under each rule, interleaved (free, machine, portable, free, ...) so
that a load that comes and goes hits them alike, and prints the median seconds of the batched page and of the
whole-line page per rule, and each rule's cost against the free path. "free" is MKL left to choose its kernel
by shape (MKL_CBWR=OFF: what hwcli ran before the rules, and what breaks batch invariance); "machine" is the
default rule; "portable" is the suite's; "auto" is the machine rule without STRICT (what the guarantee
whatever the thread count costs). Run it on an idle machine.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

RULES = {
    "free": {"MKL_CBWR": "OFF"},
    "machine": {"HWCLI_ARITHMETIC": "machine"},
    "portable": {"HWCLI_ARITHMETIC": "portable"},
    "auto": {"MKL_CBWR": "AUTO"},  # the machine rule without STRICT: what the thread-count guarantee costs
}


def run(rule: str, threads: int) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MKL_CBWR", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "HWCLI_ARITHMETIC")}
    env.update(RULES[rule])
    script = Path(__file__).with_name("write_speed.py")
    out = subprocess.run([sys.executable, str(script), "--threads", str(threads), "--no-serial"], env=env,
                         capture_output=True, text=True, check=True).stdout
    batched = float(re.search(r"batched:\s+([\d.]+) s", out).group(1))
    whole = float(re.search(r"whole lines:\s+([\d.]+) s", out).group(1))
    return batched, whole


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    times: dict[str, list[tuple[float, float]]] = {r: [] for r in RULES}
    for _ in range(args.repeats):
        for rule in RULES:
            times[rule].append(run(rule, args.threads))
    base = statistics.median(b for b, _ in times["free"])
    print(f"one page, 25 lines, torch threads {args.threads}, median of {args.repeats} runs each")
    for rule, ts in times.items():
        b = statistics.median(x for x, _ in ts)
        w = statistics.median(x for _, x in ts)
        print(f"{rule:9s} batched {b:5.2f} s  whole lines {w:5.2f} s  batched vs free {100 * (b / base - 1):+5.0f}%")


if __name__ == "__main__":
    main()
