"""Plotter SVG and the toolpath preview.

Plotter SVG (`render_plotter_svg`): every page of a document in one file, the size of one page in
real millimetres (``width="210mm"``, ``viewBox="0 0 210 297"``). Each page is its own Inkscape layer
(``<g inkscape:groupmode="layer" inkscape:label="N" id="layerN">``, N = page number from 1):

- AxiDraw's software treats a layer whose name starts with an integer as layer N, so its Layers tab
  plots one page at a time (plotting all layers at once would draw every page on one sheet);
- vpype's ``read`` makes each top-level group a layer whose id is the digits of its
  ``inkscape:label`` (then of its ``id``): the label holds only the page number, so page N is layer N.

A document with several inks (``{color:...}`` lines in the text, colors.py) has one layer per page and
ink, labelled ``N01``, ``N02``, ... (page N, pen 1, 2, ... in the document's pen order) with the ink as its
stroke colour: plotted in label order, one pen after the other, page after page.

Inside a layer each pen stroke is one open ``<path>`` of straight segments (``M x,y L ...``) in
drawing order, with ``fill="none"``: a plotter draws exactly these lines. A dot is a 0.01 mm segment.

The strokes are in the order the profile's start corner gives (top-left for AxiDraw, saxi and vpype,
which start there); a page turned onto the bed (``--rotate``) is written turned, and the file says so in
a comment. The toolpath preview is `preview.py`.
"""
from __future__ import annotations

from typing import BinaryIO, Iterable

import numpy as np

from .options import PageOptions, color_rgb
from .machines import Machine
from .placement import Page
from .toolpath import PagePlan, plan_page

INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape"
DOT_LENGTH = 0.01  # mm


def _f(v: float) -> str:
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def polyline_data(stroke: np.ndarray, dx: float = 0.0) -> str:
    """'M x,y L x,y ...' for one stroke ``(n, 2)`` mm (a dot becomes a DOT_LENGTH segment)."""
    p = np.asarray(stroke, np.float64)
    if len(p) == 1:
        p = np.vstack([p, p + (DOT_LENGTH, 0.0)])
    pts = [f"{_f(x + dx)},{_f(y)}" for x, y in p]
    return "M" + pts[0] + " L" + " ".join(pts[1:])


def _header(w: float, h: float, extra_ns: str = "") -> list[str]:
    return ['<?xml version="1.0" encoding="utf-8" ?>',
            f'<svg xmlns="http://www.w3.org/2000/svg"{extra_ns} version="1.1" '
            f'width="{_f(w)}mm" height="{_f(h)}mm" viewBox="0 0 {_f(w)} {_f(h)}">']


def render_plotter_svg(pages: Iterable[Page], fh: BinaryIO, machine: Machine, page_opts: PageOptions,
                       plans: list[PagePlan] | None = None) -> list[PagePlan]:
    """Write every page of `pages` as one layered plotter SVG to the binary file `fh`; returns the plans."""
    done: list[PagePlan] = []
    body: list[str] = []
    color = "#%02x%02x%02x" % color_rgb(page_opts.color)
    for k, page in enumerate(pages):
        plan = plans[k] if plans is not None else plan_page(page, machine.plan)
        n = page.number + 1
        for k, (ink, strokes) in enumerate(plan.layers()):
            # several inks: layer N01, N02, ... (page N, pen 1, 2, ...), in the order AxiDraw and vpype plot
            label = f"{n}{plan.inks.index(ink) + 1 if ink in plan.inks else k + 1:02d}" if ink else f"{n}"
            body.append(f'<g inkscape:groupmode="layer" inkscape:label="{label}" id="layer{label}" fill="none" '
                        f'stroke="{ink or color}" stroke-width="{_f(page_opts.width)}" stroke-linecap="round" '
                        f'stroke-linejoin="round">')
            body.extend(f'<path d="{polyline_data(s)}"/>' for s in strokes)
            body.append("</g>")
        done.append(plan)
    w, h = (done[0].width_mm, done[0].height_mm) if done else page_opts.page_mm
    note = [f"<!-- hwcli: {'every page turned 90 degrees clockwise onto the bed; ' if done and done[0].rotated else ''}"
            f"strokes ordered from the {machine.start_corner} corner -->"]
    text = _header(w, h, f' xmlns:inkscape="{INKSCAPE_NS}"') + note + body + ["</svg>", ""]
    fh.write("\n".join(text).encode("utf-8"))
    return done
