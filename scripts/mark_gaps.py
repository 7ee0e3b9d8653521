"""Does the reader see a point, a colon, a t's bar, a degree sign, an underscore? The gap around each mark (from the
attention alignment) against whether tesseract read it, and the lines read again with
`hwcli.synthesis.spacing.space_marks`; the width of each t's crossbar against whether the t was read, and the lines
read again with `hwcli.synthesis.bars.cross_bars`; symbol lines read without and with the room after a degree sign
and with `hwcli.synthesis.bars.underline`: the measurements behind the room `hwcli write` gives points, colons and
degree signs, the length of its t-bars and the height of its underscores.

    python scripts/mark_gaps.py sample --set marks --seed 0 --copies 6 -o m0.pkl   # ~25 s a copy of 40 lines
    python scripts/mark_gaps.py report m0.pkl [more.pkl ...]   # gap bins, then the lines with and without room
    python scripts/mark_gaps.py bars c0.pkl [more.pkl ...]     # bar-width bins, then the lines with bars lengthened
    python scripts/mark_gaps.py sample --set symbols --seed 0 -o s0.pkl
    python scripts/mark_gaps.py symbols s0.pkl [more.pkl ...]  # degree signs, underscores, < >, signs: without, with
    python scripts/mark_gaps.py dots c0.pkl [more.pkl ...]     # colons whose dots are crammed: without and with parting
    python scripts/mark_gaps.py specks m0.pkl [more.pkl ...]   # points and colon dots drawn as specks: without and with loops
    python scripts/mark_gaps.py sample --set stems --seed 0 -o t0.pkl
    python scripts/mark_gaps.py stems t0.pkl [more.pkl ...]    # "It", "If": without and with room after the I
    python scripts/mark_gaps.py sample --set below --seed 0 -o b0.pkl
    python scripts/mark_gaps.py below b0.pkl [more.pkl ...]    # ç ş ą ę ș ț: without and with the mark moved under
    python scripts/mark_gaps.py sample --set eszett --seed 0 --copies 3 -o z0.pkl
    python scripts/mark_gaps.py eszett z0.pkl [more.pkl ...]   # ß: without and with it set on the line
    python scripts/mark_gaps.py users --set eszett --seed 4    # written as users get them, without and with seat_letters

Sets (selection lines, never `hwcli eval`'s): `marks`, `selection.hard_lines` and `charset_lines` (seed 300 + s)
holding a point or colon; `addresses`, e-mail and web addresses, times and scores; `colons`, lines opening with a
word and a colon ("Note: ..."); `closers`, a ! or ? closing a word; `comparisons`, a < or > against an =
("x >= 10"); `symbols`, lines with dashes, ± × ÷ = +, bullets, underscores, degree signs and yen; `signs`, a minus,
plus or plus-minus sign opening a number ("-4°C", "+44"); `hyphens`, a hyphen joining two words, letters or numbers
("well-known", "INV-2027-0419"); `stems`, a capital I with a t or f after it ("It", "If"); `below`, words with
a cedilla, ogonek or comma below ("mąka", "garçon", "şeker", "oraș"); `eszett`, German words with a ß ("Straße",
"weiß", "heißt"). Copies are sampled
with the check off (`hwcli-charset`, style 2) and drawn raw (the network's own placement: neither room nor bars); `report` reads every copy again with
the room given, `bars` reads the copies with a short bar again, with the room given, with and without the bars
lengthened, `dots` the copies with a colon's two dots crammed together, with every other step, without and with
them parted (`hwcli.synthesis.bars.part_colons`), `specks` the copies with a point or colon dot drawn as a speck,
without and with it drawn as a small loop (`bars.bold_points`), `stems` the copies with every step, without and
with room between an I and the t or f after it (`hwcli.synthesis.spacing.stem_room`), `below` the copies with every
step before, without and with the marks below moved under their letters (`bars.lower_marks`), `eszett` the copies
with every step before, how high each ß's foot is and the lines without and with it set on the line
(`bars.seat_letters`). `users` writes a set's lines as users get them (`hwcli write`: the default style, the
self-check on), without and with one placement step, and reads both.
"""
from __future__ import annotations

import argparse
import collections
import difflib
import pickle
import sys
import time

import numpy as np

from hwcli.strokes import SMALL_LETTERS

KINDS = ("point between digits", "colon between digits", "point in a word", "colon in a word", "colon closing a word",
         "! or ? closing a word")
LED = ("colon closing a word", "! or ? closing a word")  # measured by the gap before them
BINS = (-9.0, 0.0, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 9.0)


def kind_of(text: str, k: int) -> str | None:
    """Which of `KINDS` the character at `k` is (None: not a mark this script measures)."""
    c = text[k]
    if c in "!?" and k and not text[k - 1].isspace():
        return "! or ? closing a word"
    if c not in ".:" or k == 0:
        return None
    a = text[k - 1]
    b = text[k + 1] if k + 1 < len(text) else " "
    if a.isdigit() and b.isdigit():
        return "point between digits" if c == "." else "colon between digits"
    if not a.isspace() and not b.isspace():
        return "point in a word" if c == "." else "colon in a word"
    if c == ":" and not a.isspace() and not a.isdigit():
        return "colon closing a word"
    return None


