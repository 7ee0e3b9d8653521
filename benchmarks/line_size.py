"""Does a page of hwcli keep one hand's size from line to line? Line-to-line x-height change on real IAM-OnDB
pages (each form: one writer's page) against hwcli pages of the same texts.

The size of a line is measured the same way on both, without knowing which point belongs to which letter
(real lines have no alignment):

- tops: the median height above the baseline of the local tops of the pen-down strokes (most are the tops of
  small letters; ascenders and capitals pull it up a little, the same on both sides);
- iqr: the interquartile range of y, the band of most ink.

For every page, each pair of neighbouring lines gives the ratio of their sizes (larger / smaller); the
figures are the median and the 90th percentile of those ratios over all pages, and the median over pages of
the page's largest / smallest line. hwcli writes each real page's lines (one line each, `breaks="keep"`), with
its natural per-line variation and without it (same strokes).

    python benchmarks/line_size.py --pages 12 --threads 1               # real data: ../shared/iam-ondb
    python benchmarks/line_size.py --pages 12 --threads 1 --no-check
"""
from __future__ import annotations

import argparse
import pickle
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench_args import add_model_args, load_bundle
from hwcli.page.placement import SIZE_PULL
from hwcli.cleaning import preprocess
from hwcli.strokes import estimate_baseline, robust_size, split_strokes

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "iam-ondb"


def tops_height(points: np.ndarray) -> float:
    """Median height of the local stroke tops above the baseline (y down, any units); 0 when too few."""
    base = estimate_baseline(points)
    tops = []
    for s in split_strokes(points):
        if len(s) < 3:
            continue
        y = s[:, 1]
        top = (y[1:-1] <= y[:-2]) & (y[1:-1] < y[2:])
        tops.append(base - y[1:-1][top])
    h = np.concatenate(tops) if tops else np.zeros(0)
    h = h[h > 0]
    return float(np.median(h)) if len(h) >= 5 else 0.0


MEASURES = {"tops": tops_height, "iqr": robust_size}


def page_figures(pages: list[list[np.ndarray]]) -> dict:
    """{measure: (median neighbour ratio, 90th percentile, median page max/min, lines, pairs)}."""
    out = {}
    for name, fn in MEASURES.items():
        ratios, spans, n = [], [], 0
        for lines in pages:
            hs = np.array([fn(p) for p in lines if len(p) >= 20])
            hs = hs[hs > 0]
            n += len(hs)
            if len(hs) < 2:
                continue
            r = np.exp(np.abs(np.diff(np.log(hs))))
            ratios += list(r)
            spans.append(hs.max() / hs.min())
        out[name] = (float(np.median(ratios)), float(np.percentile(ratios, 90)), float(np.median(spans)), n,
                     len(ratios))
    return out


