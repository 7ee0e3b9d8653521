"""Choosing between checkpoints by how their writing reads, not by their loss.

Past a point, a lower validation NLL made the bundled network's samples read worse (the recipe records it), so
`hwcli train --select readback` and `scripts/score_checkpoints.py` score a network by sampling a fixed set of lines
and reading them back. The set is kept apart from `hwcli eval`'s built-in sentences, so that the eval figures of
the chosen network are not flattered by the choice: ordinary lines are testset_v transcriptions (no training
line), hard lines are generated from templates (dates, times, phone numbers, prices, addresses, all-caps).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NAMES = ("Alice", "Ben", "Clara", "David", "Emma", "Felix", "Grace", "Henry", "Iris", "James", "Kate", "Liam",
          "Maya", "Noah", "Olive", "Peter", "Quinn", "Rosa", "Sam", "Tessa", "Umar", "Vera", "Will", "Xavier",
          "Yusuf", "Zara")
_STREETS = ("High Street", "Mill Lane", "Park Road", "Queens Avenue", "Victoria Road", "Church Walk",
            "King Street", "Orchard Close", "Yew Tree Drive", "Jubilee Way", "Zetland Place", "Elm Row")
_TOWNS = ("York", "Bristol", "Exeter", "Zurich", "Quebec", "Kendal", "Oxford", "Ulm", "Jena", "Vienna", "Rugby",
          "Ipswich", "Galway", "Dover", "Wells")
_CAPS = ("QUICK", "ZEBRA", "JUMPS", "OXEN", "VIEW", "YARD", "EXIT", "QUAY", "KEEP", "CLEAR", "WORKS", "JOLLY",
         "BOX", "FIZZ", "ROYAL", "UNDER", "VOTE", "GUARD", "HOLD", "MAKE", "PRIVATE", "DANGER", "NOTICE", "SALE")
_ITEMS = ("apples", "pens", "tickets", "chairs", "books", "lamps", "stamps", "plates")


def _n(rng: np.random.Generator, digits: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, digits))


def _pick(rng: np.random.Generator, seq: Sequence[str]) -> str:
    return seq[int(rng.integers(len(seq)))]


def _minutes(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(60)):02d}"


def _postcode(rng: np.random.Generator) -> str:
    up = "ABCDEFGHJKLMNOPRSTUWYZ"
    return (f"{_pick(rng, up)}{_pick(rng, up)}{int(rng.integers(1, 30))} "
            f"{int(rng.integers(1, 10))}{_pick(rng, up)}{_pick(rng, up)}")


def _hard_line(rng: np.random.Generator) -> str:
    kind = int(rng.integers(8))
    if kind == 0:
        return (f"Call {_n(rng, 4)} {_n(rng, 3)} {_n(rng, 4)} before {int(rng.integers(1, 13))}:"
                f"{_minutes(rng)} on {int(rng.integers(1, 29))} {_pick(rng, _MONTHS)}.")
    if kind == 1:
        return f"{int(rng.integers(1, 200))} {_pick(rng, _STREETS)}, {_pick(rng, _TOWNS)} {_postcode(rng)}"
    if kind == 2:
        return (f"Invoice {_n(rng, 5)}: {int(rng.integers(1, 999))}.{_n(rng, 2)} due "
                f"{int(rng.integers(1, 29)):02d}/{int(rng.integers(1, 13)):02d}/{_n(rng, 2)}")
    if kind == 3:
        return " ".join(_CAPS[int(i)] for i in rng.choice(len(_CAPS), int(rng.integers(3, 5)), replace=False))
    if kind == 4:
        return (f"{_pick(rng, _DAYS)} {int(rng.integers(1, 32))} {_pick(rng, _MONTHS)} "
                f"{int(rng.integers(1900, 2100))}, {int(rng.integers(1, 13))}:{_minutes(rng)} pm")
    if kind == 5:
        return (f"{int(rng.integers(2, 60))} {_pick(rng, _ITEMS)} at {int(rng.integers(1, 90))}.{_n(rng, 2)} "
                f"each, {int(rng.integers(5, 95))}% off")
    if kind == 6:
        return f"Ask {_pick(rng, _NAMES)} for room {int(rng.integers(1, 900))}, floor {int(rng.integers(1, 40))}."
    return f"Ring {_pick(rng, _NAMES)} on {_n(rng, 5)} {_n(rng, 6)} after {int(rng.integers(1, 12))}."


def hard_lines(n: int, seed: int = 0) -> list[str]:
    """`n` generated hard lines (never `hwcli eval`'s own hard set), the same for the same seed."""
    rng = np.random.default_rng([seed, 4242])
    return [_hard_line(rng) for _ in range(n)]


_WORDS_ACCENTED = ("café", "naïve", "über", "Müller", "façade", "Åsa", "señor", "Ørsted", "Łukasz", "Zoë",
                   "Dvořák", "Šťastný", "Göbel", "Ærø", "Bjørn", "crêpe", "Mañana", "Kraków", "Straße", "Ærlig",
                   "Hôtel", "Ćwiek", "Žilina", "Ştefan", "Ţară", "Örsöd", "Győr", "Iğdır", "Ísafjörður", "Þór",
                   "Çelik", "Mœurs", "Ďurovič", "Ľubica", "Ňuňo", "Ŕeka", "Đorđe", "Èze", "Ìsola", "Ýmir", "Ÿves",
                   "Ùrsula", "Îles", "Âge", "Ãna", "Õun", "Ëlo", "Ïda", "Ñandú", "Ůvoz")
_SYMBOL_LINES = (
    "mail {n}@{w}.org or {w}_{n}@{w}.net", "{n}% off, now £{n}.{d} (was €{n})", "{n}°C at {h}:{d} # {n}",
    "x = {n} + {n} and y <= {n} > z", "path C:\\{w}\\{w} | {w} ~ {n}", "¥{n} = ${n}.{d} ± {n}¢",
    "§ {n}: «{w}» – {w} — {w}", "¿{w}? ¡{w}! • {n} × {n} ÷ {n}", "[{w}] {{{w}}} ^{n} * {n}/{n}",
    "{n} & {n}, {w}/{w}, {w}+{w}", "{W} {W}-{n}{W} Q{n} X{n} Z{n} J{n}", "`{w}` «{w}» {n}:{d}",
)


def charset_lines(n: int, seed: int = 0) -> list[str]:
    """`n` generated lines that hold the characters IAM-OnDB lacks (accented words, symbols, weak capitals), for
    choosing weights trained on them (never `hwcli eval`'s own charset or everyday sets). The same for a seed."""
    rng = np.random.default_rng([seed, 4244])
    words = ("note", "price", "room", "order", "home", "main", "shop", "list", "tea", "cake", "road", "plan")
    out = []
    for k in range(n):
        if k % 2:
            ws = [_pick(rng, _WORDS_ACCENTED) for _ in range(int(rng.integers(3, 6)))]
            out.append(" ".join(ws))
            continue
        t = _pick(rng, _SYMBOL_LINES)
        while any(f in t for f in ("{n}", "{d}", "{h}", "{w}", "{W}")):
            t = (t.replace("{n}", str(int(rng.integers(1, 500))), 1).replace("{d}", f"{int(rng.integers(100)):02d}", 1)
                 .replace("{h}", str(int(rng.integers(1, 13))), 1).replace("{w}", _pick(rng, words), 1)
                 .replace("{W}", _pick(rng, ("QXZ", "ZJ", "XQ", "JAZZ", "QUIZ", "ZOO", "XYZ")), 1))
        out.append(t.replace("{{", "{").replace("}}", "}"))
    return out


def ordinary_lines(texts: Sequence[str], n: int, seed: int = 0, lo: int = 25, hi: int = 60) -> list[str]:
    """`n` of `texts` (e.g. testset_v transcriptions) with lo..hi characters, picked by a seeded shuffle."""
    pool = sorted({" ".join(t.split()) for t in texts if lo <= len(" ".join(t.split())) <= hi})
    order = np.random.default_rng([seed, 4243]).permutation(len(pool))
    return [pool[i] for i in order[:n]]


def readback_score(bundle, recognizer, ordinary: Sequence[str], hard: Sequence[str], tesseract: bool = False,
                   seed: int = 0, check: bool = False, charset: Sequence[str] = ()) -> dict:
    """Sample both sets in the bundle's default style at its default bias (by default no self-check: it would hide
    what the network itself writes; `check` samples as `hwcli write` does) and read them back. Returns the CERs per
    set and reader and ``readback_cer``, their mean: the figure to minimise. `charset` lines (`charset_lines`) count
    as a third set when given."""
    from .legibility import evaluate

    bias = bundle.sampling.bias
    out: dict = {}
    cers = []
    for name, lines in (("ordinary", ordinary), ("hard", hard), ("charset", charset)):
        if not lines:
            continue
        langs = "eng"
        if tesseract and name == "charset":  # accented letters: the language data that knows them
            from .ocr import accent_languages

            langs = accent_languages()
        row = evaluate(bundle, recognizer, list(lines), None, bias, check, seed=seed, tesseract=tesseract,
                       ocr_languages=langs)
        out[f"readback_{name}_cer"] = row.cer
        if name == "charset":  # the share of accented letters and of symbols read right
            out["readback_charset_accented"] = _accuracy(row.set_classes, "accented letters")
            out["readback_charset_symbols"] = _accuracy(row.set_classes, "symbols")
        out[f"readback_{name}_digits"] = _accuracy(row.classes, "digits")
        cers.append(row.cer)
        if tesseract:
            out[f"readback_{name}_ocr_cer"] = row.ocr_cer
            out[f"readback_{name}_ocr_digits"] = _accuracy(row.ocr_classes, "digits")
            if name == "charset":
                out["readback_charset_ocr_accented"] = _accuracy(row.ocr_set_classes, "accented letters")
            cers.append(row.ocr_cer)
    out["readback_cer"] = float(np.mean(cers)) if cers else float("nan")
    return out


def readback_scorer(ds, n: int = 40, seed: int = 0, tesseract: bool = False,
                    recognizer=None) -> Callable[[object], dict]:
    """For `hwcli train --select readback`: a function bundle -> `readback_score` on `n` testset_v lines of the
    converted dataset `ds` (all its texts when it has no such lines of a page's length) and `n` hard lines."""
    from ..data.dataset import VALID_SPLIT
    from ..recognizer.network import load_recognizer

    valid = [t for t, sp in zip(ds.texts, ds.splits) if sp == VALID_SPLIT] or list(ds.texts)
    ordinary = ordinary_lines(valid, n, seed) or ordinary_lines(valid, n, seed, 1, 10**6)
    hard = hard_lines(n, seed)
    reader = recognizer if recognizer is not None else load_recognizer()

    def score(bundle) -> dict:
        return readback_score(bundle, reader, ordinary, hard, tesseract=tesseract, seed=seed)

    return score


def _accuracy(classes: dict | None, name: str) -> float | None:
    return ((classes or {}).get(name) or {}).get("accuracy")
