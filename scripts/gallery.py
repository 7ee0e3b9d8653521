"""Choose a gallery of built-in styles that covers the range of real hands and reads well.

    # 1. measure every writer's hand and pick candidate priming lines from different regions
    python scripts/gallery.py candidates --data iam.npz --out gallery-candidates.json
    # 2. score candidates as users get them (bundle defaults, self-check on, selection sets, tesseract)
    python scripts/gallery.py score --data iam.npz --candidates gallery-candidates.json --lines 24 --seeds 0,1 \
        --out gallery-scores.jsonl
    # 3. the spread of a list of styles' hands against the data set's writers
    python scripts/gallery.py spread --data iam.npz --recipe scripts/model_recipe.json
    # 4. docs/gallery.png: every style of a bundle writing one sentence, with its number, name and description
    python scripts/gallery.py image --model hwcli-synthesis -o docs/gallery.png

Features per line are `hwcli.styles.likeness.line_features` (slant, letter width, ascender/body height ratio, pen lifts
per letter = joinedness, ink per letter, turning, direction histogram), plus the absolute body height ("size",
normalised data units: every IAM-OnDB line was written on the same whiteboard) and points per letter. A writer's
hand is the median over their lines of 20-60 characters. Candidate writers are taken from the extremes of each
axis (joined-up cursive = fewest pen lifts per letter; print = most; upright / slanted; narrow / wide; small /
large; compact / tall; round), and for each writer the line of 25-45 characters closest to the writer's median
(a typical line of the hand, not an outlier) is the candidate priming line.

Writers excluded: the reference writers of the imitation judge (`hwcli/styles/imitation_writers.json`: the writers of
`hwcli eval --like` and `benchmarks/imitation.py`) and `--exclude-writers`, so a built-in style never primes with
a judged writer's ink; writer -1 (unknown: several people).

Scoring (`score`) primes the bundle with one candidate at a time, measures it as packaging does
(`measure_styles`: the page sizes a hand by what it writes), and writes the selection set's ordinary lines
(`evaluation.selection.ordinary_lines`: testset_v transcriptions, never `hwcli eval`'s own sentences) with the
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
    from hwcli.styles.likeness import FEATURES, line_features
    from hwcli.strokes import body_height, to_points

    off = ds.normalised_line(i)
    f = dict(zip(FEATURES, line_features(off, ds.texts[i]).tolist()))
    f["size"] = body_height(to_points(off))
    f["points"] = len(off) / max(len(ds.texts[i].replace(" ", "")), 1)
    return f


def generated_row(strokes: np.ndarray, text: str) -> dict:
    from hwcli.styles.likeness import FEATURES, line_features

    f = dict(zip(FEATURES, line_features(strokes, text).tolist()))
    f["points"] = len(strokes) / max(len(text.replace(" ", "")), 1)
    return f


def excluded_writers(extra: str) -> set[int]:
    from hwcli.styles.likeness import load_reference

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


def cmd_readable(args) -> None:
    """Candidates of one region chosen by how well their real ink reads: tesseract reads every candidate line of
    the region's writers (drawn at page size, `read_real_as_page`); the best-reading line of each writer, the
    best `--count` writers. Joined-up hands read worst, and a neat prime makes a neat hand."""
    from hwcli.data.convert import load_dataset
    from hwcli.model.bundle import load_model
    from hwcli.evaluation.legibility import read_real_as_page
    from hwcli.recognizer.reading import corpus_error_rates

    ds = load_dataset(args.data)
    bundle = load_model(args.model)
    med, cand = writer_table(ds, bundle.alphabet)
    excl = excluded_writers(args.exclude_writers)
    recipe = json.loads(Path(args.recipe).read_text())
    by_id = {lid: k for k, lid in enumerate(ds.line_ids)}
    taken = {int(ds.writer_ids[by_id[s["line_id"]]]) for s in recipe["styles"]}
    feat, end = AXES[args.region]
    sign = 1 if end == "high" else -1
    pool = sorted((w for w in med if w not in excl and w not in taken and cand.get(w)),
                  key=lambda w: -sign * med[w][feat])[: args.writers]
    out = []
    for w in pool:
        lines = [(i, f) for i, f in cand[w] if sign * f[feat] >= sign * args.line_limit] if args.line_limit is not None \
            else cand[w]
        lines = sorted(lines, key=lambda c: -sign * c[1][feat])[: args.per_writer]  # the writer's most extreme lines
        if not lines:
            continue
        reads = read_real_as_page(bundle, [ds.normalised_line(i) for i, _ in lines])
        scored = sorted((corpus_error_rates([" ".join(ds.texts[i].split())], [h])["cer"], i, f)
                        for (i, f), h in zip(lines, reads))
        c, i, f = scored[0]
        out.append({"line_id": ds.line_ids[i], "writer": w, "split": ds.splits[i], "region": args.region,
                    "text": ds.texts[i], "real_ocr_cer": round(c, 4), "writer_features": {q: round(med[w][q], 4) for q in SPREAD},
                    "line_features": {q: round(f[q], 4) for q in SPREAD}})
        print(f"w{w:<6d} {feat}={med[w][feat]:.3f} line {f[feat]:.3f} real tesseract {c:.3f} of {len(lines)} lines "
              f"{ds.line_ids[i]} {ds.texts[i]}", file=sys.stderr)
    out.sort(key=lambda r: r["real_ocr_cer"])
    Path(args.out).write_text(json.dumps(out[: args.count], indent=1))


def cmd_score(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    from hwcli.data.convert import load_dataset
    from hwcli.data.dataset import VALID_SPLIT
    from hwcli.model.bundle import load_model
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.recognizer.network import load_recognizer
    from hwcli.recognizer.reading import corpus_error_rates, read_strokes
    from hwcli.evaluation.selection import ordinary_lines
    from hwcli.synthesis import SamplingOptions, line_checker, synthesize
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
            res = synthesize(bundle, texts, SamplingOptions(style=0, seed=seed, bias=args.bias),
                             checker=line_checker(bundle, rec))
            refs = [" ".join(r.text.split()) for r in res]
            hyps = [" ".join(h.split()) for h in read_strokes(rec, [r.strokes for r in res], bundle.scale)]
            ocr = read_as_page(bundle, 0, [r.strokes for r in res])
            gen = [generated_row(r.strokes, r.text) for r in res if len(r.strokes) > 10]
            row = {"line_id": c["line_id"], "writer": int(ds.writer_ids[i]), "region": c.get("region", ""),
                   "seed": seed, "bias": args.bias, "lines": len(res), "cer": corpus_error_rates(refs, hyps)["cer"],
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
    gen = {r["line_id"]: r["generated"] for r in json.loads(Path(args.select).read_text())} if args.select else None
    print(("generated lines' features: " if gen else "priming writers' features: ") + f"{len(styles)} styles against {len(med)} writers (writer medians); per feature: the styles' writers' "
          f"percentile range, and the share of writers inside it")
    report = {}
    for q in SPREAD:
        allv = np.array([med[w][q] for w in med])
        ws = [int(ds.writer_ids[by_id[s["line_id"]]]) for s in styles]
        if gen:  # what the network writes in each style
            vals = [gen[s["line_id"]][q] for s in styles]
        else:  # the hands of the styles' writers
            vals = [med[w][q] if w in med else line_row(ds, by_id[s["line_id"]])[q] for w, s in zip(ws, styles)]
        pc = [percentile_of(allv, v) for v in vals]
        inside = float(np.mean((allv >= min(vals)) & (allv <= max(vals))))
        report[q] = {"min_pct": min(pc), "max_pct": max(pc), "writers_inside": inside}
        print(f"{q:8s} percentiles {min(pc):5.1f}-{max(pc):5.1f}  writers inside {100 * inside:5.1f}%  "
              f"values {min(vals):.3f}..{max(vals):.3f} (writers {allv.min():.3f}..{allv.max():.3f})")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))


def describe(gen: dict, pct: dict) -> str:
    """A few words on how a hand looks, from its generated lines' features (`gen`) and their percentiles among
    the other hands the network writes (`pct`). Joinedness by pen lifts per letter (IAM-OnDB counts i-dots and t-bars, so a
    fully joined hand still lifts ~0.4 times a letter): <= 0.72 joined, <= 0.95 partly joined, else print.
    Turning (roundness) is left out: generated lines differ too little in it to show (1st-25th percentile of the
    data's writers)."""
    lifts = gen["lifts"]
    words = ["joined cursive" if lifts <= 0.72 else "partly joined" if lifts <= 0.95 else "print"]
    if pct["slant"] >= 90:
        words.append("strongly slanted")
    elif pct["slant"] >= 70:
        words.append("slanted")
    elif pct["slant"] <= 30:
        words.append("upright")
    if pct["width"] <= 25:
        words.append("narrow")
    elif pct["width"] >= 75:
        words.append("wide")
    if pct["height"] >= 80:
        words.append("tall loops")
    elif pct["height"] <= 20:
        words.append("short loops")
    return ", ".join(words)


def cmd_select(args) -> None:
    """Summarise score files: per candidate, the CERs over its seeds, its generated lines' features, their
    percentiles among the data set's writers, a description, and whether it passes the bar."""
    import pickle

    from hwcli.data.convert import load_dataset
    from hwcli.model.bundle import load_model

    rows = collections.defaultdict(list)
    for f in args.scores.split(","):
        for r in map(json.loads, Path(f).read_text().splitlines()):
            rows[r["line_id"]].append(r)
    cache = Path(args.cache) if args.cache else None
    if cache and cache.exists():
        med = pickle.loads(cache.read_bytes())
    else:
        med, _ = writer_table(load_dataset(args.data), load_model(args.model).alphabet)
        if cache:
            cache.write_bytes(pickle.dumps(med))
    out = []
    gens = {}
    for lid, rs in rows.items():
        gens[lid] = {k: float(np.mean([r["generated"][k] for r in rs])) for k in rs[0]["generated"]}
        gens[lid]["size"] = float(np.mean([r["body_height"] for r in rs]))
    for lid, rs in rows.items():
        n = sum(r["lines"] for r in rs)
        ocr = sum(r["ocr_cer"] * r["lines"] for r in rs) / n
        rec = sum(r["cer"] * r["lines"] for r in rs) / n
        gen = gens[lid]
        # the description compares a hand with the network's other hands (every scored candidate): generated
        # lines are rounder, taller-looped and more regular than people's, so the data's percentiles would call
        # almost every one of them "tall" and "angular"
        pct = {q: percentile_of(np.array([g[q] for g in gens.values()]), gen[q]) for q in SPREAD}
        wpct = {q: percentile_of(np.array([m[q] for m in med.values()]), gen[q]) for q in SPREAD}
        row = {"line_id": lid, "writer": rs[0]["writer"], "region": rs[0]["region"], "seeds": sorted(r["seed"] for r in rs),
               "lines": n, "ocr_cer": round(ocr, 4), "cer": round(rec, 4),
               "ocr_by_seed": [round(r["ocr_cer"], 3) for r in sorted(rs, key=lambda r: r["seed"])],
               "generated": {q: round(gen[q], 3) for q in SPREAD}, "percentiles": {q: round(pct[q]) for q in SPREAD},
               "writer_percentiles": {q: round(wpct[q]) for q in SPREAD},
               "description": describe(gen, pct), "passes": bool(ocr <= args.bar and n >= args.min_lines)}
        out.append(row)
    out.sort(key=lambda r: r["ocr_cer"])
    for r in out:
        print(f"{r['line_id']:13s} w{r['writer']:<6d} {r['region']:15s} n={r['lines']:3d} tess {r['ocr_cer']:.3f} "
              f"{r['ocr_by_seed']} rec {r['cer']:.3f} lifts {r['generated']['lifts']:.2f} "
              f"{'PASS' if r['passes'] else '    '} {r['description']}")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))


