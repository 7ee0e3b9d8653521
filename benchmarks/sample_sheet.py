"""Evidence sheet: every style at biases 0, 0.5, 1 and 2, writing pangrams that use every letter (Q, X, Z
included), digits and punctuation. Writes a multi-page PDF (and PNG pages for a quick look).

    python benchmarks/sample_sheet.py [--model PATH] [-o samples/sheet.pdf] [--png-dir samples/]
"""
from __future__ import annotations

import argparse
from pathlib import Path

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs!",
    "Sphinx of black quartz, judge my vow: 1234567890",
    "Zebras quickly vexed? (Jim's 3 dogs, 45% off.)",
]
BIASES = [0.0, 0.5, 1.0, 2.0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("-o", "--out", default="samples/sheet.pdf")
    ap.add_argument("--png-dir", default=None, help="also write one PNG per page here")
    ap.add_argument("--styles", default=None, help="comma-separated style indices (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from hwcli.writing.compose import hand_metrics
    from hwcli.fileio import atomic_output
    from hwcli.model.bundle import load_model
    from hwcli.page import PageOptions
    from hwcli.page import layout as L
    from hwcli.page import options as PO
    from hwcli.page.pdf import render_pdf
    from hwcli.page.placement import build_page, place_line
    from hwcli.synthesis import SamplingOptions, synthesize

    bundle = load_model(args.model)
    styles = [int(s) for s in args.styles.split(",")] if args.styles else list(range(max(len(bundle.styles), 1)))
    opts = PageOptions(page_size="A4", margin=15, line_height=11.5, natural=False)
    pages, failed = [], 0
    for si in styles:
        style = bundle.styles[si] if bundle.styles else None
        scale, _ = hand_metrics(bundle, style, opts.line_height)
        placed = []
        for bias in BIASES:
            head = f"Style {si}, bias {bias:g}:"
            res = synthesize(bundle, [head] + TEXTS, SamplingOptions(style=si if bundle.styles else None, bias=bias,
                                                                      seed=args.seed, check=False))
            for r in res:
                failed += not r.ok
                k = len(placed)
                ln = L.LayoutLine(r.text, 0, k, opts.margin, PO.baseline_y(opts, k), opts.text_width, False)
                placed.append(place_line(r.strokes, ln, scale, opts))
        pages.append(build_page(len(pages), placed, opts))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as fh:
        render_pdf(iter(pages), fh, opts, title="hwcli sample sheet")
    if args.png_dir:
        from hwcli.page.png import render_png

        d = Path(args.png_dir)
        d.mkdir(parents=True, exist_ok=True)
        for i, pg in enumerate(pages):
            with atomic_output(d / f"sheet-style{styles[i]}.png") as fh:
                render_png(pg, fh, opts, dpi=90)
    print(f"wrote {out}: {len(pages)} page(s), {len(styles)} style(s) x {len(BIASES)} biases, "
          f"{failed} line(s) failing the checks")


if __name__ == "__main__":
    main()
