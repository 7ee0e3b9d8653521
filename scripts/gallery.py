"""Choose a gallery of built-in styles that covers the range of real hands and reads well.

    # 1. measure every writer's hand and pick candidate priming lines from different regions
    python scripts/gallery.py candidates --data iam.npz --out gallery-candidates.json
    # 2. score candidates as users get them (bundle defaults, self-check on, selection sets, tesseract)
    python scripts/gallery.py score --data iam.npz --candidates gallery-candidates.json --lines 24 --seeds 0,1 \
        --out gallery-scores.jsonl
    # 3. the spread of a list of styles' hands against the data set's writers
    python scripts/gallery.py spread --data iam.npz --recipe scripts/model_recipe.json

Features per line are `hwcli.imitation.line_features` (slant, letter width, ascender/body height ratio, pen lifts
per letter = joinedness, ink per letter, turning, direction histogram), plus the absolute body height ("size",
normalised data units: every IAM-OnDB line was written on the same whiteboard) and points per letter. A writer's
hand is the median over their lines of 20-60 characters. Candidate writers are taken from the extremes of each
axis (joined-up cursive = fewest pen lifts per letter; print = most; upright / slanted; narrow / wide; small /
large; compact / tall; round), and for each writer the line of 25-45 characters closest to the writer's median
(a typical line of the hand, not an outlier) is the candidate priming line.

Writers excluded: the reference writers of the imitation judge (`hwcli/imitation_writers.json`: the writers of
`hwcli eval --like` and `benchmarks/imitation.py`) and `--exclude-writers`, so a built-in style never primes with
a judged writer's ink; writer -1 (unknown: several people).

Scoring (`score`) primes the bundle with one candidate at a time, measures it as packaging does
(`measure_styles`: the page sizes a hand by what it writes), and writes the selection set's ordinary lines
(`recognizer.selection.ordinary_lines`: testset_v transcriptions, never `hwcli eval`'s own sentences) with the
bundle's defaults and the self-check on, as `hwcli write` does; the bundled recognizer and tesseract (drawn as a
page draws the line, 200 dpi, --psm 7) read them. Also recorded: the features of the generated lines (does the
network keep the hand: a cursive prime may still come out as print).
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

import numpy as np

AXES = {  # region name -> (feature, which end)
    "joined cursive": ("lifts", "low"),
    "print": ("lifts", "high"),
    "slanted": ("slant", "high"),
    "upright": ("slant", "low"),
    "narrow": ("width", "low"),
    "wide": ("width", "high"),
    "small": ("size", "low"),
    "large": ("size", "high"),
    "tall": ("height", "high"),
    "compact": ("height", "low"),
    "round": ("turning", "high"),
}
SPREAD = ["slant", "width", "height", "lifts", "size", "turning", "points"]


def line_row(ds, i: int) -> dict:
    """Features of dataset line `i` (the hand as written)."""
    from hwcli.imitation import FEATURES, line_features
    from hwcli.strokes import body_height, to_points

    off = ds.normalised_line(i)
    f = dict(zip(FEATURES, line_features(off, ds.texts[i]).tolist()))
    f["size"] = body_height(to_points(off))
    f["points"] = len(off) / max(len(ds.texts[i].replace(" ", "")), 1)
    return f


def generated_row(strokes: np.ndarray, text: str) -> dict:
    from hwcli.imitation import FEATURES, line_features

    f = dict(zip(FEATURES, line_features(strokes, text).tolist()))
    f["points"] = len(strokes) / max(len(text.replace(" ", "")), 1)
    return f


def excluded_writers(extra: str) -> set[int]:
    from hwcli.imitation import load_reference

    out = {int(w) for w in load_reference()["writers"]} | {-1}
    return out | {int(w) for w in extra.split(",") if w.strip()}


def writer_table(ds, alphabet) -> tuple[dict, dict]:
    """({writer: median features}, {writer: [(line index, features)] of candidate-length lines})."""
    rows = collections.defaultdict(list)
    cand = collections.defaultdict(list)
    for i in range(len(ds)):
        t, w = ds.texts[i], int(ds.writer_ids[i])
        if not 20 <= len(t) <= 60 or len(ds.line(i)) < 50:
            continue
        f = line_row(ds, i)
        rows[w].append(f)
        if 25 <= len(t) <= 45 and all(c in alphabet for c in t):
            cand[w].append((i, f))
    med = {w: {k: float(np.median([r[k] for r in rs])) for k in rs[0]} for w, rs in rows.items() if len(rs) >= 10}
    return med, cand


def percentile_of(values: np.ndarray, x: float) -> float:
    return float(100.0 * np.mean(values <= x))


def cmd_candidates(args) -> None:
    from hwcli.data.convert import load_dataset
    from hwcli.model.bundle import load_model

    ds = load_dataset(args.data)
    alphabet = load_model(args.model).alphabet
    med, cand = writer_table(ds, alphabet)
    excl = excluded_writers(args.exclude_writers)
    recipe = json.loads(Path(args.recipe).read_text())
    by_id = {lid: k for k, lid in enumerate(ds.line_ids)}
    taken = {int(ds.writer_ids[by_id[s["line_id"]]]) for s in recipe["styles"]}
    pool = [w for w in med if w not in excl and w not in taken and cand.get(w)]
    sd = {k: np.std([med[w][k] for w in med]) + 1e-9 for k in SPREAD}
    print(f"{len(med)} writers measured, {len(pool)} in the pool ({len(excl)} excluded, {len(taken)} already styles)",
          file=sys.stderr)
    out, chosen = [], set()
    for region, (feat, end) in AXES.items():
        order = sorted(pool, key=lambda w: med[w][feat], reverse=end == "high")
        # testset_v writers (no bundle trained on them) first among the extreme decile
        k = max(len(order) // 10, args.per_region)
        top = sorted(order[:k], key=lambda w: (0 if ds.splits[cand[w][0][0]] == "testset_v" else 1, order.index(w)))
        n = 0
        want = args.cursive if region == "joined cursive" else args.per_region
        top = top if region != "joined cursive" else order[: max(k, want)]
        for w in top:
            if w in chosen or n >= want:
                continue
            # the writer's most typical candidate line (closest to the median on the spread features)
            i, f = min(cand[w], key=lambda c: sum(((c[1][q] - med[w][q]) / sd[q]) ** 2 for q in SPREAD))
            chosen.add(w)
            n += 1
            out.append({"line_id": ds.line_ids[i], "writer": w, "split": ds.splits[i], "region": region,
                        "text": ds.texts[i], "writer_features": {q: round(med[w][q], 4) for q in SPREAD},
                        "line_features": {q: round(f[q], 4) for q in SPREAD}})
            print(f"{region:15s} w{w:<6d} {ds.splits[i]:10s} {ds.line_ids[i]:13s} {feat}={med[w][feat]:.3f} "
                  f"{ds.texts[i]}", file=sys.stderr)
    Path(args.out).write_text(json.dumps(out, indent=1))


def cmd_score(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    from hwcli.data.convert import load_dataset
    from hwcli.data.dataset import VALID_SPLIT
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.legibility import read_as_page
    from hwcli.recognizer.network import load_recognizer
    from hwcli.recognizer.reading import corpus_error_rates, make_checker, read_strokes
    from hwcli.recognizer.selection import ordinary_lines
    from hwcli.synthesis import SamplingOptions, synthesize
    from hwcli.training.packaging import measure_styles, style_from_line

    bundle = load_model(args.model)
    rec = load_recognizer()
    ds = load_dataset(args.data)
    by_id = {lid: k for k, lid in enumerate(ds.line_ids)}
    if args.candidates.endswith(".json"):
        cands = json.loads(Path(args.candidates).read_text())
    else:
        cands = [{"line_id": c} for c in args.candidates.split(",")]
    done = set()
    if args.out and Path(args.out).exists():
        done = {(r["line_id"], r["seed"]) for r in map(json.loads, Path(args.out).read_text().splitlines())}
    valid = [t for t, sp in zip(ds.texts, ds.splits) if sp == VALID_SPLIT]
    seeds = [int(s) for s in args.seeds.split(",")]
    t0 = time.time()
    for c in cands[args.skip: args.skip + args.count if args.count else None]:
        i = by_id[c["line_id"]]
        style = style_from_line(ds, i, c.get("region", c["line_id"]))
        own = " ".join(ds.texts[i].split())
        measured = False
        for seed in seeds:
            if (c["line_id"], seed) in done:
                continue
            bundle.styles = [style]
            if not measured:
                measure_styles(bundle, [style])
                measured = True
            texts = [t for t in ordinary_lines(valid, args.lines + 1, seed) if t != own][: args.lines]
            res = synthesize(bundle, texts, SamplingOptions(style=0, seed=seed),
                             checker=make_checker(rec, bundle.scale))
            refs = [" ".join(r.text.split()) for r in res]
            hyps = [" ".join(h.split()) for h in read_strokes(rec, [r.strokes for r in res], bundle.scale)]
            ocr = read_as_page(bundle, 0, [r.strokes for r in res])
            gen = [generated_row(r.strokes, r.text) for r in res if len(r.strokes) > 10]
            row = {"line_id": c["line_id"], "writer": int(ds.writer_ids[i]), "region": c.get("region", ""),
                   "seed": seed, "lines": len(res), "cer": corpus_error_rates(refs, hyps)["cer"],
                   "ocr_cer": corpus_error_rates(refs, ocr)["cer"],
                   "failed": sum(not r.ok for r in res), "char_width": style.char_width,
                   "body_height": style.body_height,
                   "generated": {k: round(float(np.median([g[k] for g in gen])), 4) for k in gen[0]} if gen else {},
                   "ocr_worst": sorted(zip(refs, ocr), key=lambda p: -corpus_error_rates([p[0]], [p[1]])["cer"])[:3]}
            print(f"{c['line_id']:13s} seed {seed} {row['region']:15s} rec {row['cer']:.3f} tess {row['ocr_cer']:.3f} "
                  f"lifts {row['generated'].get('lifts', 0):.2f} ({time.time() - t0:.0f} s)", file=sys.stderr)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")


def cmd_spread(args) -> None:
    """Which percentile range of the data set's writers each feature of the recipe's styles spans."""
    from hwcli.data.convert import load_dataset
    from hwcli.model.bundle import load_model

    ds = load_dataset(args.data)
    med, _ = writer_table(ds, load_model(args.model).alphabet)
    recipe = json.loads(Path(args.recipe).read_text())
    by_id = {lid: k for k, lid in enumerate(ds.line_ids)}
    styles = recipe["styles"]
    print(f"{len(styles)} styles against {len(med)} writers (writer medians); per feature: the styles' writers' "
          f"percentile range, and the share of writers inside it")
    report = {}
    for q in SPREAD:
        allv = np.array([med[w][q] for w in med])
        ws = [int(ds.writer_ids[by_id[s["line_id"]]]) for s in styles]
        vals = [med[w][q] if w in med else line_row(ds, by_id[s["line_id"]])[q] for w, s in zip(ws, styles)]
        pc = [percentile_of(allv, v) for v in vals]
        inside = float(np.mean((allv >= min(vals)) & (allv <= max(vals))))
        report[q] = {"min_pct": min(pc), "max_pct": max(pc), "writers_inside": inside}
        print(f"{q:8s} percentiles {min(pc):5.1f}-{max(pc):5.1f}  writers inside {100 * inside:5.1f}%  "
              f"values {min(vals):.3f}..{max(vals):.3f} (writers {allv.min():.3f}..{allv.max():.3f})")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("candidates", "score", "spread"):
        p = sub.add_parser(name)
        p.add_argument("--data", required=True, help="IAM-OnDB copy or converted .npz")
        p.add_argument("--model", default="hwcli-synthesis")
        p.add_argument("--recipe", default="scripts/model_recipe.json")
        p.add_argument("--out", default=None)
    c = sub.choices["candidates"]
    c.add_argument("--per-region", type=int, default=3)
    c.add_argument("--cursive", type=int, default=8, help="candidates of the joined-up region (the network often unjoins them)")
    c.add_argument("--exclude-writers", default="", help="comma-separated writer ids never to use (beside the judge's)")
    s = sub.choices["score"]
    s.add_argument("--candidates", required=True, help="candidates JSON, or comma-separated line ids")
    s.add_argument("--lines", type=int, default=24)
    s.add_argument("--seeds", default="0,1")
    s.add_argument("--skip", type=int, default=0)
    s.add_argument("--count", type=int, default=0)
    s.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    {"candidates": cmd_candidates, "score": cmd_score, "spread": cmd_spread}[args.cmd](args)


if __name__ == "__main__":
    main()
