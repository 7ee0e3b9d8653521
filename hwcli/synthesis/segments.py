"""Long lines in segments: cut a line at spaces into even segments (`split_segments`), or a unit that lost its
end into two halves (`halves`), and the seeds of units (`unit_seed`)."""
from __future__ import annotations

import math

import numpy as np

from ..texts import unbreakable_words

SPLIT_SEED = 104_729  # mixed into the seeds of the halves a unit is split into (see `synthesize`)


def halves(text: str) -> list[str]:
    """`text` cut at the space nearest its middle into two parts (the text alone when it has no space); never
    before a lone closing or after a lone opening punctuation mark (`texts.unbreakable_words`)."""
    words = unbreakable_words(text)
    if len(words) < 2:
        return [text]
    ends = np.cumsum([len(w) + 1 for w in words[:-1]]) - 1  # where each cut's space is in the joined words
    total = sum(map(len, words)) + len(words) - 1
    k = min(range(len(ends)), key=lambda k: (abs(2 * int(ends[k]) - total), k))
    return [" ".join(words[: k + 1]), " ".join(words[k + 1:])]


def unit_seed(*parts: int) -> int:
    """A 63-bit seed mixed from non-negative integers (numpy's SeedSequence: stable across platforms)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint64)[0] >> 1)


def split_segments(text: str, max_chars: int) -> list[str]:
    """Cut `text` at spaces into the fewest segments of at most `max_chars` characters, as even in length as
    possible (the longest segment is as short as it can be). A line that fits, ``max_chars <= 0``, or a line
    with no space comes back whole; a single word longer than `max_chars` becomes a segment of its own."""
    words = unbreakable_words(text)  # a lone "?" or "»" never starts a segment
    if max_chars <= 0 or len(text) <= max_chars or len(words) < 2:
        return [text]

    def pack(cap: int) -> list[str]:
        segs: list[str] = []
        cur = ""
        for w in words:
            if cur and len(cur) + 1 + len(w) > cap:
                segs.append(cur)
                cur = w
            else:
                cur = f"{cur} {w}" if cur else w
        segs.append(cur)
        return segs

    n = len(pack(max_chars))
    total = sum(len(w) for w in words) + len(words) - 1
    for cap in range(max(max(len(w) for w in words), math.ceil((total - n + 1) / n)), max_chars):
        segs = pack(cap)  # greedy packing uses the fewest segments for a cap: the first cap that needs n wins
        if len(segs) <= n:
            return segs
    return pack(max_chars)