GALLERY_TEXT = "Thank you for the lovely evening by the river."


def cmd_image(args) -> None:
    """Every style writes `--text` as `hwcli write` does (defaults, self-check on, one seed); a typed label
    (number, name, description) above each line. Two columns when there are more than 10 styles."""
    import torch
    from PIL import Image, ImageDraw, ImageFont

    torch.set_num_threads(args.threads)
    from hwcli.writing.compose import hand_metrics
    from hwcli.fileio import atomic_output
    from hwcli.model.bundle import load_model
    from hwcli.page import PageOptions
    from hwcli.page import layout as L
    from hwcli.page.placement import build_page, place_line
    from hwcli.page.png import rasterize_page
    from hwcli.synthesis import SamplingOptions, line_checker, synthesize

    from hwcli.charset import FULL_SET, routes_to_full_set, writes_all

    bundle = load_model(args.model)
    checker = line_checker(bundle)
    # as `hwcli write` with no --model: the full-set model writes every line in its styles (`charset.writes_all`)
    full = load_model(FULL_SET) if routes_to_full_set(None, bundle) else None
    full_checker = line_checker(full) if full is not None else None
    n = len(bundle.styles)
    cols = 2 if n > 10 else 1
    rows = -(-n // cols)
    col_w, row_h, line_h = 190.0, 21.0, 9.0  # mm: a row is a label band and one written line
    opts = PageOptions(page_size=f"{cols * col_w:.0f}x{rows * row_h + 4:.0f}", margin=4, line_height=line_h,
                       natural=False)
    placed = []
    for i in range(n):
        writer, check = ((full, full_checker) if full is not None and writes_all(bundle, bundle.styles[i])
                         else (bundle, checker))
        r = synthesize(writer, [args.text], SamplingOptions(style=i, seed=args.seed), checker=check)[0]
        row, col = i % rows, i // rows
        x = opts.margin + col * col_w
        y = 2 + row * row_h + 17.0  # baseline, under the label
        ln = L.LayoutLine(r.text, 0, row, x + 2, y, col_w - 10, False)
        placed.append(place_line(r.strokes, ln, hand_metrics(writer, writer.styles[i], line_h)[0], opts))
        print(f"style {i}: {'ok' if r.ok else r.reason} ({Path(writer.path).name})", file=sys.stderr)
    dpi = args.dpi
    img = Image.fromarray(rasterize_page(build_page(0, placed, opts), opts, dpi))
    draw = ImageDraw.Draw(img)
    px = dpi / 25.4
    font = ImageFont.load_default(size=max(int(3.2 * px), 10))
    for i, st in enumerate(bundle.styles):
        row, col = i % rows, i // rows
        x, y = opts.margin + col * col_w, 2 + row * row_h
        label = f"{i}. {st.name}" + (f": {st.description}" if st.description else "")
        draw.text((x * px, (y + 1) * px), label, fill=(90, 90, 90), font=font)
        if row:
            draw.line([(x * px, y * px), ((x + col_w - 8) * px, y * px)], fill=(225, 225, 225), width=1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as fh:
        img.save(fh, format="PNG", optimize=True)
    print(f"wrote {out}: {n} styles", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("candidates", "readable", "score", "select", "spread", "image"):
        p = sub.add_parser(name)
        p.add_argument("--data", required=name not in ("image", "select"), help="IAM-OnDB copy or converted .npz")
        p.add_argument("--model", default="hwcli-synthesis")
        p.add_argument("--recipe", default="scripts/model_recipe.json")
        p.add_argument("--out", "-o", default=None)
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
    s.add_argument("--bias", type=float, default=None, help="sampling bias (default: the bundle's)")
    rd = sub.choices["readable"]
    rd.add_argument("--region", default="joined cursive", choices=sorted(AXES))
    rd.add_argument("--writers", type=int, default=24, help="the most extreme writers of the region")
    rd.add_argument("--line-limit", type=float, default=None, help="each line's own feature must be this far out")
    rd.add_argument("--count", type=int, default=12)
    rd.add_argument("--per-writer", type=int, default=8, help="lines read per writer")
    rd.add_argument("--exclude-writers", default="")
    sub.choices["spread"].add_argument("--select", default=None, help="`select` output: measure the generated lines")
    se = sub.choices["select"]
    se.add_argument("--scores", required=True, help="comma-separated score files (JSON lines of `score`)")
    se.add_argument("--bar", type=float, default=0.08, help="highest tesseract CER of a gallery style")
    se.add_argument("--min-lines", type=int, default=48, help="fewest lines scored to trust the figure")
    se.add_argument("--cache", default=None, help="pickle of the writers' feature table (computed once)")
    im = sub.choices["image"]
    im.add_argument("--text", default=GALLERY_TEXT)
    im.add_argument("--seed", type=int, default=1)
    im.add_argument("--dpi", type=float, default=100)
    im.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.cmd == "image" and not args.out:
        args.out = "docs/gallery.png"
    {"candidates": cmd_candidates, "readable": cmd_readable, "score": cmd_score, "select": cmd_select, "spread": cmd_spread, "image": cmd_image}[args.cmd](args)


if __name__ == "__main__":
    main()
