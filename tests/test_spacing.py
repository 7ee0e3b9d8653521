"""Room after points and colons (`hwcli.synthesis.spacing`): the ink after a point or colon between two digits, or
a point or colon inside a word, moves right until the mark stands clear; a colon closing a word moves in to it;
nothing else moves."""
import numpy as np

from hwcli.synthesis.spacing import (COLON_LEAD, COMPARISON_GAP, DEGREE_GAP, DIGIT_DEGREE_GAP, HYPHEN_GAP, HYPHEN_LEAD, POINT_GAP, SIGN_GAP,
                                     STEM_GAP, WORD_POINT_GAP, degrees_after_digits, joined_hyphens, led_colons, led_marks, opens_number,
                                     space_marks, spaced_marks, stem_room)
from ink_helpers import aligned_line


def _abs(off):
    return np.cumsum(off[:, :2].astype(np.float64), axis=0)


# "3.8 i": a 3 (x 0-2, height 0-4), the point at x 2.5 right against the 8 (x 2.6-4.6), a space, the i's stem,
# and the i's dot written last though it belongs to the i
THREE = [(0, 0), (2, 0), (2, 4), (0, 4)]
POINT = [(2.5, 4.0), (2.55, 4.0)]
EIGHT = [(2.6, 0), (4.6, 0), (4.6, 4), (2.6, 4)]
STEM = [(6, 2), (6, 4)]
DOT = [(6, 1)]


def test_the_ink_after_a_point_moves_right_until_the_point_stands_clear():
    off, chars = aligned_line([(0, THREE), (1, POINT), (2, EIGHT), (4, STEM), (4, DOT)])
    out = space_marks(off, chars, "3.8 i")
    a, b = _abs(off), _abs(out)
    assert out.dtype == np.float32 and out.shape == off.shape and (out[:, 2] == off[:, 2]).all()
    np.testing.assert_allclose(b[:, 1], a[:, 1], atol=1e-5)  # nothing moves up or down
    np.testing.assert_allclose(b[:6, 0], a[:6, 0], atol=1e-5)  # the 3 and the point stay
    moved = b[6:, 0] - a[6:, 0]
    np.testing.assert_allclose(moved, moved[0], atol=1e-5)  # the rest moves as one
    gap = b[6:10, 0].min() - b[4:6, 0].max()
    assert abs(gap - POINT_GAP * 4.0) < 1e-4  # the digits are 4 units tall


def test_a_clear_point_or_text_without_one_is_left_as_written():
    wide = [(c, [(x + 3.0 * (c == 2), y) for x, y in s]) for c, s in [(0, THREE), (1, POINT), (2, EIGHT)]]
    off, chars = aligned_line(wide)
    assert space_marks(off, chars, "3.8") is off  # already 1.05 digit heights clear: never moved left
    off, chars = aligned_line([(0, THREE), (1, POINT), (2, EIGHT)])
    assert space_marks(off, chars, "3,8") is off and space_marks(off, chars, "3 8") is off
    assert space_marks(off, None, "3.8") is off  # no alignment (a prediction network)
    assert space_marks(off[:0], chars[:0], "3.8").shape == (0, 3)


def test_a_delayed_stroke_of_an_earlier_character_stays_and_two_points_add_up():
    # "1.2.3": both points crowded; a stroke of the 1 written at the very end stays where it was written
    one = [(0, 0), (0, 4)]
    p1, two = [(0.5, 4.0), (0.55, 4.0)], [(0.6, 0), (2.6, 0), (2.6, 4)]
    p2, three = [(3.1, 4.0), (3.15, 4.0)], [(3.2, 0), (5.2, 0), (5.2, 4)]
    late = [(-0.5, 1), (0.5, 1)]
    off, chars = aligned_line([(0, one), (1, p1), (2, two), (3, p2), (4, three), (0, late)])
    b, a = _abs(space_marks(off, chars, "1.2.3")), _abs(off)
    np.testing.assert_allclose(b[-2:], a[-2:], atol=1e-5)  # the late stroke of the 1
    assert abs((b[4:7, 0].min() - b[2:4, 0].max()) - POINT_GAP * 4) < 1e-4
    assert abs((b[9:12, 0].min() - b[7:9, 0].max()) - POINT_GAP * 4) < 1e-4


