"""Crossbars a reader can see (`hwcli.synthesis.bars`): a t's short bar, written as a stroke of its own (often
after the word), is lengthened about its middle; a wide bar, a t written in one stroke, a stroke that is not a
bar, and everything else on the line stay as written. An underscore written above the line is moved down onto it."""
import numpy as np

from hwcli.synthesis.bars import (BAR_WIDTH, BELOW_MARKED, CLEAR, COLON_MIN, COLON_SEP, MARK_DROP, MAX_STRETCH,
                                  POINT_SIZE, SEAT_MIN, SEATED, SLASH_LENGTH, bold_points, cross_bars, find_bars,
                                  find_marks_below, find_raised, find_slashes, lengthen_slashes, lower_marks,
                                  part_colons, seat_letters, underline)
from hwcli.synthesis.spacing import stroke_owners
from ink_helpers import aligned_line


def _abs(off):
    return np.cumsum(off[:, :2].astype(np.float64), axis=0)




def _box(x0, x1, n=6):
    """A small letter's outline, 2 units tall (y down, baseline at 4), n points a side."""
    t = np.linspace(0, 1, n, endpoint=False)
    return ([(x0 + (x1 - x0) * u, 2) for u in t] + [(x1, 2 + 2 * u) for u in t]
            + [(x1 - (x1 - x0) * u, 4) for u in t] + [(x0, 4 - 2 * u) for u in t])


# "ate": an a and an e 2 units tall (the x-height), a t's stem 4 tall at x 3, and the t's bar written after the word
# (while the window is on the e), 0.4 wide: 0.2 x-heights
A = _box(0, 2)
STEM = [(3, 0), (3, 2), (3, 4)]
E = _box(4, 6)
BAR = [(2.8, 1.6), (3.0, 1.62), (3.2, 1.64)]


def test_a_short_bar_written_after_the_word_is_lengthened_about_its_middle():
    off, chars = aligned_line([(0, A), (1, STEM), (2, E), (2, BAR)])
    assert [(k, j, round(w, 3)) for k, j, w in find_bars(*stroke_owners(off, chars), "ate")] == [(1, 3, 0.2)]
    out = cross_bars(off, chars, "ate")
    a, b = _abs(off), _abs(out)
    assert out.dtype == np.float32 and out.shape == off.shape and (out[:, 2] == off[:, 2]).all()
    np.testing.assert_allclose(b[:-3], a[:-3], atol=1e-5)  # the letters stay
    np.testing.assert_allclose(b[:, 1], a[:, 1], atol=1e-5)  # nothing moves up or down
    bar = b[-3:, 0]
    assert abs(np.ptp(bar) - min(BAR_WIDTH * 2.0, MAX_STRETCH * 0.4)) < 1e-4
    assert abs((bar.min() + bar.max()) / 2 - 3.0) < 1e-5  # about its own middle
    assert (np.diff(bar) > 0).all()  # drawn the same way


def test_the_stretch_is_bounded_and_a_bar_wide_enough_is_left():
    tick = [(2.95, 1.6), (3.05, 1.61)]  # 0.05 x-heights: lengthened at most MAX_STRETCH times
    off, chars = aligned_line([(0, A), (1, STEM), (1, tick), (2, E)])
    b = _abs(cross_bars(off, chars, "ate"))
    assert abs(np.ptp(b[len(A) + 3:len(A) + 5, 0]) - 0.1 * MAX_STRETCH) < 1e-4
    wide = [(2.2, 1.6), (3.0, 1.62), (3.8, 1.64)]  # 0.8 x-heights
    off, chars = aligned_line([(0, A), (1, STEM), (2, E), (2, wide)])
    assert cross_bars(off, chars, "ate") is off


