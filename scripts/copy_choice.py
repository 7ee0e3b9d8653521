"""How well the self-check chooses among copies of a line: sample selection lines several times without the check,
read every copy with the recognizer (plain and strained, `hwcli.synthesis.checks.STRAINS`) and with tesseract, and
print the tesseract CER of the copy each rule would keep among the first K.

    python scripts/copy_choice.py sample --seeds 0,1,2,3 --copies 8 -o copies.pkl   # ~40 s a copy of 48 lines
    python scripts/copy_choice.py report copies.pkl [more.pkl ...]   # e.g. one file per core

The lines are `selection.charset_lines` (32) and `selection.hard_lines` (16) per seed (seed + 100), never `hwcli
eval`'s sets; the model is `hwcli-charset` in style 2 (it writes every line of the print styles), each copy with
sampling seed seed * 1000 + copy. Rules: the plain CER (the self-check before session 22), the mean of the plain and
strained CERs (`checker.strained`, as shipped), and tesseract's own choice (the ceiling no recognizer reaches).
Ties are averaged, so the figures do not depend on which of several perfect readings comes first.
"""
from __future__ import annotations

import argparse
import collections
import pickle
import sys
import time

import numpy as np


def sample(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.evaluation.selection import charset_lines, hard_lines
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.reading import edit_distance
    from hwcli.synthesis import SamplingOptions, line_checker, synthesize

    bundle = load_model(args.model)
    checker = line_checker(bundle)
    langs = accent_languages()
    rows, t0 = [], time.time()
    for s in (int(x) for x in args.seeds.split(",")):
        lines = (charset_lines(32, 100 + s) + hard_lines(16, 100 + s))[: args.lines]
        for c in range(args.copies):
            res = synthesize(bundle, lines, SamplingOptions(style=args.style, seed=s * 1000 + c, check=False))
            strokes = [r.strokes for r in res]
            cers = checker(strokes, lines)
            strained = checker.strained(strokes, lines, cers)
            ocr = read_as_page(bundle, args.style, strokes, langs)
            for i, (t, c0, st, o) in enumerate(zip(lines, cers, strained, ocr)):
                ref = " ".join(t.split())
                rows.append({"seed": s, "copy": c, "line": i, "chars": len(ref), "cer": float(c0), "strained": st,
                             "ocr_errors": edit_distance(ref, " ".join(o.split()))})
            print(f"seed {s} copy {c} ({time.time() - t0:.0f} s)", file=sys.stderr)
    with open(args.out, "wb") as fh:
        pickle.dump(rows, fh)


def chosen_cer(rows: list[dict], k: int, score) -> list[float]:
    """Per seed: tesseract CER of the copy with the lowest `score` among each line's first `k` (ties averaged)."""
    by = collections.defaultdict(list)
    for r in rows:
        by[(r["seed"], r["line"])].append(r)
    out = []
    for seed in sorted({r["seed"] for r in rows}):
        err = chars = 0.0
        for (s, _), rs in by.items():
            if s != seed:
                continue
            rs = sorted(rs, key=lambda r: r["copy"])[:k]
            v = [score(r) for r in rs]
            best = [r for r, x in zip(rs, v) if x <= min(v) + 1e-12]
            err += float(np.mean([r["ocr_errors"] for r in best]))
            chars += rs[0]["chars"]
        out.append(err / chars)
    return out


def report(args) -> None:
    rows = []
    for f in args.files:
        with open(f, "rb") as fh:  # files this script wrote
            rows += pickle.load(fh)
    copies = max(r["copy"] for r in rows) + 1
    rules = {"plain CER": lambda r: r["cer"], "strained CER (shipped)": lambda r: r["strained"],
             "tesseract (ceiling)": lambda r: r["ocr_errors"] / r["chars"]}
    print(f"{len({r['seed'] for r in rows})} seeds, {len({(r['seed'], r['line']) for r in rows})} lines, {copies} copies")
    for k in sorted({1, min(4, copies), copies}):
        for name, score in rules.items():
            per = chosen_cer(rows, k, score)
            print(f"best of {k}  {name:24s} tesseract CER {np.mean(per):.4f}  per seed {' '.join(f'{x:.3f}' for x in per)}")
    y = np.array([r["ocr_errors"] / r["chars"] for r in rows])
    rank = lambda a: np.argsort(np.argsort(np.asarray(a)))  # noqa: E731
    for name in ("cer", "strained"):
        rho = float(np.corrcoef(rank([r[name] for r in rows]), rank(y))[0, 1])
        print(f"rank correlation of the {name} with tesseract's CER of a copy: {rho:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--seeds", default="0,1,2,3")
    s.add_argument("--copies", type=int, default=8)
    s.add_argument("--lines", type=int, default=48, help="at most this many lines per seed")
    s.add_argument("--model", default="hwcli-charset")
    s.add_argument("--style", type=int, default=2)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("-o", "--out", required=True)
    r = sub.add_parser("report")
    r.add_argument("files", nargs="+")
    args = ap.parse_args()
    {"sample": sample, "report": report}[args.cmd](args)


if __name__ == "__main__":
    main()
