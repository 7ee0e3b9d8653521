"""hwcli.cleaning and hwcli.strokes: each preprocessing step on small hand-made strokes, representation round trips."""
from __future__ import annotations

import numpy as np
import pytest

from hwcli import cleaning as C
from hwcli import strokes as S
from hwcli.cleaning import PreprocessOptions


def line(n: int, start=(0.0, 0.0), step=(1.0, 0.0)) -> np.ndarray:
    """(n, 2) evenly spaced points."""
    return np.asarray(start) + np.arange(n)[:, None] * np.asarray(step)


def pts(*strokes) -> np.ndarray:
    return S.points_from_strokes([np.asarray(s, np.float32) for s in strokes])


# ----------------------------------------------------------------------------- representation
def test_points_from_strokes_marks_stroke_ends_and_splits_back():
    a, b = line(4), line(3, start=(10, 5))
    p = pts(a, b)
    assert p.dtype == np.float32 and p.shape == (7, 3)
    assert p[:, 2].tolist() == [0, 0, 0, 1, 0, 0, 1]
    back = S.split_strokes(p)
    assert len(back) == 2 and np.allclose(back[0], a) and np.allclose(back[1], b)
    assert S.points_from_strokes([]).shape == (0, 3)


def test_offsets_points_round_trip():
    rng = np.random.default_rng(0)
    p = pts(rng.normal(500, 50, (30, 2)), rng.normal(800, 50, (20, 2)))
    off = S.to_offsets(p)
    assert off.dtype == np.float32
    assert np.array_equal(off[0, :2], [0, 0])
    assert np.array_equal(off[:, 2], p[:, 2])
    assert np.allclose(S.to_points(off), p - [p[0, 0], p[0, 1], 0], atol=1e-3)
    assert np.allclose(S.to_points(off, origin=(float(p[0, 0]), float(p[0, 1]))), p, atol=1e-3)


def test_bounds():
    assert S.bounds(pts([[1, 5], [3, -2]])) == (1.0, -2.0, 3.0, 5.0)
    assert S.bounds(np.zeros((0, 3), np.float32)) == (0.0, 0.0, 0.0, 0.0)


def test_options_are_validated():
    with pytest.raises(ValueError):
        PreprocessOptions(downsample=0)
    with pytest.raises(ValueError):
        PreprocessOptions(smooth=0.5)
    with pytest.raises(ValueError):
        PreprocessOptions(jump_factor=1.0)
    assert PreprocessOptions().to_dict()["downsample"] == 2


# ----------------------------------------------------------------------------- steps
def test_remove_spikes_drops_an_isolated_far_point():
    s = line(20)
    s[10] = (10, 80)  # the sensor reports one point far off, the next is back on track
    out = C.remove_spikes(pts(s))
    assert len(out) == 19
    assert np.abs(out[:, 1]).max() == 0
    assert out[-1, 2] == 1


def test_remove_spikes_keeps_real_detours_and_stroke_ends():
    s = np.concatenate([line(10), line(10, start=(9, 1), step=(0, 1))])  # a sharp corner, not a spike
    p = pts(s, line(5, start=(100, 100)))
    assert np.array_equal(C.remove_spikes(p), p)


def test_split_jumps_splits_a_stroke_at_a_sensor_jump():
    s = np.concatenate([line(10), line(10, start=(300, 0))])  # 291 units in one pen-down step
    out = C.split_jumps(pts(s))
    assert len(out) == 20
    assert len(S.split_strokes(out)) == 2
    assert out[9, 2] == 1  # the point before the jump now ends a stroke


def test_split_jumps_drops_a_point_left_alone_between_two_jumps():
    s = np.concatenate([line(10), [[500, 500]], line(10, start=(20, 0))])
    out = C.split_jumps(pts(s))
    assert len(out) == 20
    assert not (out[:, :2] == 500).any()
    assert len(S.split_strokes(out)) == 2


