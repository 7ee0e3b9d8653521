"""G-code writer for GRBL-style pen plotters: toolpaths -> millimetres (G21), absolute moves (G90).

One page per file is what `hwcli write` produces (``card-1.gcode``, ``card-2.gcode``, ...): the
paper has to be changed between pages anyway, and a file per sheet is easy to re-run. Given
several pages, `render_gcode` writes them into one stream with an ``M0`` (program pause: change
the paper, then resume) between them.

Each stroke is: a travel move to its first point (``G0``, or ``G1`` at the travel feed), the
pen-down command and a dwell (``G4 P`` seconds, GRBL's unit), ``G1`` moves at the drawing feed,
then the pen-up command and the dwell. A dot (one point) is a pen down and up in place. Every
page ends with the pen up and parked at the machine's origin.
"""
from __future__ import annotations

from typing import BinaryIO, Iterable

from .machines import Machine
from .placement import Page
from .toolpath import PagePlan, plan_page


def _n(v: float) -> str:
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def gcode_lines(plan: PagePlan, machine: Machine, page_label: str = "") -> list[str]:
    """The G-code of one planned page (no pause, no trailing newline)."""
    h = plan.height_mm
    dwell = [f"G4 P{_n(machine.pen_dwell)}"] if machine.pen_dwell > 0 else []
    travel = "G0" if machine.travel_feed is None else "G1"
    travel_f = "" if machine.travel_feed is None else f" F{_n(machine.travel_feed)}"
    out = [f"; hwcli {page_label}{plan.width_mm:g} x {plan.height_mm:g} mm, profile {machine.profile}, "
           f"origin {machine.origin}, y {machine.y_axis}",
           f"; {len(plan.strokes)} strokes, {plan.points_after} points, pen-up travel {plan.travel_after:.0f} mm "
           f"(writing order {plan.travel_before:.0f} mm)",
           "G21 ; millimetres", "G90 ; absolute coordinates", *machine.gcode_start,
           machine.pen_up, *dwell]
    for s in plan.strokes:
        x, y = machine.to_machine(s[0, 0], s[0, 1], h)
        out.append(f"{travel} X{_n(x)} Y{_n(y)}{travel_f}")
        out.append(machine.pen_down)
        out.extend(dwell)
        first = True
        for px, py in s[1:]:
            x, y = machine.to_machine(px, py, h)
            out.append(f"G1 X{_n(x)} Y{_n(y)}" + (f" F{_n(machine.feed)}" if first else ""))
            first = False
        out.append(machine.pen_up)
        out.extend(dwell)
    x, y = machine.to_machine(*plan.start, h)
    out.append(f"{travel} X{_n(x)} Y{_n(y)}{travel_f}")
    return out


def render_gcode(pages: Iterable[Page], fh: BinaryIO, machine: Machine,
                 plans: list[PagePlan] | None = None) -> list[PagePlan]:
    """Write `pages` as G-code to the binary file `fh`: one page, or several with ``M0`` between them.

    Returns the plans drawn (pass `plans` to reuse ones already made by `plan_page`).
    """
    done: list[PagePlan] = []
    for k, page in enumerate(pages):
        plan = plans[k] if plans is not None else plan_page(page, machine.plan)
        if k:
            fh.write(b"M0 ; change the paper, then resume\n")
        fh.write(("\n".join(gcode_lines(plan, machine, f"page {page.number + 1}, ")) + "\n").encode("ascii"))
        done.append(plan)
    if done:
        fh.write(("\n".join(machine.gcode_end) + "\n" if machine.gcode_end else "").encode("ascii"))
        fh.write(b"M2 ; end of program\n")
    return done
