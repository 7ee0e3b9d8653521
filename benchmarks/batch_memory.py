"""Memory and time of a mail merge's planning (everything before the first line is sampled) for a big CSV:
one shard of a job array (``--shard 1/ROWS``) and the whole run.

    taskset -c 1 python benchmarks/batch_memory.py [--rows 1000000] [--cases empty,shard,full] [--model PATH]
                                                   [--trace-cases empty,shard] [--format svg]

Writes a CSV of ``--rows`` rows (``first,city``; documents named ``row-0000001``, ...) and a two-line template
to a temporary folder, then runs each case in a fresh process, as `hwcli write --template --data --out-dir
--format svg [--shard 1/ROWS]` does it (`merge_jobs(stream=True)`, `write_many(keep_reports=False)`; `--listed`:
the Python API's defaults): `merge_jobs` (the CSV read, the jobs and the name checks), the model
loaded, then `write_many` until its first call to sample (stopped there: nothing is sampled). A per-page format
(svg) is the default, so the page-number clash check runs too. A case ``empty`` (a one-row CSV) gives the
fixed cost (Python, torch, the model) to subtract.

Printed per case: wall time of the jobs (`merge_jobs`), of the planning in `write_many` and of both; the peak
resident set (getrusage) after `merge_jobs` (no torch loaded yet) and at the first sample; for the cases of
`--trace-cases`, from a second run, the peak of Python's traced allocations (tracemalloc, numpy arrays included)
during `merge_jobs` and during `write_many` (tracing slows both; the times come from the untraced run).
Target: a shard's planning well under 200 MB for 1,000,000 rows, growing with the other shards' rows by no more
than a fixed-size hash each.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST = ["Anna", "Ben", "Clara", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack"]
CITIES = ["York", "Bristol", "Leeds", "Bath", "Oxford", "Dundee", "Cardiff", "Exeter", "Norwich", "Derby"]
TEMPLATE = "Dear {first},\nsee you in {city} soon.\n"


class _FirstSample(Exception):
    """Raised by the patched sampler: planning is over."""


def make_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("first,city\n")
        chunk = []
        for i in range(rows):
            chunk.append(f"{FIRST[i % 10]},{CITIES[(i * 7) % 10]}\n")
            if len(chunk) == 10_000:
                fh.write("".join(chunk))
                chunk = []
        fh.write("".join(chunk))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def child(args: argparse.Namespace) -> None:
    """One case in this (fresh) process; prints one JSON line."""
    import tracemalloc

    import hwcli  # noqa: F401 - fixes the arithmetic path first
    from hwcli.writing.jobs import merge_jobs  # no torch yet: the CLI makes the jobs before loading the model

    shard = tuple(int(x) for x in args.shard.split("/")) if args.shard else None
    folder = Path(args.folder)
    out: dict = {"rss_start_mb": rss_mb()}
    if args.trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    jobs = merge_jobs(folder / "t.txt", folder / args.csv, shard=shard, stream=not args.listed)
    out["jobs_s"] = time.perf_counter() - t0
    out["rss_after_jobs_mb"] = rss_mb()
    from hwcli.writing.jobs import JobStream

    out["jobs_in_memory"] = 0 if isinstance(jobs, JobStream) else len(jobs)
    out["jobs"] = len(jobs)
    if args.trace:
        out["traced_jobs_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()

    from hwcli.model.bundle import load_model
    from hwcli.writing import compose
    from hwcli.writing.batch import write_many

    bundle = load_model(args.model)
    out["rss_model_mb"] = rss_mb()

    def stop(*_a, **_k):
        raise _FirstSample

    compose.Composer.sample = stop
    if args.trace:
        tracemalloc.start()
    t1 = time.perf_counter()
    try:
        write_many(jobs, folder / "out", bundle, fmt=args.format, shard=shard, check=False,
                   keep_reports=args.listed)
    except _FirstSample:
        pass
    out["write_many_s"] = time.perf_counter() - t1
    out["rss_first_sample_mb"] = rss_mb()
    if args.trace:
        out["traced_write_many_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out["planning_s"] = out["jobs_s"] + out["write_many_s"]
    print(json.dumps(out))


def run_case(args: argparse.Namespace, folder: Path, csv_name: str, shard: str | None, trace: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", "--folder", str(folder), "--csv", csv_name, "--format", args.format]
    cmd += ["--shard", shard] if shard else []
    cmd += ["--model", args.model] if args.model else []
    cmd += ["--trace"] if trace else []
    cmd += ["--listed"] if args.listed else []
    res = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if res.returncode != 0:
        raise SystemExit(f"case {csv_name} {shard} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cases", default="empty,shard,full", help="comma-separated: empty, shard, full")
    ap.add_argument("--model", default=None, help="bundle .json (default: the bundled model)")
    ap.add_argument("--format", default="svg", help="output format (svg: per-page, the page-name check runs)")
    ap.add_argument("--trace-cases", default="empty,shard",
                    help="cases run a second time under tracemalloc ('' for none; tracing a whole run of a million "
                         "documents takes over 25 minutes on one busy core)")
    ap.add_argument("--listed", action="store_true",
                    help="the Python API's defaults (merge_jobs returns a list of jobs, write_many keeps every "
                         "report) instead of what the CLI does (a JobStream, keep_reports=False)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    ap.add_argument("--shard", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        (folder / "t.txt").write_text(TEMPLATE, encoding="utf-8")
        make_csv(folder / "one.csv", 1)
        t = time.perf_counter()
        make_csv(folder / "big.csv", args.rows)
        size = (folder / "big.csv").stat().st_size
        print(f"{args.rows:,} rows, {size / 1e6:.1f} MB CSV (written in {time.perf_counter() - t:.1f} s); "
              f"format {args.format}; one process per case")
        cases = {"empty": ("one.csv", None), "shard": ("big.csv", f"1/{args.rows}"), "full": ("big.csv", None)}
        for name in args.cases.split(","):
            csv_name, shard = cases[name]
            r = run_case(args, folder, csv_name, shard, trace=False)
            line = (f"{name:>5} ({'shard ' + shard if shard else 'whole run'} of {csv_name}): {r['jobs']:,} jobs, {r['jobs_in_memory']:,} held; "
                    f"merge_jobs {r['jobs_s']:.2f} s, write_many to the first sample {r['write_many_s']:.2f} s, "
                    f"planning {r['planning_s']:.2f} s; peak RSS {r['rss_after_jobs_mb']:.0f} MB after merge_jobs "
                    f"(process start {r['rss_start_mb']:.0f} MB), {r['rss_first_sample_mb']:.0f} MB at the first sample "
                    f"(model loaded: {r['rss_model_mb']:.0f} MB)")
            print(line, flush=True)
            if name in args.trace_cases.split(","):
                tr = run_case(args, folder, csv_name, shard, trace=True)
                print(f"{name:>5} traced (a second run): peak {tr['traced_jobs_peak_mb']:.1f} MB in merge_jobs, "
                      f"{tr['traced_write_many_peak_mb']:.1f} MB in write_many", flush=True)


if __name__ == "__main__":
    main()