def test_clip_gaps_shortens_a_long_pen_up_move_and_keeps_shapes():
    a, b = line(10), line(10, start=(1009, 0))  # 1000-unit pen-up move, median step 1
    p = pts(a, b)
    out = C.clip_gaps(p, PreprocessOptions(max_gap_factor=60))
    gap = out[10, :2] - out[9, :2]
    assert np.allclose(gap, [60, 0], atol=1e-3)
    assert np.allclose(S.to_offsets(out)[11:], S.to_offsets(p)[11:], atol=1e-4)  # the second stroke's shape
    assert np.allclose(out[:10], p[:10])
    short = pts(a, line(10, start=(30, 0)))
    assert np.array_equal(C.clip_gaps(short), short)


def test_straighten_levels_a_tilted_line():
    x = np.linspace(0, 300, 120)
    y = 0.25 * x + 5 * np.sin(x / 7)  # about 14 degrees of drift with some wiggle
    p = pts(np.stack([x, y], 1))
    out = C.straighten(p)
    assert abs(np.polyfit(out[:, 0], out[:, 1], 1)[0]) < 1e-3
    assert np.allclose(out[0, :2], p[0, :2])  # rotated about the first point
    assert np.allclose(np.linalg.norm(np.diff(out[:, :2], axis=0), axis=1),
                       np.linalg.norm(np.diff(p[:, :2], axis=0), axis=1), atol=1e-3)  # a rotation: shapes kept
    assert np.array_equal(C.straighten(p, PreprocessOptions(straighten=False)), p)


def test_straighten_leaves_steep_fits_alone():
    p = pts(np.stack([np.linspace(0, 10, 50), np.linspace(0, 100, 50)], 1))  # 84 degrees: not a tilted line
    assert np.array_equal(C.straighten(p), p)


def test_smooth_keeps_stroke_ends_and_reduces_noise():
    rng = np.random.default_rng(1)
    a = line(60) + np.c_[np.zeros(60), rng.normal(0, 1, 60)]
    b = line(40, start=(100, 0)) + np.c_[np.zeros(40), rng.normal(0, 1, 40)]
    p = pts(a, b)
    out = C.smooth(p, PreprocessOptions(smooth=0.25))
    assert out.shape == p.shape and np.array_equal(out[:, 2], p[:, 2])
    for i in (0, 59, 60, 99):  # first and last point of both strokes
        assert np.array_equal(out[i], p[i])
    assert np.std(np.diff(out[:, 1])) < 0.7 * np.std(np.diff(p[:, 1]))
    assert np.array_equal(C.smooth(p, PreprocessOptions(smooth=0.0)), p)


def test_downsample_keeps_stroke_ends_and_reduces_count():
    p = pts(line(21), line(6, start=(50, 0)), line(1, start=(80, 0)))
    out = C.downsample(p, PreprocessOptions(downsample=2))
    assert len(out) == 11 + 4 + 1
    strokes_in, strokes_out = S.split_strokes(p), S.split_strokes(out)
    assert len(strokes_out) == 3
    for a, b in zip(strokes_in, strokes_out):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[-1], b[-1])
    assert np.array_equal(C.downsample(p, PreprocessOptions(downsample=1)), p)


def test_offset_scale_is_rms_of_steps_without_first_rows():
    a = S.to_offsets(pts(line(5, step=(3, 4))))  # steps of (3, 4): RMS of [3, 4] values
    assert S.offset_scale([a]) == pytest.approx(np.sqrt((9 + 16) / 2))
    assert S.offset_scale([]) == 1.0


# ----------------------------------------------------------------------------- pipeline
def test_pipeline_order():
    assert [name for name, _ in C.PIPELINE] == [
        "remove_spikes", "split_jumps", "clip_gaps", "straighten", "smooth", "downsample"]


