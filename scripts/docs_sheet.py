"""docs/characters.png: every character of hwcli's set (`hwcli.alphabet.CHARSET`) in every bundled style, in
word contexts, as `hwcli write` samples them (default bias, self-check on), so a reader can see how each one looks.

    python scripts/docs_sheet.py [--model PATH] [-o docs/characters.png] [--skip-missing]

A bundle that lacks characters of the set is refused (the sheet would not show them); `--skip-missing` writes
the lines without them, for a look at an older bundle (do not commit that sheet).
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

MAX_MM = 1900  # the tallest page a sheet is drawn on (page sizes stop at 2000 mm)

#: Every character of the set at least once (a test checks), in words of the languages that use them.
LINES = [
    "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z",
    "the quick brown fox jumps over a lazy dog",
    "0 1 2 3 4 5 6 7 8 9 - 14/03/2027, 9:30",
    "Noël à l'hôtel: crème brûlée, pâté, œuf et maïs",
    "Ça coûte être où? Île, dîner, naïve, garçon",
    "À ÉTÉ, ÊTRE, CRÈME, NOËL, HÔTEL, AOÛT, NAÏF",
    "DÎNER, ÂGE, ŒUVRE, L'HAŸ-LES-ROSES, L'Haÿ",
    "Grüße aus Köln: Äpfel, Öl, Übel, Mädchen",
    "Jørgen, blåbær, ÅRHUS, ÆRØ; Ýmir ýr",
    "Þórður og það, GUÐRÚN, ÞÓRÐUR",
    "¿Qué tal? ¡Olé! Niño, ÑANDÚ, São Paulo",
    "põe, LIÇÕES, SÃO; Ávila, más, aquí, ÍNDICE",
    "Perché più così? Però città, PIÙ, PERÒ, COSÌ",
    "Łódź, Gdańsk: zażółć gęślą jaźń",
    "ŁĄKA, ŻUBR, ŚNIEG, ĆMA, ŹLE, KOŃ, JĘZYK",
    "Příliš žluťoučký kůň úpěl ďábelské ódy",
    "ČESKÁ ŘEKA, ŠKODA, ŽENA, ĎÁBEL, ŤAVA",
    "KŮŇ, BĚH; ľad, kĺb, vŕba, ĽAN, ĹADOVEC, VŔBA",
    "Győr, tűz, ŐSZ, ŰR; București, Țară",
    "ȘTEFAN, țuică, Brăila, BRĂILA, ţară, Ţ",
    "İstanbul, ılık, dağ, DAĞ, şeker, ŞEKER",
    "Đakovo, đak; j.price@example.org: #42, $5",
    "50% & (x <= 7 > 2), a_b {c} [d] | ~/x ^2",
    "\\n `e` * + 'f' \"g\"; h! i?",
    "€12, £9, ¥800, 50¢ at 20°C, § 4: 3 × 2",
    "6 ÷ 3 ± 1 • « oui » – — ¿ ¡",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("-o", "--out", default="docs/characters.png")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dpi", type=float, default=100)
    ap.add_argument("--styles", type=int, default=None, help="only the first N styles (a quick look)")
    ap.add_argument("--skip-missing", action="store_true", help="write the lines without the characters the model lacks")
    args = ap.parse_args()

    from hwcli.writing.compose import hand_metrics
    from hwcli.fileio import atomic_output
    from hwcli.model.bundle import load_model
    from hwcli.page import PageOptions
    from hwcli.page import layout as L
    from hwcli.page import options as PO
    from hwcli.page.placement import build_page, place_line
    from hwcli.page.png import render_png
    from hwcli.synthesis import line_checker
    from hwcli.synthesis import SamplingOptions, synthesize
    from PIL import Image

    bundle = load_model(args.model)
    lacking = bundle.alphabet.lacking()
    lines = LINES
    if lacking:
        if not args.skip_missing:
            sys.exit(f"docs_sheet: {bundle.path} lacks {len(lacking)} characters of the set ({lacking}); the sheet "
                     "shows every one (--skip-missing writes the lines without them, not for docs/)")
        lines = [" ".join("".join(c for c in t if c in bundle.alphabet).split()) for t in LINES]
    checker = line_checker(bundle)
    n_styles = max(len(bundle.styles), 1) if args.styles is None else min(args.styles, max(len(bundle.styles), 1))
    # two columns of lines per style (a style's heading spans the first row), 200 mm each
    col_w, rows = 200.0, 1 + (len(lines) + 1) // 2
    # a page holds at most MAX_MM of height: the styles go on as many pages as they need, stacked into one image
    per_page = max(1, int((MAX_MM - 12) // (10 * rows)))
    images = []
    for first in range(0, n_styles, per_page):
        group = list(range(first, min(n_styles, first + per_page)))
        opts = PageOptions(page_size=f"{2 * col_w:.0f}x{12 + 10 * rows * len(group):.0f}", margin=6, line_height=10,
                           natural=False)
        placed = []
        for gi, si in enumerate(group):
            style = bundle.styles[si] if bundle.styles else None
            scale, _ = hand_metrics(bundle, style, opts.line_height)
            head = f"Style {si}:"
            res = synthesize(bundle, [head] + lines, SamplingOptions(style=si if bundle.styles else None, seed=args.seed),
                             checker=checker)
            for j, r in enumerate(res):
                row, col = (0, 0) if j == 0 else (1 + (j - 1) // 2, (j - 1) % 2)
                k = gi * rows + row
                ln = L.LayoutLine(r.text, 0, k, opts.margin + col * col_w, PO.baseline_y(opts, k), col_w - 2 * opts.margin, False)
                placed.append(place_line(r.strokes, ln, scale, opts))
        buf = io.BytesIO()
        render_png(build_page(0, placed, opts), buf, opts, dpi=args.dpi)
        images.append(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    sheet = Image.new("RGB", (max(im.width for im in images), sum(im.height for im in images)), "white")
    y = 0
    for im in images:
        sheet.paste(im, (0, y))
        y += im.height
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as fh:
        sheet.save(fh, format="PNG", optimize=True)
    print(f"wrote {out}: {n_styles} styles x {len(lines)} lines")


if __name__ == "__main__":
    main()
