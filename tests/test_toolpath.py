"""Stroke order and simplification for plotters: never draws more or less, never travels further."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwcli.errors import OptionError
from hwcli.page.options import PageOptions
from hwcli.page.placement import build_page
from hwcli.page.toolpath import PlanOptions, order_strokes, plan_page, simplify_stroke, travel_length
from hwcli.strokes import points_from_strokes
from plot_parsers import point_to_polyline

point = st.tuples(st.floats(0, 200, allow_nan=False), st.floats(0, 280, allow_nan=False))
stroke = st.lists(point, min_size=1, max_size=6).map(lambda p: np.array(p, np.float64))
stroke_sets = st.lists(stroke, min_size=0, max_size=40)


def canonical(strokes) -> list[tuple]:
    """A stroke set as sorted tuples, each stroke in the direction whose tuple is smaller."""
    out = []
    for s in strokes:
        a, b = tuple(map(tuple, np.round(s, 9))), tuple(map(tuple, np.round(s[::-1], 9)))
        out.append(min(a, b))
    return sorted(out)


@settings(max_examples=60, deadline=None)
@given(stroke_sets, point)
def test_order_draws_the_same_strokes_and_never_travels_further(strokes, start):
    idx, rev = order_strokes(strokes, start)
    assert sorted(idx) == list(range(len(strokes)))  # every stroke exactly once
    drawn = [strokes[i][::-1] if r else strokes[i] for i, r in zip(idx, rev)]
    assert canonical(drawn) == canonical(strokes)
    assert travel_length(drawn, start) <= travel_length(strokes, start) + 1e-9


@settings(max_examples=40, deadline=None)
@given(st.lists(point, min_size=1, max_size=60), st.floats(0.0, 2.0))
def test_simplify_keeps_ends_and_stays_within_tolerance(pts, tol):
    s = np.array(pts, np.float64)
    out = simplify_stroke(s, tol)
    assert np.array_equal(out[0], s[0]) and np.array_equal(out[-1], s[-1])
    assert len(out) <= len(s)
    # kept points are original points, in order
    idx = [int(np.flatnonzero((s == p).all(1))[0]) for p in out]
    assert idx == sorted(idx) or len(set(map(tuple, s))) < len(s)
    assert point_to_polyline(s, out).max() <= tol + 1e-9


def test_plan_page_reorders_a_scrambled_page_and_counts_points():
    rng = np.random.default_rng(0)
    # 30 little wiggles along three "lines", handed over in a deliberately bad order
    strokes = [np.column_stack([x + np.linspace(0, 3, 20), y + 0.3 * np.sin(np.linspace(0, 6, 20))])
               for y in (40, 50, 60) for x in range(20, 170, 15)]
    strokes = [strokes[i] for i in rng.permutation(len(strokes))]
    page = build_page(0, [points_from_strokes(strokes)], PageOptions())
    plan = plan_page(page, PlanOptions(tolerance=0.05))
    assert plan.travel_after < 0.5 * plan.travel_before
    assert plan.points_before == 600 and plan.points_after < plan.points_before
    kept = plan_page(page, PlanOptions(tolerance=0.05, keep_order=True))
    assert kept.travel_after == pytest.approx(kept.travel_before)
    assert np.allclose([s[0] for s in kept.strokes], [s[0] for s in strokes], atol=1e-4)
    exact = plan_page(page, PlanOptions(tolerance=0))
    assert exact.points_after == 600
    assert canonical(exact.strokes) == canonical([s.astype(np.float32).astype(np.float64) for s in strokes])


def test_dots_stay_dots_and_empty_pages_plan():
    page = build_page(0, [np.array([[10.0, 10.0, 1.0], [20.0, 20.0, 1.0]], np.float32)], PageOptions())
    plan = plan_page(page)
    assert [len(s) for s in plan.strokes] == [1, 1]
    empty = plan_page(build_page(0, [], PageOptions()))
    assert empty.strokes == [] and empty.travel_after == 0.0


@pytest.mark.parametrize("tol", [-0.1, 5.0, float("nan"), "x"])
def test_bad_tolerance_is_an_option_error(tol):
    with pytest.raises(OptionError):
        PlanOptions(tolerance=tol)
