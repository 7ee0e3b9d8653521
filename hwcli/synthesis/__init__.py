"""Lines of text -> stroke sequences with a trained bundle: options, segments, checks, retries.

The sampling loop itself lives beside the network (`hwcli.model.sampling.sample_batch`): all lines of a call
are sampled together as one batch, and each line stops on its own when the attention window has moved past
its last character and the pen has lifted, or at a cap of steps per character. This module decides what
to sample and what to keep. Lines that fail the sanity checks (window never reached the end, ran to the cap,
absurd extents, scribbles) are resampled with a new seed up to ``retries`` times, a few copies of it in each
resampling pass (the best-reading copy is kept); a line that still fails is returned with ``ok=False`` and its
reason, never dropped. A line or segment that lost its end in every attempt (attention stalled, or never
reached the last character) is first written again as two halves, which replace it when both reach their ends.

Long lines are written in segments. IAM-OnDB lines are short (median 29 characters, 95th percentile 41), and a
network asked for a 50-character page line is outside what it learnt: the attention drifts and the end of the
line turns to scribble. A line longer than ``segment_chars`` is therefore cut at spaces into the fewest balanced
segments, each segment is sampled (checked and resampled) as a line of its own in the same style, and the
segments are joined on a common baseline with a word space between them (`hwcli.strokes.join_segments`), evened to the line's
x-height (measured on the small letters, found through the attention window, so it does not depend on which
letters a segment holds) and to its mean slant, so the line reads as one hand. Priming each segment with the one
before it (`SamplingOptions.chain_segments`) was measured and is off: the network shrinks as it continues.

Read-back checking is decided here too: when checking is on (`SamplingOptions.check`, default the bundle's),
`synthesize` reads lines back with the bundled recognizer, and raises `ModelFileError` saying why when it
cannot load one; it never turns checking off by itself. Digits are held to a stricter rule than letters
(`SamplingOptions.strict_digits`): a line or segment whose digits do not all read back as written is
resampled like a failing one, and among copies the one with the fewest misread digits wins, since a wrong
digit changes a date, a price or a phone number where a sloppy letter only looks sloppy.
"""
from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np
import torch

from ..errors import ModelFileError, OptionError, check_seed
from ..model.bundle import MAX_RETRIES, MAX_STEPS_PER_CHAR, Bundle, Style
from ..model.sampling import sample_batch
from ..strokes import join_segments, restyle

log = logging.getLogger(__name__)
RETRY_BATCH = 16  # rows of a resampling batch when lines have their own seeds (`synthesize(seeds=...)`)
SEEDED_CANDIDATES = 2  # ...copies of each failed unit in it (see `_synthesize_units`)
MAX_CANDIDATES = 4  # copies of a failed unit in a resampling pass without per-unit seeds...
MIN_CANDIDATES = 2  # ...and at least this many
HARD_COPIES = 2  # default of SamplingOptions.hard_copies
SEEDED_CHARS = 128  # ...and characters a unit's text is padded to (longer units only are longer)

#: ``checker(strokes, texts) -> CER per line``: reads sampled lines back (see `hwcli.recognizer.reading.make_checker`).
Checker = Callable[[list[np.ndarray], list[str]], list[float]]