def test_what_is_not_a_separate_bar_is_left_as_written():
    # a t written in one stroke with its bar
    one = [(3, 0), (3, 4), (2.9, 1.6), (3.1, 1.6)]
    off, chars = aligned_line([(0, A), (1, one), (2, E)])
    assert cross_bars(off, chars, "ate") is off
    # a short horizontal stroke low on the letter (a baseline tick), or beside it, is no bar
    low = [(2.9, 3.9), (3.1, 3.92)]
    off, chars = aligned_line([(0, A), (1, STEM), (2, E), (2, low)])
    assert find_bars(*stroke_owners(off, chars), "ate") == [] and cross_bars(off, chars, "ate") is off
    beside = [(4.5, 1.6), (4.8, 1.6)]
    off, chars = aligned_line([(0, A), (1, STEM), (2, E), (2, beside)])
    assert cross_bars(off, chars, "ate") is off
    # a stroke written on the next word is not this t's bar; a line without a t, or without an alignment, stays
    off, chars = aligned_line([(0, A), (1, STEM), (2, E), (4, BAR), (4, [(8, 2), (9, 4)])])
    assert cross_bars(off, chars, "ate x") is off
    off, chars = aligned_line([(0, A), (1, E)])
    assert cross_bars(off, chars, "ae") is off and cross_bars(off, None, "at") is off


