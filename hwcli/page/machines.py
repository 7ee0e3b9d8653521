"""Pen-plotter profiles and options: which machine, its bed, its axes, feeds and pen commands.

A profile names a machine family and the output format it takes (G-code, HPGL or plotter SVG).
`PlotterOptions` picks a profile and overrides any of its settings; `resolve` merges the two into
a `Machine`, validated as a whole, so every problem is found before any sampling starts.

Machine coordinates: the page is placed at the bed's origin corner. With origin ``bottom-left``
and y ``up`` (GRBL and HPGL plotters) a page point (x, y) mm, y down from the page's top-left
corner, goes to (x, page_height - y); with origin ``top-left`` and y ``up`` (machines homed at the
back) to (x, -y); with y ``down`` the page's own y is kept, measured from the origin corner.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from ..errors import OptionError
from .layout import page_dimensions
from .toolpath import DEFAULT_TOLERANCE, PlanOptions

FORMATS = ("gcode", "hpgl", "plotter-svg")
ORIGINS = ("bottom-left", "top-left")
Y_AXES = ("up", "down")
MAX_FEED = 100_000.0  # mm/min: far beyond any pen plotter; a larger number is a typo
MAX_DWELL = 10.0  # s


@dataclass(frozen=True)
class Profile:
    """A machine family's defaults."""

    name: str
    format: str  # "gcode", "hpgl" or "plotter-svg"
    description: str
    bed: tuple[float, float] | None  # drawable area (width, height) mm; None = not checked
    origin: str = "bottom-left"  # corner of the bed where the machine's (0, 0) is
    y_axis: str = "up"  # direction of the machine's +y
    feed: float = 3000.0  # drawing speed, mm/min
    travel_feed: float | None = None  # pen-up speed, mm/min; None = rapid moves (G0)
    pen_up: str = "M5"  # G-code that lifts the pen
    pen_down: str = "M3 S90"  # G-code that lowers it
    pen_dwell: float = 0.15  # s to wait after each pen move (a servo needs time; G4 P is seconds in GRBL)
    gcode_start: tuple[str, ...] = ()  # extra lines after G21/G90
    gcode_end: tuple[str, ...] = ()  # extra lines at the end


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("grbl-servo", "gcode", "GRBL pen plotter, servo pen lift (M3 S90 down, M5 up)", bed=(297.0, 420.0)),
    Profile("grbl-z", "gcode", "GRBL machine, pen on the Z axis (Z0 down, Z5 up)", bed=(297.0, 420.0),
            pen_up="G0 Z5", pen_down="G1 Z0 F1000", pen_dwell=0.0),
    Profile("hpgl", "hpgl", "HP-GL plotter (IN, SP1, PU/PD, 40 units per mm)", bed=(420.0, 297.0)),
    Profile("axidraw", "plotter-svg", "AxiDraw V3 / SE A4 (plotter SVG, 300 x 218 mm)", bed=(300.0, 218.0)),
    Profile("axidraw-a3", "plotter-svg", "AxiDraw SE/A3 (plotter SVG, 430 x 297 mm)", bed=(430.0, 297.0)),
)}
DEFAULT_PROFILE = {"gcode": "grbl-servo", "hpgl": "hpgl", "plotter-svg": None}


@dataclass(frozen=True)
class Machine:
    """A resolved profile: everything a writer needs. Built by `resolve`."""

    profile: str | None
    format: str
    bed: tuple[float, float] | None
    origin: str
    y_axis: str
    feed: float
    travel_feed: float | None
    pen_up: str
    pen_down: str
    pen_dwell: float
    gcode_start: tuple[str, ...]
    gcode_end: tuple[str, ...]
    plan: PlanOptions
    feed_given: bool = False  # the user set the drawing feed (HP-GL then writes VS)

    def to_machine(self, x: float, y: float, page_height: float) -> tuple[float, float]:
        """Page mm (y down from the page's top-left) -> machine mm."""
        oy = page_height if self.origin == "bottom-left" else 0.0
        return x, (oy - y) if self.y_axis == "up" else (y - oy)

    def park(self, page_height: float) -> tuple[float, float]:
        """The machine's (0, 0) in page mm: where travel starts and ends."""
        return (0.0, page_height if self.origin == "bottom-left" else 0.0)