@dataclass(frozen=True)
class SamplingOptions:
    bias: float | None = None  # Graves eq. 61-62; None = the bundle's default
    style: int | str | None = None  # style index or name; None = the bundle's default style (defaults.default_style)
    seed: int = 0  # same seed, bundle and options -> same strokes
    max_steps_per_char: int | None = None  # cap on points per character (None = bundle default)
    retries: int | None = None  # resamples of a failed line (None = bundle default)
    check: bool | None = None  # read lines back with the recognizer and resample bad ones (None = bundle default)
    batch_size: int = 64  # lines (or segments of long lines) sampled together
    segment_chars: int | None = None  # write longer lines in segments of at most this many characters
    # (None = bundle default; 0 = never split)
    # prime each segment with the ink of the one before it instead of the style's prime. Off by default: the
    # network then writes each segment smaller than the one before (x-height 0.81x, 0.66x in the slanted
    # style) and reads worse (CER 3.2% -> 4.0%, 7.3% -> 10.5%); see benchmarks/segment_continuity.py --chain
    chain_segments: bool = False
    hard_bias: float | None = None  # extra bias on digits, capitals and punctuation (None = bundle default)
    # copies written at once of a line or segment holding digits or capitals when lines are read back (the
    # best reading is kept); None = HARD_COPIES
    hard_copies: int | None = None
    # when lines are read back, resample a line or segment whose digits do not all read back as written (see
    # the module docstring); out of retries the best copy is kept and not reported for its digits alone
    strict_digits: bool = True

    def __post_init__(self) -> None:
        from ..checks import check_flag, check_number, check_type

        check_number(self.bias, "bias", 0.0, 10.0, none=True)  # bias="1" is an OptionError, not a TypeError
        check_number(self.hard_bias, "hard_bias", 0.0, 10.0, none=True)
        for name in ("max_steps_per_char", "retries", "segment_chars", "hard_copies"):
            check_number(getattr(self, name), name, -math.inf, math.inf, integer=True, none=True)
        check_number(self.batch_size, "batch_size", 1, 1_000_000, integer=True)
        check_type(self.style, (int, str), "style", "a style index or name", none=True)
        check_flag(self.check, "check", none=True)
        check_flag(self.chain_segments, "chain_segments")
        check_flag(self.strict_digits, "strict_digits")
        if self.bias is not None and not (0.0 <= self.bias <= 10.0):
            raise OptionError(f"bias must be between 0 and 10, got {self.bias}")
        if self.hard_bias is not None and not (0.0 <= self.hard_bias <= 10.0):
            raise OptionError(f"hard_bias must be between 0 and 10, got {self.hard_bias}")
        if self.max_steps_per_char is not None and not 5 <= self.max_steps_per_char <= MAX_STEPS_PER_CHAR:
            raise OptionError(f"max_steps_per_char must be between 5 and {MAX_STEPS_PER_CHAR}")
        if self.retries is not None and not 0 <= self.retries <= MAX_RETRIES:
            raise OptionError(f"retries must be between 0 and {MAX_RETRIES}")
        check_seed(self.seed)
        if self.batch_size < 1:
            raise OptionError("batch_size must be >= 1")
        if self.hard_copies is not None and not 1 <= self.hard_copies <= MAX_CANDIDATES:
            raise OptionError(f"hard_copies must be between 1 and {MAX_CANDIDATES}")
        if self.segment_chars is not None and self.segment_chars != 0 and self.segment_chars < 8:
            raise OptionError("segment_chars must be 0 (never split) or at least 8")

    def resolve(self, bundle: Bundle) -> "Sampling":
        """These options with every None replaced by the bundle's default: the one place that happens."""
        d = bundle.sampling
        synth = bundle.is_synthesis
        return Sampling(
            bias=d.bias if self.bias is None else float(self.bias),
            hard_bias=(d.hard_bias if self.hard_bias is None else float(self.hard_bias)) if synth else 0.0,
            style=bundle.style(self.style) if synth else None,
            seed=self.seed,
            max_steps_per_char=self.max_steps_per_char or d.max_steps_per_char,
            retries=d.retries if self.retries is None else self.retries,
            check=synth and (d.check if self.check is None else self.check),
            check_cer=d.check_cer,
            report_cer=d.report_cer,
            batch_size=self.batch_size,
            segment_chars=(d.segment_chars if self.segment_chars is None else self.segment_chars) if synth else 0,
            size_ramp=d.size_ramp if synth else 0.0,
            chain_segments=self.chain_segments and synth,
            hard_copies=HARD_COPIES if self.hard_copies is None else self.hard_copies,
            strict_digits=self.strict_digits,
        )


@dataclass(frozen=True)
class Sampling:
    """`SamplingOptions` resolved against a bundle (`SamplingOptions.resolve`): every field concrete."""

    bias: float
    hard_bias: float  # added to `bias` on digits, capitals and punctuation
    style: Style | None  # the priming style (None: the bundle has none, or a prediction network)
    seed: int
    max_steps_per_char: int
    retries: int
    check: bool  # read back with a recognizer (never for a prediction network)
    check_cer: float  # resample a line reading back above this
    report_cer: float  # ...and out of retries report it only above this
    batch_size: int
    segment_chars: int  # 0 = never split
    size_ramp: float
    chain_segments: bool
    hard_copies: int = 1
    strict_digits: bool = False  # resample a unit whose digits read back wrong (see SamplingOptions)


@dataclass
class LineResult:
    text: str
    strokes: np.ndarray  # (N, 3) normalised offsets [dx, dy, eos]
    ok: bool = True
    reason: str = ""  # why the line failed its checks (when not ok)
    attempts: int = 1
    resampled: bool = False  # retried because of a failed check
    cer: float = 0.0  # read-back character error rate (0 when not read back); a segmented line: weighted mean
    steps: int = 0  # points sampled (all segments together)
    segments: int = 1  # segments the line was written in
    chars: np.ndarray | None = None  # the character (0-based, in `text`) the window was on at each point


