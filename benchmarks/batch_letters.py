"""100 one-paragraph letters: one `hwcli write --template --data --out-dir` process against the shell loop
`for f in letters/*.txt; do hwcli write --input "$f" -o "out/${f%.txt}.pdf"; done` over the same letters.

    taskset -c 1 python benchmarks/batch_letters.py [--letters 100] [--loop 20] [--small 25] [--model PATH]
                                                    [--no-check] [--keep DIR]

Both sides run the installed `hwcli` as a user would (interpreter start, imports, model loading included),
with the same model, style, seed and options, in the same run. The shell loop costs about the same for every
letter, so it runs over the first `--loop` letters and its time is scaled to all of them (said in the output;
`--loop 0` runs it over all). Peak memory: the batch process's maximum resident set (getrusage of the child),
for `--letters` and for `--small` letters: bounded memory means the two are about equal.
Target: the one process at least 5x faster than the loop.
"""
from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = """Dear {first},
thank you so much for the lovely {gift} you sent for my birthday.
It arrived on {day} and I have used it every day since.
I hope the weather in {city} is kinder than it is here.
Do come and visit when you are next nearby, {first}.
With love and best wishes, Sam"""

FIRST = ["Anna", "Ben", "Clara", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack"]
LAST = ["Adams", "Brown", "Clark", "Davis", "Evans", "Fisher", "Green", "Hill", "Irwin", "Jones"]
GIFTS = ["scarf", "book", "teapot", "pen", "plant", "mug", "candle", "jumper", "map", "print"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
CITIES = ["York", "Bristol", "Leeds", "Bath", "Oxford", "Dundee", "Cardiff", "Exeter", "Norwich", "Derby"]


def rows(n: int) -> list[dict]:
    return [{"first": FIRST[i % 10], "last": LAST[(i // 10) % 10] + (str(i // 100) if i >= 100 else ""),
             "gift": GIFTS[(i * 3) % 10], "day": DAYS[i % 7], "city": CITIES[(i * 7) % 10]} for i in range(n)]


def hwcli_cmd() -> list[str]:
    exe = shutil.which("hwcli", path=str(Path(sys.executable).parent)) or shutil.which("hwcli")
    return [exe] if exe else [sys.executable, "-m", "hwcli"]


def children() -> tuple[float, int]:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def run_child(cmd: list[str], **kw) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB of this child or nan) for a command run to completion."""
    cpu0, rss0 = children()
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    dt = time.perf_counter() - t
    cpu1, rss1 = children()  # ru_maxrss of children: the largest child so far
    return dt, cpu1 - cpu0, (rss1 if rss1 > rss0 else float("nan")) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--letters", type=int, default=100)
    ap.add_argument("--loop", type=int, default=20, help="letters the shell loop writes (0 = all); scaled")
    ap.add_argument("--small", type=int, default=25, help="letters of the second batch run (peak memory)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--no-check", action="store_true", help="no read-back check on either side")
    ap.add_argument("--keep", default=None, help="write into this folder and keep it")
    args = ap.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="hwcli-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = rows(args.letters)
    (work / "letter.txt").write_text(TEMPLATE)
    for name, n in (("people.csv", args.letters), ("few.csv", args.small)):
        with open(work / name, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(data[0]))
            w.writeheader()
            w.writerows(data[:n])
    letters = work / "letters"
    letters.mkdir(exist_ok=True)
    for r in data:
        (letters / f"{r['last']}-{r['first']}.txt").write_text(TEMPLATE.format(**r))
    opts = ["--quiet", "--seed", "1", "--threads", "1"] + (["--no-check"] if args.no_check else [])
    if args.model:
        opts += ["--model", args.model]
    hw = hwcli_cmd()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    # the small batch first: ru_maxrss of children only grows, so each reading is that run's own peak
    small_out = work / "small"
    small_out.mkdir(exist_ok=True)
    t_small, c_small, rss_small = run_child(hw + ["write", "--template", str(work / "letter.txt"), "--data",
                                         str(work / "few.csv"), "--name", "{last}-{first}", "--out-dir",
                                         str(small_out)] + opts)
    batch_out = work / "batch"
    batch_out.mkdir(exist_ok=True)
    t_batch, c_batch, rss_batch = run_child(hw + ["write", "--template", str(work / "letter.txt"), "--data",
                                         str(work / "people.csv"), "--name", "{last}-{first}", "--out-dir",
                                         str(batch_out)] + opts)
    n_written = len(list(batch_out.glob("*.pdf")))

    loop_out = work / "loop"
    loop_out.mkdir(exist_ok=True)
    files = sorted(letters.glob("*.txt"))
    subset = files if args.loop <= 0 else files[: args.loop]
    script = " ".join(f"'{a}'" for a in hw + ["write"] + opts)
    listing = "".join(f"{f}\n" for f in subset)
    t_loop_part, c_loop_part, _ = run_child(["bash", "-c", f'while read -r f; do b=$(basename "$f" .txt); '
                                             f'{script} --input "$f" -o "{loop_out}/$b.pdf" || exit 1; done'],
                                            input=listing.encode())
    assert len(list(loop_out.glob("*.pdf"))) == len(subset)
    t_loop = t_loop_part * len(files) / len(subset)
    c_loop = c_loop_part * len(files) / len(subset)

    print(f"letters: {args.letters} (6-line template, {sum(len(TEMPLATE.format(**r)) for r in data) // len(data)} "
          f"characters each); check: {'off' if args.no_check else 'model default'}")
    print(f"one process (mail merge): {t_batch:.1f} s wall, {c_batch:.1f} s CPU for {n_written} letters "
          f"({t_batch / max(n_written, 1):.2f} s each), peak RSS {rss_batch:.0f} MB")
    print(f"one process, {args.small} letters: {t_small:.1f} s wall, {c_small:.1f} s CPU, peak RSS {rss_small:.0f} MB")
    scaled = ("" if len(subset) == len(files) else
              f" (measured on {len(subset)} letters: {t_loop_part:.1f} s wall, {c_loop_part:.1f} s CPU; scaled)")
    print(f"shell loop (hwcli write per file): {t_loop:.1f} s wall, {c_loop:.1f} s CPU for {len(files)} letters{scaled}")
    print(f"speed-up: {t_loop / t_batch:.1f}x wall, {c_loop / c_batch:.1f}x CPU (target >= 5x)")
    print(f"load average during the run: {os.getloadavg()[0]:.2f} (1 min)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