def read_right(text: str, reading: str) -> list[bool]:
    """Per character of `text`: matched in `reading` by a minimal edit alignment, as `hwcli eval`'s per-character
    tables count it (`hwcli.recognizer.reading.alignment`)."""
    from hwcli.recognizer.reading import alignment

    return alignment(text, reading)[1]


def mark_gaps(strokes: np.ndarray, chars: np.ndarray, text: str) -> list[tuple[int, str, float, float]]:
    """(index, kind, gap before, gap after) of each measured mark of one line: the horizontal clearance between the
    mark's ink and its neighbours' (each stroke belongs to the character most of its points were written on), in
    units of the neighbours' height (for a colon closing a word: of the x-height of the word before it)."""
    from hwcli.synthesis.spacing import stroke_owners

    pts, comps, owner = stroke_owners(strokes, chars)

    def ink(cs):
        js = np.flatnonzero(np.isin(owner, cs))
        return np.concatenate([pts[comps[j][0]:comps[j][1]] for j in js]) if len(js) else None

    out = []
    for k in range(len(text)):
        kind = kind_of(text, k)
        if kind is None:
            continue
        before, mark, after = ink([k - 1]), ink([k]), ink([k + 1])
        if before is None or mark is None:
            continue
        if kind in LED:
            ref, after = ink([i for i in range(max(k - 6, 0), k) if text[i] in SMALL_LETTERS]), None
        else:
            ref = None if after is None else np.concatenate([before, after])
        if ref is None:
            continue
        h = float(np.percentile(ref[:, 1], 95) - np.percentile(ref[:, 1], 5))
        if h <= 0:
            continue
        gap_before = (mark[:, 0].min() - before[:, 0].max()) / h
        gap_after = np.nan if after is None else (after[:, 0].min() - mark[:, 0].max()) / h
        out.append((k, kind, float(gap_before), float(gap_after)))
    return out


def gap_table(rows: list[dict]) -> dict[str, list[tuple[float, float, int, float]]]:
    """Per kind: (low, high, marks, share read right) per bin of the gap that decides it (after the mark; before
    it for a colon, ! or ? closing a word, where read right means read, with no space read before it)."""
    seen = collections.defaultdict(list)
    for r in rows:
        ok = read_right(r["text"], r["ocr"])
        for k, kind, before, after in mark_gaps(r["strokes"], r["chars"], r["text"]):
            if kind in LED:
                j = _matched_at(r["text"], r["ocr"], k)
                seen[kind].append((before, j is not None and not (j > 0 and r["ocr"][j - 1] == " ")))
            else:
                seen[kind].append((after, ok[k]))
    table = {}
    for kind, vals in seen.items():
        g = np.array([v[0] for v in vals])
        right = np.array([v[1] for v in vals], float)
        table[kind] = [(lo, hi, int(((g >= lo) & (g < hi)).sum()),
                        float(right[(g >= lo) & (g < hi)].mean()) if ((g >= lo) & (g < hi)).any() else float("nan"))
                       for lo, hi in zip(BINS[:-1], BINS[1:])]
    return table


def _matched_at(text: str, reading: str, k: int) -> int | None:
    for op, i1, i2, j1, _ in difflib.SequenceMatcher(None, text, reading, autojunk=False).get_opcodes():
        if op == "equal" and i1 <= k < i2:
            return j1 + k - i1
    return None


def selection_lines(name: str, seed: int) -> list[str]:
    from hwcli.evaluation.selection import _ITEMS, _NAMES, _TOWNS, charset_lines, hard_lines

    rng = np.random.default_rng(500 + seed)
    if name in LINE_KINDS:
        return [LINE_KINDS[name](i, rng) for i in range(48)]
    if name == "marks":
        return [t for t in hard_lines(120, 300 + seed) + charset_lines(120, 300 + seed) if "." in t or ":" in t][:40]
    words = ("green", "river", "stone", "maple", "north", "bright", "silver", "garden", "ocean", "paper")
    out = []
    for i in range(40):
        name_, town, item = str(rng.choice(_NAMES)), str(rng.choice(_TOWNS)), str(rng.choice(_ITEMS))
        w1, w2, tld = str(rng.choice(words)), str(rng.choice(words)), str(rng.choice(("com", "org", "net", "de")))
        if name == "addresses":
            out.append((f"Write to {name_.lower()}.{town.lower()}@{w1}.{tld} today", f"See www.{w1}{w2}.{tld}/{item} now",
                        f"Meet {name_} at {rng.integers(1, 12)}:{rng.integers(0, 60):02d} in {town}",
                        f"Score {rng.integers(0, 6)}:{rng.integers(0, 6)}, ratio {rng.integers(1, 9)}:{rng.integers(1, 9)}")[i % 4])
        else:
            head = ("Note", "Total", "Subject", "Time", "Reminder", "Address", "Warning", "Answer")[i % 8]
            out.append(f"{head}: {(f'bring the {item} for {name_}', f'{name_} visits {town} soon')[i % 2]}")
    return out


