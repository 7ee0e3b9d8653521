"""Pen-plotter profiles and options: which machine, its bed, its axes, feeds and pen commands.

A profile names a machine family and the output format it takes (G-code, HPGL or plotter SVG).
`PlotterOptions` picks a profile and overrides any of its settings; `resolve` merges the two into
a `Machine`, validated as a whole, so every problem is found before any sampling starts.

Machine coordinates: the page is placed at the bed's origin corner. With origin ``bottom-left``
and y ``up`` (GRBL and HPGL plotters) a page point (x, y) mm, y down from the page's top-left
corner, goes to (x, page_height - y); with origin ``top-left`` and y ``up`` (machines homed at the
back) to (x, -y); with y ``down`` the page's own y is kept, measured from the origin corner.

Start corner: every profile says where its pen starts and parks (``start``; AxiDraw, saxi and vpype at the
sheet's top-left, G-code and HP-GL machines at their origin), and strokes are ordered from there;
``PlotterOptions.start`` overrides it for every format. Rotation: ``rotate="90"`` turns the page 90 degrees
clockwise onto the bed (``"auto"``: only when it fits no other way); the plans, and so every writer, then
work on the turned sheet. A profile file (``--plotter NAME.toml``, `load_profile`) has the fields of
`Profile`, checked by the same rules as the options.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from ..errors import OptionError
from .options import page_dimensions
from .toolpath import DEFAULT_TOLERANCE, PlanOptions

FORMATS = ("gcode", "hpgl", "plotter-svg")
ORIGINS = ("bottom-left", "top-left")
Y_AXES = ("up", "down")
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
ROTATIONS = ("0", "90", "auto")
DWELL_UNITS = ("s", "ms")
MIN_FEED = 60.0  # mm/min (1 mm/s): slower is a typo, and it would round to F0 / VS0.0 in the files
MAX_FEED = 100_000.0  # mm/min: far beyond any pen plotter; a larger number is a typo
MIN_DWELL = 0.001  # s: the smallest dwell a file can say (G4 P1 in milliseconds); 0 means no dwell
MAX_DWELL = 10.0  # s
DEFAULT_RAPID = 5000.0  # mm/min: what the estimate assumes for G0 moves when a profile does not say


@dataclass(frozen=True)
class Profile:
    """A machine family's defaults (a user profile file, ``--plotter my.toml``, has the same fields)."""

    name: str
    format: str  # "gcode", "hpgl" or "plotter-svg"
    description: str
    bed: tuple[float, float] | None  # drawable area (width, height) mm; None = not checked
    origin: str = "bottom-left"  # corner of the bed where the machine's (0, 0) is
    y_axis: str = "up"  # direction of the machine's +y
    start: str | None = None  # corner (of the sheet on the bed) where the pen starts and parks; None = origin
    feed: float = 3000.0  # drawing speed, mm/min
    travel_feed: float | None = None  # pen-up speed, mm/min; None = rapid moves (G0)
    rapid_feed: float = DEFAULT_RAPID  # speed of a G0 move, mm/min: only for the plot-time estimate
    pen_up: str = "M5"  # G-code that lifts the pen (several lines: '\n' between them)
    pen_down: str = "M3 S90"  # G-code that lowers it
    pen_dwell: float = 0.15  # s to wait after each pen move (a servo needs time)
    dwell_unit: str = "s"  # unit of G4 P: seconds (GRBL) or milliseconds (Marlin)
    gcode_start: tuple[str, ...] = ()  # extra lines after G21/G90
    gcode_end: tuple[str, ...] = ()  # extra lines at the end


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("grbl-servo", "gcode", "GRBL pen plotter, servo pen lift (M3 S90 down, M5 up)", bed=(297.0, 420.0)),
    Profile("grbl-z", "gcode", "GRBL machine, pen on the Z axis (Z0 down, Z5 up)", bed=(297.0, 420.0),
            pen_up="G0 Z5", pen_down="G1 Z0 F1000", pen_dwell=0.0),
    Profile("marlin", "gcode", "Marlin (a converted 3D printer), servo on M280 P0, M400 before each pen move, "
            "G4 P in ms", bed=(220.0, 220.0), travel_feed=6000.0, pen_up="M400\nM280 P0 S90",
            pen_down="M400\nM280 P0 S30", pen_dwell=0.15, dwell_unit="ms"),
    Profile("hpgl", "hpgl", "HP-GL plotter (IN, SP1, PU/PD, 40 units per mm)", bed=(420.0, 297.0)),
    # AxiDraw's defaults: pen-down 25% and pen-up 75% of 15 in/s; the pen starts at the home corner, top-left
    Profile("axidraw", "plotter-svg", "AxiDraw V3 / SE A4 (plotter SVG, 300 x 218 mm)", bed=(300.0, 218.0),
            origin="top-left", y_axis="down", start="top-left", feed=5700.0, travel_feed=17100.0, pen_dwell=0.2),
    Profile("axidraw-a3", "plotter-svg", "AxiDraw SE/A3 (plotter SVG, 430 x 297 mm)", bed=(430.0, 297.0),
            origin="top-left", y_axis="down", start="top-left", feed=5700.0, travel_feed=17100.0, pen_dwell=0.2),
)}
DEFAULT_PROFILE = {"gcode": "grbl-servo", "hpgl": "hpgl", "plotter-svg": None}
#: plotter SVG without a profile: vpype, saxi and the AxiDraw start at the sheet's top-left corner
PLAIN_SVG = Profile("", "plotter-svg", "plotter SVG (vpype, saxi)", bed=None, origin="top-left", y_axis="down",
                    start="top-left")


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
    pen_up: str  # one or more lines ('\n' between them)
    pen_down: str
    pen_dwell: float
    gcode_start: tuple[str, ...]
    gcode_end: tuple[str, ...]
    plan: PlanOptions
    feed_given: bool = False  # the user set the drawing feed (HP-GL then writes VS)
    start_corner: str = "bottom-left"  # where the pen starts and parks (plan.start is this corner in page mm)
    rotate: bool = False  # the page is turned 90 degrees clockwise onto the bed (plans are in the turned frame)
    dwell_unit: str = "s"
    rapid_feed: float = DEFAULT_RAPID

    def to_machine(self, x: float, y: float, page_height: float) -> tuple[float, float]:
        """Page mm (y down from the page's top-left) -> machine mm."""
        oy = page_height if self.origin == "bottom-left" else 0.0
        return x, (oy - y) if self.y_axis == "up" else (y - oy)

    @property
    def travel_speed(self) -> float:
        """Pen-up speed (mm/min) the estimate uses: the travel feed, or the rapid rate of G0."""
        return self.travel_feed if self.travel_feed is not None else self.rapid_feed

    def dwell_code(self) -> list[str]:
        """The G-code dwell after a pen move ([] for none), in the machine's unit."""
        if self.pen_dwell <= 0:
            return []
        if self.dwell_unit == "ms":
            return [f"G4 P{max(1, round(self.pen_dwell * 1000))}"]
        return [f"G4 P{max(0.001, round(self.pen_dwell, 3)):g}"]