def test_marks_given_room_are_points_and_colons_in_numbers_and_points_in_words():
    text = "£18.99 at 7:30, j.price@example.org. Note: 3,5 x. .y"
    got = [(text[i], text[i - 1:i + 2], g) for i, g in spaced_marks(text)]
    assert got == [(".", "8.9", POINT_GAP), (":", "7:3", POINT_GAP), (".", "j.p", WORD_POINT_GAP),
                   (".", "e.o", WORD_POINT_GAP)]
    assert spaced_marks("") == [] and spaced_marks("end.") == [] and spaced_marks("Note: x") == []
    assert spaced_marks("C:\\home https://x") == [(1, WORD_POINT_GAP), (13, WORD_POINT_GAP)]  # a colon in a word too
    assert spaced_marks("1.2", gap=0.5, word_gap=0.1) == [(1, 0.5)] and spaced_marks("a.b", word_gap=0.1) == [(1, 0.1)]


def test_a_colon_between_digits_and_a_point_in_a_word_get_their_own_room():
    colon = [(2.5, 1.0), (2.5, 1.05), (2.5, 3.5), (2.5, 3.55)]  # two dots, one stroke each below
    off, chars = aligned_line([(0, THREE), (1, colon[:2]), (1, colon[2:]), (2, EIGHT)])
    b = _abs(space_marks(off, chars, "3:8"))
    assert abs((b[8:, 0].min() - b[4:8, 0].max()) - POINT_GAP * 4) < 1e-4
    off, chars = aligned_line([(0, THREE), (1, POINT), (2, EIGHT)])
    b = _abs(space_marks(off, chars, "e.o"))  # letters: the word's gap
    assert abs((b[6:, 0].min() - b[4:6, 0].max()) - WORD_POINT_GAP * 4) < 1e-4


def test_synthesis_spaces_the_points_of_each_unit_before_it_is_checked(monkeypatch):
    import hwcli.synthesis.run as run
    from hwcli.model.bundle import load_model
    from hwcli.synthesis import SamplingOptions, synthesize

    seen = []

    def spy(strokes, chars, text, gap=POINT_GAP):
        seen.append((text, chars is not None))
        return strokes

    monkeypatch.setattr(run, "space_marks", spy)
    bundle = load_model("hwcli-charset")
    synthesize(bundle, ["Only 2.5 kg"], SamplingOptions(seed=1, check=False, retries=0))
    assert seen and all(t == "Only 2.5 kg" and has for t, has in seen)


# "no: x": n and o (x-height 2), the colon written 3 units after the o, then the x; the o's late stroke stays
N = [(0, 0), (0, 2), (1, 2), (1, 0)]
O = [(1.5, 0), (2.5, 0), (2.5, 2), (1.5, 2)]
COLON = [(5.5, 0.5), (5.5, 0.55), (5.5, 1.8), (5.5, 1.85)]
X = [(7, 0), (8, 2)]
LATE = [(1.8, 1.0), (2.2, 1.0)]


def test_a_colon_closing_a_word_is_drawn_in_to_it_with_what_follows():
    off, chars = aligned_line([(0, N), (1, O), (2, COLON[:2]), (2, COLON[2:]), (4, X), (1, LATE)])
    a, b = _abs(off), _abs(space_marks(off, chars, "no: x"))
    np.testing.assert_allclose(b[:8], a[:8], atol=1e-5)  # the word stays
    np.testing.assert_allclose(b[-2:], a[-2:], atol=1e-5)  # and so does its late stroke
    moved = b[8:14, 0] - a[8:14, 0]
    np.testing.assert_allclose(moved, moved[0], atol=1e-5)  # the colon and the x move as one
    assert abs((b[8:12, 0].min() - b[4:8, 0].max()) - COLON_LEAD * 2.0) < 1e-4  # x-height 2
    np.testing.assert_allclose(b[:, 1], a[:, 1], atol=1e-5)
    close = [(c, [(x - 2.5 * (c >= 2), y) for x, y in st]) for c, st in [(0, N), (1, O), (2, COLON[:2]), (4, X)]]
    off, chars = aligned_line(close)
    assert space_marks(off, chars, "no: x") is off  # already close: never moved right
    assert space_marks(off, chars, "no: x", lead=1e9) is off


def test_led_colons_close_a_word():
    assert led_colons("Note: 7:30, https://x, C:\\, : a") == [4, 17, 24]
    assert led_colons("") == [] and led_colons(":") == []


