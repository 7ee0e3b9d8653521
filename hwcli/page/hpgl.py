"""HP-GL writer: toolpaths -> ``IN; SP1; PU x,y; PD x,y,...;`` in plotter units (40 per mm).

HP-GL's origin is the lower-left corner with y up, so a page point (x, y) mm (y down) becomes
``(round(40 x), round(40 (page_height - y)))``; the page sits in the plotter's lower-left corner.
One page per file (``letter-1.hpgl``, ...): HP-GL has no way to ask for a new sheet. ``VS`` (pen
speed, cm/s) is written only when a drawing feed was given. The file ends with a pen-up move back to
the start corner (the origin unless ``--start`` says otherwise) and ``SP0;`` (pen put back).
"""
from __future__ import annotations

from typing import BinaryIO, Iterable

from ..errors import OptionError
from .machines import Machine
from .placement import Page
from .toolpath import PagePlan, plan_page

UNITS_PER_MM = 40


def hpgl_text(plan: PagePlan, machine: Machine) -> str:
    """The HP-GL of one planned page, one instruction per line."""
    h = plan.height_mm

    def xy(p) -> str:
        x, y = machine.to_machine(float(p[0]), float(p[1]), h)
        return f"{round(x * UNITS_PER_MM)},{round(y * UNITS_PER_MM)}"

    out = ["IN;", "SP1;"]
    if machine.feed_given:
        vs = round(machine.feed / 600, 2)  # mm/min -> cm/s; a feed of at least 60 mm/min is VS0.1 or more
        out.append(f"VS{vs:.1f};" if vs == round(vs, 1) else f"VS{vs:.2f};")
    for pen, _ink, strokes, back, change in plan.pen_runs():  # several inks: pen n of the carousel for the n-th
        if back:
            out.append(f"PU{xy(plan.start)};")
        if change:
            out.append(f"SP{pen};")
        for s in strokes:
            out.append(f"PU{xy(s[0])};")
            out.append("PD" + ",".join(xy(p) for p in (s[1:] if len(s) > 1 else s)) + ";")
    out += [f"PU{xy(plan.start)};", "SP0;"]
    return "\n".join(out) + "\n"


def render_hpgl(pages: Iterable[Page], fh: BinaryIO, machine: Machine,
                plans: list[PagePlan] | None = None) -> list[PagePlan]:
    """Write one page as HP-GL to the binary file `fh` (more than one page is an OptionError)."""
    done: list[PagePlan] = []
    for k, page in enumerate(pages):
        if k:
            raise OptionError("HP-GL holds one page per file")
        plan = plans[k] if plans is not None else plan_page(page, machine.plan)
        fh.write(hpgl_text(plan, machine).encode("ascii"))
        done.append(plan)
    return done