def corner_point(corner: str, width: float, height: float) -> tuple[float, float]:
    """A corner of a `width` x `height` mm sheet in page mm (y down)."""
    return (width if corner.endswith("right") else 0.0, 0.0 if corner.startswith("top") else height)


def _bad_text(v: str) -> str | None:
    """Why a pen command or extra G-code line cannot go into a file, or None."""
    bad = [c for c in v if not (" " <= c <= "~" or c == "\n")]
    if bad:
        return f"has {'a non-ASCII' if ord(bad[0]) > 126 else 'a control'} character {bad[0]!r}"
    return None


def _command(name: str, v: str | None) -> None:
    if v is None:
        return
    if not isinstance(v, str):
        raise OptionError(f"{name} must be text (G-code lines), got {v!r}")
    why = _bad_text(v.replace("\\n", "\n").replace("\r\n", "\n"))
    if why:
        raise OptionError(f"{name} {why}: G-code is printable ASCII, lines separated by '\\n' (got {v!r})")


@dataclass(frozen=True)
class PlotterOptions:
    """What the user chose for plotter output. `None` means "the profile's value"."""

    plotter: str | None = None  # profile name (see PROFILES), or a profile file NAME.toml; None = the format's default
    bed: str | None = None  # drawable area "WxH" in mm, overrides the profile's
    feed: float | None = None  # drawing speed, mm/min
    travel_feed: float | None = None  # pen-up speed, mm/min (G-code: G1 at this feed instead of G0)
    pen_up: str | None = None  # G-code that lifts the pen ('\n' or a literal \n between lines)
    pen_down: str | None = None  # G-code that lowers it
    pen_dwell: float | None = None  # seconds to wait after each pen move
    origin: str | None = None  # machine origin corner: bottom-left or top-left
    y_axis: str | None = None  # machine +y: up or down
    gcode_start: str | None = None  # extra G-code lines at the start ('\n' or a literal \n between lines)
    gcode_end: str | None = None  # extra G-code lines at the end
    simplify: float = DEFAULT_TOLERANCE  # path simplification tolerance, mm (0 = off)
    keep_order: bool = False  # keep the writing order of strokes
    start: str | None = None  # corner where the pen starts and parks (one of CORNERS); None = the profile's
    rotate: str | None = None  # "0", "90" (turn the page clockwise onto the bed) or "auto" (when only that fits)
    join: bool = False  # draw on without lifting where a stroke starts within a pen width of the last one's end

    def __post_init__(self) -> None:
        if self.plotter is not None:
            if not isinstance(self.plotter, str):
                raise OptionError(f"plotter must be a profile name, got {self.plotter!r}")
            if self.plotter.lower().endswith(".toml"):
                load_profile(self.plotter)
            elif self.plotter not in PROFILES:
                raise OptionError(f"unknown plotter profile {self.plotter!r}: use one of {', '.join(PROFILES)}, "
                                  "or a profile file NAME.toml")
        if self.bed is not None:
            try:
                page_dimensions(self.bed)
            except OptionError:
                raise OptionError(f"bed must be WIDTHxHEIGHT in mm (10..2000 each, e.g. 300x218) or a paper "
                                  f"name such as A3, got {self.bed!r}") from None
        for name in ("feed", "travel_feed"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                                  or not MIN_FEED <= v <= MAX_FEED):
                raise OptionError(f"{name.replace('_', '-')} must be a speed in mm/min from {MIN_FEED:g} to "
                                  f"{MAX_FEED:g}, got {v!r}")
        d = self.pen_dwell
        if d is not None and (not isinstance(d, (int, float)) or isinstance(d, bool) or not math.isfinite(d)
                              or not (d == 0 or MIN_DWELL <= d <= MAX_DWELL)):
            raise OptionError(f"pen-dwell must be 0 (none) or from {MIN_DWELL:g} to {MAX_DWELL:g} s, got {d!r}")
        for name in ("pen_up", "pen_down"):
            v = getattr(self, name)
            _command(name.replace("_", "-"), v)
            if v is not None and not v.replace("\\n", "\n").strip():
                raise OptionError(f"{name.replace('_', '-')} must be at least one G-code line, got {v!r}")
        for name in ("gcode_start", "gcode_end"):
            _command(name.replace("_", "-"), getattr(self, name))
        if self.origin is not None and self.origin not in ORIGINS:
            raise OptionError(f"origin must be one of {', '.join(ORIGINS)}, got {self.origin!r}")
        if self.y_axis is not None and self.y_axis not in Y_AXES:
            raise OptionError(f"y-axis must be up or down, got {self.y_axis!r}")
        if self.start is not None and self.start not in CORNERS:
            raise OptionError(f"start must be one of {', '.join(CORNERS)}, got {self.start!r}")
        if self.rotate is not None and self.rotate not in ROTATIONS:
            raise OptionError(f"rotate must be 0, 90 or auto, got {self.rotate!r}")
        PlanOptions(tolerance=self.simplify)  # validates the tolerance

    def changed(self) -> list[str]:
        """Names of the machine settings the user set (those that only make sense for plotter output)."""
        return [f.name for f in fields(self) if f.name not in ("simplify", "keep_order", "join")
                and getattr(self, f.name) is not None] + \
            (["simplify"] if self.simplify != DEFAULT_TOLERANCE else []) + (["keep_order"] if self.keep_order else []) + \
            (["join"] if self.join else [])


