"""Contact sheet of scripts/charset_ink.py: every glyph and every accented letter of hwcli's CHARSET (the mark on a
grey stand-in letter), several seeds each, upright and slanted, into a PNG to look at.

    PYTHONPATH=. python scripts/charset_ink_sheet.py out.png [--seeds 4] [--dots]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
import charset_ink as ci  # noqa: E402

XH = 30.0


def _stand_in(base: str) -> list[np.ndarray]:
    """A plain grey letter-sized shape for the base: a stem for i/l, stem + bowl for b d h k t, an ellipse else."""
    t = np.linspace(0, 2 * np.pi, 40)
    if base.isupper():
        h, w = 1.45 * XH, 0.9 * XH
        if base in "LIDT":
            return [np.array([[0.2 * XH, -h], [0.2 * XH, 0]]), np.array([[0.2 * XH, 0], [w, 0]])]
        return [np.stack([w / 2 + w / 2 * np.cos(t), -h / 2 + h / 2 * np.sin(t)], 1)]
    if base in "il":
        h = XH if base == "i" else 1.5 * XH
        return [np.array([[0.2 * XH, -h], [0.2 * XH, 0]])]
    bowl = np.stack([0.4 * XH + 0.4 * XH * np.cos(t), -XH / 2 + XH / 2 * np.sin(t)], 1)
    if base in "dt":
        return [bowl, np.array([[0.8 * XH, -1.5 * XH], [0.8 * XH, 0]])]
    if base in "gy":
        return [bowl, np.array([[0.8 * XH, -XH], [0.8 * XH, 0.45 * XH]])]
    return [bowl]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--dots", action="store_true", help="draw the sampled points too")
    a = ap.parse_args()
    from hwcli.alphabet import CHARSET
    accented = [c for c in CHARSET if ci.decompose(c) is not None]
    items = [("g", c) for c in ci.GLYPH_CHARS] + [("a", c) for c in accented]
    cell_w, cell_h, per_row = 2.2 * XH, 3.0 * XH, 2 * a.seeds
    rows = len(items)
    cols_items = 4
    W = int(cols_items * per_row * cell_w + 40)
    H = int((rows + cols_items - 1) // cols_items * cell_h + 40)
    img = Image.new("L", (W, H), 255)
    d = ImageDraw.Draw(img)
    for k, (kind, c) in enumerate(items):
        r, col = divmod(k, cols_items)
        for j in range(per_row):
            seed, slant = j % a.seeds, (0.0 if j < a.seeds else 0.35)
            rng = np.random.default_rng(1000 * k + seed)
            ox = 20 + (col * per_row + j) * cell_w + 0.3 * XH
            oy = 20 + r * cell_h + 1.9 * XH
            if kind == "g":
                strokes, adv = ci.glyph_strokes(c, rng, x_height=XH, slant=slant)
                d.line([(ox + adv, oy - 3), (ox + adv, oy + 3)], fill=170)
            else:
                base, marks = ci.decompose(c)
                grey = [s.copy() for s in _stand_in(base)]
                for s in grey:
                    s[:, 0] += slant * -s[:, 1]
                allg = np.vstack(grey)
                box = (allg[:, 0].min(), allg[:, 0].max(), allg[:, 1].min(), allg[:, 1].max())
                for s in grey:
                    d.line([(ox + x, oy + y) for x, y in s], fill=190, width=2)
                if base == "i" and c not in ci.DOTLESS:
                    d.ellipse([ox + 0.2 * XH + slant * 1.35 * XH - 2, oy - 1.35 * XH - 2,
                               ox + 0.2 * XH + slant * 1.35 * XH + 2, oy - 1.35 * XH + 2], fill=190)
                strokes = []
                for m in marks:
                    strokes += ci.mark_strokes(m, rng, box=box, x_height=XH, slant=slant, capital=base.isupper())
            d.line([(ox - 0.2 * XH, oy), (ox + 1.5 * XH, oy)], fill=225)
            for s in strokes:
                pts = [(ox + x, oy + y) for x, y in s]
                if len(pts) == 1:
                    d.ellipse([pts[0][0] - 1.5, pts[0][1] - 1.5, pts[0][0] + 1.5, pts[0][1] + 1.5], fill=0)
                else:
                    d.line(pts, fill=0, width=2, joint="curve")
                if a.dots:
                    for x, y in pts:
                        d.point((x, y), fill=255)
    img.save(a.out)
    print(a.out, img.size, len(items), "items")


if __name__ == "__main__":
    main()
