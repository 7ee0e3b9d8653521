"""Characters the model can write: encoding, typographic normalisation, unsupported characters."""
from __future__ import annotations

import unicodedata
from typing import Iterable

import numpy as np

from .errors import UnsupportedCharactersError

#: Every character of IAM-OnDB's transcriptions that is worth learning ('#' marks crossed-out words there).
DEFAULT_CHARS = " !\"%&'()*+,-./0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz"

#: The character set hwcli writes (issue 23): every printable ASCII character; the letters of the Latin alphabets
#: of Western and Central Europe (every Latin-1 letter; the Latin Extended-A/B letters of Polish, Czech, Slovak,
#: Hungarian, Romanian, Turkish, Croatian and Slovenian, with their capitals; French oe and Y-diaeresis); and the
#: symbols people type in letters, prices and notes. IAM-OnDB holds only `DEFAULT_CHARS`: the rest are taught
#: with generated lines (scripts/augment_charset.py). Order matters: a bundle's one-hot index is its position.
CHARSET = (
    DEFAULT_CHARS
    + "#$<=>@\\^_`{|}~"  # the rest of printable ASCII
    + "".join(chr(i) for i in range(0xC0, 0x100) if chr(i) not in "\u00d7\u00f7")  # Latin-1 letters
    + "ąćęłńśźżčďěňřšťůžőűăğışđĺľŕţ"  # Latin Extended-A (small)
    + "ĄĆĘŁŃŚŹŻČĎĚŇŘŠŤŮŽŐŰĂĞŞĐĹĽŔŢİ"  # and capitals (I with dot above: Turkish capital i)
    + "șțȘȚœŒŸ"  # Romanian comma-below s/t, French oe and Y-diaeresis
    + "€£¥¢°§¿¡«»–—•×÷±"  # symbols
)

def data_alphabet(ds) -> "Alphabet":
    """The alphabet a fresh training run on dataset `ds` takes: IAM-OnDB's (`DEFAULT_CHARS`) followed by the
    characters of `CHARSET` the data holds beyond it (generated lines: scripts/augment_charset.py), in CHARSET's
    order. A dataset of IAM-OnDB alone gives `DEFAULT_CHARS`."""
    seen = set().union(*map(set, ds.texts)) if len(ds.texts) else set()
    return Alphabet(DEFAULT_CHARS + "".join(c for c in CHARSET if c in seen and c not in DEFAULT_CHARS))


#: Classes of `CHARSET` for figures per class (hwcli eval --set charset).
CHAR_CLASSES = ("letters", "accented letters", "digits", "punctuation", "symbols")


def char_class(c: str) -> str:
    """One of `CHAR_CLASSES`: plain A-Z/a-z, other letters (accented, ß, æ, ı ...), 0-9, sentence punctuation,
    symbols (the rest: @ # $ % & / ...; the space too, which no figure counts)."""
    if c.isascii() and c.isalpha():
        return "letters"
    if c.isalpha():
        return "accented letters"
    if c.isdigit():
        return "digits"
    if c in _PUNCTUATION:
        return "punctuation"
    return "symbols"


_PUNCTUATION = ".,;:!?'\"()[]-\u2013\u2014\u00ab\u00bb\u00bf\u00a1"  # sentence punctuation; @ # / % & ... are symbols


