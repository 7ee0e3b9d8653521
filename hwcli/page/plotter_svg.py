"""Plotter SVG and the toolpath preview.

Plotter SVG (`render_plotter_svg`): every page of a document in one file, the size of one page in
real millimetres (``width="210mm"``, ``viewBox="0 0 210 297"``). Each page is its own Inkscape layer
(``<g inkscape:groupmode="layer" inkscape:label="N" id="layerN">``, N = page number from 1):

- AxiDraw's software treats a layer whose name starts with an integer as layer N, so its Layers tab
  plots one page at a time (plotting all layers at once would draw every page on one sheet);
- vpype's ``read`` makes each top-level group a layer whose id is the digits of its
  ``inkscape:label`` (then of its ``id``): the label holds only the page number, so page N is layer N.

Inside a layer each pen stroke is one open ``<path>`` of straight segments (``M x,y L ...``) in
drawing order, with ``fill="none"``: a plotter draws exactly these lines. A dot is a 0.01 mm segment.

Toolpath preview (`render_preview`): every page side by side, ink in the page's colour, pen-up
travel as thin light-red lines with the park position marked, and a caption with the figures.
"""
from __future__ import annotations

from typing import BinaryIO, Iterable
from xml.sax.saxutils import escape

import numpy as np

from .layout import PageOptions, color_rgb
from .machines import Machine
from .placement import Page
from .toolpath import PagePlan, plan_page

INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape"
DOT_LENGTH = 0.01  # mm
TRAVEL_COLOR = "#f4a6a6"  # light red: pen-up moves in the preview
PAGE_GAP = 10.0  # mm between pages in the preview


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
        body.append(f'<g inkscape:groupmode="layer" inkscape:label="{n}" id="layer{n}" fill="none" '
                    f'stroke="{color}" stroke-width="{_f(page_opts.width)}" stroke-linecap="round" '
                    f'stroke-linejoin="round">')
        body.extend(f'<path d="{polyline_data(s)}"/>' for s in plan.strokes)
        body.append("</g>")
        done.append(plan)
    w, h = (done[0].width_mm, done[0].height_mm) if done else page_opts.page_mm
    text = _header(w, h, f' xmlns:inkscape="{INKSCAPE_NS}"') + body + ["</svg>", ""]
    fh.write("\n".join(text).encode("utf-8"))
    return done


def render_preview(plans: list[PagePlan], fh: BinaryIO, page_opts: PageOptions) -> None:
    """Write the toolpath preview of `plans` (every page side by side) as SVG to the binary file `fh`."""
    if not plans:
        return
    w, h = plans[0].width_mm, plans[0].height_mm
    total_w = len(plans) * w + (len(plans) - 1) * PAGE_GAP
    caption_h = 8.0
    color = "#%02x%02x%02x" % color_rgb(page_opts.color)
    out = _header(total_w, h + caption_h)
    out.append(f'<rect x="0" y="0" width="{_f(total_w)}" height="{_f(h + caption_h)}" fill="#eeeeee"/>')
    for k, plan in enumerate(plans):
        dx = k * (w + PAGE_GAP)
        out.append(f'<rect x="{_f(dx)}" y="0" width="{_f(w)}" height="{_f(h)}" fill="white" stroke="#999999" '
                   f'stroke-width="0.3"/>')
        ink = " ".join(polyline_data(s, dx) for s in plan.strokes)
        if ink:
            out.append(f'<path d="{ink}" fill="none" stroke="{color}" stroke-width="{_f(page_opts.width)}" '
                       f'stroke-linecap="round" stroke-linejoin="round"/>')
        ends = [plan.start] + [pt for s in plan.strokes for pt in (s[0], s[-1])] + [plan.start]
        moves = " ".join(f"M{_f(a[0] + dx)},{_f(a[1])} L{_f(b[0] + dx)},{_f(b[1])}"
                         for a, b in zip(ends[0::2], ends[1::2]))
        out.append(f'<path d="{moves}" fill="none" stroke="{TRAVEL_COLOR}" stroke-width="0.25"/>')
        sx, sy = plan.start
        out.append(f'<circle cx="{_f(sx + dx)}" cy="{_f(sy)}" r="2" fill="{TRAVEL_COLOR}"/>')
        cut = 100 * (1 - plan.travel_after / plan.travel_before) if plan.travel_before > 0 else 0.0
        caption = (f"page {plan.number + 1}: pen-up travel {plan.travel_after:.0f} mm (writing order "
                   f"{plan.travel_before:.0f} mm, {cut:.0f}% less), {plan.points_after} points "
                   f"(of {plan.points_before}), {len(plan.strokes)} strokes")
        out.append(f'<text x="{_f(dx + 2)}" y="{_f(h + 5.5)}" font-family="sans-serif" font-size="3.2" '
                   f'fill="#333333">{escape(caption)}</text>')
    out += ["</svg>", ""]
    fh.write("\n".join(out).encode("utf-8"))
