"""benchmarks/glyph_size.py: its accent lines and their stripped twins."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import glyph_size  # noqa: E402  (benchmarks/ is not a package)

from hwcli.alphabet import CHARSET, DEFAULT_CHARS  # noqa: E402


def test_stripped_lines_keep_their_letters_in_iam_ondbs_alphabet():
    assert glyph_size.strip_accents("Łódź, Gdańsk: zażółć gęślą jaźń") == "Lodz, Gdansk: zazolc gesla jazn"
    assert glyph_size.strip_accents("İpek ışık Đurđa Søren") == "Ipek isik Durda Soren"
    for t in glyph_size.ACCENT_LINES:
        plain = glyph_size.strip_accents(t)
        assert len(plain) == len(t) and plain != t  # the same characters, one for one, each line has accents
        assert all(c in DEFAULT_CHARS for c in plain), plain
        assert all(c in CHARSET for c in t)
    assert all(c in CHARSET for t in glyph_size.CODE_LINES for c in t)
