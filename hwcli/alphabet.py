"""Characters the model can write: encoding, typographic normalisation, unsupported characters."""
from __future__ import annotations

import unicodedata
from typing import Iterable

import numpy as np

from .errors import UnsupportedCharactersError

#: Every character of IAM-OnDB's transcriptions that is worth learning ('#' marks crossed-out words there).
DEFAULT_CHARS = " !\"%&'()*+,-./0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz"

# Typographic variants the model never saw -> what a hand writes for them.
_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u200a": " ", "\u2002": " ", "\u2003": " ", "\u202f": " ",
    "\t": " ", "\u00d7": "x", "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u0153": "oe", "\u0152": "OE",
    "\u00f8": "o", "\u00d8": "O", "\u0142": "l", "\u0141": "L", "\u00bd": "1/2", "\u00bc": "1/4", "\u00be": "3/4",
    "{": "(", "}": ")", "<": "(", ">": ")", "\u2022": "-", "\u00b7": ".", "\u200b": "", "\ufeff": "",
}


class Alphabet:
    """Index 0 is padding; character ``chars[i]`` has index ``i + 1``."""

    def __init__(self, chars: str = DEFAULT_CHARS):
        if len(set(chars)) != len(chars):
            raise ValueError("alphabet has repeated characters")
        self.chars = chars
        self._index = {c: i + 1 for i, c in enumerate(chars)}

    def __len__(self) -> int:
        """Number of one-hot classes, padding included."""
        return len(self.chars) + 1

    def __contains__(self, c: str) -> bool:
        return c in self._index

    def encode(self, text: str) -> np.ndarray:
        """int64 (U,) indices; every character must be in the alphabet (see `prepare`)."""
        return np.fromiter((self._index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, idx: Iterable[int]) -> str:
        return "".join(self.chars[i - 1] for i in idx if 0 < i <= len(self.chars))

    # ------------------------------------------------------------------ user text
    def normalize(self, text: str) -> str:
        """Map typographic variants and accented letters to characters of the alphabet where possible."""
        out = []
        for c in text:
            if c in self._index or c == "\n":
                out.append(c)
                continue
            if c in _MAP:
                out.append(_MAP[c])
                continue
            # accented letters: decompose and drop the combining marks (é -> e, Å -> A)
            base = "".join(ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch))
            if base and all(ch in self._index for ch in base):
                out.append(base)
            else:
                out.append(c)
        return "".join(out)

    def unsupported(self, text: str) -> list[tuple[str, int, int]]:
        """Every character (after `normalize`) that cannot be written, as (char, line, column), 1-based."""
        found = []
        for ln, line in enumerate(text.split("\n"), start=1):
            for col, c in enumerate(line, start=1):
                if c not in self._index and c not in "\r":
                    found.append((c, ln, col))
        return found

    def prepare(self, text: str, on_unsupported: str = "error") -> str:
        """Normalise `text`; raise UnsupportedCharactersError listing all leftovers, or drop them with 'skip'."""
        text = self.normalize(text.replace("\r\n", "\n").replace("\r", "\n"))
        bad = self.unsupported(text)
        if bad:
            if on_unsupported != "skip":
                raise UnsupportedCharactersError(bad)
            text = "".join(c for c in text if c in self._index or c == "\n")
        return text
