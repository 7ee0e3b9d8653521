"""Growing a trained network's alphabet: new characters join without forgetting the old ones.

`hwcli train --init BUNDLE --grow-alphabet` and `hwcli train-recognizer --init BUNDLE --grow-alphabet` start from
a bundle whose alphabet is IAM-OnDB's and continue it with hwcli's whole character set (`alphabet.CHARSET`). The
old characters keep their one-hot index (a grown alphabet is the old one followed by the new characters), so every
trained weight keeps its meaning; only the weights that touch the characters get new slots:

- synthesis: the window vector ``w`` (Graves eq. 47, one entry per character) feeds layer 1 (``l1_wh``: columns
  ``[0, C)`` of ``[w, h]``) and every upper layer (``weight_ih``: columns ``[3, 3 + C)`` of ``[x, w, h]``);
- recognizer: the output layer has one row (and bias) per CTC class.

A new character's slot starts as a copy of its *seed*, the character it is written most like (é from e, Ł from L,
€ from C, ¿ from ?), plus a little noise so the two can part: the network starts out writing (or reading) é as an e
and learns the accent, instead of starting from nothing. A character with no seed starts from zeros (synthesis:
the window then adds nothing while the network learns it) or from the mean row (recognizer), with the noise.
The recognizer's new rows get their bias lowered by `NEW_BIAS_SHIFT`, so before training it still reads e where
it sees an e.
"""
from __future__ import annotations

import unicodedata

import torch

from ..alphabet import CHARSET, Alphabet, MarkAlphabet

# characters with no Unicode decomposition -> the one they are written most like
_SEEDS = {
    "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "æ": "a", "Æ": "A", "œ": "o", "Œ": "O",
    "ß": "B", "ð": "d", "Ð": "D", "þ": "p", "Þ": "P", "€": "C", "£": "L", "¥": "Y", "¢": "c", "°": "o", "§": "S",
    "¿": "?", "¡": "!", "«": "'", "»": "'", "–": "-", "—": "-", "•": ".", "×": "x", "÷": "+", "±": "+", "$": "S",
    "@": "a", "=": "-", "_": "-", "~": "-", "|": "l", "\\": "/", "{": "(", "}": ")", "`": "'", "[": "(", "]": ")",
    "<": "(", ">": ")", "^": "'", "#": "+",
}
NOISE = 0.05  # new slots: seed + NOISE * (the old slots' standard deviation) * N(0, 1)
NEW_BIAS_SHIFT = 2.0  # recognizer: a new class starts this much less likely than its seed


def seed_char(c: str, alphabet: Alphabet) -> str | None:
    """The character of `alphabet` that `c` is written most like (its base letter, or `_SEEDS`), or None."""
    base = "".join(ch for ch in unicodedata.normalize("NFD", c) if not unicodedata.combining(ch))
    for cand in (base if base != c else "", _SEEDS.get(c, "")):
        if cand and len(cand) == 1 and cand in alphabet:
            return cand
    s = _SEEDS.get(c)
    if s and s not in alphabet and s in _SEEDS:  # a seed that is itself new (e.g. [ -> ( ): follow it once
        s = _SEEDS[s]
    return s if s and s in alphabet else None


def grown(old: Alphabet, target: str = CHARSET) -> Alphabet:
    """`old` followed by the characters of `target` it lacks, in `target`'s order."""
    return Alphabet(old.chars + "".join(c for c in target if c not in old))


def _new_slots(old_w: torch.Tensor, dim: int, start: int, old_alpha: Alphabet, new_alpha: Alphabet,
               gen: torch.Generator, fallback: str) -> torch.Tensor:
    """`old_w` with the character slots along `dim` (old ones at [start, start + len(old_alpha))) grown to
    len(new_alpha): old slots kept, new slots seeded (see module docstring)."""
    C0, C1 = len(old_alpha), len(new_alpha)
    w = old_w.movedim(dim, 0)
    head, chars, tail = w[:start], w[start:start + C0], w[start + C0:]
    scale = chars[1:].std().item() if C0 > 2 else 1.0
    extra = []
    for c in new_alpha.chars[C0 - 1:]:
        s = seed_char(c, old_alpha)
        if s is not None:
            base = chars[old_alpha.encode(s)[0]]
        elif fallback == "mean":
            base = chars[1:].mean(0)
        else:
            base = torch.zeros_like(chars[0])
        noise = torch.randn(base.shape, generator=gen, dtype=base.dtype) * NOISE * scale
        extra.append(base + noise)
    out = torch.cat([head, chars, torch.stack(extra) if extra else chars[:0], tail], 0)
    assert out.shape[0] == w.shape[0] + C1 - C0
    return out.movedim(0, dim).contiguous()


def _start(state: dict, old: Alphabet, new: Alphabet, seed: int) -> tuple[torch.Generator, dict]:
    """(the seeded generator of the new slots' noise, a copy of `state` to grow); `new` must start with `old`."""
    if new.chars[: len(old.chars)] != old.chars:
        raise ValueError("a grown alphabet must start with the old one")
    return torch.Generator().manual_seed(seed), dict(state)


def grow_synthesis_state(state: dict, old: Alphabet, new: Alphabet, seed: int = 0) -> dict:
    """A synthesis network's state_dict for alphabet `new` (which starts with `old`)."""
    gen, out = _start(state, old, new, seed)
    out["l1_wh.weight"] = _new_slots(state["l1_wh.weight"], 1, 0, old, new, gen, "zeros")
    for k in state:
        if k.startswith("stack.upper.") and k.endswith("weight_ih_l0"):
            out[k] = _new_slots(state[k], 1, 3, old, new, gen, "zeros")
    return out


def grow_recognizer_state(state: dict, old: Alphabet, new: Alphabet, seed: int = 0) -> dict:
    """A recognizer's state_dict for alphabet `new` (which starts with `old`): output rows per CTC class."""
    gen, out = _start(state, old, new, seed)
    out["out.weight"] = _new_slots(state["out.weight"], 0, 0, old, new, gen, "mean")
    b = _new_slots(state["out.bias"].unsqueeze(1), 0, 0, old, new, gen, "mean").squeeze(1)
    b[len(old):] -= NEW_BIAS_SHIFT
    out["out.bias"] = b
    return out


def split_marks_state(state: dict, old: Alphabet, new: MarkAlphabet) -> dict:
    """A recognizer's state_dict whose classes are `old`'s characters, for the letters-and-marks classes of
    `new` (same characters, `hwcli.alphabet.MarkAlphabet`). A letter or undecomposed character keeps its row;
    a mark's row starts as the mean of the rows of the accented letters that carry it (they fired where a
    letter and its mark were written, the nearest thing the old reader has to "a mark here")."""
    if old.chars != new.chars:
        raise ValueError("split_marks_state keeps the characters: grow the alphabet first")
    out = dict(state)
    w, b = state["out.weight"], state["out.bias"]
    rows, biases = [w[0]], [b[0]]  # class 0: the CTC blank
    for u in new.units:
        if u in old:
            k = old.encode(u)[0]
            rows.append(w[k])
            biases.append(b[k])
        else:
            carriers = [old.encode(c)[0] for c in old.chars if u in unicodedata.normalize("NFD", c)[1:]]
            rows.append(w[carriers].mean(0))
            biases.append(b[carriers].mean())
    out["out.weight"] = torch.stack(rows)
    out["out.bias"] = torch.stack(biases)
    return out