def symbol_line(i: int, rng) -> str:
    """The `i`-th line (of 12 kinds, in turn) of the ``symbols`` set, its words and numbers drawn from `rng`."""
    from hwcli.evaluation.selection import _ITEMS, _NAMES, _TOWNS

    it, it2, it3 = (str(x) for x in rng.choice(_ITEMS, 3, replace=False))
    nm, tw = str(rng.choice(_NAMES)), str(rng.choice(_TOWNS))
    w1, w2 = (str(x) for x in rng.choice(("green", "river", "stone", "maple", "north", "silver", "garden", "ocean"), 2,
                                         replace=False))
    a, b, c = (int(rng.integers(lo, hi)) for lo, hi in ((2, 40), (2, 10), (10, 99)))
    return (f"Read pages {a} – {a + c} before {nm} comes", f"{nm} — the {it} are in {tw}",
            f"Length {c} ± {b} mm for the {it}", f"Box of {b} × {c} {it} for {nm}",
            f"Share {b * a} ÷ {b} = {a} {it}", f"Buy: • {it} • {it2} • {it3}", f"User {w1}_{w2}_{a} in {tw}",
            f"It was {a}°C in {tw} today", f"Paid ¥{c * 10 + b} for {b} {it}", f"So {b} + {a} = {a + b} {it} for {nm}",
            f"{tw} {b}–{b + a} May, {nm}", f"Mix {w1} = {w2} in {tw}")[i % 12]


def closer_line(i: int, rng) -> str:
    """The `i`-th line (of 8 kinds, in turn) of the ``closers`` set: a ! or ? closing a word, in the middle of a
    line or at its end."""
    from hwcli.evaluation.selection import _ITEMS, _NAMES, _TOWNS

    it, nm, tw = str(rng.choice(_ITEMS)), str(rng.choice(_NAMES)), str(rng.choice(_TOWNS))
    return (f"Thank you, {nm}!", f"Are the {it} in {tw}?", f"See you in {tw}, {nm}!", f"Did {nm} bring the {it}?",
            f"What a day! The {it} are here", f"Is it far? Ask {nm} in {tw}", f"Hello {nm}! Lovely {it}",
            f"Where are my {it}? In {tw}")[i % 8]


def comparison_line(i: int, rng) -> str:
    """The `i`-th line (of 4 kinds, in turn) of the ``comparisons`` set: a < or > written against an = ("x >= 10")."""
    from hwcli.evaluation.selection import _ITEMS, _NAMES, _TOWNS

    it, nm, tw = str(rng.choice(_ITEMS)), str(rng.choice(_NAMES)), str(rng.choice(_TOWNS))
    a, b = (int(rng.integers(2, 99)) for _ in range(2))
    return (f"If x >= {a}, then y <= {b}", f"Keep {it} <= {a} in {tw}", f"Only {nm} >= {a} and {b} <= z",
            f"Order when {it} >= {b} for {nm}")[i % 4]


def sign_line(i: int, rng) -> str:
    """The `i`-th line (of 8 kinds, in turn) of the ``signs`` set: a minus, plus or plus-minus sign opening a number
    ("-4°C", "+44", "(-12)")."""
    from hwcli.evaluation.selection import _ITEMS, _NAMES, _TOWNS

    it, nm, tw = str(rng.choice(_ITEMS)), str(rng.choice(_NAMES)), str(rng.choice(_TOWNS))
    a, b, c = (int(rng.integers(lo, hi)) for lo, hi in ((1, 30), (2, 10), (10, 99)))
    return (f"It was -{a}°C in {tw} today", f"Ring {nm} on +{c} {a}{b} {c}{b}", f"From -{b} to +{a} in {tw}",
            f"The {it} cost -{b}.{c} for {nm}", f"Keep it at {c} ±{b} mm, {nm}", f"Balance (-{c}) for the {it}",
            f"{tw} +{a}°F, {nm} -{b} kg", f"-{c} points for the {it}")[i % 8]


def hyphen_line(i: int, rng) -> str:
    """The `i`-th line (of 8 kinds, in turn) of the ``hyphens`` set: a hyphen joining two words, letters or numbers
    ("well-known", "INV-2027-0419", "www.green-river.com")."""
    from hwcli.evaluation.selection import _ITEMS, _NAMES, _TOWNS

    it, nm, tw = str(rng.choice(_ITEMS)), str(rng.choice(_NAMES)), str(rng.choice(_TOWNS))
    w1, w2 = (str(x) for x in rng.choice(("green", "river", "stone", "maple", "north", "silver", "garden", "ocean"), 2,
                                         replace=False))
    a, b, c = (int(rng.integers(lo, hi)) for lo, hi in ((2, 10), (10, 99), (1000, 9999)))
    up = "".join(str(x) for x in rng.choice(list("ABCDEFGHKLMNPRSTUW"), 3))
    return (f"Visit www.{w1}-{w2}.com today", f"Order INV-{2000 + b}-{c} for {nm}", f"A {a}-year-old {it} from {tw}",
            f"Code {up[:2]}{a}-{up[2]}{b} for the {it}", f"Call the well-known {it} shop", f"Open Mon-Fri in {tw}, {nm}",
            f"{nm}'s e-mail about the {it}", f"Ref {up}-{b} in {tw}")[i % 8]


