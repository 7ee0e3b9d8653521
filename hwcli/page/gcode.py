"""G-code writer for GRBL-style pen plotters: toolpaths -> millimetres (G21), absolute moves (G90).

One page per file is what `hwcli write` produces (``card-1.gcode``, ``card-2.gcode``, ...): the
paper has to be changed between pages anyway, and a file per sheet is easy to re-run. Given
several pages, `render_gcode` writes them into one stream with an ``M0`` (program pause: change
the paper, then resume) between them.

Each stroke is: a travel move to its first point (``G0``, or ``G1`` at the travel feed), the
pen-down command (one or more lines, e.g. Marlin's ``M400`` then ``M280 P0 S30``) and a dwell (``G4 P``
in seconds for GRBL, in milliseconds for Marlin), ``G1`` moves at the drawing feed, then the pen-up command
and the dwell. A dot (one point) is a pen down and up in place. Every page starts and ends with the pen up
at the profile's start corner (the machine's origin unless ``start`` says otherwise); a page turned onto
the bed (``rotate``) says so in its header, as does the plot-time estimate. A document with several inks
(``{color:...}`` lines, colors.py) draws each ink from the start corner after ``M0 ; pen change: load pen N``.
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
    from .estimate import describe, plot_time

    h = plan.height_mm
    dwell = machine.dwell_code()
    up, down = machine.pen_up.split("\n"), machine.pen_down.split("\n")
    travel = "G0" if machine.travel_feed is None else "G1"
    travel_f = "" if machine.travel_feed is None else f" F{_n(machine.travel_feed)}"
    turned = ", turned 90 degrees clockwise onto the bed" if plan.rotated else ""
    out = [f"; hwcli {page_label}{plan.width_mm:g} x {plan.height_mm:g} mm{turned}, profile {machine.profile}, "
           f"origin {machine.origin}, y {machine.y_axis}, pen starts and parks {machine.start_corner}",
           f"; {len(plan.strokes)} strokes, {plan.points_after} points, pen-up travel {plan.travel_after:.0f} mm "
           f"(writing order {plan.travel_before:.0f} mm)",
           f"; {describe(plot_time(plan, machine))}",
           "G21 ; millimetres", "G90 ; absolute coordinates", *machine.gcode_start, *up, *dwell]
    park = machine.to_machine(*plan.start, h)
    for pen, ink, strokes, back, change in plan.pen_runs():  # several inks: each from the start corner, after a pen change
        if back:
            out.append(f"{travel} X{_n(park[0])} Y{_n(park[1])}{travel_f}")
        if change:
            out.append(f"M0 ; pen change: load pen {pen} ({ink}), then resume")
        for s in strokes:
            x, y = machine.to_machine(s[0, 0], s[0, 1], h)
            out.append(f"{travel} X{_n(x)} Y{_n(y)}{travel_f}")
            out.extend(down)
            out.extend(dwell)
            first = True
            for px, py in s[1:]:
                x, y = machine.to_machine(px, py, h)
                out.append(f"G1 X{_n(x)} Y{_n(y)}" + (f" F{_n(machine.feed)}" if first else ""))
                first = False
            out.extend(up)
            out.extend(dwell)
    out.append(f"{travel} X{_n(park[0])} Y{_n(park[1])}{travel_f}")
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
