"""scripts/augment_rare.py: cutting a line into words by the window's alignment, and writing words into new lines."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location("augment_rare", Path(__file__).resolve().parents[1] / "scripts" / "augment_rare.py")
aug = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(aug)

TEXT = "ab 12 cd"  # words start at characters 0, 3 and 6


def _stroke(x0: float, width: float, n: int = 6, y: float = 0.0) -> np.ndarray:
    """Absolute points of one zig-zag stroke from x0 to x0 + width; the pen lifts after the last point."""
    xs = np.linspace(x0, x0 + width, n)
    ys = y + np.where(np.arange(n) % 2 == 0, 0.0, -1.0)
    pts = np.column_stack([xs, ys, np.zeros(n)])
    pts[-1, 2] = 1.0
    return pts


def _line(strokes: list[np.ndarray]) -> np.ndarray:
    pts = np.concatenate(strokes)
    off = pts.copy()
    off[1:, :2] = np.diff(pts[:, :2], axis=0)
    off[0, :2] = pts[0, :2]
    return off.astype(np.float32)


def _chars(strokes: list[np.ndarray], char_of_stroke: list[int]) -> np.ndarray:
    return np.concatenate([np.full(len(s), c) for s, c in zip(strokes, char_of_stroke)])


def test_cut_words_and_compose_round_trip():
    strokes = [_stroke(0, 2), _stroke(4, 2), _stroke(8, 2)]
    seq = _line(strokes)
    cut = aug.cut_words(seq, TEXT, _chars(strokes, [0, 4, 7]))
    assert cut is not None
    pieces, gaps = cut
    assert [w for w, _ in pieces] == ["ab", "12", "cd"]
    assert gaps == pytest.approx([2.0, 2.0])
    for (_, pts), s in zip(pieces, strokes):
        assert pts[:, 0].min() == pytest.approx(0.0)  # each word starts at its own left edge
        # the same ink, levelled by the line's baseline fit (a slope of under 0.01 here)
        assert np.allclose(np.diff(pts[:, 0]), np.diff(s[:, 0]), atol=1e-5)
        assert np.allclose(np.diff(pts[:, 1]), np.diff(s[:, 1]), atol=0.01)
    # in a new order and with new gaps, every word keeps its shape, one gap after another
    off = aug.compose([pieces[2], pieces[0]], [3.0])
    xy = np.cumsum(off[:, :2], axis=0)
    n = len(pieces[2][1])
    assert xy[n:, 0].min() - xy[:n, 0].max() == pytest.approx(3.0, abs=1e-4)
    assert off[n - 1, 2] == 1.0 and off[-1, 2] == 1.0  # the pen lifts after each word


def test_a_late_stroke_or_a_word_without_ink_is_not_cut():
    strokes = [_stroke(0, 2), _stroke(4, 2), _stroke(8, 2), _stroke(0.5, 0.2, n=2, y=-3)]
    # an i-dot of the first word written at the end of the line: the words go backwards
    assert aug.cut_words(_line(strokes), TEXT, _chars(strokes, [0, 4, 7, 1])) is None
    # the window never rested on the middle word: it has no stroke of its own
    three = strokes[:3]
    assert aug.cut_words(_line(three), TEXT, _chars(three, [0, 1, 7])) is None


def test_a_word_far_too_wide_for_its_letters_is_not_cut():
    strokes = [_stroke(0, 2), _stroke(4, 2), _stroke(8, 30)]
    assert aug.cut_words(_line(strokes), TEXT, _chars(strokes, [0, 4, 7])) is None