def stem_line(i: int, rng) -> str:
    """The `i`-th line (of 8 kinds, in turn) of the ``stems`` set: a capital I with a t or f after it ("It", "If"),
    and a small l with one after it ("felt", "half") beside them."""
    from hwcli.evaluation.selection import _ITEMS, _NAMES, _TOWNS

    it, nm, tw = str(rng.choice(_ITEMS)), str(rng.choice(_NAMES)), str(rng.choice(_TOWNS))
    n = int(rng.integers(2, 12))
    return (f"It was a {it} for {nm}", f"If {nm} calls, say hello", f"{nm} felt the cold salt air",
            f"Half of the {it} in {tw}", f"It is {n} pm in {tw}", f"She built it herself in {tw}",
            f"The golf club near {tw}", f"Is it true? It is, {nm}.")[i % 8]


BELOW_WORDS = ("mąka", "ręka", "łąka", "będą", "się", "dziękuję", "często", "ciężko", "mięso", "wąski", "gęś", "są",
               "garçon", "français", "leçon", "reçu", "façade", "ça", "şeker", "güneş", "kuş", "beş", "taş", "şimdi",
               "yaşam", "işte", "țară", "școală", "față", "și", "ață", "așa", "mulțumesc", "oraș", "piață", "țigară")
BELOW_CAPS = ("Ąa", "Ęe", "Çok", "Şimdi", "Ştefan", "Țara", "Școala", "Świąt")
_PLAIN = ("and", "the", "said", "with", "for", "then", "from", "near", "like", "over", "when", "some")


def below_line(i: int, rng) -> str:
    """The `i`-th line (of 4 kinds, in turn) of the ``below`` set: Polish, French, Turkish and Romanian words with a
    cedilla, ogonek or comma below, among plain words (a capital opens every fourth line)."""
    from hwcli.evaluation.selection import _NAMES

    w = [str(rng.choice(BELOW_WORDS)) for _ in range(3)]
    p = [str(rng.choice(_PLAIN)) for _ in range(2)]
    nm, cp = str(rng.choice(_NAMES)), str(rng.choice(BELOW_CAPS))
    return (f"{nm} wrote {w[0]} {p[0]} {w[1]}", f"{w[0]} {p[0]} {w[1]} {p[1]} {w[2]}", f"{cp} {w[0]} {p[0]} {w[1]}",
            f"{w[0]}, {w[1]} {p[0]} {w[2]}")[i % 4]


ESZETT_WORDS = ("Straße", "Grüße", "heißt", "weiß", "Fuß", "groß", "süß", "Spaß", "Maß", "draußen", "außen",
                "schließen", "Gruß", "bloß", "Soße", "Größe", "fleißig", "gießen", "Strauß", "Fußball", "heiß",
                "beißen", "Weißbrot", "Schoß", "Buße", "Grießbrei", "Meißen", "Preußen")
GERMAN_PLAIN = ("und", "der", "die", "ist", "nicht", "sehr", "mit", "am", "im", "Abend", "Haus", "Garten", "wir",
                "heute", "noch", "dann", "gern", "alle", "viele", "immer")


def eszett_line(i: int, rng) -> str:
    """The `i`-th line (of 4 kinds, in turn) of the ``eszett`` set: German words with a ß (inside a word, at its
    end, before a t) among plain German words (a name opens every fourth line)."""
    from hwcli.evaluation.selection import _NAMES

    w = [str(rng.choice(ESZETT_WORDS)) for _ in range(3)]
    p = [str(rng.choice(GERMAN_PLAIN)) for _ in range(2)]
    nm = str(rng.choice(_NAMES))
    return (f"{nm} sagt {w[0]} {p[0]} {w[1]}", f"{w[0]} {p[0]} {w[1]} {p[1]} {w[2]}", f"{p[0]} {w[0]}, {p[1]} {w[1]}",
            f"{w[0]}, {w[1]} {p[0]} {w[2]}")[i % 4]


#: The sets of 48 lines made by one function of the line's number and the set's random stream.
LINE_KINDS = {"symbols": symbol_line, "closers": closer_line, "comparisons": comparison_line, "signs": sign_line,
              "hyphens": hyphen_line, "stems": stem_line, "below": below_line, "eszett": eszett_line}
SETS = ("marks", "addresses", "colons", *LINE_KINDS)