def test_an_exclamation_or_question_mark_closing_a_word_is_drawn_in_like_a_colon():
    assert led_marks("Hi! Far? ¿Qué? 5! ?! ! a:b") == [2, 7, 13, 16, 19, 24]  # not the ? after a space
    assert led_marks("") == [] and led_marks("!") == [] and led_marks("a ! b ?") == []
    bang = [(5.5, 0.0), (5.5, 1.4), (5.5, 1.9), (5.5, 1.95)]  # "no! x": the ! written 3 units after the o
    off, chars = aligned_line([(0, N), (1, O), (2, bang[:2]), (2, bang[2:]), (4, X)])
    a, b = _abs(off), _abs(space_marks(off, chars, "no! x"))
    np.testing.assert_allclose(b[:8], a[:8], atol=1e-5)
    assert abs((b[8:12, 0].min() - b[4:8, 0].max()) - COLON_LEAD * 2.0) < 1e-4
    np.testing.assert_allclose(b[12:, 0] - a[12:, 0], b[8, 0] - a[8, 0], atol=1e-5)  # what follows moves with it
    assert space_marks(off, chars, "no ! x") is off  # set apart by a space in the text: left as written


def test_the_room_after_a_point_in_a_word_is_measured_in_x_heights():
    # "al.co": a, c, o 4 units tall, the l 8 (an ascender): the room after the point is WORD_POINT_GAP x-heights
    # (4 units), not of the l's and c's height together
    a = [(0, 0), (2, 0), (2, 4), (0, 4)]
    ell = [(2.5, -4), (2.5, 4)]
    point = [(3.0, 4.0), (3.05, 4.0)]
    c = [(3.1, 0), (5, 0), (5, 4), (3.1, 4)]
    o = [(5.5, 0), (7.5, 0), (7.5, 4), (5.5, 4)]
    off, chars = aligned_line([(0, a), (1, ell), (2, point), (3, c), (4, o)])
    b = _abs(space_marks(off, chars, "al.co"))
    assert abs((b[8:, 0].min() - b[6:8, 0].max()) - WORD_POINT_GAP * 4) < 1e-4
    # with no small letter near (an address in capitals), in its neighbours' height, as between digits
    big = [(c_, [(x, y * 2 - 4) for x, y in s]) for c_, s in [(0, a), (3, c), (4, o)]]
    off, chars = aligned_line([big[0], (1, ell), (2, point), big[1], big[2]])
    b = _abs(space_marks(off, chars, "AL.CO"))
    assert abs((b[8:, 0].min() - b[6:8, 0].max()) - WORD_POINT_GAP * 8) < 1e-4  # L and C 8 tall


def test_a_degree_sign_gets_room_before_the_letter_after_it():
    # "a 0°C": a small a (4 units tall) sets the x-height; the ring (x 3.6-4.6, raised) clear of the 0 (0.4
    # x-heights) but written into the C
    a = [(-4, 0), (-2, 0), (-2, 4), (-4, 4)]
    zero = [(0, -2), (2, -2), (2, 4), (0, 4)]
    ring = [(3.6, -2), (4.6, -2), (4.6, -1), (3.6, -1)]
    cee = [(6.5, -2), (4.3, -2), (4.3, 4), (6.5, 4)]
    off, chars = aligned_line([(0, a), (2, zero), (3, ring), (4, cee)])
    assert [(i, g) for i, g in spaced_marks("a 0°C")] == [(3, DEGREE_GAP)]
    assert spaced_marks("it is 20° today") == [] and spaced_marks("a 0°C", degree_gap=0.1) == [(3, 0.1)]
    b, a_ = _abs(space_marks(off, chars, "a 0°C")), _abs(off)
    np.testing.assert_allclose(b[:12], a_[:12], atol=1e-5)  # the a, the 0 and the ring stay
    assert abs((b[12:, 0].min() - b[8:12, 0].max()) - DEGREE_GAP * 4) < 1e-4  # in x-heights, not the C's height
    np.testing.assert_allclose(b[:, 1], a_[:, 1], atol=1e-5)


