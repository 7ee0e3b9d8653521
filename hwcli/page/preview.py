"""The toolpath preview: what a plotter will do with each page, as SVG or PNG (by the file's suffix).

Every page side by side (turned as it lies on the bed when ``--rotate`` turned it), ink in the page's
colour, pen-up travel as thin coloured lines, the pen's start corner ringed, the first pen-down marked
green and the last pen-up red, and below each page its figures: strokes, pen-up travel against the writing
order, points, and the plot-time estimate (`estimate.py`); with several pages, the total under them.

The PNG is drawn with Pillow at the output's ``dpi``: each page is exactly ``round(mm * dpi / 25.4)``
pixels, the caption strip below it (a long document is drawn at a lower dpi so the picture stays under
`MAX_PREVIEW_PIXELS`).
"""
from __future__ import annotations

import math
from typing import BinaryIO
from xml.sax.saxutils import escape

from ..errors import OptionError
from .estimate import PlotTime, describe, plot_time, total_time
from .options import PageOptions, color_rgb
from .machines import Machine
from .plotter_svg import _f, _header, polyline_data
from .toolpath import PagePlan

TRAVEL_COLOR = "#e53935"  # red: pen-up moves
TRAVEL_RGB = (229, 57, 53)
START_RGB, END_RGB = (46, 125, 50), (198, 40, 40)
PAGE_GAP = 10.0  # mm between pages
CAPTION_MM = 13.0  # caption strip under the pages (two lines, three with a total)
MAX_PREVIEW_PIXELS = 40_000_000
PREVIEW_FORMATS = ("svg", "png")


def preview_format(path: str) -> str:
    """'svg' or 'png' from the preview file's suffix; OptionError for anything else."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix not in PREVIEW_FORMATS:
        raise OptionError(f"--preview writes .svg or .png (by the suffix), got {path!r}")
    return suffix


def captions(plans: list[PagePlan], machine: Machine | None) -> tuple[list[tuple[str, str]], str]:
    """Per page (figures, estimate) and the total line ('' for one page)."""
    out = []
    for plan in plans:
        cut = 100 * (1 - plan.travel_after / plan.travel_before) if plan.travel_before > 0 else 0.0
        first = (f"page {plan.number + 1}: {len(plan.strokes)} strokes, pen-up travel {plan.travel_after:.0f} mm "
                 f"(writing order {plan.travel_before:.0f} mm, {cut:.0f}% less), {plan.points_after} points "
                 f"(of {plan.points_before})" + (", turned 90 degrees" if plan.rotated else ""))
        out.append((first, describe(plot_time(plan, machine)) if machine else ""))
    total = ""
    if machine is not None and len(plans) > 1:
        total = f"{len(plans)} pages: {describe(total_time(plans, machine))}"
    return out, total


def _moves(plan: PagePlan) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Every pen-up move: from the start corner, between strokes, back to it (after each ink, for a pen change)."""
    out = []
    for _, strokes in plan.layers():
        ends = [tuple(plan.start)] + [tuple(pt) for s in strokes for pt in (s[0], s[-1])] + [tuple(plan.start)]
        out += list(zip(ends[0::2], ends[1::2]))
    return out


def render_preview(plans: list[PagePlan], fh: BinaryIO, page_opts: PageOptions, machine: Machine | None = None,
                   fmt: str = "svg", dpi: float = 150) -> None:
    """Write the toolpath preview of `plans` (every page side by side) as `fmt` ('svg' or 'png') to `fh`."""
    if not plans:
        return
    (render_png if fmt == "png" else render_svg)(plans, fh, page_opts, machine, dpi)


