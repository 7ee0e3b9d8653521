"""Growing a trained network's alphabet (hwcli/model/grow.py, train --init --grow-alphabet)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hwcli.alphabet import CHARSET, DEFAULT_CHARS, Alphabet
from hwcli.model.grow import grow_recognizer_state, grow_synthesis_state, grown, seed_char
from hwcli.model.network import NetworkConfig, build_network
from hwcli.recognizer.network import Recognizer, RecognizerConfig


def test_grown_alphabet_keeps_the_old_indices_and_covers_the_set():
    old = Alphabet(DEFAULT_CHARS)
    new = grown(old)
    assert new.chars.startswith(old.chars) and set(new.chars) == set(CHARSET)
    assert (new.encode("Hello, 42") == old.encode("Hello, 42")).all()


@pytest.mark.parametrize("c,seed", [("é", "e"), ("Ł", "L"), ("ø", "o"), ("€", "C"), ("¿", "?"), ("ß", "B"),
                                    ("ı", "i"), ("İ", "I"), ("ș", "s"), ("[", "("), ("#", "+")])
def test_each_new_character_starts_from_the_one_it_is_written_most_like(c, seed):
    assert seed_char(c, Alphabet(DEFAULT_CHARS)) == seed


def _text(alpha, texts):
    idx = torch.zeros(len(texts), max(map(len, texts)), dtype=torch.long)
    for i, t in enumerate(texts):
        idx[i, : len(t)] = torch.from_numpy(alpha.encode(t))
    oh = F.one_hot(idx, len(alpha)).float()
    oh[..., 0] = 0
    return oh


def test_a_grown_synthesis_network_writes_old_text_as_before_and_new_characters_like_their_seeds():
    torch.manual_seed(0)
    old, new = Alphabet(DEFAULT_CHARS), grown(Alphabet(DEFAULT_CHARS))
    cfg = NetworkConfig(hidden=16, layers=2, window_k=3, mixtures=4, alphabet_size=len(old))
    a = build_network(cfg).eval()
    b = build_network(NetworkConfig(**{**cfg.to_dict(), "alphabet_size": len(new)})).eval()
    b.load_state_dict(grow_synthesis_state(a.state_dict(), old, new))
    x = torch.randn(2, 12, 3)
    with torch.no_grad():
        ya, _, _ = a(x, _text(old, ["hello there", "cafe"]))
        yb, _, _ = b(x, _text(new, ["hello there", "cafe"]))
        yc, _, _ = b(x, _text(new, ["hello there", "café"]))
    torch.testing.assert_close(ya, yb, rtol=1e-5, atol=1e-5)
    # é starts as an e plus a little noise: close to, but not the same as, "cafe"
    assert 0 < (yc - yb).abs().max() < 0.1 * yb.abs().max()


def test_a_grown_recognizer_keeps_its_old_classes_and_starts_new_ones_less_likely_than_their_seeds():
    torch.manual_seed(0)
    old, new = Alphabet(DEFAULT_CHARS), grown(Alphabet(DEFAULT_CHARS))
    cfg = RecognizerConfig(conv_channels=8, hidden=8, layers=1, alphabet_size=len(old))
    a = Recognizer(cfg)
    st = grow_recognizer_state(a.state_dict(), old, new)
    assert st["out.weight"].shape[0] == len(new)
    np.testing.assert_array_equal(st["out.weight"][: len(old)].numpy(), a.state_dict()["out.weight"].numpy())
    e, e_acute = old.encode("e")[0], new.encode("é")[0]
    assert st["out.bias"][e_acute] < st["out.bias"][e] - 1.0
    Recognizer(RecognizerConfig(**{**cfg.to_dict(), "alphabet_size": len(new)})).load_state_dict(st)


def test_grow_alphabet_needs_init():
    from hwcli.errors import OptionError
    from hwcli.training.synthesis import TrainOptions

    with pytest.raises(OptionError, match="--grow-alphabet needs --init"):
        TrainOptions(grow_alphabet=True)


def test_marks_apart_share_one_class_per_mark_and_read_back_composed():
    from hwcli.alphabet import MarkAlphabet

    a = MarkAlphabet(CHARSET)
    assert a.chars == CHARSET and "é" in a and "ł" in a
    # 96 accented letters become their letter and one of 13 marks; ł ø đ ß æ ı ... keep classes of their own
    assert len(a) == 141 and "é" not in a.units and "ł" in a.units and "\u0301" in a.units
    assert a.encode("é").tolist() == [a.encode("e")[0], a.encode("á")[1]]  # e + the acute that á also uses
    for text in ("Crème brûlée", "Łódź", "İstanbul, şişe, ș ț", "Ÿ æ ø ß", "plain text 12.5%"):
        assert a.decode(a.encode(text)) == text
    acute = a.encode("é")[1]
    # a mark read after a space or on a letter it never sits on in the set composes into nothing: dropped
    assert a.decode([acute, a.encode("q")[0], acute, a.encode(" ")[0], acute]) == "q "
    assert a.decode(a.encode("e")) == "e" and Alphabet(CHARSET).decode(Alphabet(CHARSET).encode("é")) == "é"


def test_a_recognizer_split_into_marks_keeps_its_letters_and_starts_marks_from_their_carriers():
    from hwcli.alphabet import MarkAlphabet
    from hwcli.model.grow import split_marks_state

    torch.manual_seed(0)
    old, new = Alphabet(CHARSET), MarkAlphabet(CHARSET)
    cfg = RecognizerConfig(conv_channels=8, hidden=8, layers=1, alphabet_size=len(old))
    net = Recognizer(cfg)
    st = split_marks_state(net.state_dict(), old, new)
    w = net.state_dict()["out.weight"]
    assert st["out.weight"].shape[0] == len(new) == 141
    for c in "ea#ł€":
        assert torch.equal(st["out.weight"][new.encode(c)[0]], w[old.encode(c)[0]]), c
    ring = new.encode("å")[1]  # å Å ů Ů carry the ring
    carriers = [old.encode(c)[0] for c in "åÅůŮ"]
    assert torch.allclose(st["out.weight"][ring], w[carriers].mean(0))
    Recognizer(RecognizerConfig(**{**cfg.to_dict(), "alphabet_size": len(new), "split_marks": True})).load_state_dict(st)
    with pytest.raises(ValueError, match="grow"):
        split_marks_state(Recognizer(cfg).state_dict(), old, MarkAlphabet(DEFAULT_CHARS))