def sample(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.model.bundle import load_model
    from hwcli.synthesis import SamplingOptions, synthesize

    bundle, langs = load_model(args.model), accent_languages()
    lines = selection_lines(args.set, args.seed)
    rows, t0 = [], time.time()
    import hwcli.synthesis.run as run

    raw = (run.space_marks, run.cross_bars, run.stem_room, run.underline, run.part_colons, run.bold_points, run.lower_marks,
           run.lengthen_slashes, run.seat_letters)
    run.space_marks = run.cross_bars = run.stem_room = run.underline = run.part_colons = run.lower_marks = \
        run.lengthen_slashes = run.seat_letters = lambda strokes, chars, text, *a, **k: strokes
    run.bold_points = lambda strokes, chars, text, *a, **k: (strokes, chars)
    try:
        for c in range(args.copies):
            res = synthesize(bundle, lines, SamplingOptions(style=args.style, seed=args.seed * 1000 + c, check=False))
            readings = read_as_page(bundle, args.style, [r.strokes for r in res], langs)
            rows += [{"seed": args.seed, "copy": c, "text": t, "strokes": r.strokes, "chars": r.chars, "ocr": o}
                     for t, r, o in zip(lines, res, readings)]
            print(f"copy {c} ({time.time() - t0:.0f} s)", file=sys.stderr)
    finally:
        (run.space_marks, run.cross_bars, run.stem_room, run.underline, run.part_colons, run.bold_points,
         run.lower_marks, run.lengthen_slashes, run.seat_letters) = raw  # its own ink
    with open(args.out, "wb") as fh:
        pickle.dump({"model": args.model, "style": args.style, "rows": rows}, fh)


def report(args) -> None:
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.reading import edit_distance
    from hwcli.synthesis.spacing import space_marks

    rows, model, style = _load(args.files)
    for kind, bins in gap_table(rows).items():
        cells = "  ".join(f"[{lo:g},{hi:g}) {n}: {share:.0%}" for lo, hi, n, share in bins if n)
        print(f"{kind} ({'no space read before it' if kind in LED else 'read right'}): {cells}")
    bundle = load_model(model)
    moved = [space_marks(r["strokes"], r["chars"], r["text"]) for r in rows]
    again = read_as_page(bundle, style, moved, accent_languages())
    refs = [" ".join(r["text"].split()) for r in rows]
    n = sum(len(t) for t in refs)
    before = sum(edit_distance(t, r["ocr"]) for t, r in zip(refs, rows)) / n
    after = sum(edit_distance(t, o) for t, o in zip(refs, again)) / n
    print(f"{len(rows)} lines, {sum(m is not r['strokes'] for m, r in zip(moved, rows))} moved: tesseract CER "
          f"{before:.4f} as written, {after:.4f} with room")


BAR_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.2, 9.0)


def bar_table(rows: list[dict]) -> list[tuple[float, float, int, float]]:
    """(low, high, t's, share read right) per bin of the crossbar's width in x-heights (`bars.find_bars`), over
    every t with a bar of its own in `rows` as written and read."""
    from hwcli.synthesis.bars import find_bars
    from hwcli.synthesis.spacing import stroke_owners

    seen = []
    for r in rows:
        if "t" not in r["text"]:
            continue
        ok = read_right(r["text"], r["ocr"])
        seen += [(w, ok[k]) for k, _, w in find_bars(*stroke_owners(r["strokes"], r["chars"]), r["text"])]
    w = np.array([v[0] for v in seen])
    right = np.array([v[1] for v in seen], float)
    return [(lo, hi, int(((w >= lo) & (w < hi)).sum()),
             float(right[(w >= lo) & (w < hi)].mean()) if ((w >= lo) & (w < hi)).any() else float("nan"))
            for lo, hi in zip(BAR_BINS[:-1], BAR_BINS[1:])]


def bars(args) -> None:
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.reading import edit_distance
    from hwcli.synthesis.bars import cross_bars
    from hwcli.synthesis.spacing import space_marks

    rows, model, style = _load(args.files)
    cells = "  ".join(f"[{lo:g},{hi:g}) {n}: {share:.0%}" for lo, hi, n, share in bar_table(rows) if n)
    print(f"t's read right by their crossbar's width in x-heights: {cells}")
    spaced = [space_marks(r["strokes"], r["chars"], r["text"]) for r in rows]
    barred = [cross_bars(s, r["chars"], r["text"], width=args.width) for s, r in zip(spaced, rows)]
    idx = [i for i in range(len(rows)) if barred[i] is not spaced[i]]
    bundle, langs = load_model(model), accent_languages()
    before = read_as_page(bundle, style, [spaced[i] for i in idx], langs)
    after = read_as_page(bundle, style, [barred[i] for i in idx], langs)
    refs = [" ".join(rows[i]["text"].split()) for i in idx]
    n = sum(len(t) for t in refs)
    t_n = sum(t.count("t") for t in refs)
    t_before = sum(sum(ok for c, ok in zip(t, read_right(t, o)) if c == "t") for t, o in zip(refs, before))
    t_after = sum(sum(ok for c, ok in zip(t, read_right(t, o)) if c == "t") for t, o in zip(refs, after))
    e_before = sum(edit_distance(t, o) for t, o in zip(refs, before))
    e_after = sum(edit_distance(t, o) for t, o in zip(refs, after))
    print(f"{len(rows)} lines, {len(idx)} with a bar under {args.width:g} x-heights: t's read {t_before} -> {t_after} "
          f"of {t_n}, tesseract CER {e_before / max(n, 1):.4f} -> {e_after / max(n, 1):.4f} ({e_after - e_before:+d} "
          f"errors in {sum(len(' '.join(r['text'].split())) for r in rows)} characters)")