def real_pages(path: Path, pages: int, min_lines: int) -> list[tuple[str, list[str], list[np.ndarray]]]:
    """(form id, texts, cleaned points) of real pages of known writers with at least `min_lines` lines, in
    form order (every form kept; `pages` of them, spread evenly, are used for hwcli)."""
    from hwcli.data.iam import RawLine, read_iam

    forms: dict[str, list] = defaultdict(list)
    for item in read_iam(path):
        if isinstance(item, RawLine) and item.writer_id >= 0:
            forms[item.form_id].append(item)
    out = []
    for fid in sorted(forms):
        lines = sorted(forms[fid], key=lambda r: r.line_id)
        if len(lines) >= min_lines:
            out.append((fid, [r.text for r in lines], [preprocess(r.points) for r in lines]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(ap)
    ap.add_argument("--data", type=Path, default=DATA, help="IAM-OnDB copy (lineStrokes + ascii)")
    ap.add_argument("--pages", type=int, default=12, help="real pages hwcli writes again")
    ap.add_argument("--min-lines", type=int, default=6)
    ap.add_argument("--check", action=argparse.BooleanOptionalAction, default=True, help="read-back check")
    ap.add_argument("--style", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=None, help="keep the cleaned real pages in this pickle (reading "
                    "the archive takes minutes)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    if args.cache is not None and args.cache.exists():
        with open(args.cache, "rb") as fh:
            real = pickle.load(fh)
    else:
        real = real_pages(args.data, args.pages, args.min_lines)
        if args.cache is not None:
            with open(args.cache, "wb") as fh:
                pickle.dump(real, fh)
    print(f"real: {len(real)} pages of known writers with >= {args.min_lines} lines "
          f"({sum(len(p[2]) for p in real)} lines), read in {time.perf_counter() - t0:.0f} s")
    step = max(1, len(real) // max(args.pages, 1))
    chosen = real[::step][: args.pages]

    bundle = load_bundle(args)
    rows = {"real, every page": page_figures([p for _, _, p in real]),
            "real, the pages hwcli writes": page_figures([p for _, _, p in chosen])}
    show(rows)
    t0 = time.perf_counter()
    variants = {"hwcli, natural on, no evening": (True, 0.0), "hwcli, natural off, no evening": (False, 0.0),
                f"hwcli, natural on, evening {SIZE_PULL:g}": (True, SIZE_PULL),
                f"hwcli, natural off, evening {SIZE_PULL:g}": (False, SIZE_PULL),
                "hwcli, natural on, evening 0.75": (True, 0.75)}
    written = {name: [] for name in variants}
    for k, (fid, texts, _) in enumerate(chosen):
        sampled = sample_page(bundle, "\n".join(texts), args, k)
        for name, (natural, pull) in variants.items():
            written[name].append(place_page(*sampled, natural=natural, pull=pull, seed=k))
    print(f"hwcli: {len(chosen)} pages sampled in {time.perf_counter() - t0:.0f} s")
    for name in variants:
        rows[name] = page_figures(written[name])
    show(rows)


def sample_page(bundle, text: str, args, k: int):
    """Sample one page as `hwcli.write` does (same layout, options and checking); returns what placement needs."""
    from dataclasses import replace

    from hwcli.writing.compose import MAX_CHARS_PER_LINE, hand_metrics
    from hwcli.page import PageOptions, iter_layout
    from hwcli.page.layout import prepare_marked
    from hwcli.synthesis import SamplingOptions, line_checker, synthesize

    page = PageOptions(breaks="keep")
    text = prepare_marked(text, lambda t: bundle.alphabet.prepare(t, "skip"))
    opts = SamplingOptions(style=args.style, seed=args.seed + k, check=args.check)
    resolved = opts.resolve(bundle)
    scale, char_w = hand_metrics(bundle, resolved.style, page.line_height)
    lines = list(iter_layout(text, page, char_w, MAX_CHARS_PER_LINE))
    checker = line_checker(bundle) if resolved.check else None
    results = synthesize(bundle, [ln.text for ln in lines], replace(opts, check=resolved.check), checker=checker)
    return lines, results, scale


def place_page(lines, results, scale, natural: bool, pull: float, seed: int) -> list[np.ndarray]:
    """The placed lines (mm) of one sampled page, with natural variation on or off and size evening `pull`."""
    from dataclasses import replace

    from hwcli.page import PageOptions
    from hwcli.page.placement import place_line, size_factors
    from hwcli.strokes import to_points, x_height

    page = PageOptions(breaks="keep", natural=natural, seed=seed)
    heights = [x_height(to_points(r.strokes), r.chars, r.text) if len(r.strokes) else 0.0 for r in results]
    factors = size_factors(heights, pull)
    return [place_line(r.strokes, replace(ln, size=ln.size * f), scale, page)
            for ln, r, f in zip(lines, results, factors)]


def show(rows: dict) -> None:
    print("\nline-to-line size ratio (larger / smaller) of neighbouring lines; page span = largest / smallest")
    print(f"{'':34s} {'measure':7s} {'median':>7s} {'p90':>7s} {'page span':>10s} {'lines':>6s}")
    for name, figs in rows.items():
        for m, (med, p90, span, n, _pairs) in figs.items():
            print(f"{name:34s} {m:7s} {med:7.3f} {p90:7.3f} {span:10.3f} {n:6d}")


if __name__ == "__main__":
    main()
