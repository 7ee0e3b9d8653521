"""docs/characters.png: digits, capitals and punctuation in every bundled style, as `hwcli write` samples them
(default bias, self-check on), so a reader can see what the hard characters look like.

    python scripts/docs_sheet.py [--model PATH] [-o docs/characters.png]
"""
from __future__ import annotations

import argparse
from pathlib import Path

LINES = [
    "0 1 2 3 4 5 6 7 8 9 - 14/03/2027, 9:30",
    "A B C D E F G H I J K L M",
    "N O P Q R S T U V W X Y Z",
    "QUICK ZEBRAS JUMP! Only 45% off? (Yes; 7.50 & \"free\")",
    "Call 0161 234 5678 at 9:30 on 14 March 2027.",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("-o", "--out", default="docs/characters.png")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dpi", type=float, default=100)
    args = ap.parse_args()

    from hwcli.document import hand_metrics
    from hwcli.fileio import atomic_output
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.network import load_recognizer
    from hwcli.page import PageOptions
    from hwcli.page import layout as L
    from hwcli.page.placement import build_page, place_line
    from hwcli.page.png import render_png
    from hwcli.recognizer.reading import make_checker
    from hwcli.synthesis import SamplingOptions, synthesize

    bundle = load_model(args.model)
    checker = make_checker(load_recognizer(), bundle.scale)
    n_styles = max(len(bundle.styles), 1)
    opts = PageOptions(page_size=f"200x{12 + 10 * (len(LINES) + 1) * n_styles:.0f}", margin=6, line_height=10, natural=False)
    placed = []
    for si in range(n_styles):
        style = bundle.styles[si] if bundle.styles else None
        scale, _ = hand_metrics(bundle, style, opts.line_height)
        head = f"Style {si}:"
        res = synthesize(bundle, [head] + LINES, SamplingOptions(style=si if bundle.styles else None, seed=args.seed),
                         checker=checker)
        for r in res:
            k = len(placed)
            ln = L.LayoutLine(r.text, 0, k, opts.margin, L.baseline_y(opts, k), opts.text_width, False)
            placed.append(place_line(r.strokes, ln, scale, opts))
    page = build_page(0, placed, opts)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as fh:
        render_png(page, fh, opts, dpi=args.dpi)
    print(f"wrote {out}: {n_styles} styles x {len(LINES)} lines")


if __name__ == "__main__":
    main()