def render_svg(plans: list[PagePlan], fh: BinaryIO, page_opts: PageOptions, machine: Machine | None = None,
               dpi: float = 150) -> None:
    w, h = plans[0].width_mm, plans[0].height_mm
    total_w = len(plans) * w + (len(plans) - 1) * PAGE_GAP
    caps, total = captions(plans, machine)
    full_h = h + CAPTION_MM
    color = "#%02x%02x%02x" % color_rgb(page_opts.color)
    out = _header(total_w, full_h)
    out.append(f'<rect x="0" y="0" width="{_f(total_w)}" height="{_f(full_h)}" fill="#eeeeee"/>')
    for k, plan in enumerate(plans):
        dx = k * (w + PAGE_GAP)
        out.append(f'<rect x="{_f(dx)}" y="0" width="{_f(w)}" height="{_f(h)}" fill="white" stroke="#999999" '
                   f'stroke-width="0.3"/>')
        for c, strokes in plan.layers():
            ink = " ".join(polyline_data(s, dx) for s in strokes)
            if ink:
                out.append(f'<path d="{ink}" fill="none" stroke="{c or color}" stroke-width="{_f(page_opts.width)}" '
                           f'stroke-linecap="round" stroke-linejoin="round"/>')
        moves = " ".join(f"M{_f(a[0] + dx)},{_f(a[1])} L{_f(b[0] + dx)},{_f(b[1])}" for a, b in _moves(plan))
        out.append(f'<path d="{moves}" fill="none" stroke="{TRAVEL_COLOR}" stroke-width="0.25"/>')
        sx, sy = plan.start
        out.append(f'<circle cx="{_f(sx + dx)}" cy="{_f(sy)}" r="2.5" fill="none" stroke="#2e7d32" '
                   f'stroke-width="0.6"><title>start</title></circle>')
        if plan.strokes:
            (fx, fy), (lx, ly) = plan.strokes[0][0], plan.strokes[-1][-1]
            out.append(f'<circle cx="{_f(fx + dx)}" cy="{_f(fy)}" r="1" fill="#2e7d32"><title>first pen-down'
                       f'</title></circle>')
            out.append(f'<circle cx="{_f(lx + dx)}" cy="{_f(ly)}" r="1" fill="#c62828"><title>last pen-up'
                       f'</title></circle>')
        for j, text in enumerate(t for t in caps[k] if t):
            out.append(f'<text x="{_f(dx + 2)}" y="{_f(h + 4.5 + 3.8 * j)}" font-family="sans-serif" '
                       f'font-size="2.8" fill="#333333">{escape(text)}</text>')
    if total:
        out.append(f'<text x="2" y="{_f(h + 12.1)}" font-family="sans-serif" font-size="2.8" font-weight="bold" '
                   f'fill="#333333">{escape(total)}</text>')
    out += ["</svg>", ""]
    fh.write("\n".join(out).encode("utf-8"))


def render_png(plans: list[PagePlan], fh: BinaryIO, page_opts: PageOptions, machine: Machine | None = None,
               dpi: float = 150) -> None:
    from PIL import Image, ImageDraw, ImageFont

    w, h = plans[0].width_mm, plans[0].height_mm
    n = len(plans)
    total_mm = (n * w + (n - 1) * PAGE_GAP) * (h + CAPTION_MM)
    dpi = min(float(dpi), math.sqrt(MAX_PREVIEW_PIXELS / total_mm) * 25.4)
    k = dpi / 25.4  # px per mm
    pw, ph, gap = round(w * k), round(h * k), round(PAGE_GAP * k)
    img = Image.new("RGB", (n * pw + (n - 1) * gap, ph + round(CAPTION_MM * k)), (238, 238, 238))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(8, round(2.8 * k)))
    ink = color_rgb(page_opts.color)
    width = max(1, round(page_opts.width * k))
    caps, total = captions(plans, machine)
    for i, plan in enumerate(plans):
        x0 = i * (pw + gap)

        def px(p) -> tuple[float, float]:
            return (x0 + float(p[0]) * k, float(p[1]) * k)

        draw.rectangle([x0, 0, x0 + pw - 1, ph - 1], fill="white", outline=(153, 153, 153))
        for s, c in zip(plan.strokes, plan.colors or [""] * len(plan.strokes)):
            rgb = color_rgb(c) if c else ink
            pts = [px(p) for p in s]
            if len(pts) == 1:
                (cx, cy), r = pts[0], width / 2
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=rgb)
            else:
                draw.line(pts, fill=rgb, width=width, joint="curve")
        for a, b in _moves(plan):
            draw.line([px(a), px(b)], fill=TRAVEL_RGB, width=max(1, round(0.25 * k)))
        r = 2.5 * k
        sx, sy = px(plan.start)
        draw.ellipse([sx - r, sy - r, sx + r, sy + r], outline=START_RGB, width=max(1, round(0.6 * k)))
        if plan.strokes:
            for p, rgb in ((plan.strokes[0][0], START_RGB), (plan.strokes[-1][-1], END_RGB)):
                cx, cy = px(p)
                draw.ellipse([cx - k, cy - k, cx + k, cy + k], fill=rgb)
        for j, text in enumerate(t for t in caps[i] if t):
            draw.text((x0 + 2 * k, ph + (1.5 + 3.8 * j) * k), text, fill=(51, 51, 51), font=font)
    if total:
        draw.text((2 * k, ph + 9.1 * k), total, fill=(0, 0, 0), font=font)
    img.save(fh, format="PNG", dpi=(dpi, dpi))
