"""Time `hwcli.data.convert.convert` on a real IAM-OnDB copy, end to end including the .npz save.

    /work/venv/bin/python benchmarks/convert_speed.py [PATH] [--workers N] [--keep OUT.npz]

PATH defaults to ../shared/iam-ondb relative to the repository root. Target: under 60 s on a 2-core machine.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hwcli.data.convert import convert

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", type=Path, default=REPO_ROOT.parent / "shared" / "iam-ondb")
    ap.add_argument("--workers", type=int, default=None, help="cleaning processes (default: convert's own)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the .npz here instead of a temporary file")
    args = ap.parse_args()

    t0 = time.perf_counter()
    ds, report = convert(args.path, workers=args.workers)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "iam.npz"
        ds.save(out)
        t2 = time.perf_counter()
        size = out.stat().st_size

    total = t2 - t0
    print(f"source      {args.path}")
    print(f"seconds     {total:.1f} (read+clean {t1 - t0:.1f}, save {t2 - t1:.1f})")
    print(f"lines       {len(ds):,} kept, {report.lines_read:,} read, {sum(report.skipped.values()):,} skipped {dict(report.skipped)}")
    print(f"points      {report.points_raw:,} raw, {report.points:,} kept")
    print(f"lines/s     {len(ds) / total:,.0f}")
    print(f"npz         {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