STALLED = "attention stalled on one character"  # reasons a line fails that mean its last characters are missing
SHORT_OF_END = "attention never reached the end of the text"


def check_line(strokes: np.ndarray, text: str, reached_end: bool, hit_cap: bool, stalled: bool = False) -> str:
    """'' when the line looks like handwriting, else the reason it failed (normalised units)."""
    if stalled:
        return STALLED
    if not reached_end:
        return SHORT_OF_END
    if hit_cap:
        return "ran to the step cap"
    if len(strokes) < 2:
        return "no ink"
    pts = np.cumsum(strokes[:, :2].astype(np.float64), axis=0)
    n = max(len(text.strip()), 1)
    # Thresholds sit beyond the 99.9th percentile of real IAM-OnDB lines (normalised units): height
    # (2nd-98th percentile of y) 15.3, width 2.0-5.9 per character, largest step 26.8, ink length per
    # unit of width 4.0 over a line and 7.6 over any 48-point window.
    h = np.percentile(pts[:, 1], 98) - np.percentile(pts[:, 1], 2)
    w = float(np.ptp(pts[:, 0]))
    if h > 20.0:
        return "absurd height"
    if w < 1.0 * n or w > 8.0 * n + 10.0:
        return "absurd width"
    step = np.linalg.norm(strokes[1:, :2], axis=1)
    if step.max() > 35.0:
        return "sudden jump"
    ink = step * (strokes[:-1, 2] < 0.5)
    if ink.sum() > 5.0 * max(w, 1.0) + 20.0:
        return "scribble"
    for a in range(0, max(len(strokes) - 48, 1), 24):
        if ink[a : a + 48].sum() > 10.0 * max(float(np.ptp(pts[a : a + 49, 0])), 1.0) + 5.0:
            return "scribble"
    return ""


READ_BACK = "reads back wrong"


def line_checker(bundle: Bundle, recognizer=None) -> Checker:
    """The read-back checker for lines sampled with `bundle`: `recognizer` (a path, a loaded recognizer bundle,
    or None for the bundled one). Raises `ModelFileError` with the reason when no recognizer can be loaded."""
    from ..recognizer.reading import make_checker

    if recognizer is None or isinstance(recognizer, (str, bytes)) or hasattr(recognizer, "__fspath__"):
        try:
            rec = _cached_recognizer(None if recognizer is None else str(recognizer))
        except ModelFileError as exc:
            raise ModelFileError(f"checking is on but the recognizer cannot be loaded: {exc} "
                                 "(or turn checking off: --no-check, check=False)") from None
    else:
        rec = recognizer
    return make_checker(rec, bundle)


@functools.lru_cache(maxsize=2)
def _cached_recognizer(path: str | None):
    from ..recognizer.reading import load_recognizer

    return load_recognizer(path)


def is_hard_unit(text: str) -> bool:
    """A line or segment holding a digit or at least two capitals: the characters the network writes worst."""
    return any(c.isdigit() for c in text) or sum(c.isupper() for c in text) >= 2


SPLIT_SEED = 104_729  # mixed into the seeds of the halves a unit is split into (see `synthesize`)


def _lost_end(r: "LineResult | None") -> bool:
    """A unit given up on with its attention stalled or short of its end: its last characters are missing."""
    return r is not None and not r.ok and r.reason in (STALLED, SHORT_OF_END)


def halves(text: str) -> list[str]:
    """`text` cut at the space nearest its middle into two parts (the text alone when it has no space)."""
    spaces = [j for j, c in enumerate(text) if c == " " and text[:j].strip() and text[j + 1:].strip()]
    if not spaces:
        return [text]
    j = min(spaces, key=lambda j: (abs(2 * j - len(text)), j))
    return [text[:j].rstrip(), text[j + 1:].lstrip()]


