"""SVG renderer: one Page -> one SVG document in millimetres.

The document is ``width="210mm" height="297mm" viewBox="0 0 210 297"``, so every coordinate is
in mm with y down (SVG's own direction: no flip here). Each written line is one ``<path>`` whose
subpaths are its strokes, drawn as cubic Beziers through the points (`curve_controls`), with round
caps and joins. Only absolute commands (M, C, S, L) are used, which keeps the file easy to post-process.
"""
from __future__ import annotations

from typing import BinaryIO

import numpy as np
import svgwrite

from ..strokes import split_strokes
from . import paper
from .options import PageOptions, color_rgb
from .paper import DOT_LENGTH, RULE_WIDTH
from .placement import Page, curve_controls

RULE_COLOR = paper.rgb_hex(paper.RULE_RGB)
MARGIN_COLOR = paper.rgb_hex(paper.MARGIN_RGB)


def _hex(color: str) -> str:
    return "#%02x%02x%02x" % color_rgb(color)


def _fmt(v: float) -> str:
    # 0.01 mm is far below what a pen or a printer resolves, and keeps files small
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def stroke_path_data(stroke: np.ndarray) -> str:
    """SVG path data for one stroke ``(n, 2)`` mm: 'M x,y C ... S ...' (n >= 2) or a dot 'M x,y L x+ε,y'.

    After the first Bezier every segment is an ``S`` (smooth cubic): in a Catmull-Rom spline a
    segment's first control point is the mirror of the previous one's second control point, which
    is exactly what ``S`` implies, so the file needs 4 numbers per point instead of 6.
    """
    p = np.asarray(stroke, dtype=np.float64)
    x0, y0 = _fmt(p[0, 0]), _fmt(p[0, 1])
    if len(p) == 1 or np.allclose(p, p[0]):
        return f"M{x0},{y0} L{_fmt(p[0, 0] + DOT_LENGTH)},{y0}"
    c1, c2 = curve_controls(p)
    parts = [f"M{x0},{y0}",
             f"C{_fmt(c1[0, 0])},{_fmt(c1[0, 1])} {_fmt(c2[0, 0])},{_fmt(c2[0, 1])} {_fmt(p[1, 0])},{_fmt(p[1, 1])}"]
    for b, e in zip(c2[1:], p[2:]):
        parts.append(f"S{_fmt(b[0])},{_fmt(b[1])} {_fmt(e[0])},{_fmt(e[1])}")
    return " ".join(parts)


def line_path_data(points: np.ndarray) -> str:
    """Path data for one placed line (points ``(N, 3)`` [x, y, eos] mm): one subpath per stroke."""
    return " ".join(stroke_path_data(s) for s in split_strokes(points))


def outline_path_data(points: np.ndarray, opts: PageOptions) -> str:
    """Path data for one placed line in pressure-like ink: one closed polygon per stroke (filled, nonzero)."""
    from .ink import line_outlines

    return " ".join("M" + " L".join(f"{_fmt(x)},{_fmt(y)}" for x, y in poly) + " Z"
                    for poly in line_outlines(points, opts.width, opts.pen))


def build_drawing(page: Page, opts: PageOptions) -> svgwrite.Drawing:
    """The svgwrite Drawing of one page (not yet serialised)."""
    w, h = page.width_mm, page.height_mm
    # debug=False: svgwrite's attribute validation costs more than building the paths
    dwg = svgwrite.Drawing(size=(f"{_fmt(w)}mm", f"{_fmt(h)}mm"), viewBox=f"0 0 {_fmt(w)} {_fmt(h)}",
                           profile="full", debug=False)
    dwg.add(dwg.rect(insert=(0, 0), size=(_fmt(w), _fmt(h)), fill="white"))
    if page.rule_ys or page.margin_x is not None:
        rules = dwg.g(id="ruling", fill="none", stroke_width=RULE_WIDTH)
        for y in page.rule_ys:
            rules.add(dwg.line((0, _fmt(y)), (_fmt(w), _fmt(y)), stroke=RULE_COLOR))
        if page.margin_x is not None:
            rules.add(dwg.line((_fmt(page.margin_x), 0), (_fmt(page.margin_x), _fmt(h)), stroke=MARGIN_COLOR))
        dwg.add(rules)
    if opts.pen == "uniform":
        ink = dwg.g(id="ink", fill="none", stroke=_hex(opts.color), stroke_width=_fmt(opts.width),
                    stroke_linecap="round", stroke_linejoin="round")
        path_data = line_path_data
    else:  # pressure-like ink: filled outlines
        ink = dwg.g(id="ink", fill=_hex(opts.color), stroke="none", fill_rule="nonzero")

        def path_data(pts: np.ndarray) -> str:
            return outline_path_data(pts, opts)
    for k, pts in enumerate(page.lines):
        d = path_data(pts)
        if d:
            own = _hex(page.line_color(k, opts.color)) if page.colors else None  # several inks (colors.py)
            if own and own != _hex(opts.color):
                ink.add(dwg.path(d=d, **({"stroke": own} if opts.pen == "uniform" else {"fill": own})))
            else:
                ink.add(dwg.path(d=d))
    dwg.add(ink)
    return dwg


def render_svg(page: Page, fh: BinaryIO, opts: PageOptions) -> None:
    """Write one Page as a UTF-8 SVG document to the binary file object `fh`."""
    dwg = build_drawing(page, opts)
    fh.write(b'<?xml version="1.0" encoding="utf-8" ?>\n')
    fh.write(dwg.tostring().encode("utf-8"))
    fh.write(b"\n")
