"""hwcli.alphabet: encoding round trip, typographic normalisation, every unsupported character at once."""
from __future__ import annotations

import pytest

from hwcli.alphabet import CHAR_CLASSES, CHARSET, DEFAULT_CHARS, Alphabet, char_class
from hwcli.errors import UnsupportedCharactersError


def test_encode_decode_round_trip_and_padding():
    a = Alphabet()
    idx = a.encode("Hello, world!")
    assert idx.dtype.kind == "i" and 0 not in idx  # index 0 is padding
    assert a.decode(list(idx) + [0, 0]) == "Hello, world!"
    assert len(a) == len(a.chars) + 1
    with pytest.raises(ValueError):
        Alphabet("abca")


def test_prepare_maps_typography_outside_the_set():
    a = Alphabet()
    assert a.prepare("\u201cCafe\u201d \u2212 naive\u2026") == '"Cafe" - naive...'
    assert a.prepare("a\u00a0b\tc\u200bd") == "a b cd"  # odd spaces become spaces; zero-width ones go
    assert a.prepare("line one\r\nline two\rthree") == "line one\nline two\nthree"  # any line ending
    assert a.prepare("\u00bd cup") == "1/2 cup"


def test_a_full_set_alphabet_keeps_every_character_of_the_set():
    a = Alphabet(CHARSET)
    assert a.prepare(CHARSET) == CHARSET and a.lacking() == ""
    words = "Cr\u00e8me br\u00fbl\u00e9e, \u0141\u00f3d\u017a, Stra\u00dfe, \u00ab oui \u00bb \u2013 \u00a318.99 \u00d7 2, x <= 7 {a|b}"
    assert a.prepare(words) == words
    # decomposed accents (as some editors save them) are composed, not refused
    assert a.prepare("Noe\u0308l") == "No\u00ebl"
    # curly quotes, ellipsis, non-breaking spaces still map (they are not in the set)
    assert a.prepare("\u201cs\u00fbr\u2026\u201d\u00a0ok") == '"s\u00fbr..." ok'


def test_accents_are_never_stripped_and_outside_the_set_is_one_error():
    a = Alphabet(CHARSET)
    with pytest.raises(UnsupportedCharactersError) as info:
        a.prepare("R\u012bga \u0101 and \u4e2d\n\u2603")  # Latvian macrons are not in the set
    assert info.value.positions == [("\u012b", 1, 2), ("\u0101", 1, 6), ("\u4e2d", 1, 12), ("\u2603", 2, 1)]
    assert info.value.lacking == "" and "lacks" not in str(info.value)
    assert a.prepare("R\u012bga ok", "skip") == "Rga ok"


def test_an_old_alphabet_refuses_what_it_lacks_of_the_set_and_says_so():
    a = Alphabet()  # IAM-OnDB's 79 characters, as older bundles
    for text in ("Cr\u00e8me", "j.price@example.org", "\u00a318", "x <= 7", "a \u2013 b", "\u00ab oui \u00bb", "Stra\u00dfe", "{x}"):
        with pytest.raises(UnsupportedCharactersError) as info:
            a.prepare(text)  # never mapped to something else (e -> e, @ -> nothing, { -> ( ...)
        assert info.value.lacking
    with pytest.raises(UnsupportedCharactersError) as info:
        a.prepare("Cr\u00e8me \u00e8 \u2603 5\u20ac", model="old-model", full_model="the bundled hwcli-synthesis")
    err = info.value
    assert [p[0] for p in err.positions] == ["\u00e8", "\u00e8", "\u2603", "\u20ac"] and err.lacking == "\u00e8\u20ac"
    msg = str(err)
    assert msg.startswith("4 unsupported character(s)") and "old-model lacks '\u00e8\u20ac'" in msg
    assert "the bundled hwcli-synthesis writes them" in msg and "--on-unsupported skip" in msg
    assert a.prepare("Cr\u00e8me at 5\u20ac", "skip") == "Crme at 5"
    assert a.lacking() == CHARSET[len(DEFAULT_CHARS):]


def test_charset_classes():
    assert len(CHARSET) == len(set(CHARSET)) == 236
    assert {char_class(c) for c in CHARSET} == set(CHAR_CLASSES) | {"symbols"}
    assert char_class("\u00e9") == "accented letters" and char_class("@") == "symbols" and char_class("\u00bf") == "punctuation"


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
