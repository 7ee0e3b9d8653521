"""A page with a writer's real lines on top and the same texts generated in a style below (PNG), to look at.

    python benchmarks/imitation_sheet.py STYLE REAL.npz|INKML -o sheet.png [--lines 6]
"""
from __future__ import annotations

import argparse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("style")
    ap.add_argument("real", nargs="+")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--lines", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    from hwcli.writing.compose import hand_metrics
    from hwcli.page import PageOptions
    from hwcli.page import layout as L
    from hwcli.page import options as PO
    from hwcli.page.placement import build_page, estimate_scale, place_line
    from hwcli.page.png import render_png
    from hwcli.synthesis import line_checker
    from hwcli.styles.ink import prepare_lines, read_ink
    from hwcli.model.personal import resolve
    from hwcli.synthesis import SamplingOptions, synthesize

    torch.set_num_threads(1)
    bundle, (key,) = resolve(None, [args.style])
    real = prepare_lines(read_ink(args.real), bundle.alphabet)[: args.lines]
    texts = [r.text for r in real]
    res = synthesize(bundle, texts, SamplingOptions(style=key, seed=args.seed),
                     checker=line_checker(bundle))
    page = PageOptions(line_height=10.0, natural=False, ruled=True)
    placed = []
    real_scale = estimate_scale([r.offsets for r in real], page.line_height)
    gen_scale, _ = hand_metrics(bundle, bundle.styles[key], page.line_height)
    rows = [(r.offsets, real_scale) for r in real] + [(None, 0)] + [(g.strokes, gen_scale) for g in res]
    for k, (off, scale) in enumerate(rows):
        if off is None:
            continue
        ln = L.LayoutLine("x", 0, k, page.margin, PO.baseline_y(page, k), page.text_width, False)
        placed.append(place_line(off, ln, scale, page))
    with open(args.out, "wb") as fh:
        render_png(build_page(0, placed, page), fh, page, dpi=100)
    print(f"wrote {args.out}: {len(real)} real lines, then the same texts in style {args.style!r}")


if __name__ == "__main__":
    main()