def test_the_sampler_places_the_marks_of_its_ink_step_by_step_in_order(monkeypatch):
    import hwcli.synthesis.run as run
    from hwcli.model.bundle import load_model
    from hwcli.synthesis import SamplingOptions, synthesize

    steps = ("space_marks", "cross_bars", "stem_room", "underline", "part_colons", "bold_points", "lower_marks",
             "lengthen_slashes", "seat_letters")
    calls, last = [], [None]  # (step, text, aligned, given the previous step's output); that output

    def fake(name):
        def step(strokes, chars, text, *a, **k):
            calls.append((name, text, chars is not None, name == steps[0] or strokes is last[0]))
            last[0] = np.array(strokes, copy=True)
            return (last[0], chars) if name == "bold_points" else last[0]
        return step

    for name in steps:
        monkeypatch.setattr(run, name, fake(name))
    synthesize(load_model("hwcli-charset"), ["It tent"], SamplingOptions(style=2, seed=1, check=False, retries=0))
    assert calls and len(calls) % len(steps) == 0
    assert [c[0] for c in calls] == list(steps) * (len(calls) // len(steps))  # per row, in this order
    assert all(c[1:] == ("It tent", True, True) for c in calls)  # each on the ink the step before it gave


def test_a_bar_is_not_lengthened_into_a_neighbours_tall_stroke():
    # "It a": the I's stem 0.6 left of the t's, as tall; the bar (0.2 x-heights) may grow to 0.6 (1.2 units) about
    # its middle, but stops 0.1 x-heights short of the I (x 0.6), so that the pair does not read as an H
    i_stem = [(0.4, 0), (0.4, 2), (0.4, 4)]
    t_stem = [(1.0, 0.5), (1.0, 2), (1.0, 4)]
    bar = [(0.8, 1.6), (1.2, 1.62)]
    a = [(x + 3.0, y) for x, y in A]
    off, chars = aligned_line([(0, i_stem), (1, t_stem), (1, bar), (3, a)])
    b = _abs(cross_bars(off, chars, "It a"))
    got = b[6:8, 0]
    assert abs(got.min() - (0.4 + CLEAR * 2.0)) < 1e-4 and abs(got.max() - 1.6) < 1e-4
    # a small letter right beside the t, below the bar, does not stop it
    off, chars = aligned_line([(0, A), (1, STEM), (1, [(2.8, 1.6), (3.2, 1.6)]), (2, _box(3.3, 4.3))])
    b = _abs(cross_bars(off, chars, "ate"))
    assert abs(np.ptp(b[len(A) + 3:len(A) + 5, 0]) - BAR_WIDTH * 2.0) < 1e-4


def test_an_underscore_above_the_line_is_moved_down_onto_it():
    # "a_e": small letters 2 units tall on the baseline y=4; the underscore written at y 3.5 (a quarter of an
    # x-height above the line, where it reads as a hyphen), a delayed i-dot-like point of the e stays
    us = [(2.2, 3.5), (2.6, 3.52), (3.0, 3.5)]
    e = _box(3.2, 5.2)
    off, chars = aligned_line([(0, A), (1, us), (2, e)])
    out = underline(off, chars, "a_e")
    a, b = _abs(off), _abs(out)
    assert out.dtype == np.float32 and out.shape == off.shape and (out[:, 2] == off[:, 2]).all()
    np.testing.assert_allclose(b[:, 0], a[:, 0], atol=1e-5)  # nothing moves sideways
    np.testing.assert_allclose(b[:len(A)], a[:len(A)], atol=1e-5)
    np.testing.assert_allclose(b[len(A) + 3:], a[len(A) + 3:], atol=1e-5)  # the e stays
    got = b[len(A):len(A) + 3, 1]
    assert abs((got.min() + got.max()) / 2 - 4.0) < 1e-4 and abs(np.ptp(got) - 0.02) < 1e-5  # on the line, same shape
    # on or below the line already, not flat (a letter's stroke the window was on the _ for), no small letter
    # near, no underscore, no alignment: left as written
    for stroke in ([(2.2, 4.1), (3.0, 4.1)], [(2.2, 2.0), (2.4, 3.5)]):
        off, chars = aligned_line([(0, A), (1, stroke), (2, e)])
        assert underline(off, chars, "a_e") is off
    off, chars = aligned_line([(0, [(0, 0), (0, 4)]), (1, us), (2, [(3.2, 0), (3.2, 4)])])
    assert underline(off, chars, "I_L") is off
    off, chars = aligned_line([(0, A), (1, us), (2, e)])
    assert underline(off, chars, "a-e") is off and underline(off, None, "a_e") is off


def test_a_colons_crammed_dots_are_set_apart_about_their_middle():
    # "at: e": the t's bar written when the window reached the colon, then the colon's two dots 0.1 x-heights
    # apart at mid-height (the second one while the window was on the space), where a reader sees one point
    bar = [(2.6, 1.0), (3.4, 1.0), (4.2, 1.0)]
    up, down = [(4.5, 2.9), (4.55, 2.9)], [(4.5, 3.1), (4.55, 3.1)]
    e = _box(6, 8)
    off, chars = aligned_line([(0, A), (1, STEM), (2, bar), (2, up), (3, down), (4, e)])
    out = part_colons(off, chars, "at: e")
    a, b = _abs(off), _abs(out)
    assert out.dtype == np.float32 and out.shape == off.shape and (out[:, 2] == off[:, 2]).all()
    np.testing.assert_allclose(b[:, 0], a[:, 0], atol=1e-5)  # nothing moves sideways
    n = len(A) + len(STEM) + len(bar)
    np.testing.assert_allclose(b[:n], a[:n], atol=1e-5)  # the letters and the t's bar stay
    np.testing.assert_allclose(b[n + 4:], a[n + 4:], atol=1e-5)
    np.testing.assert_allclose(b[n:n + 2, 1], 3.0 - COLON_SEP * 2 / 2, atol=1e-5)  # x-height 2: 1 unit apart
    np.testing.assert_allclose(b[n + 2:n + 4, 1], 3.0 + COLON_SEP * 2 / 2, atol=1e-5)
    # dots already apart, three dot-sized strokes, a point (not a colon), no alignment: left as written
    apart = [(4.5, 2.9 - COLON_MIN * 2), (4.55, 2.9 - COLON_MIN * 2)]
    off, chars = aligned_line([(0, A), (1, STEM), (2, apart), (3, down), (4, e)])
    assert part_colons(off, chars, "at: e") is off
    off, chars = aligned_line([(0, A), (1, STEM), (2, up), (2, down), (3, [(5, 3.0)]), (4, e)])
    assert part_colons(off, chars, "at: e") is off
    off, chars = aligned_line([(0, A), (1, STEM), (2, up), (3, down), (4, e)])
    assert part_colons(off, chars, "at. e") is off and part_colons(off, None, "at: e") is off
    assert part_colons(off, chars, "at:xe") is off  # the second dot on a letter, not a space: not the colon's


def test_a_speck_of_a_point_is_drawn_as_a_small_loop_and_its_characters_follow():
    # "a.e": a and e 2 units tall (x-height 2), the point a single speck at (2.5, 3.9), then the e; a tail of two
    # points the window had not reached (no character)
    e = _box(3.2, 5.2)
    off, chars = aligned_line([(0, A), (1, [(2.5, 3.9)]), (2, e)])
    tail = np.array([[0.5, 0.0, 0.0], [0.5, 0.0, 1.0]], np.float32)
    off = np.concatenate([off, tail])
    out, ch = bold_points(off, chars, "a.e")
    a, b = _abs(off), _abs(out)
    assert out.dtype == np.float32 and len(out) == len(off) + 8 and len(ch) == len(chars) + 8
    np.testing.assert_allclose(b[:len(A)], a[:len(A)], atol=1e-5)  # the a stays
    loop = b[len(A):len(A) + 9]
    assert (ch[len(A):len(A) + 9] == 1).all() and (out[len(A):len(A) + 8, 2] == 0).all() and out[len(A) + 8, 2] == 1
    np.testing.assert_allclose(loop.mean(axis=0)[1], 3.9, atol=0.05)  # about the speck's centre
    np.testing.assert_allclose(np.ptp(loop, axis=0), [POINT_SIZE * 2] * 2, atol=1e-3)  # POINT_SIZE x-heights across
    np.testing.assert_allclose(b[len(A) + 9:], a[len(A) + 1:], atol=1e-5)  # the e and the tail stay where they were
    np.testing.assert_array_equal(ch[len(A) + 9:], chars[len(A) + 1:])
    # a point already that big, a comma, no alignment: as written
    big = [(2.4, 3.8), (2.4 + POINT_SIZE * 2.1, 3.8)]
    off, chars = aligned_line([(0, A), (1, big), (2, e)])
    assert bold_points(off, chars, "a.e")[0] is off
    off, chars = aligned_line([(0, A), (1, [(2.5, 3.9)]), (2, e)])
    assert bold_points(off, chars, "a,e")[0] is off and bold_points(off, None, "a.e")[0] is off



def test_a_mark_below_written_against_the_letters_foot_is_moved_down_under_it():
    # "mąk": small letters 2 units tall on the baseline y=4 (x-height 2); the ą's ogonek written after the word as a
    # small stroke at the a's foot (its middle 0.05 x-heights below the line), where a reader misses it
    m, a, k = _box(0, 2), _box(2.5, 4.5), _box(5, 7)
    ogonek = [(4.2, 3.9), (4.4, 4.1), (4.3, 4.3)]
    off, chars = aligned_line([(0, m), (1, a), (2, k), (2, ogonek)])
    assert [(i, j) for i, j, _, _ in find_marks_below(*stroke_owners(off, chars), "mąk")] == [(1, 3)]
    out = lower_marks(off, chars, "mąk")
    p, q = _abs(off), _abs(out)
    assert out.dtype == np.float32 and out.shape == off.shape and (out[:, 2] == off[:, 2]).all()
    np.testing.assert_allclose(q[:-3], p[:-3], atol=1e-5)  # the letters stay
    np.testing.assert_allclose(q[:, 0], p[:, 0], atol=1e-5)  # nothing moves sideways
    mark = q[-3:, 1]
    assert abs((mark.min() + mark.max()) / 2 - (4.0 + MARK_DROP * 2.0)) < 1e-4  # its middle under the foot
    np.testing.assert_allclose(np.diff(mark), np.diff(p[-3:, 1]), atol=1e-5)  # the same shape
    assert set("ąęçşţșțĄĘÇŞŢȘȚ") == BELOW_MARKED


def test_what_is_not_a_mark_below_is_left_as_written():
    m, a, k = _box(0, 2), _box(2.5, 4.5), _box(5, 7)
    # a mark already as low (or lower), a letter written in one stroke with its mark, a stroke over the letter (an
    # accent), a stroke under another letter, one on the next word, no such letter, no alignment: nothing moves
    low = [(3.4, 4.6), (3.6, 4.9)]
    off, chars = aligned_line([(0, m), (1, a), (1, low), (2, k)])
    assert find_marks_below(*stroke_owners(off, chars), "mąk") and lower_marks(off, chars, "mąk") is off
    one = a + [(3.5, 4.1), (3.6, 4.3)]
    off, chars = aligned_line([(0, m), (1, one), (2, k)])
    assert lower_marks(off, chars, "mąk") is off
    for c, stroke in ((1, [(3.3, 1.5), (3.7, 1.2)]), (2, [(6.0, 4.0), (6.1, 4.2)]), (4, [(3.5, 4.0), (3.6, 4.2)])):
        off, chars = aligned_line([(0, m), (1, a), (2, k), (c, stroke)])
        assert lower_marks(off, chars, "mąk x") is off
    off, chars = aligned_line([(0, m), (1, a), (2, k), (2, [(3.5, 4.0), (3.6, 4.2)])])
    assert lower_marks(off, chars, "mak") is off and lower_marks(off, None, "mąk") is off


def test_a_short_slash_through_an_l_is_stretched_along_its_own_direction():
    # "ała": a's 2 units tall on the baseline y=4; the ł a stem 4 tall at x 3.5, its slash written after the word as a
    # diagonal tick 0.2 long (0.1 x-heights) across the stem's middle
    a1, a2 = _box(0, 2), _box(4.5, 6.5)
    stem = [(3.5, 0), (3.5, 2), (3.5, 4)]
    tick = [(3.43, 2.07), (3.5, 2.0), (3.57, 1.93)]
    off, chars = aligned_line([(0, a1), (1, stem), (2, a2), (2, tick)])
    assert [(k, j) for k, j, _ in find_slashes(*stroke_owners(off, chars), "ała")] == [(1, 3)]
    out = lengthen_slashes(off, chars, "ała", max_stretch=100.0)
    p, q = _abs(off), _abs(out)
    assert out.dtype == np.float32 and out.shape == off.shape and (out[:, 2] == off[:, 2]).all()
    np.testing.assert_allclose(q[:-3], p[:-3], atol=1e-5)  # the letters stay
    got = q[-3:]
    assert abs(np.hypot(*np.ptp(got, axis=0)) - SLASH_LENGTH * 2.0) < 1e-4  # as long as asked, corner to corner
    np.testing.assert_allclose(got.mean(axis=0), p[-3:].mean(axis=0), atol=1e-5)  # about its middle
    d = np.diff(got, axis=0)
    assert np.allclose(d[:, 0], -d[:, 1], atol=1e-5) and (d[:, 0] > 0).all()  # the same direction, drawn the same way
    # the stretch is bounded
    b = _abs(lengthen_slashes(off, chars, "ała"))
    assert abs(np.hypot(*np.ptp(b[-3:], axis=0)) - 3 * np.hypot(0.14, 0.14)) < 1e-4


def test_what_is_not_a_short_slash_is_left_as_written():
    a1, a2 = _box(0, 2), _box(4.5, 6.5)
    stem = [(3.5, 0), (3.5, 2), (3.5, 4)]
    # long enough already, a ł in one stroke, a tick low on the stem or beside it, a one-point speck, an l, no
    # alignment: nothing moves
    long_ = [(3.0, 2.5), (3.5, 2.0), (4.0, 1.5)]
    low = [(3.45, 3.95), (3.55, 3.9)]
    beside = [(5.5, 2.0), (5.6, 1.9)]
    for parts in ([(0, a1), (1, stem), (2, a2), (2, long_)], [(0, a1), (1, stem + [(3.3, 2.1), (3.7, 1.9)]), (2, a2)],
                  [(0, a1), (1, stem), (2, a2), (2, low)], [(0, a1), (1, stem), (2, a2), (2, beside)],
                  [(0, a1), (1, stem), (2, a2), (2, [(3.5, 2.0)])]):
        off, chars = aligned_line(parts)
        assert lengthen_slashes(off, chars, "ała") is off
    off, chars = aligned_line([(0, a1), (1, stem), (2, a2), (2, [(3.43, 2.07), (3.57, 1.93)])])
    assert lengthen_slashes(off, chars, "ala") is off and lengthen_slashes(off, None, "ała") is off


# "aße": small letters 2 units tall on the baseline y=4; the ß written in two strokes of its own (a stem, then its
# bowls), 3 units tall, its foot at y=3: half an x-height above the line, where a reader splits the word at it
SS_STEM = [(2.6, 3.0), (2.6, 1.0), (2.7, 0.2), (3.1, 0.0)]
SS_BOWLS = [(3.1, 0.0), (3.6, 0.6), (3.2, 1.2), (3.7, 2.0), (3.2, 3.0)]


def test_a_sharp_s_written_above_the_line_is_set_on_it_whole():
    a, e = _box(0, 2), _box(4.2, 6.2)
    off, chars = aligned_line([(0, a), (1, SS_STEM), (1, SS_BOWLS), (2, e)])
    found = find_raised(*stroke_owners(off, chars), chars, "aße")
    assert [(k, js) for k, js, _, _ in found] == [(1, [1, 2])] and abs(found[0][2] - 1.0) < 1e-6
    out = seat_letters(off, chars, "aße")
    p, q = _abs(off), _abs(out)
    assert out.dtype == np.float32 and out.shape == off.shape and (out[:, 2] == off[:, 2]).all()
    ss = slice(len(a), len(a) + len(SS_STEM) + len(SS_BOWLS))
    np.testing.assert_allclose(q[ss, 1], p[ss, 1] + 1.0, atol=1e-5)  # both strokes down together, foot on the line
    np.testing.assert_allclose(q[ss, 0], p[ss, 0], atol=1e-5)  # nothing moves sideways
    keep = np.ones(len(p), bool)
    keep[ss] = False
    np.testing.assert_allclose(q[keep], p[keep], atol=1e-5)  # the other letters stay
    assert SEATED == frozenset("ß") and 0 < SEAT_MIN < 0.5


def test_what_is_not_a_raised_sharp_s_is_left_as_written():
    a, e = _box(0, 2), _box(4.2, 6.2)
    # a ß already on the line (or within SEAT_MIN of it, or below it), a ß whose ink is mostly another letter's
    # stroke (joined to the a: moving it would move the a), no ß, no alignment, no small letters to measure by
    for drop in (1.0, 1.0 - 0.5 * SEAT_MIN * 2, 1.5):
        stem = [(x, y + drop) for x, y in SS_STEM]
        bowls = [(x, y + drop) for x, y in SS_BOWLS]
        off, chars = aligned_line([(0, a), (1, stem), (1, bowls), (2, e)])
        assert seat_letters(off, chars, "aße") is off
    lead, tail = [(2.0, 2.0 + 0.1 * i) for i in range(7)], [(4.2, 2.4 + 0.1 * i) for i in range(6)]
    off, chars = aligned_line([(0, a), (1, lead + SS_STEM + SS_BOWLS + tail), (2, e)])
    n = len(a)
    chars[n:n + 7], chars[n + 16:n + 22] = 0, 2  # one stroke joining the a, the ß and the e: 9 of its 22 points the ß's
    assert seat_letters(off, chars, "aße") is off
    chars[n:n + 7] = 1  # the same stroke with 16 of 22 points the ß's: its own, moved
    assert seat_letters(off, chars, "aße") is not off
    off, chars = aligned_line([(0, a), (1, SS_STEM), (1, SS_BOWLS), (2, e)])
    assert seat_letters(off, chars, "abe") is off and seat_letters(off, None, "aße") is off
    off, chars = aligned_line([(0, SS_STEM), (0, SS_BOWLS)])
    assert seat_letters(off, chars, "ß") is off
