"""Pages: text layout, placement of stroke lines on pages, the SVG / PDF / PNG renderers, plotter output (toolpath
planning, G-code, HP-GL, plotter SVG and the toolpath preview), and the format registry (`formats`) with the
plotter set-up.

Everything here is in millimetres with y down from the top-left page corner (the PDF renderer
flips y). Pure numpy + svgwrite + reportlab + stdlib: no torch, typer or rich.

Every name loads its module on first use (``from hwcli.page import PageOptions, render_pdf``), so that the CLI,
which reads the format registry to build its options, starts without numpy's layout work.
"""
from __future__ import annotations

from importlib import import_module

_NAMES = {
    **dict.fromkeys(("PAGE_SIZES", "PageOptions", "color_rgb", "lines_per_page", "page_dimensions"), "options"),
    **dict.fromkeys(("LayoutLine", "group_pages", "iter_layout"), "layout"),
    **dict.fromkeys(("Page", "build_page", "estimate_baseline", "estimate_scale", "place_line"), "placement"),
    "render_svg": "svg",
    "render_pdf": "pdf",
    "render_png": "png",
    "render_gcode": "gcode",
    "render_hpgl": "hpgl",
    "render_plotter_svg": "plotter_svg",
    "render_preview": "preview",
    "plan_page": "toolpath",
}


def __getattr__(name: str):
    if name in _NAMES:
        return getattr(import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_NAMES)