@dataclass(frozen=True)
class PlotterOptions:
    """What the user chose for plotter output. `None` means "the profile's value"."""

    plotter: str | None = None  # profile name (see PROFILES); None = the format's default
    bed: str | None = None  # drawable area "WxH" in mm, overrides the profile's
    feed: float | None = None  # drawing speed, mm/min
    travel_feed: float | None = None  # pen-up speed, mm/min (G-code: G1 at this feed instead of G0)
    pen_up: str | None = None  # G-code command that lifts the pen
    pen_down: str | None = None  # G-code command that lowers it
    pen_dwell: float | None = None  # seconds to wait after each pen move
    origin: str | None = None  # machine origin corner: bottom-left or top-left
    y_axis: str | None = None  # machine +y: up or down
    gcode_start: str | None = None  # extra G-code lines at the start ('\n' or a literal \n between lines)
    gcode_end: str | None = None  # extra G-code lines at the end
    simplify: float = DEFAULT_TOLERANCE  # path simplification tolerance, mm (0 = off)
    keep_order: bool = False  # keep the writing order of strokes

    def __post_init__(self) -> None:
        if self.plotter is not None and self.plotter not in PROFILES:
            raise OptionError(f"unknown plotter profile {self.plotter!r}: use one of {', '.join(PROFILES)}")
        if self.bed is not None:
            try:
                page_dimensions(self.bed)
            except OptionError:
                raise OptionError(f"bed must be WIDTHxHEIGHT in mm (10..2000 each, e.g. 300x218) or a paper "
                                  f"name such as A3, got {self.bed!r}") from None
        for name in ("feed", "travel_feed"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                                  or not 0 < v <= MAX_FEED):
                raise OptionError(f"{name.replace('_', '-')} must be a speed in mm/min between 0 and "
                                  f"{MAX_FEED:g} (exclusive of 0), got {v!r}")
        if self.pen_dwell is not None and (not isinstance(self.pen_dwell, (int, float)) or isinstance(self.pen_dwell, bool)
                                           or not math.isfinite(self.pen_dwell) or not 0 <= self.pen_dwell <= MAX_DWELL):
            raise OptionError(f"pen-dwell must be between 0 and {MAX_DWELL:g} s, got {self.pen_dwell!r}")
        for name in ("pen_up", "pen_down"):
            v = getattr(self, name)
            if v is not None and (not v.strip() or "\n" in v or "\r" in v):
                raise OptionError(f"{name.replace('_', '-')} must be one non-empty G-code line, got {v!r}")
        if self.origin is not None and self.origin not in ORIGINS:
            raise OptionError(f"origin must be one of {', '.join(ORIGINS)}, got {self.origin!r}")
        if self.y_axis is not None and self.y_axis not in Y_AXES:
            raise OptionError(f"y-axis must be up or down, got {self.y_axis!r}")
        PlanOptions(tolerance=self.simplify)  # validates the tolerance

    def changed(self) -> list[str]:
        """Names of the machine settings the user set (those that only make sense for plotter output)."""
        return [f.name for f in fields(self) if f.name not in ("simplify", "keep_order")
                and getattr(self, f.name) is not None] + \
            (["simplify"] if self.simplify != DEFAULT_TOLERANCE else []) + (["keep_order"] if self.keep_order else [])


def _lines(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(ln.strip() for ln in text.replace("\\n", "\n").splitlines() if ln.strip())


def resolve(fmt: str, opts: PlotterOptions, page_mm: tuple[float, float]) -> Machine:
    """Profile + overrides for output format `fmt`; checks the page fits the bed. Raises OptionError."""
    name = opts.plotter or DEFAULT_PROFILE[fmt]
    if name is None:  # plotter SVG without a machine: nothing machine-specific to check
        base = Profile("", fmt, "", bed=None)
    else:
        base = PROFILES[name]
        if base.format != fmt:
            raise OptionError(f"plotter profile {name!r} writes {base.format}, not {fmt}: "
                              f"use -o FILE{_SUFFIX[base.format]} or another --plotter")
    if fmt != "gcode":
        only = [n for n in ("travel_feed", "pen_up", "pen_down", "pen_dwell", "gcode_start", "gcode_end")
                if getattr(opts, n) is not None]
        if fmt == "plotter-svg":
            only += [n for n in ("feed", "origin", "y_axis") if getattr(opts, n) is not None]
        if only:
            names = ", ".join("--" + n.replace("_", "-") for n in only)
            raise OptionError(f"{names} only apply to G-code output, not {fmt}")
    bed = page_dimensions(opts.bed) if opts.bed is not None else base.bed
    w, h = page_mm
    if bed is not None and (w > bed[0] + 1e-6 or h > bed[1] + 1e-6):
        raise OptionError(f"the page ({w:g} x {h:g} mm) is larger than the plotter's bed ({bed[0]:g} x {bed[1]:g} mm"
                          f"{'' if opts.bed else ', profile ' + repr(name)}): use a smaller --page-size or --bed WxH")
    m = Machine(
        profile=name, format=fmt, bed=bed,
        origin=opts.origin or base.origin, y_axis=opts.y_axis or base.y_axis,
        feed=float(opts.feed if opts.feed is not None else base.feed),
        travel_feed=float(opts.travel_feed) if opts.travel_feed is not None else base.travel_feed,
        pen_up=opts.pen_up or base.pen_up, pen_down=opts.pen_down or base.pen_down,
        pen_dwell=float(opts.pen_dwell if opts.pen_dwell is not None else base.pen_dwell),
        gcode_start=_lines(opts.gcode_start) if opts.gcode_start is not None else base.gcode_start,
        gcode_end=_lines(opts.gcode_end) if opts.gcode_end is not None else base.gcode_end,
        plan=PlanOptions(tolerance=opts.simplify, keep_order=opts.keep_order),
        feed_given=opts.feed is not None,
    )
    return replace(m, plan=replace(m.plan, start=m.park(h)))


_SUFFIX = {"gcode": ".gcode", "hpgl": ".hpgl", "plotter-svg": ".svg"}
