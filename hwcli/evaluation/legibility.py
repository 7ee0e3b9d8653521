"""Legibility evaluation (the library half of `hwcli eval`) and its built-in lines.

`evaluate` samples lines with a synthesis bundle for one style x bias x self-checking setting, reads them back
with the recognizer and returns CER, WER, the share of failed lines and timings. `evaluate_reference` reads
real validation lines with the same judges (the recognizer, and tesseract): the human reference, which says how
far a judge's figure can be trusted (the recognizer reads real people's digits far worse than their letters).

`SENTENCES`: 100 ordinary English sentences of 30-60 characters, written for hwcli, not taken from any corpus, and checked against every IAM-OnDB transcription: no sentence
occurs in IAM-OnDB's texts, no IAM line of 25+ characters occurs in a sentence, and no six consecutive words
are shared, so a model trained on IAM-OnDB has never been taught to write them.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

from ..alphabet import CHAR_CLASSES as SET_CLASSES
from ..alphabet import char_class as set_class
from .charset_sets import CHARSET_CONTEXTS, CHARSET_COPIES, EVERYDAY
from ..recognizer.reading import alignment
from ..texts import is_hard_text

SENTENCES: tuple[str, ...] = (
    'The kettle clicked off just as the doorbell rang.',
    'Please water the ferns on the windowsill twice a week.',
    'Our train left the station eleven minutes late.',
    'She folded the map and tucked it into her coat pocket.',
    'The bakery on the corner sells rye bread on Fridays.',
    'He forgot his umbrella at the dentist again.',
    'A small brown dog waited patiently by the gate.',
    'We painted the garden fence a pale shade of green.',
    'The library closes early on public holidays.',
    'Remember to buy eggs, flour and a jar of honey.',
    'My neighbour plays the cello every Sunday morning.',
    'The river was higher than usual after the storm.',
    'Could you send me the minutes of the last meeting?',
    'They planted three apple trees behind the barn.',
    'The soup needs a pinch of salt and some pepper.',
    'I left the keys under the blue flower pot.',
    'The museum has a new exhibit about old clocks.',
    'Two swans glided slowly across the quiet lake.',
    'Her grandmother knitted a scarf for every cousin.',
    'The printer on the second floor is out of paper.',
    'We will meet outside the cinema at half past seven.',
    'The old bridge was closed for repairs all summer.',
    'He wrote a long letter to his brother in Canada.',
    'Fresh snow covered the hills by early morning.',
    'The children built a castle out of cardboard boxes.',
    'Thank you for the lovely flowers and the kind card.',
    'The cat sleeps on the warm radiator all afternoon.',
    'Our football team won the match by a single goal.',
    'The recipe calls for two cups of chopped carrots.',
    'Please return the ladder to the shed when finished.',
    'The lighthouse beam swept across the dark water.',
    'I think the bus stop has moved to the next street.',
    'She practised the piano for an hour before dinner.',
    'A gentle breeze carried the smell of cut grass.',
    'The meeting has been moved to Thursday afternoon.',
    'He fixed the squeaky hinge with a drop of oil.',
    'We counted forty geese flying south over the farm.',
    'The shop assistant wrapped the vase in tissue paper.',
    "Don't forget to switch off the lights upstairs.",
    'The hikers reached the summit just before noon.',
    'My sister collects postcards from seaside towns.',
    'The tomatoes in the greenhouse are finally ripe.',
    'An owl hooted somewhere in the woods last night.',
    'The new teacher asked us to write a short poem.',
    'Our flat is on the top floor, next to the lift.',
    'The wind blew the washing off the line twice today.',
    'I would like a pot of tea and a slice of lemon cake.',
    'The postman whistled as he walked up the path.',
    'We spent the weekend sorting boxes in the attic.',
    'The clock in the hall is always five minutes fast.',
    'He carried the heavy suitcase up three flights.',
    'The village fair raised money for the new roof.',
    'Her bicycle has a basket and a bright red bell.',
    'The lecture on volcanoes was surprisingly funny.',
    'Please leave your muddy boots by the back door.',
    'The orchestra tuned their instruments in silence.',
    'A row of pine trees shelters the cottage garden.',
    'I lost my glove somewhere between here and town.',
    'The farmer mended the wall with stones from the field.',
    'Breakfast is served from seven until half past nine.',
    'The baby giggled every time the puppy sneezed.',
    'We drove along the coast road with the windows down.',
    'His uncle runs a small hardware shop near the port.',
    'The soup kitchen needs volunteers on Wednesdays.',
    'There were puddles everywhere after the heavy rain.',
    'She signed the form and handed it back to the clerk.',
    'The moon looked enormous as it rose over the roofs.',
    'They argued cheerfully about the rules of the game.',
    'My alarm clock did not ring this morning.',
    'The gardener raked the leaves into a tidy heap.',
    'A parcel arrived for you while you were out.',
    'The trail follows the stream up to the waterfall.',
    'He always reads the newspaper from back to front.',
    'The candle flickered and then went out completely.',
    'Our class visited a farm to see the young lambs.',
    'Please check the tyres before the long journey.',
    'The cafe by the harbour makes excellent pancakes.',
    'She found an old photograph tucked inside the book.',
    'Thirty people came to the concert in the church hall.',
    'The wooden floor creaked under his careful steps.',
    'I need to renew my passport before the spring.',
    'The pears were too hard, so we made a crumble.',
    'Mist hung over the valley until the sun came out.',
    'The plumber promised to come back on Monday.',
    'We sat on the porch and watched the fireflies.',
    'The spare blankets are in the cupboard upstairs.',
    'He whistled a tune he had heard on the radio.',
    'The ferry to the island leaves every two hours.',
    'Her handwriting was neat, small and very even.',
    'The kitchen smelled of cinnamon and baked apples.',
    'A tall stack of books leaned against the wall.',
    'The referee blew his whistle and the crowd cheered.',
    'We forgot to close the gate and the goats escaped.',
    'The lamp on my desk needs a brighter bulb.',
    'They celebrated the anniversary with a picnic.',
    'The frost made delicate patterns on the glass.',
    'My brother is learning to bake sourdough bread.',
    'The hotel room had a view of the distant mountains.',
    'Every morning she jogs twice around the park.',
    'The notebook was full of sketches of birds and boats.',
)


#: The hard set: what a letter holds beyond prose (dates, times, phone numbers, prices, addresses, all-caps
#: lines), written for hwcli like `SENTENCES`. Digits are 0.3% of IAM-OnDB's characters and X, Z, Q appear
#: a handful of times, so this is where a model trained on it fails first.
HARD_SENTENCES: tuple[str, ...] = (
    'Call 0161 234 5678 before 9:30 on 14 March 2027.',
    'QUICK ZEBRAS JUMP',
    'The total comes to 48.75 EUR, due by 3 June.',
    'Flat 7, 29 Kingsway Road, Leeds LS6 2QX',
    'Meet me at 10:45 on Friday 21/11/2026.',
    'PLEASE DO NOT BEND',
    'Room 316, 4th floor, Block C',
    'Tickets cost 12.50 each or 40.00 for four.',
    'Phone 020 7946 0018 or 07700 900 123.',
    'The 8:15 train to York leaves from platform 9.',
    'Invoice no. 58213 dated 2 January 2027',
    'OPEN MONDAY TO SATURDAY',
    '13 Queen Street, Oxford OX1 1ET',
    'Order 3 kg of flour and 250 g of butter.',
    'She was born on 7 July 1985 at 6:20 am.',
    'Total: 1,299.99 (VAT 20% included)',
    'JAZZ NIGHT AT THE OLD MILL',
    'Your code is 4917 and expires at 23:59.',
    'Box 62, PO 1180, Cape Town 8000',
    'The rent rose from 850 to 925 a month.',
    'Dr. Quentin Fox, 88 Elm Grove, Bath BA2 4XZ',
    'EXIT ONLY - KEEP CLEAR',
    'Pay 16.40 by 30/09 to account 11-22-33.',
    'Page 17 of 260, chapter 5',
    'Wednesday 4 February, 7:30 pm',
    'The score was 3-2 after 90 minutes.',
    'Apartment 12B, 405 West 57th Street',
    'YES, WE ARE OPEN ON SUNDAYS',
    'Milk 1.15, eggs 2.60, bread 1.95',
    'Flight BA 2490 departs at 06:35.',
    'Mix 2 parts of water with 1 part of juice.',
    'On 31 December 1999 at 11:59 pm',
    'ZONE 4 - VISITORS PARKING',
    'Ring 0800 123 4567 for a free quote.',
    'He ran 5 km in 24 minutes and 38 seconds.',
    '77 Harbour View, Whitby YO21 3PU',
    'Quarterly sales rose by 14% to 2.6 million.',
    'Call Zoe on 0113 496 0732 after 6.',
    'KEEP OUT OF REACH OF CHILDREN',
    'Deliver to Unit 9, Oakfield Park, Derby DE21 7BQ',
)

#: Built-in line sets of `hwcli eval --set`; "charset" writes every context line `CHARSET_COPIES` times (each
#: copy a different random draw), so every character of the set is read in several contexts and draws.
LINE_SETS = {"ordinary": SENTENCES, "hard": HARD_SENTENCES,
             "charset": tuple(t for _ in range(CHARSET_COPIES) for t in CHARSET_CONTEXTS), "everyday": EVERYDAY}
#: The sets that measure the character set: tesseract reads them with the language data that knows the accents,
#: and `hwcli eval` adds a per-character table and figures per class of `alphabet.CHAR_CLASSES`.
CHARSET_SETS = ("charset", "everyday")

#: Character classes of the breakdown (space is no class).
CHAR_CLASSES = ("lower", "capitals", "digits", "punctuation")


def char_class(ch: str) -> str | None:
    if ch.isdigit():
        return "digits"
    if ch.isalpha():
        return "capitals" if ch.isupper() else "lower"
    if ch.isspace():
        return None
    return "punctuation"


def eval_lines(n: int | None = None, line_set: str = "ordinary") -> list[str]:
    """The first `n` lines of a built-in set (all when None); asking for more than it has repeats it."""
    lines = LINE_SETS[line_set]
    if n is None:
        return list(lines)
    return [lines[i % len(lines)] for i in range(n)]


def class_accuracy(refs: Sequence[str], hyps: Sequence[str]) -> dict:
    """Per character class: the share of the reference's characters that a reading got right, found by an
    edit-distance alignment of each pair (a character counts when it is aligned to the same character).
    Returns ``{class: {"right": int, "total": int, "accuracy": float | None}}``."""
    right = {c: 0 for c in CHAR_CLASSES}
    total = {c: 0 for c in CHAR_CLASSES}
    for ref, hyp in zip(refs, hyps):
        for ch, ok in zip(ref, alignment(ref, hyp)[1]):
            c = char_class(ch)
            if c is not None:
                total[c] += 1
                right[c] += int(ok)
    return {c: {"right": right[c], "total": total[c], "accuracy": (right[c] / total[c]) if total[c] else None}
            for c in CHAR_CLASSES}


def char_accuracy(refs: Sequence[str], hyps: Sequence[str]) -> dict:
    """Per character of the references (spaces left out): how often a minimal edit alignment of the reading
    against the text (`reading.alignment`) matched it with the same character.
    Returns ``{char: {"right": int, "total": int}}``."""
    out: dict = {}
    for ref, hyp in zip(refs, hyps):
        for ch, ok in zip(ref, alignment(ref, hyp)[1]):
            if ch.isspace():
                continue
            d = out.setdefault(ch, {"right": 0, "total": 0})
            d["total"] += 1
            d["right"] += int(ok)
    return out


def set_class_accuracy(chars: dict) -> dict:
    """`char_accuracy` summed per class of the character set (`alphabet.CHAR_CLASSES`: letters, accented
    letters, digits, punctuation, symbols): ``{class: {"right", "total", "accuracy"}}``."""
    right = {c: 0 for c in SET_CLASSES}
    total = {c: 0 for c in SET_CLASSES}
    for ch, d in chars.items():
        c = set_class(ch)
        right[c] += d["right"]
        total[c] += d["total"]
    return {c: {"right": right[c], "total": total[c], "accuracy": (right[c] / total[c]) if total[c] else None}
            for c in SET_CLASSES}


@dataclass
class EvalRow:
    style: str  # style index and name, "default" when the model has no styles
    bias: float
    check: bool  # self-checking (read back and resample) while sampling
    lines: int
    cer: float  # corpus character error rate of the final lines
    wer: float  # corpus word error rate
    failed: float  # share of lines that failed sampling checks or read back above `fail_cer`
    resampled: float  # share of lines sampled more than once
    sample_s_per_line: float  # wall time of `synthesize` (checking and resampling included) per line
    read_ms_per_line: float  # wall time of the final reading per line
    classes: dict | None = None  # the recognizer's `class_accuracy` (lower, capitals, digits, punctuation)
    ocr_cer: float | None = None  # the same lines read by tesseract (`--reader tesseract`), else None
    ocr_wer: float | None = None
    ocr_classes: dict | None = None
    chars: dict | None = None  # the recognizer's `char_accuracy`: per character, read right / written
    set_classes: dict | None = None  # the recognizer's `set_class_accuracy` (letters, accented letters, ...)
    ocr_chars: dict | None = None  # the same by tesseract
    ocr_set_classes: dict | None = None
    #: lines with ink that tesseract read as nothing (counted as all wrong in ``ocr_cer``): its page segmentation
    #: now and then finds no text line in a plainly written one, which a reader of the figure should know
    ocr_empty: int | None = None
    readings: list | None = None  # per line: {"text", "recognizer", "tesseract" (None without it), "attempts"}

    def to_dict(self) -> dict:
        return asdict(self)


def style_label(bundle, key) -> str:
    st = bundle.style(key)
    if st is None:
        return "default"
    return f"{bundle.styles.index(st)}: {st.name}" if st.name else str(bundle.styles.index(st))


def evaluate(bundle, recognizer, lines: Sequence[str], style, bias: float, check: bool, seed: int = 0,
             fail_cer: float | None = None, progress: Callable[[int, int], None] | None = None,
             segment_chars: int | None = None, tesseract: bool = False, ocr_languages: str = "eng",
             full=None, line_seeds: bool = False) -> EvalRow:
    """Sample `lines` with one style and bias, read them back, and score them (see `EvalRow`); with
    `tesseract`, also read them with Tesseract OCR as the page would show them (`hwcli.evaluation.ocr`), with the
    language data `ocr_languages` ("eng+fra+..." as tesseract's ``-l``). With `full` (the bundled full-set
    model), the lines holding characters `bundle` lacks or writes poorly (`charset.needs_full_set`) are written
    by `full`, as `hwcli write` does with no model asked for (every line in a style flagged
    `full_set`, `charset.writes_all`). With `line_seeds`, each line is drawn from its own random stream (`seed`,
    its number in `lines`), as `hwcli write` draws the lines of a batch of documents: a change that alters one
    line's ink or reading leaves every other line as it was (without it, the lines written again share batches and
    one random stream, so one changed reading redraws others), which makes A/B comparisons of small changes steady."""
    from ..synthesis import SamplingOptions, synthesize, unit_seed
    from ..recognizer.reading import cer, corpus_error_rates, read_strokes
    from ..synthesis import line_checker

    threshold = bundle.sampling.report_cer if fail_cer is None else float(fail_cer)
    opts = SamplingOptions(bias=bias, style=style, seed=seed, check=check, segment_chars=segment_chars)
    lines = list(lines)
    groups = [(bundle, list(range(len(lines))))]
    if full is not None:
        from ..charset import route_lines

        st = style if style is None or not isinstance(style, (int, str)) else bundle.style(style)
        groups = [(b, idx) for b, idx in zip((bundle, full), route_lines(lines, bundle, st)) if idx]  # as `hwcli write`
    res: list = [None] * len(lines)
    hyps: list = [""] * len(lines)
    t_sample = t_read = 0.0
    done = 0
    for b, idx in groups:
        t0 = time.perf_counter()
        out = synthesize(b, [lines[i] for i in idx], opts, checker=line_checker(b, recognizer) if check else None,
                         progress=(lambda k, _n, base=done: progress(base + k, len(lines))) if progress else None,
                         seeds=[unit_seed(seed, i) for i in idx] if line_seeds else None)
        t1 = time.perf_counter()
        read = read_strokes(recognizer, [r.strokes for r in out], b.scale)
        t_sample, t_read = t_sample + t1 - t0, t_read + time.perf_counter() - t1
        for i, r, h in zip(idx, out, read):
            res[i], hyps[i] = r, h
        done += len(idx)
    refs = [" ".join(r.text.split()) for r in res]
    hyps = [" ".join(h.split()) for h in hyps]
    rates = corpus_error_rates(refs, hyps)
    failed = sum(1 for r, ref, h in zip(res, refs, hyps) if not r.ok or cer(ref, h) > threshold)
    n = max(len(res), 1)
    row = EvalRow(style_label(bundle, style), float(bias), bool(check), len(res), rates["cer"], rates["wer"],
                  failed / n, sum(r.attempts > 1 for r in res) / n, t_sample / n, 1000 * t_read / n,
                  classes=class_accuracy(refs, hyps))
    row.chars = char_accuracy(refs, hyps)
    row.set_classes = set_class_accuracy(row.chars)
    if tesseract:
        ocr = [""] * len(res)
        for b, idx in groups:
            for i, o in zip(idx, read_as_page(b, style, [res[i].strokes for i in idx], ocr_languages)):
                ocr[i] = o
        o = corpus_error_rates(refs, ocr)
        row.ocr_cer, row.ocr_wer, row.ocr_classes = o["cer"], o["wer"], class_accuracy(refs, ocr)
        row.ocr_chars = char_accuracy(refs, ocr)
        row.ocr_set_classes = set_class_accuracy(row.ocr_chars)
        row.ocr_empty = sum(1 for r, o in zip(res, ocr) if len(r.strokes) and not o.strip())
    row.readings = [{"text": ref, "recognizer": h, "tesseract": (ocr[i] if tesseract else None),
                     "attempts": r.attempts} for i, (ref, h, r) in enumerate(zip(refs, hyps, res))]
    return row


def read_as_page(bundle, style, strokes: Sequence, languages: str = "eng") -> list[str]:
    """Tesseract's reading of sampled lines (runs of spaces collapsed), each drawn as a default page draws a
    line in `style` (`hwcli.evaluation.ocr`), read with the language data `languages`."""
    from ..writing.compose import hand_metrics
    from .ocr import read_lines

    scale, _ = hand_metrics(bundle, bundle.style(style), 10.0)  # mm per model unit on a default page
    return [" ".join(h.split()) for h in read_lines(list(strokes), scale, languages=languages)]


def reference_lines(ds, alphabet, n: int = 300, seed: int = 0, line_set: str = "ordinary") -> list[int]:
    """A fixed subset of `n` validation lines (testset_v) that `alphabet` can spell (all of them when n is 0);
    for the ``"hard"`` set only the lines `is_hard_text` accepts (digits, capitals)."""
    from ..data.dataset import VALID_SPLIT

    idx = [int(i) for i in ds.indices([VALID_SPLIT]) if ds.texts[i].strip() and all(c in alphabet for c in ds.texts[i])
           and (line_set != "hard" or is_hard_text(ds.texts[i]))]
    if n and len(idx) > n:
        idx = sorted(np.random.default_rng(seed).choice(idx, n, replace=False).tolist())
    return idx


def read_real_as_page(bundle, strokes: Sequence, languages: str = "eng") -> list[str]:
    """Tesseract's reading of real lines (normalised units of `bundle`), each drawn at the size a default page
    gives a line of the bundle's default style: scaled by its own body height, as the page scales a style; read
    with the language data `languages`."""
    from dataclasses import replace

    from ..writing.compose import hand_metrics
    from ..model.bundle import Style
    from .ocr import read_lines
    from ..strokes import body_height, to_points

    out = []
    base = bundle.style(None)
    for s in strokes:
        body = body_height(to_points(s))
        st = replace(base, body_height=body) if base is not None else Style("real line", "", s, body_height=body)
        scale, _ = hand_metrics(bundle, st, 10.0)
        out.append(" ".join(read_lines([s], scale, languages=languages)[0].split()))
    return out


def evaluate_reference(ds, recognizer, n: int = 300, seed: int = 0, line_set: str = "ordinary",
                       tesseract_bundle=None) -> dict:
    """How the judges read real people's lines (testset_v, the human reference): keys as `corpus_error_rates`
    plus ``classes`` (`class_accuracy`) and ``read_ms_per_line``; with `tesseract_bundle` (a synthesis bundle,
    for the page size) also ``ocr_cer``, ``ocr_wer`` and ``ocr_classes`` from tesseract (`read_real_as_page`), else None.
    With ``line_set="hard"`` only lines holding digits or capitals (`is_hard_text`), like the hard set."""
    from ..recognizer.reading import corpus_error_rates, read_strokes

    idx = reference_lines(ds, recognizer.alphabet, n, seed, line_set)
    refs = [" ".join(ds.texts[i].split()) for i in idx]
    t0 = time.perf_counter()
    hyps = [" ".join(h.split()) for h in read_strokes(recognizer, [ds.normalised_line(i) for i in idx], ds.scale)]
    dt = time.perf_counter() - t0
    out = corpus_error_rates(refs, hyps)
    out["read_ms_per_line"] = 1000 * dt / max(len(idx), 1)
    out["classes"] = class_accuracy(refs, hyps)
    out.update(ocr_cer=None, ocr_wer=None, ocr_classes=None)
    if tesseract_bundle is not None:
        ocr = read_real_as_page(tesseract_bundle, [ds.normalised_line(i, tesseract_bundle.scale) for i in idx])
        o = corpus_error_rates(refs, ocr)
        out.update(ocr_cer=o["cer"], ocr_wer=o["wer"], ocr_classes=class_accuracy(refs, ocr))
    return out
