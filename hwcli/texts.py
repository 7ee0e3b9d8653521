"""Built-in sentences shared by the library's parts, and what makes a text hard to write (imports nothing)."""
from __future__ import annotations

#: Ordinary sentences of 30-50 characters sampled in a style to measure its letters (letter width, body height)
#: and to score candidate priming lines: by model packaging for the bundled styles and by `hwcli styles add`.
CALIBRATION = (
    "It was a bright cold morning in the town",
    "She wrote a long letter to her brother",
    "The garden was full of apples and bees",
    "We will meet again at the station at noon",
    "The children ran down to the river after school",
    "A cup of tea and a quiet evening by the fire",
    "He found the key under the mat by the door",
    "Most of the shops close early on a Sunday",
)


#: a word of these alone ("gare ?", "oui »", "(voir p. 3 )") is never the first of a line or segment: it stays
#: with the word before it, as French typography's space before ? ! ; : and the closing guillemet does
CLOSING_ALONE = frozenset("?!;:.,)]}»›…")
#: ...and a word of these alone ("« oui", "( 3"), never the last: it stays with the word after it
OPENING_ALONE = frozenset("([{«‹¿¡")


def unbreakable_words(text: str) -> list[str]:
    """`text`'s words (split on whitespace, rejoined with one space) where a line may break between any two: a word
    made only of closing punctuation is joined to the word before it, one made only of opening punctuation to
    the word after it, so a line or segment never starts with a lone "?" or ends with a lone "«"."""
    out: list[str] = []
    pending = ""
    for w in text.split():
        if pending:
            w, pending = f"{pending} {w}", ""
        if out and all(c in CLOSING_ALONE for c in w):
            out[-1] = f"{out[-1]} {w}"
        elif all(c in OPENING_ALONE for c in w):
            pending = w
        else:
            out.append(w)
    if pending:  # opening punctuation at the very end has nothing to join
        if out:
            out[-1] = f"{out[-1]} {pending}"
        else:
            out.append(pending)
    return out


def is_key_char(c: str) -> bool:
    """A character a line is checked on strictly: a digit, or one the training data (IAM-OnDB) lacks (an accented
    letter, a symbol), which the network learnt from generated lines only and writes least reliably."""
    from .alphabet import DEFAULT_CHARS

    return c.isdigit() or (c not in DEFAULT_CHARS and not c.isspace())


#: Marks that carry a number's or a line's meaning though the data set has them (`key_positions`): a colon (a
#: time, a ratio, "Total:") and, between two digits, a decimal or thousands separator or a slash (a price, a
#: fraction, a date). The network often writes them as a mark a reader misses: the colon as one dot, the point
#: run into the next digit.
KEY_MARKS = ":"
NUMBER_MARKS = ".,/"


def key_positions(text: str) -> list[int]:
    """The indices of `text` a line is checked on strictly: its key characters (`is_key_char`), its colons, and
    the separators between two digits (`NUMBER_MARKS`: "3.80", "1,480", "3/4")."""
    out = []
    for i, c in enumerate(text):
        if is_key_char(c) or c in KEY_MARKS:
            out.append(i)
        elif c in NUMBER_MARKS and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            out.append(i)
    return out


def is_hard_text(text: str) -> bool:
    """Text holding a key character (`is_key_char`: a digit, an accented letter, a symbol the data set lacks) or
    at least two capitals: what the network writes worst. Sampling writes such a line
    or segment twice from the start (`SamplingOptions.hard_copies`); evaluation's hard reference lines are these."""
    return any(is_key_char(c) for c in text) or sum(c.isupper() for c in text) >= 2