# Typographic variants outside `CHARSET` -> what a hand writes for them (used only when the bundle's alphabet
# lacks the character itself). Characters of `CHARSET` are never mapped: a model that lacks one refuses it.
_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u200a": " ", "\u2002": " ", "\u2003": " ", "\u202f": " ",
    "\t": " ", "\u00bd": "1/2", "\u00bc": "1/4", "\u00be": "3/4", "\u00b7": ".", "\u200b": "", "\ufeff": "",
}
_SET = frozenset(CHARSET)
assert not _SET & set(_MAP), "a character of CHARSET is never mapped"


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
        """Compose decomposed accents (NFC: "e" + U+0301 -> "é") and map typographic variants outside `CHARSET`
        (curly quotes, odd spaces, ellipsis ...) that this alphabet lacks to what a hand writes for them. Nothing
        in the alphabet or in `CHARSET` is ever changed: what the alphabet lacks is left for `unsupported`."""
        out = []
        for c in unicodedata.normalize("NFC", text):
            if c in self._index or c == "\n" or c in _SET:
                out.append(c)
            else:
                out.append(_MAP.get(c, c))
        return "".join(out)

    def unsupported(self, text: str) -> list[tuple[str, int, int]]:
        """Every character (after `normalize`) that cannot be written, as (char, line, column), 1-based."""
        found = []
        for ln, line in enumerate(text.split("\n"), start=1):
            for col, c in enumerate(line, start=1):
                if c not in self._index and c not in "\r":
                    found.append((c, ln, col))
        return found

    def lacking(self) -> str:
        """The characters of `CHARSET` this alphabet lacks, in CHARSET's order ("" for a full-set model)."""
        return "".join(c for c in CHARSET if c not in self._index)

    def prepare(self, text: str, on_unsupported: str = "error", model: str | None = None,
                full_model: str | None = None) -> str:
        """Normalise `text`; raise UnsupportedCharactersError listing all leftovers, or drop them with 'skip'.
        `model` names this alphabet's model and `full_model` one that writes all of `CHARSET`, for the message
        about characters of the set that this model lacks (an older bundle)."""
        text = self.normalize(text.replace("\r\n", "\n").replace("\r", "\n"))
        bad = self.unsupported(text)
        if bad:
            if on_unsupported != "skip":
                raise UnsupportedCharactersError(bad, lacking="".join(dict.fromkeys(c for c, _, _ in bad if c in _SET)),
                                                 model=model, full_model=full_model)
            text = "".join(c for c in text if c in self._index or c == "\n")
        return text


def _combining(c: str) -> bool:
    return unicodedata.combining(c) > 0


class MarkAlphabet(Alphabet):
    """An alphabet read as *units*: every accented letter that Unicode decomposes into a letter of the alphabet
    plus combining marks (é = e + U+0301, ą = a + U+0328, İ = I + U+0307) is encoded as that letter followed by
    its marks, and each mark is one class shared by every letter that carries it. A reader then learns the
    acute once from é, á, ó, ś ... instead of each accented letter from its own few examples (the recognizer's
    counterpart of `hwcli train --share-marks`). Letters Unicode does not decompose (ł, ø, đ, ß, æ, ı ...) stay
    classes of their own.

    `chars` is the full alphabet (what the reader knows: ``c in alphabet``, saved in bundles); ``len()`` and
    `encode`/`decode` are over the units: the undecomposed characters in `chars`' order, then the marks in order
    of first use. `decode` composes (NFC) and drops a mark that composes into no character of the alphabet
    (e.g. one read after a space).
    """

    def __init__(self, chars: str = DEFAULT_CHARS):
        super().__init__(chars)
        split: dict[str, str] = {}
        for c in chars:
            d = unicodedata.normalize("NFD", c)
            if len(d) > 1 and d[0] in self._index and all(_combining(m) for m in d[1:]):
                split[c] = d
        marks = "".join(dict.fromkeys(m for d in split.values() for m in d[1:]))
        self.units = "".join(c for c in chars if c not in split) + marks
        self._split = split
        self._unit_index = {u: i + 1 for i, u in enumerate(self.units)}

    def __len__(self) -> int:
        """Number of classes (units), padding included."""
        return len(self.units) + 1

    def unit_text(self, text: str) -> str:
        """`text` as units: each decomposable letter replaced by its letter and marks."""
        return "".join(self._split.get(c, c) for c in text)

    def encode(self, text: str) -> np.ndarray:
        units = self.unit_text(text)
        return np.fromiter((self._unit_index[u] for u in units), dtype=np.int64, count=len(units))

    def decode(self, idx: Iterable[int]) -> str:
        units = "".join(self.units[i - 1] for i in idx if 0 < i <= len(self.units))
        composed = unicodedata.normalize("NFC", units)
        return "".join(c for c in composed if not _combining(c) and (c in self._index or c == " "))
