"""hwcli.alphabet: encoding round trip, typographic normalisation, every unsupported character at once."""
from __future__ import annotations

import pytest

from hwcli.alphabet import Alphabet
from hwcli.errors import UnsupportedCharactersError


def test_encode_decode_round_trip_and_padding():
    a = Alphabet()
    idx = a.encode("Hello, world!")
    assert idx.dtype.kind == "i" and 0 not in idx  # index 0 is padding
    assert a.decode(list(idx) + [0, 0]) == "Hello, world!"
    assert len(a) == len(a.chars) + 1
    with pytest.raises(ValueError):
        Alphabet("abca")


def test_prepare_maps_typography_and_accents():
    a = Alphabet()
    assert a.prepare("\u201cCaf\u00e9\u201d \u2013 na\u00efve\u2026") == '"Cafe" - naive...'
    assert a.prepare("a\u00a0b\tc\u200bd") == "a b cd"  # odd spaces become spaces; zero-width ones go
    assert a.prepare("line one\r\nline two\rthree") == "line one\nline two\nthree"  # any line ending


def test_prepare_reports_every_unsupported_character_with_its_position():
    a = Alphabet()
    with pytest.raises(UnsupportedCharactersError) as info:
        a.prepare("snow \u2603\nok\nheart \u2665 and \u4e2d")
    err = info.value
    assert err.positions == [("\u2603", 1, 6), ("\u2665", 3, 7), ("\u4e2d", 3, 13)]
    assert str(err).startswith("3 unsupported character(s)") and "1:6" in str(err) and "3:13" in str(err)


def test_prepare_skip_drops_only_the_unsupported():
    assert Alphabet().prepare("snow \u2603 day\n\u263a", "skip") == "snow  day\n"


def test_many_unsupported_characters_are_summarised():
    with pytest.raises(UnsupportedCharactersError, match=r"20 unsupported .* and 8 more"):
        Alphabet().prepare("\u2603" * 20)