def test_a_degree_sign_written_against_its_digit_is_moved_clear_of_it_with_what_follows():
    assert degrees_after_digits("-4°C, 20 °F, x°, 180°") == [2, 20]
    # "a 4°C": the ring (x 2.4-3.4) against the 4's top (x 0-2), the C well after it
    a = [(-4, 0), (-2, 0), (-2, 4), (-4, 4)]
    four = [(0, -2), (2, -2), (2, 4), (0, 4)]
    ring = [(2.4, -2), (3.4, -2), (3.4, -1), (2.4, -1)]
    cee = [(7.5, -2), (5.3, -2), (5.3, 4), (7.5, 4)]
    off, chars = aligned_line([(0, a), (2, four), (3, ring), (4, cee)])
    b, a_ = _abs(space_marks(off, chars, "a 4°C")), _abs(off)
    np.testing.assert_allclose(b[:8], a_[:8], atol=1e-5)  # the a and the 4 stay
    assert abs((b[8:12, 0].min() - b[4:8, 0].max()) - DIGIT_DEGREE_GAP * 4) < 1e-4  # in x-heights
    np.testing.assert_allclose(b[8:, 0] - a_[8:, 0], b[8, 0] - a_[8, 0], atol=1e-5)  # the C with it, room kept
    np.testing.assert_allclose(b[:, 1], a_[:, 1], atol=1e-5)
    assert space_marks(off, chars, "a 4°C", digit_degree_gap=0.05) is off  # clear enough: never moved left
    assert space_marks(off, chars, "a x°C") is off  # not after a digit
    off2, chars2 = aligned_line([(2, four), (3, ring)])
    assert space_marks(off2, chars2, "a 4°") is off2  # no small letter near: left alone


def test_a_comparison_sign_gets_room_before_the_equals_sign_written_into_it():
    # "x >= 1": a small x (4 units tall), a space, the > (x 2-3.5) and the = written into it (from x 3.2)
    x = [(-4, 0), (-2, 0), (-2, 4), (-4, 4)]
    gt = [(2, 0.5), (3.5, 2), (2, 3.5)]
    eq = [(3.2, 1.5), (5, 1.5), (3.2, 2.5), (5, 2.5)]
    one = [(7, 0), (7, 4)]
    off, chars = aligned_line([(0, x), (2, gt), (3, eq), (5, one)])
    assert spaced_marks("x >= 1") == [(2, COMPARISON_GAP)] and spaced_marks("a > b") == []
    assert spaced_marks("a <- b <3 c", comparison_gap=0.1) == [(2, 0.1), (7, 0.1)]
    b, a = _abs(space_marks(off, chars, "x >= 1")), _abs(off)
    np.testing.assert_allclose(b[:7], a[:7], atol=1e-5)  # the x and the > stay, though a space stands before it
    assert abs((b[7:11, 0].min() - b[4:7, 0].max()) - COMPARISON_GAP * 4) < 1e-4  # in x-heights
    np.testing.assert_allclose(b[7:, 0] - a[7:, 0], b[7, 0] - a[7, 0], atol=1e-5)  # what follows moves with it
    np.testing.assert_allclose(b[:, 1], a[:, 1], atol=1e-5)


def test_a_sign_opening_a_number_gets_room_before_its_digit():
    assert [i for i in range(11) if opens_number("-4 (+44 x-1", i)] == [0, 4]
    assert not any(opens_number(t, i) for t in ("INV-2027", "A-4", "2 - 3", "3-4", "a+b", "-", "x -y") for i in range(len(t)))
    assert opens_number("from ±2", 5) and opens_number("[-1]", 1)
    assert spaced_marks("It was -4°C") == [(7, SIGN_GAP), (9, DEGREE_GAP)]
    assert spaced_marks("-4 a", sign_gap=0.1) == [(0, 0.1)]
    # "a -4": a small a (4 units tall), a space, the minus (x 2-3) run into the 4 (from x 2.8)
    a = [(-4, 0), (-2, 0), (-2, 4), (-4, 4)]
    minus = [(2, 2), (3, 2)]
    four = [(2.8, 0), (2.8, 3), (4.5, 3), (4, 0), (4, 4)]
    off, chars = aligned_line([(0, a), (2, minus), (3, four)])
    b, a_ = _abs(space_marks(off, chars, "a -4")), _abs(off)
    np.testing.assert_allclose(b[:6], a_[:6], atol=1e-5)  # the a and the minus stay
    assert abs((b[6:, 0].min() - b[4:6, 0].max()) - SIGN_GAP * 4) < 1e-4  # in x-heights
    np.testing.assert_allclose(b[:, 1], a_[:, 1], atol=1e-5)
    assert space_marks(off, chars, "a -4", sign_gap=-1.0) is off  # room off: as written
    # at the start of the line, no small letter near: the digit's own height (5th-95th percentile of its points)
    off, chars = aligned_line([(0, minus), (1, four)])
    b = _abs(space_marks(off, chars, "-4"))
    y = np.array([p[1] for p in four])
    assert abs((b[2:, 0].min() - b[:2, 0].max()) - SIGN_GAP * np.subtract(*np.percentile(y, [95, 5]))) < 1e-4