def symbols(args) -> None:
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.reading import edit_distance
    from hwcli.synthesis.bars import cross_bars, underline
    from hwcli.synthesis.spacing import opens_number, space_marks

    rows, model, style = _load(args.files)
    bundle, langs = load_model(model), accent_languages()
    refs = [" ".join(r["text"].split()) for r in rows]
    n = sum(len(t) for t in refs)
    off = -1e9  # no room
    ways = {"room and bars (no degree, comparison or sign room)": dict(degree_gap=off, comparison_gap=off, under=False,
                                                                        sign_gap=off, digit_degree_gap=off),
            "+ room after a degree sign": dict(degree_gap=None, comparison_gap=off, under=False, sign_gap=off,
                                               digit_degree_gap=off),
            "+ underscores on the line": dict(degree_gap=None, comparison_gap=off, under=True, sign_gap=off,
                                              digit_degree_gap=off),
            "+ room after < and >": dict(degree_gap=None, comparison_gap=None, under=True, sign_gap=off,
                                         digit_degree_gap=off),
            "+ room after a sign opening a number": dict(degree_gap=None, comparison_gap=None, under=True, sign_gap=None,
                                                         digit_degree_gap=off)}
    for g in args.degree_gaps or [None]:
        ways[f"+ room between a digit and a degree sign ({'default' if g is None else f'{g:g} x-heights'})"] = dict(
            degree_gap=None, comparison_gap=None, under=True, sign_gap=None, digit_degree_gap=g)
    for name, w in ways.items():
        ink = [cross_bars(space_marks(r["strokes"], r["chars"], r["text"], degree_gap=w["degree_gap"],
                                      comparison_gap=w["comparison_gap"], sign_gap=w["sign_gap"],
                                      digit_degree_gap=w["digit_degree_gap"]), r["chars"], r["text"])
               for r in rows]
        if w["under"]:
            ink = [underline(s_, r["chars"], r["text"]) for s_, r in zip(ink, rows)]
        got = read_as_page(bundle, style, ink, langs)
        right, total = collections.Counter(), collections.Counter()
        for t, o in zip(refs, got):
            for k, ok in enumerate(read_right(t, o)):
                c = ("C after °" if t[k] == "C" and k and t[k - 1] == "°" else
                     "= after < >" if t[k] == "=" and k and t[k - 1] in "<>" else
                     "sign" if opens_number(t, k) else "digit after a sign" if k and opens_number(t, k - 1) else
                     "digit before °" if t[k].isdigit() and t[k + 1:k + 2] == "°" else t[k])
                if c in ("°", "C after °", "_", "¥", "–", "—", "±", "×", "÷", "•", "=", "+", "<", ">", "= after < >", "sign",
                         "digit after a sign", "digit before °"):
                    right[c] += ok
                    total[c] += 1
        e = sum(edit_distance(t, o) for t, o in zip(refs, got))
        print(f"{name}: tesseract CER {e / n:.4f} ({e} errors in {n} characters); read right: "
              + ", ".join(f"{c} {right[c]}/{total[c]}" for c in total), flush=True)


def _placed(row: dict, parted: bool = True, stem_gap: float | None = None) -> np.ndarray:
    """A sampled row's ink with the sampler's placement steps before the speck loops (`bars.bold_points`): room and
    leads, t-bars, room between an I and a t or f (`stem_gap` x-heights, default `spacing.STEM_GAP`; negative: none),
    underscores, and (`parted`) crammed colon dots parted."""
    from hwcli.synthesis.bars import cross_bars, part_colons, underline
    from hwcli.synthesis.spacing import STEM_GAP, space_marks, stem_room

    c, t = row["chars"], row["text"]
    ink = cross_bars(space_marks(row["strokes"], c, t), c, t)
    ink = underline(stem_room(ink, c, t, gap=STEM_GAP if stem_gap is None else stem_gap), c, t)
    return part_colons(ink, c, t) if parted else ink


def dots(args) -> None:
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.reading import edit_distance
    from hwcli.synthesis.bars import COLON_SEP, part_colons

    rows, model, style = _load(args.files)
    bundle, langs = load_model(model), accent_languages()
    seps = args.seps or [COLON_SEP]
    placed = [_placed(r, parted=False) for r in rows]
    ways = {f"colons parted to {s:g} x-heights": [part_colons(p, r["chars"], r["text"], sep=s) for p, r in zip(placed, rows)]
            for s in seps}
    idx = sorted({i for ink in ways.values() for i, (a, b) in enumerate(zip(ink, placed)) if a is not b})
    refs = [" ".join(rows[i]["text"].split()) for i in idx]
    n, colons = sum(len(t) for t in refs), sum(t.count(":") for t in refs)
    print(f"{len(rows)} lines, {len(idx)} with a colon's dots closer than bars.COLON_MIN x-heights")
    for name, ink in {"every other placement step": placed, **ways}.items():
        got = read_as_page(bundle, style, [ink[i] for i in idx], langs)
        right = sum(ok for t, o in zip(refs, got) for c, ok in zip(t, read_right(t, o)) if c == ":")
        e = sum(edit_distance(t, o) for t, o in zip(refs, got))
        print(f"{name}: colons read {right} of {colons}, tesseract CER {e / max(n, 1):.4f} ({e} errors)", flush=True)