def _lines(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(ln.strip() for ln in text.replace("\\n", "\n").splitlines() if ln.strip())


def _command_text(text: str) -> str:
    """A pen command as the writers take it: its lines, stripped, joined by '\n'."""
    return "\n".join(_lines(text) or ())


#: fields of a profile file, and the type each takes
_FILE_FIELDS = {"name": str, "format": str, "description": str, "bed": (str, list), "origin": str, "y_axis": str,
                "start": str, "feed": (int, float), "travel_feed": (int, float), "rapid_feed": (int, float),
                "pen_up": str, "pen_down": str, "pen_dwell": (int, float), "dwell_unit": str,
                "gcode_start": (str, list), "gcode_end": (str, list)}


def load_profile(path: str) -> Profile:
    """A profile from a TOML file with the fields of `Profile` (``format`` required; the rest default as the
    built-ins do). Every value is checked as the command-line options are; raises OptionError."""
    import tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise OptionError(f"plotter profile file {path!r} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OptionError(f"cannot read plotter profile {path!r}: {exc.__class__.__name__}") from None
    except tomllib.TOMLDecodeError as exc:
        raise OptionError(f"plotter profile {path!r} is not valid TOML: {str(exc).splitlines()[0][:200]}") from None
    where = f"plotter profile {path!r}"
    unknown = sorted(k for k in data if k not in _FILE_FIELDS)
    if unknown:
        shown = ", ".join(repr(k) for k in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise OptionError(f"{where}: unknown field(s) {shown}; a profile has {', '.join(_FILE_FIELDS)}")
    for k, v in data.items():
        t = _FILE_FIELDS[k]
        if isinstance(v, bool) or not isinstance(v, t):
            raise OptionError(f"{where}: {k} has the wrong type ({type(v).__name__})")
    fmt = data.get("format")
    if fmt not in FORMATS:
        raise OptionError(f"{where}: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    bed = data.get("bed")
    if isinstance(bed, list):
        if len(bed) != 2 or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bed):
            raise OptionError(f"{where}: bed must be [width, height] in mm or \"WxH\", got {bed!r}")
        bed = f"{bed[0]}x{bed[1]}"
    joined = {k: "\n".join(map(str, v)) if isinstance(v, list) else v for k, v in data.items()
              if k in ("gcode_start", "gcode_end")}
    if fmt != "gcode":
        only = [k for k in ("pen_up", "pen_down", "gcode_start", "gcode_end", "dwell_unit") if k in data]
        if only:
            raise OptionError(f"{where}: {', '.join(only)} only apply to G-code profiles, not {fmt}")
    if "dwell_unit" in data and data["dwell_unit"] not in DWELL_UNITS:
        raise OptionError(f"{where}: dwell_unit must be s or ms, got {data['dwell_unit']!r}")
    if "rapid_feed" in data and not MIN_FEED <= data["rapid_feed"] <= MAX_FEED:
        raise OptionError(f"{where}: rapid_feed must be from {MIN_FEED:g} to {MAX_FEED:g} mm/min")
    try:  # the machine settings are checked by the same rules as the options
        PlotterOptions(bed=bed, feed=data.get("feed"), travel_feed=data.get("travel_feed"),
                       pen_up=data.get("pen_up"), pen_down=data.get("pen_down"), pen_dwell=data.get("pen_dwell"),
                       origin=data.get("origin"), y_axis=data.get("y_axis"), start=data.get("start"),
                       gcode_start=joined.get("gcode_start"), gcode_end=joined.get("gcode_end"))
    except OptionError as exc:
        raise OptionError(f"{where}: {exc}") from None
    base = Profile("", fmt, "", bed=None)
    return Profile(
        name=data.get("name") or path, format=fmt, description=data.get("description", ""),
        bed=page_dimensions(bed) if bed is not None else None, origin=data.get("origin", base.origin),
        y_axis=data.get("y_axis", base.y_axis), start=data.get("start"), feed=float(data.get("feed", base.feed)),
        travel_feed=float(data["travel_feed"]) if "travel_feed" in data else None,
        rapid_feed=float(data.get("rapid_feed", base.rapid_feed)),
        pen_up=_command_text(data.get("pen_up", base.pen_up)), pen_down=_command_text(data.get("pen_down", base.pen_down)),
        pen_dwell=float(data.get("pen_dwell", base.pen_dwell)), dwell_unit=data.get("dwell_unit", "s"),
        gcode_start=_lines(joined.get("gcode_start", "")) or (), gcode_end=_lines(joined.get("gcode_end", "")) or ())


def profile(name: str) -> Profile:
    """A built-in profile by name, or the profile in a NAME.toml file."""
    return load_profile(name) if name.lower().endswith(".toml") else PROFILES[name]


def resolve(fmt: str, opts: PlotterOptions, page_mm: tuple[float, float], pen_width: float = 0.5) -> Machine:
    """Profile + overrides for output format `fmt`; checks the page fits the bed (turned onto it when
    ``rotate`` asks) and plans from the profile's start corner. Raises OptionError."""
    name = opts.plotter or DEFAULT_PROFILE[fmt]
    if name is None:  # plotter SVG without a machine: nothing machine-specific to check
        base = PLAIN_SVG
    else:
        base = profile(name)
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
            hint = " (--start sets the corner the pen starts from)" if "origin" in only else ""
            raise OptionError(f"{names} only apply to G-code output, not {fmt}{hint}")
    bed = page_dimensions(opts.bed) if opts.bed is not None else base.bed
    w, h = page_mm
    rotate = _rotation(opts.rotate or "0", (w, h), bed, "" if opts.bed else f", profile {name!r}")
    if rotate:
        w, h = h, w
    origin = opts.origin or base.origin
    corner = opts.start or base.start or ("top-left" if origin == "top-left" else "bottom-left")
    return Machine(
        profile=name, format=fmt, bed=bed,
        origin=origin, y_axis=opts.y_axis or base.y_axis,
        feed=float(opts.feed if opts.feed is not None else base.feed),
        travel_feed=float(opts.travel_feed) if opts.travel_feed is not None else base.travel_feed,
        pen_up=_command_text(opts.pen_up) if opts.pen_up else base.pen_up,
        pen_down=_command_text(opts.pen_down) if opts.pen_down else base.pen_down,
        pen_dwell=float(opts.pen_dwell if opts.pen_dwell is not None else base.pen_dwell),
        gcode_start=_lines(opts.gcode_start) if opts.gcode_start is not None else base.gcode_start,
        gcode_end=_lines(opts.gcode_end) if opts.gcode_end is not None else base.gcode_end,
        plan=PlanOptions(tolerance=opts.simplify, keep_order=opts.keep_order, start=corner_point(corner, w, h),
                         rotate=rotate, join=pen_width if opts.join else 0.0),
        feed_given=opts.feed is not None, start_corner=corner, rotate=rotate, dwell_unit=base.dwell_unit,
        rapid_feed=base.rapid_feed,
    )


def _rotation(rotate: str, page: tuple[float, float], bed: tuple[float, float] | None, which: str) -> bool:
    """Whether the page is turned 90 degrees onto the bed; OptionError when it does not fit as asked."""
    w, h = page

    def fits(a: float, b: float) -> bool:
        return bed is None or (a <= bed[0] + 1e-6 and b <= bed[1] + 1e-6)

    turned = rotate == "90" or (rotate == "auto" and not fits(w, h) and fits(h, w))
    a, b = (h, w) if turned else (w, h)
    if not fits(a, b):
        assert bed is not None
        hint = (" --rotate 90 (or auto) turns it onto the bed;" if rotate == "0" and fits(h, w) else "")
        raise OptionError(f"the page ({w:g} x {h:g} mm{', turned 90 degrees' if turned else ''}) is larger than "
                          f"the plotter's bed ({bed[0]:g} x {bed[1]:g} mm{which}):{hint} use a smaller --page-size, "
                          "--bed WxH or --rotate")
    return turned


_SUFFIX = {"gcode": ".gcode", "hpgl": ".hpgl", "plotter-svg": ".svg"}