def unit_seed(*parts: int) -> int:
    """A 63-bit seed mixed from non-negative integers (numpy's SeedSequence: stable across platforms)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint64)[0] >> 1)


def split_segments(text: str, max_chars: int) -> list[str]:
    """Cut `text` at spaces into the fewest segments of at most `max_chars` characters, as even in length as
    possible (the longest segment is as short as it can be). A line that fits, ``max_chars <= 0``, or a line
    with no space comes back whole; a single word longer than `max_chars` becomes a segment of its own."""
    words = text.split()
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


def synthesize(
    bundle: Bundle,
    lines: Sequence[str],
    opts: SamplingOptions = SamplingOptions(),
    progress: Callable[[int, int], None] | None = None,
    checker: Checker | None = None,
    seeds: Sequence[int] | None = None,
) -> list[LineResult]:
    """Sample every line; see the module docstring. ``progress(done, total)`` counts finished lines.

    ``seeds`` (one non-negative integer per line) gives every line its own random stream, seeded from
    (its seed, segment, attempt): a line's strokes then depend only on its text, its seed, the bundle and
    the options (``batch_size`` included: batches are padded to it), never on the other lines of the call
    or their order (``opts.seed`` is unused); the checker then reads one line at a time. Without it one
    generator per batch, seeded by ``opts.seed`` and the batch's position, serves all its lines.

    Read-back checking: ``opts.check`` False never reads back; otherwise `checker` reads lines back when given,
    else the bundle's default decides and the bundled recognizer is loaded (`line_checker`). Lines reading
    back above the bundle's ``check_cer`` are resampled too."""
    if seeds is not None and len(seeds) != len(lines):
        raise ValueError(f"{len(seeds)} seeds for {len(lines)} lines")
    s = opts.resolve(bundle)
    if opts.check is None and checker is not None:
        s = replace(s, check=bundle.is_synthesis)
    if s.check and checker is None:
        checker = line_checker(bundle)
    if not s.check:
        checker = None
    seg_chars, ramp = s.segment_chars, s.size_ramp
    segs = [split_segments(t, seg_chars) if t.strip() else [t] for t in lines]
    owner = [i for i, ss in enumerate(segs) for _ in ss]
    first_unit = np.concatenate([[0], np.cumsum([len(ss) for ss in segs])]).astype(int)  # unit number of (line, 0)
    left = [len(ss) for ss in segs]  # units of each line not final yet
    total = sum(1 for t in lines if t.strip())
    finished = 0

    def unit_done(u: int) -> None:
        nonlocal finished
        left[owner[u]] -= 1
        if left[owner[u]] == 0:
            finished += 1
            if progress:
                progress(finished, total)

    # With `chain_segments`, a segment is primed with the ink and text of the segment before it instead of the
    # style's prime, so it continues that hand (size, slant, spacing) rather than starting afresh; segments are
    # then sampled in rounds: round k writes the k-th segment of every line that has one. Without it (the
    # default) every segment of every line is sampled in one pass below.
    n_rounds = max((len(ss) for ss in segs), default=0)
    by_line: list[list[LineResult | None]] = [[None] * len(ss) for ss in segs]
    style = s.style
    if not s.chain_segments:
        # no segment waits for the one before: all units in one pass, so batches are as full as they can be
        # and the resampling of every segment shares its rounds (with per-unit seeds, each unit's own stream)
        units = [(i, k) for i, ss in enumerate(segs) for k in range(len(ss))]
        res_all = _synthesize_units(bundle, [segs[i][k] for i, k in units], s,
                                    lambda j: unit_done(int(first_unit[units[j][0]]) + units[j][1]), checker,
                                    seeds=None if seeds is None else [unit_seed(seeds[i], k) for i, k in units])
        for (i, k), r in zip(units, res_all):
            by_line[i][k] = r
        n_rounds = 0
        # A unit whose attention stalled or never reached its end in every attempt has lost its last words
        # (all-caps text does this most). Shorter text stalls less: it is written again as two halves, which
        # replace it when neither loses its end.
        redo = [(i, k) for i, k in units if _lost_end(by_line[i][k]) and len(halves(segs[i][k])) == 2]
        if redo:
            parts = [h for i, k in redo for h in halves(segs[i][k])]
            res_h = _synthesize_units(bundle, parts, s, lambda j: None, checker,
                                      seeds=None if seeds is None else
                                      [unit_seed(seeds[i], k, SPLIT_SEED, h) for i, k in redo for h in range(2)])
            for n, (i, k) in reversed(list(enumerate(redo))):  # from the end: a line's later units keep their place
                pair = res_h[2 * n: 2 * n + 2]
                if not any(_lost_end(r) for r in pair):
                    by_line[i][k: k + 1] = pair
    for k in range(n_rounds):
        rows = [i for i, ss in enumerate(segs) if len(ss) > k]
        primes = None
        if k and s.chain_segments:
            primes = []
            for i in rows:
                prev = by_line[i][k - 1]
                ok = prev is not None and len(prev.strokes) >= 2
                primes.append(Style("previous segment", prev.text, prev.strokes) if ok else style)
        res_k = _synthesize_units(bundle, [segs[i][k] for i in rows], s, lambda j: unit_done(int(first_unit[rows[j]]) + k),
                                  checker, primes=primes, round_=k,
                                  seeds=None if seeds is None else [unit_seed(seeds[i], k) for i in rows])
        for i, r in zip(rows, res_k):
            by_line[i][k] = r
    out: list[LineResult] = []
    for t, mine in zip(lines, by_line):  # each line's units, in order
        if len(mine) == 1:
            mine[0].text = t
            if ramp and len(mine[0].strokes):
                mine[0].strokes = join_segments([mine[0].strokes], [t], ramp=ramp)
            out.append(mine[0])
            continue
        bad = [r.reason for r in mine if not r.ok]
        n = max(sum(len(r.text) for r in mine), 1)
        aligned = [r.chars for r in mine]
        joined = join_segments([r.strokes for r in mine], [r.text for r in mine], ramp=ramp, chars=aligned)
        starts = np.cumsum([0] + [len(r.text) + 1 for r in mine[:-1]])  # each segment's place in the line
        chars = (np.concatenate([c + s0 for c, s0, r in zip(aligned, starts, mine) if len(r.strokes)])
                 if all(c is not None for c in aligned) and any(len(r.strokes) for r in mine) else None)
        out.append(LineResult(t, joined, ok=not bad,
                              reason="; ".join(dict.fromkeys(bad)), attempts=max(r.attempts for r in mine),
                              resampled=any(r.resampled for r in mine),
                              cer=sum(r.cer * len(r.text) for r in mine) / n,
                              steps=sum(r.steps for r in mine), segments=len(mine), chars=chars))
    if style is not None and (style.x_scale != 1.0 or style.shear != 0.0):
        for r in out:  # a personal style's letter width and slant (`styles.geometry_correction`)
            r.strokes = restyle(r.strokes, style.x_scale, style.shear)
    return out