def specks(args) -> None:
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.reading import edit_distance
    from hwcli.synthesis.bars import POINT_SIZE, bold_points

    rows, model, style = _load(args.files)
    bundle, langs = load_model(model), accent_languages()
    placed = [_placed(r) for r in rows]
    refs = [" ".join(r["text"].split()) for r in rows]
    for size in args.sizes or [POINT_SIZE]:
        bold = [bold_points(p, r["chars"], r["text"], size=size)[0] for p, r in zip(placed, rows)]
        idx = [i for i, (a, b) in enumerate(zip(bold, placed)) if a is not b]
        n = sum(len(refs[i]) for i in idx)
        marks = sum(refs[i].count(".") + refs[i].count(":") for i in idx)
        for name, ink in (("every other placement step", placed), (f"specks drawn {size:g} x-heights across", bold)):
            got = read_as_page(bundle, style, [ink[i] for i in idx], langs)
            right = sum(ok for i, o in zip(idx, got) for c, ok in zip(refs[i], read_right(refs[i], o)) if c in ".:")
            e = sum(edit_distance(refs[i], o) for i, o in zip(idx, got))
            print(f"{len(idx)} lines with a speck, {name}: points and colons read {right} of {marks}, tesseract CER "
                  f"{e / max(n, 1):.4f} ({e} errors)", flush=True)


def stems(args) -> None:
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.reading import edit_distance
    from hwcli.synthesis.bars import bold_points
    from hwcli.synthesis.spacing import BARRED, STEM_GAP, STEMS

    rows, model, style = _load(args.files)
    bundle, langs = load_model(model), accent_languages()
    refs = [" ".join(r["text"].split()) for r in rows]
    n = sum(len(t) for t in refs)
    pairs = [(i, k) for i, t in enumerate(refs) for k in range(len(t) - 1) if t[k] in STEMS and t[k + 1] in BARRED]
    small = [(i, k) for i, t in enumerate(refs) for k in range(len(t) - 1) if t[k] == "l" and t[k + 1] in BARRED]
    gaps = args.gaps or [STEM_GAP]
    for gap in [-1.0] + gaps:
        ink = [bold_points(_placed(r, stem_gap=gap), r["chars"], r["text"])[0] for r in rows]
        got = read_as_page(bundle, style, ink, langs)
        ok = [read_right(t, o) for t, o in zip(refs, got)]
        e = sum(edit_distance(t, o) for t, o in zip(refs, got))
        name = "every other placement step" if gap < 0 else f"I and t/f {gap:g} x-heights apart"
        print(f"{name}: pairs read {sum(ok[i][k] and ok[i][k + 1] for i, k in pairs)} of {len(pairs)} (l and t/f "
              f"{sum(ok[i][k] and ok[i][k + 1] for i, k in small)} of {len(small)}), tesseract CER {e / n:.4f} "
              f"({e} errors)", flush=True)


def below(args) -> None:
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.model.bundle import load_model
    from hwcli.synthesis.bars import BELOW_MARKED, MARK_DROP, bold_points, lower_marks

    rows, model, style = _load(args.files)
    bundle, langs = load_model(model), accent_languages()
    refs = [" ".join(r["text"].split()) for r in rows]
    n, marked = sum(len(t) for t in refs), sum(c in BELOW_MARKED for t in refs for c in t)
    placed = [bold_points(_placed(r), r["chars"], r["text"]) for r in rows]
    drops = args.drops or [MARK_DROP]
    ways = {"every other placement step": [ink for ink, _ in placed],
            **{f"marks below moved {d:g} x-heights under the letter": [lower_marks(ink, c, r["text"], drop=d)
                                                                          for (ink, c), r in zip(placed, rows)]
               for d in drops}}
    _compare(bundle, style, langs, refs, ways, BELOW_MARKED, "letters with a mark below")


def eszett(args) -> None:
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.model.bundle import load_model
    from hwcli.synthesis.bars import SEAT_MIN, SEATED, bold_points, find_raised, lengthen_slashes, lower_marks, seat_letters
    from hwcli.synthesis.spacing import stroke_owners

    rows, model, style = _load(args.files)
    bundle, langs = load_model(model), accent_languages()
    refs = [" ".join(r["text"].split()) for r in rows]
    n, seated = sum(len(t) for t in refs), sum(c in SEATED for t in refs for c in t)
    placed = []
    for r in rows:
        ink, c = bold_points(_placed(r), r["chars"], r["text"])
        placed.append((lengthen_slashes(lower_marks(ink, c, r["text"]), c, r["text"]), c))
    lifts = [lift / xh for (ink, c), r in zip(placed, rows)
             for _, _, lift, xh in find_raised(*stroke_owners(ink, c), np.asarray(c)[: len(ink)], r["text"])]
    if lifts:
        q = np.percentile(lifts, [10, 25, 50, 75, 90])
        print(f"{len(lifts)} of {seated} letters found; their foot above the baseline, percentiles 10/25/50/75/90: "
              + " ".join(f"{v:.2f}" for v in q) + " x-heights")
    mins = args.mins or [SEAT_MIN]
    ways = {"every other placement step": [ink for ink, _ in placed],
            **{f"seated when more than {m:g} x-heights up": [seat_letters(ink, c, r["text"], min_lift=m)
                                                              for (ink, c), r in zip(placed, rows)] for m in mins}}
    _compare(bundle, style, langs, refs, ways, SEATED, "".join(sorted(SEATED)))


