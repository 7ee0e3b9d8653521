"""Plotter toolpaths for a 3-page letter: pen-up travel before/after ordering, points before/after
simplification, and the time it adds as a share of sampling time.

    taskset -c 1 python benchmarks/plotter_order.py [--model PATH] [--pages 3] [--simplify 0.02]

Samples the pages with the bundled model (no read-back check, so sampling is as fast as it gets and the
share is the worst case), then for every page plans the toolpath (simplify + order) and writes G-code,
HP-GL and plotter SVG to memory. Travel counts every pen-up move, from the machine's origin (the page's
bottom-left corner, GRBL's) to the first stroke, between strokes, and back.
Targets: at least 30% less pen-up travel than writing order; added time under 10% of sampling time.
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from write_speed import PROSE  # noqa: E402  (same prose as the sampling benchmark)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="bundle .json (default: the bundled model)")
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--simplify", type=float, default=None, help="tolerance in mm (default: hwcli's)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    import torch

    from hwcli.writing.document import write
    from hwcli.model.bundle import load_model
    from hwcli.page import PageOptions
    from hwcli.page.gcode import render_gcode
    from hwcli.page.hpgl import render_hpgl
    from hwcli.page.machines import PlotterOptions, resolve
    from hwcli.page.plotter_svg import render_plotter_svg
    from hwcli.page.toolpath import plan_page
    from hwcli.synthesis import SamplingOptions

    bundle = load_model(args.model)
    page = PageOptions()
    sampling = SamplingOptions(seed=args.seed, check=False)
    # as many words as fill exactly N pages (one paragraph per copy of the prose)
    words = ((PROSE + " \n\n ") * (2 * args.pages + 2)).split(" ")
    lo, hi = 1, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(write(" ".join(words[:mid]), model=bundle, sampling=sampling, page=page)) <= args.pages:
            lo = mid
        else:
            hi = mid - 1
    text = " ".join(words[:lo])
    plot = PlotterOptions() if args.simplify is None else PlotterOptions(simplify=args.simplify)
    machines = {f: resolve(f, plot, page.page_mm) for f in ("gcode", "hpgl", "plotter-svg")}
    print(f"model {bundle.path}, {args.pages} A4 pages, torch threads {torch.get_num_threads()}, "
          f"simplify {machines['gcode'].plan.tolerance} mm")

    pages, sample_s = [], 0.0
    it = iter(write(text, model=bundle, sampling=sampling, page=page).pages)
    while True:
        t = time.perf_counter()
        pg = next(it, None)
        sample_s += time.perf_counter() - t
        if pg is None:
            break
        pages.append(pg)

    gm = machines["gcode"]
    tb = ta = pb = pa = 0.0
    t = time.perf_counter()
    plans = []
    for pg in pages:
        plan = plan_page(pg, gm.plan)
        plans.append(plan)
        render_gcode([pg], io.BytesIO(), gm, plans=[plan])
    gcode_s = time.perf_counter() - t
    for plan in plans:
        cut = 100 * (1 - plan.travel_after / plan.travel_before)
        print(f"page {plan.number + 1}: {len(plan.strokes)} strokes; pen-up travel {plan.travel_before:7.0f} mm "
              f"-> {plan.travel_after:6.0f} mm ({cut:.0f}% less); points {plan.points_before} -> "
              f"{plan.points_after} ({100 * (1 - plan.points_after / plan.points_before):.0f}% fewer); "
              f"pen-down length {plan.draw_length:.0f} mm")
        tb, ta = tb + plan.travel_before, ta + plan.travel_after
        pb, pa = pb + plan.points_before, pa + plan.points_after
    t = time.perf_counter()
    for pg in pages:
        render_hpgl([pg], io.BytesIO(), machines["hpgl"])
    hpgl_s = time.perf_counter() - t
    t = time.perf_counter()
    render_plotter_svg(pages, io.BytesIO(), machines["plotter-svg"], page)
    svg_s = time.perf_counter() - t
    print(f"total: pen-up travel {tb:.0f} mm -> {ta:.0f} mm ({100 * (1 - ta / tb):.1f}% less, target >= 30%); "
          f"points {pb:.0f} -> {pa:.0f} ({100 * (1 - pa / pb):.1f}% fewer)")
    # start corner: an AxiDraw starts at the top-left; a plan made from the bottom-left (before profiles said
    # where their machine starts) run from there travels further
    from dataclasses import replace as _replace

    from hwcli.page.estimate import describe, total_time
    from hwcli.page.toolpath import travel_length

    a3 = resolve("plotter-svg", _replace(plot, plotter="axidraw-a3"), page.page_mm)
    own = [plan_page(pg, a3.plan) for pg in pages]
    old = [plan_page(pg, _replace(a3.plan, start=(0.0, page.page_mm[1]))) for pg in pages]
    t_own = sum(p.travel_after for p in own)
    t_old = sum(travel_length(p.strokes, a3.plan.start) for p in old)
    print(f"AxiDraw from its own corner (top-left): pen-up travel {t_own:.0f} mm; planned from the bottom-left "
          f"{t_old:.0f} mm ({100 * (t_old / t_own - 1):.1f}% more)")
    print(f"estimate, grbl-servo: {describe(total_time(plans, gm))}")
    joined = [plan_page(pg, _replace(gm.plan, join=page.width)) for pg in pages]
    lifts = sum(len(p.strokes) for p in plans)
    saved = sum(p.joined for p in joined)
    print(f"joining strokes within the pen width ({page.width} mm): {saved} of {lifts} lifts saved "
          f"({100 * saved / lifts:.1f}%); {describe(total_time(joined, gm))}")
    print(f"time: sampling {sample_s:.2f} s; plan + G-code {gcode_s:.3f} s ({100 * gcode_s / sample_s:.1f}% of "
          f"sampling, target < 10%); plan + HP-GL {hpgl_s:.3f} s ({100 * hpgl_s / sample_s:.1f}%); "
          f"plan + plotter SVG {svg_s:.3f} s ({100 * svg_s / sample_s:.1f}%)")


if __name__ == "__main__":
    main()