def _synthesize_units(
    bundle: Bundle,
    lines: Sequence[str],
    opts: Sampling,
    done: Callable[[int], None],
    checker: Checker | None,
    primes: Sequence[Style | None] | None = None,
    round_: int = 0,
    seeds: Sequence[int] | None = None,
) -> list[LineResult]:
    """Sample, check and resample every unit (a line or a segment of one); `done(i)` when unit i is final.
    `primes`: one prime per unit (default: the style's, shared); `round_` varies the seeds between rounds;
    `seeds`: one per unit, each unit then sampled from its own generator (seed, attempt) in batches of a
    fixed shape (see below), and read back alone."""
    bias, cap, retries, prime = opts.bias, opts.max_steps_per_char, opts.retries, opts.style
    threshold = opts.check_cer  # resample a unit that reads back worse than this
    report_above = opts.report_cer  # ...and report it only above this
    results: list[LineResult | None] = [None] * len(lines)
    wrong: dict[int, int] = {}  # misread digits of each unit's kept copy (with `strict_digits`)
    todo = [i for i, t in enumerate(lines) if t.strip()]
    for i, t in enumerate(lines):
        if not t.strip():
            results[i] = LineResult(t, np.zeros((0, 3), np.float32))
    attempt = 0
    while todo:
        failed: list[int] = []
        # sort by length so a batch's lines end at similar times
        order = sorted(todo, key=lambda i: len(lines[i]))
        # A resampling pass writes every failed unit `k` times and keeps the copy that reads best. A pass costs
        # about as long as its longest line whatever its rows (on 1 CPU thread, 8 rows of 36 characters take
        # ~1.0 s, 32 rows ~1.2 s), so spare rows make a second pass for the same unit rare, and the best of
        # `k` reads better than the first that passes. With per-unit seeds `k` is fixed (a unit's strokes must
        # not depend on how many others failed) and every batch is padded to a fixed size (see below).
        if attempt == 0:
            k = 1
        elif seeds is not None:
            k = SEEDED_CANDIDATES
        else:
            k = max(MIN_CANDIDATES, min(MAX_CANDIDATES, opts.batch_size // max(len(order), 1)))
        # copies of each unit in this pass: on the first, `hard_copies` of a unit holding digits or capitals
        # (what the network writes worst) when lines are read back, so the better reading is kept from the start
        copies = {i: (opts.hard_copies if attempt == 0 and checker is not None and is_hard_unit(lines[i]) else k)
                  for i in order}
        size = opts.batch_size if seeds is None or attempt == 0 else min(max(opts.batch_size, k), RETRY_BATCH)
        chunks: list[list[int]] = [[]]
        rows_in = 0  # rows of the last chunk
        for i in order:  # whole units per batch, at most `size` rows (a unit with more copies fills one alone)
            if chunks[-1] and rows_in + copies[i] > size:
                chunks.append([])
                rows_in = 0
            chunks[-1].append(i)
            rows_in += copies[i]
        for chunk in chunks:
            g = torch.Generator().manual_seed((opts.seed * 1_000_003 + attempt * 7919 + chunk[0] + round_ * 104_729) % (2**63))
            row_units = [i for i in chunk for _ in range(copies[i])]  # the unit of each row
            texts = [lines[i] for i in row_units]
            row_primes = prime if primes is None else [primes[i] for i in row_units]
            rows, min_chars = None, 0
            if seeds is not None:
                rows = [torch.Generator().manual_seed(unit_seed(seeds[i], attempt) if j == 0 else unit_seed(seeds[i], attempt, j))
                        for i in chunk for j in range(copies[i])]
                # CPU matrix products round differently for different numbers of rows (not for different
                # neighbours), and the window's sums for different numbers of characters: a batch padded to
                # `size` rows (copies of its shortest line) and to a fixed length keeps every shape fixed
                pad = max(size - len(row_units), 0)
                texts += [texts[0]] * pad
                rows += [torch.Generator().manual_seed(j) for j in range(pad)]
                if primes is not None:
                    row_primes += [row_primes[0]] * pad
                pre = [p for p in ([prime] if primes is None else primes) if p is not None]
                min_chars = max((len(p.text) + 1 for p in pre), default=0) + SEEDED_CHARS
            outs = sample_batch(bundle, texts, bias, g, row_primes, cap, unconditional_steps=cap * 10,
                                hard_bias=opts.hard_bias, row_generators=rows, min_chars=min_chars)[: len(row_units)]
            reasons = [check_line(o.strokes, lines[i], o.reached_end, o.hit_cap, o.stalled) if bundle.is_synthesis else ""
                       for i, o in zip(row_units, outs)]
            cers = [0.0] * len(row_units)
            digits = [0] * len(row_units)  # misread digits per row (counted with `strict_digits` only)
            if checker is not None and bundle.is_synthesis:
                if seeds is None:
                    cers = checker([o.strokes for o in outs], [lines[i] for i in row_units])
                else:  # one line at a time: the reading must not depend on the neighbours either
                    cers = [checker([o.strokes], [lines[i]])[0] for i, o in zip(row_units, outs)]
                reasons = [r or (f"{READ_BACK} (CER {c:.2f})" if c > threshold else "") for r, c in zip(reasons, cers)]
                if opts.strict_digits:
                    digits = [getattr(c, "wrong_digits", 0) for c in cers]
            first_row = 0
            for i in chunk:
                # this pass's best copy of unit i: a passing one with the fewest misread digits that reads
                # best, else the one that reads best
                j = min(range(first_row, first_row + copies[i]),
                        key=lambda r: (bool(reasons[r]), digits[r], cers[r], r))
                first_row += copies[i]
                o, r, c = outs[j], reasons[j], float(cers[j])
                prev = results[i]
                cand = LineResult(lines[i], o.strokes, ok=not r, reason=r, attempts=attempt + 1,
                                  resampled=attempt > 0, cer=c, steps=o.steps, chars=o.chars)
                # keep the best attempt: a passing one, else the one that reads best (fewest misread digits
                # first, then CER)
                if prev is None or (not cand.ok, digits[j], c) < (not prev.ok, wrong[i], prev.cer):
                    results[i] = cand
                    wrong[i] = digits[j]
                else:
                    prev.attempts = attempt + 1
                if (r or wrong[i]) and attempt < retries:
                    failed.append(i)
                else:
                    done(i)
        todo = failed
        attempt += 1
        if todo:
            log.info("resampling %d line(s), attempt %d", len(todo), attempt + 1)
    for r in results:
        # out of retries, a unit that only read back a little worse than the resampling threshold is accepted
        if r is not None and not r.ok and r.reason.startswith(READ_BACK) and r.cer <= report_above:
            r.ok, r.reason = True, ""
    return [r for r in results if r is not None]