def test_preprocess_runs_every_step_in_order(monkeypatch):
    calls = []

    def recorder(name, fn):
        def step(points, opts):
            calls.append(name)
            return fn(points, opts)
        return step

    monkeypatch.setattr(C, "PIPELINE", [(n, recorder(n, f)) for n, f in C.PIPELINE])
    rng = np.random.default_rng(2)
    p = pts(line(50) + rng.normal(0, 0.3, (50, 2)))
    out = C.preprocess(p)
    assert calls == [n for n, _ in C.PIPELINE]
    expected = p
    for _, fn in C.PIPELINE:
        expected = fn(expected, PreprocessOptions())
    assert np.array_equal(out, expected)


def test_spikes_go_before_smoothing():
    """A spike removed first leaves a clean line; smoothed first, it would bend its neighbours."""
    s = line(40)
    s[20] = (20, 200)
    out = C.preprocess(pts(s), PreprocessOptions(downsample=1, straighten=False))
    assert np.abs(out[:, 1]).max() < 1e-4


def test_aligned_baseline_ignores_descenders_and_needs_three_letters():
    from hwcli.strokes import aligned_baseline

    def bars(text: str):
        """Each letter a vertical bar from y = -1 down to its bottom: 0 (the baseline), 3 for 'g' and 'y'."""
        pts, chars = [], []
        for j, ch in enumerate(text):
            if ch == " ":
                continue
            bottom = 3.0 if ch in "gy" else 0.0
            for k in range(4):
                pts.append([j * 2.0, -1.0 + (bottom + 1.0) * k / 3, 0.0])
                chars.append(j)
        return np.array(pts, np.float32), np.array(chars)

    assert aligned_baseline(*bars("a gym"), "a gym") is None  # only 'a' and 'm' sit on the baseline
    # the bottoms of a, m, a, m (90th percentile of each bar: -0.1); the descenders of g and y play no part
    assert aligned_baseline(*bars("a gym am"), "a gym am") == pytest.approx(-0.1, abs=1e-5)
    assert aligned_baseline(*bars("a gyy gy am"), "a gyy gy am") == pytest.approx(-0.1, abs=1e-5)
    assert aligned_baseline(bars("abc")[0], None, "abc") is None


def test_sorted_percentile_and_median_are_numpys_to_the_bit():
    """The letter measures' fast percentile and median give numpy's very floats (float32 and float64 points,
    odd and even counts, ties, one value, a NaN), so no stroke moves for the speed."""
    rng = np.random.default_rng(3)
    for it in range(3000):
        n = int(rng.integers(1, 60))
        dt = np.float32 if it % 2 else np.float64
        v = (rng.normal(size=n) * 10 ** rng.uniform(-3, 3)).astype(dt)
        if it % 5 == 0:
            v = np.round(v, 1).astype(dt)
        s = np.sort(v)
        for q in (5, 10, 75, 90, 95):
            assert S.sorted_percentile(s, q) == float(np.percentile(v, q))
        assert S.sorted_median(s) == float(np.median(v))
    nan = np.sort(np.array([1.0, np.nan, 2.0], np.float32))
    assert np.isnan(S.sorted_percentile(nan, 90)) and np.isnan(S.sorted_median(nan))


def test_letter_measures_group_points_by_their_character():
    """x-height, ascender height and the letters' bottoms come from the points aligned to each letter, in any
    order of the alignment (points of a letter written late, after the next one, included)."""
    text = "abc dl"
    rng = np.random.default_rng(0)
    chars = np.repeat(np.arange(len(text)), 6)
    pts = np.zeros((len(chars), 3), np.float32)
    pts[:, 0] = np.arange(len(chars), dtype=np.float32)
    pts[:, 1] = rng.uniform(-1, 0, len(chars)).astype(np.float32)
    perm = rng.permutation(len(chars))
    for p, c in ((pts, chars), (pts[perm], chars[perm])):
        bottoms = S._letter_bottoms(p, c, text)
        want = [(float(np.median(p[c == j, 0])), float(np.percentile(p[c == j, 1], 90)))
                for j, ch in enumerate(text) if ch in S.ON_BASELINE]
        assert bottoms == want
        assert S.x_height(p, c, text) == float(np.median([float(np.ptp(p[c == j, 1])) for j in (0, 2)]))
