"""Plot-time estimate of a planned page: how long a machine takes to draw it, from its feeds and pen dwells.

Acceleration-free kinematics: every move runs at its feed from start to end, so the estimate is

    draw_length / feed + pen-up travel / travel speed + pen dwells,

with the travel speed the profile's travel feed, or its rapid rate where the G-code travels with ``G0``.
There is one dwell after the first pen-up and one after every pen-down and pen-up (two per stroke), as the
G-code writer emits them. Real machines accelerate, so short strokes take longer than this; the estimate
is a lower bound that ranks pages and settings (pen lifts are most of a handwritten page's time).
"""
from __future__ import annotations

from dataclasses import dataclass

from .machines import Machine
from .toolpath import PagePlan


@dataclass(frozen=True)
class PlotTime:
    """Seconds a page takes, by kind of motion."""

    draw_s: float  # pen down
    travel_s: float  # pen up, between strokes (and from and back to the start corner)
    pen_s: float  # pen-lift dwells
    lifts: int  # pen lifts (strokes)

    @property
    def total_s(self) -> float:
        return self.draw_s + self.travel_s + self.pen_s

    def __add__(self, other: "PlotTime") -> "PlotTime":
        return PlotTime(self.draw_s + other.draw_s, self.travel_s + other.travel_s, self.pen_s + other.pen_s,
                        self.lifts + other.lifts)


def plot_time(plan: PagePlan, machine: Machine) -> PlotTime:
    """The estimate for one page (see the module docstring)."""
    n = len(plan.strokes)
    return PlotTime(draw_s=60.0 * plan.draw_length / machine.feed,
                    travel_s=60.0 * plan.travel_after / machine.travel_speed,
                    pen_s=machine.pen_dwell * (1 + 2 * n) if n else 0.0, lifts=n)


def total_time(plans: list[PagePlan], machine: Machine) -> PlotTime:
    out = PlotTime(0.0, 0.0, 0.0, 0)
    for p in plans:
        out = out + plot_time(p, machine)
    return out


def duration(seconds: float) -> str:
    """'42 s', '7 min 42 s', '1 h 05 min'."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def describe(t: PlotTime) -> str:
    """One line: total, and what it is made of."""
    return (f"~{duration(t.total_s)} to plot ({duration(t.draw_s)} drawing, {duration(t.travel_s)} pen-up travel, "
            f"{duration(t.pen_s)} for {t.lifts} pen lifts)")
