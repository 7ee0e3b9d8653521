"""PDF renderer: Pages -> one multi-page PDF of vector paths (reportlab).

Pages are consumed one at a time and finished with ``showPage``; right after, the page's content
stream is zlib-compressed (`_compress_finished_page`), so a long document holds only compressed
page streams (tens of kB a page), never a page of strokes or an uncompressed stream, in memory.

This module is the one place that flips y: pages are in mm with y down from the top-left corner,
PDF user space is in points with y up from the bottom-left. The flip is a single transformation
matrix set at the start of each page; below it every coordinate is the page's own mm.

Strokes are written as PDF path operators (``m``, ``c``, ``l``, ``S``) through
``Canvas.addLiteral``: reportlab's PathObject formats each number in pure Python, which made a
page of handwriting cost about half a second; colour, width, caps and joins still go through the
canvas API so its graphics state stays right.
"""
from __future__ import annotations

import zlib
from typing import BinaryIO, Iterable

import numpy as np
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen import canvas as rl_canvas

from ..strokes import split_strokes
from . import paper
from .options import PageOptions, color_rgb
from .paper import DOT_LENGTH, RULE_WIDTH
from .placement import Page, curve_controls

RULE_RGB = paper.rgb_unit(paper.RULE_RGB)
MARGIN_RGB = paper.rgb_unit(paper.MARGIN_RGB)


def _flip_to_page_mm(c: rl_canvas.Canvas, height_mm: float) -> None:
    """Make user space = page mm with y down: the y flip of the whole project happens here."""
    c.translate(0, height_mm * mm)
    c.scale(mm, -mm)


def _draw_ruling(c: rl_canvas.Canvas, page: Page) -> None:
    if not page.rule_ys and page.margin_x is None:
        return
    c.setLineWidth(RULE_WIDTH)
    c.setLineCap(0)
    c.setStrokeColorRGB(*RULE_RGB)
    for y in page.rule_ys:
        c.line(0, y, page.width_mm, y)
    if page.margin_x is not None:
        c.setStrokeColorRGB(*MARGIN_RGB)
        c.line(page.margin_x, 0, page.margin_x, page.height_mm)


def stroke_ops(stroke: np.ndarray) -> str:
    """PDF path operators for one stroke ``(n, 2)`` in mm: 'x y m' then one 'c' per point, or a dot.

    Points on the curve are rounded to 0.01 mm, control points to 0.1 mm (moving a control point
    by 0.05 mm moves the curve by at most 0.04 mm, invisible under a 0.5 mm pen; it saves ~17%).
    """
    p = np.asarray(stroke, dtype=np.float64)
    x0, y0 = float(p[0, 0]), float(p[0, 1])
    if len(p) == 1 or np.allclose(p, p[0]):
        return "%.2f %.2f m %.2f %.2f l" % (x0, y0, x0 + DOT_LENGTH, y0)
    c1, c2 = curve_controls(p)
    seg = np.concatenate([c1, c2, p[1:]], axis=1).ravel().tolist()
    return ("%.2f %.2f m\n" % (x0, y0)) + ("%.1f %.1f %.1f %.1f %.2f %.2f c\n" * (len(seg) // 6)) % tuple(seg)


def outline_ops(poly: np.ndarray) -> str:
    """PDF path operators for one closed outline polygon ``(k, 2)`` mm: 'x y m', 'x y l' ..., 'h'."""
    flat = np.asarray(poly, np.float64).ravel().tolist()
    return ("%.2f %.2f m\n" % (flat[0], flat[1])) + ("%.2f %.2f l\n" * (len(flat) // 2 - 1)) % tuple(flat[2:]) + "h"


def _compress_finished_page(c: rl_canvas.Canvas) -> None:
    """Replace the page just finished by showPage with a ready-made FlateDecode stream.

    reportlab otherwise keeps every page's uncompressed text until save() and then ASCII85-encodes
    it in pure Python. This reaches into reportlab's document (``_doc``); if that ever changes
    shape we silently leave the page alone: the PDF stays correct, only bigger in memory.
    """
    try:
        page = c._doc.Pages.pages[-1]
        stream = page.stream
    except (AttributeError, IndexError):
        return
    if getattr(page, "Contents", None) or not isinstance(stream, str) or not stream:
        return
    s = pdfdoc.PDFStream(content=zlib.compress(stream.encode("latin-1"), 6))
    s.dictionary["Filter"] = pdfdoc.PDFName("FlateDecode")
    page.Contents = s
    page.stream = None


def draw_page(c: rl_canvas.Canvas, page: Page, opts: PageOptions) -> None:
    """Draw one Page on the current canvas page and finish it (showPage)."""
    c.setPageSize((page.width_mm * mm, page.height_mm * mm))
    c.saveState()
    _flip_to_page_mm(c, page.height_mm)
    _draw_ruling(c, page)
    r, g, b = opts.rgb
    if opts.pen != "uniform":
        from .ink import line_outlines

        c.setFillColorRGB(r / 255, g / 255, b / 255)
        for k, pts in enumerate(page.lines):
            if page.colors:  # a document with more than one ink (colors.py)
                c.setFillColorRGB(*(v / 255 for v in color_rgb(page.line_color(k, opts.color))))
            polys = line_outlines(pts, opts.width, opts.pen)
            if polys:
                # one filled path per written line; nonzero winding, so overlapping strokes stay solid
                c.addLiteral("\n".join(outline_ops(p) for p in polys) + "\nf")
        c.restoreState()
        c.showPage()
        _compress_finished_page(c)
        return
    c.setStrokeColorRGB(r / 255, g / 255, b / 255)
    c.setLineWidth(opts.width)
    c.setLineCap(1)  # round
    c.setLineJoin(1)  # round
    for k, pts in enumerate(page.lines):
        strokes = split_strokes(pts)
        if strokes and page.colors:  # a document with more than one ink (colors.py)
            c.setStrokeColorRGB(*(v / 255 for v in color_rgb(page.line_color(k, opts.color))))
        if strokes:
            # one path per written line, stroked once: fewer operators than one per stroke
            c.addLiteral("\n".join(stroke_ops(s) for s in strokes) + "\nS")
    c.restoreState()
    c.showPage()
    _compress_finished_page(c)


def render_pdf(pages: Iterable[Page], fh: BinaryIO, opts: PageOptions, title: str = "hwcli") -> int:
    """Write every Page of `pages` (consumed lazily, in order) as one PDF to the binary file `fh`.

    Output is byte-for-byte deterministic for the same pages (reportlab ``invariant=1``).
    An empty iterable still gives a valid PDF with one blank page of ``opts.page_size``.
    Returns the number of Pages drawn.
    """
    w, h = opts.page_mm
    c = rl_canvas.Canvas(fh, pagesize=(w * mm, h * mm), invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setCreator("hwcli")
    c.setAuthor("hwcli")
    c.setSubject("handwriting")
    n = 0
    for page in pages:
        draw_page(c, page, opts)
        n += 1
    if n == 0:
        c.showPage()  # a PDF needs at least one page
    c.save()
    return n