def _compare(bundle, style, langs: str, refs: list[str], ways: dict, letters, what: str) -> None:
    """Each way's ink (lists of lines, the first way the baseline) read by tesseract as a page: how many lines it
    moved, how often `letters` were read right (`what` names them), the CER."""
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.recognizer.reading import edit_distance

    n, total = sum(len(t) for t in refs), sum(c in letters for t in refs for c in t)
    first = next(iter(ways.values()))
    for name, ink in ways.items():
        got = read_as_page(bundle, style, ink, langs)
        right = sum(ok for t, o in zip(refs, got) for c, ok in zip(t, read_right(t, o)) if c in letters)
        e = sum(edit_distance(t, o) for t, o in zip(refs, got))
        moved = sum(a is not b for a, b in zip(ink, first))
        print(f"{name} ({moved} of {len(ink)} lines moved): {what} read {right} of {total}, tesseract CER "
              f"{e / n:.4f} ({e} errors)", flush=True)


def users(args) -> None:
    """A set's lines written as `hwcli write` writes them (the model's default style, the self-check on), once
    without the placement step `--step` and once with it, the same seed, each read by tesseract."""
    import torch

    torch.set_num_threads(args.threads)
    import hwcli.synthesis.run as run
    from hwcli.evaluation.legibility import read_as_page
    from hwcli.evaluation.ocr import accent_languages
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.reading import edit_distance
    from hwcli.synthesis import SamplingOptions, synthesize

    bundle, langs = load_model(args.model), accent_languages()
    lines = selection_lines(args.set, args.seed)
    refs = [" ".join(t.split()) for t in lines]
    n, marks = sum(len(t) for t in refs), sum(c in args.chars for t in refs for c in t)
    step = getattr(run, args.step)
    try:
        for on in (False, True):
            setattr(run, args.step, step if on else (lambda strokes, chars, text, *a, **k: strokes))
            res = synthesize(bundle, lines, SamplingOptions(seed=args.seed))
            got = read_as_page(bundle, None, [r.strokes for r in res], langs)
            right = sum(ok for t, o in zip(refs, got) for c, ok in zip(t, read_right(t, o)) if c in args.chars)
            e = sum(edit_distance(t, o) for t, o in zip(refs, got))
            print(f"{args.set} seed {args.seed}, {'with' if on else 'without'} {args.step}: {args.chars} read {right} of "
                  f"{marks}, tesseract CER {e / n:.4f} ({e} errors)", flush=True)
    finally:
        setattr(run, args.step, step)


def _load(files: list[str]) -> tuple[list[dict], str, int]:
    rows, model, style = [], "hwcli-charset", 2
    for f in files:
        with open(f, "rb") as fh:  # files this script wrote
            d = pickle.load(fh)
        rows += d["rows"]
        model, style = d["model"], d["style"]
    return rows, model, style


def _floats(text: str) -> list[float]:
    """A comma-separated list of numbers (an argparse type)."""
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None


def _sweep(sub, name: str, flag: str, what: str) -> None:
    """A command reading sampled files (`sample -o`) with the values `flag` tries (comma-separated) of `what`."""
    p = sub.add_parser(name)
    p.add_argument("files", nargs="+")
    p.add_argument(flag, type=_floats, default=None, help=f"comma-separated {what}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--set", choices=SETS, default="marks")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--copies", type=int, default=4)
    s.add_argument("--model", default="hwcli-charset")
    s.add_argument("--style", type=int, default=2)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("-o", "--out", required=True)
    r = sub.add_parser("report")
    r.add_argument("files", nargs="+")
    b = sub.add_parser("bars")
    b.add_argument("files", nargs="+")
    b.add_argument("--width", type=float, default=None, help="x-heights (default: bars.BAR_WIDTH)")
    _sweep(sub, "symbols", "--degree-gaps", "x-heights between a digit and a degree sign (default: "
                                            "spacing.DIGIT_DEGREE_GAP)")
    _sweep(sub, "dots", "--seps", "x-heights to part crammed colon dots to (default: bars.COLON_SEP)")
    _sweep(sub, "specks", "--sizes", "x-heights to draw specks across (default: bars.POINT_SIZE)")
    _sweep(sub, "stems", "--gaps", "x-heights between an I and a t or f (default: spacing.STEM_GAP)")
    _sweep(sub, "below", "--drops", "x-heights a mark below is moved under its letter (default: bars.MARK_DROP)")
    _sweep(sub, "eszett", "--mins", "x-heights above the line from which a ß is seated (default: bars.SEAT_MIN)")
    u = sub.add_parser("users")
    u.add_argument("--set", choices=SETS, default="eszett")
    u.add_argument("--seed", type=int, default=0)
    u.add_argument("--step", default="seat_letters", help="a placement step of hwcli.synthesis.run taking (strokes, "
                                                          "chars, text) and returning strokes")
    u.add_argument("--chars", default="ß", help="the characters whose readings are counted")
    u.add_argument("--model", default="hwcli-charset")
    u.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if args.cmd == "bars" and args.width is None:
        from hwcli.synthesis.bars import BAR_WIDTH

        args.width = BAR_WIDTH
    {"sample": sample, "report": report, "bars": bars, "symbols": symbols, "dots": dots, "specks": specks,
     "stems": stems, "below": below, "eszett": eszett, "users": users}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
