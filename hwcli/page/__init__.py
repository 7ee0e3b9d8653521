"""Pages: text layout, placement of stroke lines on pages, the SVG / PDF / PNG renderers, and plotter
output (toolpath planning, G-code, HP-GL, plotter SVG and the toolpath preview).

Everything here is in millimetres with y down from the top-left page corner (the PDF renderer
flips y). Pure numpy + svgwrite + reportlab + stdlib: no torch, typer or rich.

Layout and placement are imported eagerly; the renderers load on first use
(``from hwcli.page import render_pdf``), so importing layout stays cheap.
"""
from __future__ import annotations

from importlib import import_module

from .layout import (
    PAGE_SIZES,
    LayoutLine,
    PageOptions,
    color_rgb,
    group_pages,
    iter_layout,
    layout_text,
    lines_per_page,
    page_dimensions,
)
from .placement import Page, build_page, estimate_baseline, estimate_scale, iter_pages, place_line

_RENDERERS = {
    "render_svg": "svg",
    "svg_page_paths": "svg",
    "render_pdf": "pdf",
    "render_png": "png",
    "render_gcode": "gcode",
    "render_hpgl": "hpgl",
    "render_plotter_svg": "plotter_svg",
    "render_preview": "preview",
    "plan_page": "toolpath",
}


def __getattr__(name: str):
    if name in _RENDERERS:
        return getattr(import_module(f".{_RENDERERS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PAGE_SIZES", "LayoutLine", "PageOptions", "color_rgb", "group_pages", "iter_layout", "layout_text",
    "lines_per_page", "page_dimensions", "Page", "build_page", "estimate_baseline", "estimate_scale",
    "iter_pages", "place_line", *_RENDERERS,
]