def test_what_follows_a_joined_hyphen_is_drawn_in_to_it():
    assert joined_hyphens("well-known 2 - 3 -4 x- INV-2027") == [4, 26]
    # "a-b": a small a and b (4 units tall), the hyphen (x 1-2) and the b a whole x-height after it (from x 6)
    a = [(-2, 0), (0, 0), (0, 4), (-2, 4)]
    hyphen = [(1, 2), (2, 2)]
    b = [(6, -4), (6, 4), (8, 4), (8, 0), (6, 0)]
    off, chars = aligned_line([(0, a), (1, hyphen), (2, b)])
    out = space_marks(off, chars, "a-b")
    got, was = _abs(out), _abs(off)
    np.testing.assert_allclose(got[:6], was[:6], atol=1e-5)  # the a and the hyphen stay
    assert abs((got[6:, 0].min() - got[4:6, 0].max()) - HYPHEN_GAP * 4) < 1e-4  # in x-heights
    np.testing.assert_allclose(got[6:, 0] - was[6:, 0], got[6, 0] - was[6, 0], atol=1e-5)  # the b keeps its shape
    np.testing.assert_allclose(got[:, 1], was[:, 1], atol=1e-5)
    assert space_marks(off, chars, "a-b", hyphen_gap=1.5) is off  # already close enough: never moved right
    assert space_marks(off, chars, "a b") is off  # not a hyphen


def test_a_joined_hyphen_far_from_the_character_before_it_is_drawn_in_with_what_follows():
    # "a-b": the hyphen a whole x-height after the a (x 2-3), the b right after it
    a = [(-2, 0), (0, 0), (0, 4), (-2, 4)]
    hyphen = [(4, 2), (5, 2)]
    b = [(5.5, -4), (5.5, 4), (7.5, 4), (7.5, 0), (5.5, 0)]
    off, chars = aligned_line([(0, a), (1, hyphen), (2, b)])
    got, was = _abs(space_marks(off, chars, "a-b")), _abs(off)
    np.testing.assert_allclose(got[:4], was[:4], atol=1e-5)  # the a stays
    assert abs((got[4:6, 0].min() - got[:4, 0].max()) - HYPHEN_LEAD * 4) < 1e-4
    np.testing.assert_allclose(got[4:, 0] - was[4:, 0], got[4, 0] - was[4, 0], atol=1e-5)  # what follows with it
    assert space_marks(off, chars, "a-b", hyphen_lead=2.0) is off  # close enough: never moved right



# "It a": the I's stem (x 0, 8 units tall), the t's stem at x 1.0 with its bar reaching back to x 0.3, and a small a
# (4 units tall) after a space; the a's x-height is the scale
I_STEM = [(0, -4), (0, 4)]
T_STEM = [(1.0, -3), (1.0, 4)]
T_BAR = [(0.3, 0), (1.7, 0)]
SMALL_A = [(3, 0), (5, 0), (5, 4), (3, 4)]


def test_a_t_or_f_after_a_capital_i_gets_room_from_its_stem():
    off, chars = aligned_line([(0, I_STEM), (1, T_STEM), (1, T_BAR), (3, SMALL_A)])
    out = stem_room(off, chars, "It a")
    got, was = _abs(out), _abs(off)
    assert out.dtype == np.float32 and out.shape == off.shape and (out[:, 2] == off[:, 2]).all()
    np.testing.assert_allclose(got[:2], was[:2], atol=1e-5)  # the I stays
    assert abs((got[2:6, 0].min() - got[:2, 0].max()) - STEM_GAP * 4) < 1e-4  # from the bar's end, in x-heights
    np.testing.assert_allclose(got[2:, 0] - was[2:, 0], got[2, 0] - was[2, 0], atol=1e-5)  # the rest as one
    np.testing.assert_allclose(got[:, 1], was[:, 1], atol=1e-5)
    assert stem_room(off, chars, "If a") is not off  # an f's arm the same
    # never moved left, other pairs, no alignment, nothing near to measure by: as written
    assert stem_room(off, chars, "It a", gap=0.05) is off
    for text in ("lt a", "Ia a", "it a"):
        assert stem_room(off, chars, text) is off
    assert stem_room(off, None, "It a") is off
    off2, chars2 = aligned_line([(0, I_STEM), (1, T_STEM), (1, T_BAR)])
    assert stem_room(off2, chars2, "It") is off2

