"""The sampling pass: lines of text -> checked stroke sequences (see the package docstring).

`synthesize` cuts lines into units (segments), samples every unit of every line in one pass (`_synthesize_units`:
batches, checks, resampling rounds), writes a unit that lost its end again as two halves (`_redo_lost_ends`), and
joins each line's units (`_join_units`). Everything in hwcli that samples lines of text goes through here.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np
import torch

from ..model.bundle import Bundle
from ..model.sampling import sample_batch
from ..strokes import join_segments, restyle
from ..texts import is_hard_text
from .checks import READ_BACK, Checker, _lost_end, check_line, line_checker
from .options import (MAX_CANDIDATES, MIN_CANDIDATES, RETRY_BATCH, SEEDED_CANDIDATES, SEEDED_CHARS, LineResult,
                      Sampling, SamplingOptions)
from .segments import SPLIT_SEED, halves, split_segments, unit_seed
from .bars import bold_points, cross_bars, lengthen_slashes, lower_marks, part_colons, seat_letters, underline
from .spacing import space_marks, stem_room

log = logging.getLogger(__name__)


def synthesize(
    bundle: Bundle,
    lines: Sequence[str],
    opts: SamplingOptions = SamplingOptions(),
    progress: Callable[[int, int], None] | None = None,
    checker: Checker | None = None,
    seeds: Sequence[int] | None = None,
) -> list[LineResult]:
    """Sample every line; see the package docstring. ``progress(done, total)`` counts finished lines.

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
    segs = [split_segments(t, s.segment_chars) if t.strip() else [t] for t in lines]
    # every segment of every line in one pass: no segment waits for the one before, so batches are as full as
    # they can be and the resampling of every segment shares its rounds (with per-unit seeds, each unit's own
    # stream)
    units = [(i, k) for i, ss in enumerate(segs) for k in range(len(ss))]
    res_all = _synthesize_units(bundle, [segs[i][k] for i, k in units], s, _line_counter(units, segs, lines, progress),
                                checker, seeds=None if seeds is None else [unit_seed(seeds[i], k) for i, k in units])
    by_line: list[list[LineResult]] = [[] for _ in segs]
    for (i, _k), r in zip(units, res_all):
        by_line[i].append(r)
    _redo_lost_ends(bundle, segs, units, by_line, s, checker, seeds)
    out = [_join_units(t, mine, s.size_ramp) for t, mine in zip(lines, by_line)]
    style = s.style
    if style is not None and (style.x_scale != 1.0 or style.shear != 0.0):
        for r in out:  # a personal style's letter width and slant (`styles.priming.geometry_correction`)
            r.strokes = restyle(r.strokes, style.x_scale, style.shear)
    return out


def _line_counter(units: list[tuple[int, int]], segs: list[list[str]], lines: Sequence[str],
                  progress: Callable[[int, int], None] | None) -> Callable[[int], None]:
    """`done(j)` for unit j that calls ``progress(lines finished, lines with text)`` when j's line is finished."""
    left = [len(ss) for ss in segs]  # units of each line not final yet
    total = sum(1 for t in lines if t.strip())
    finished = 0

    def unit_done(j: int) -> None:
        nonlocal finished
        i = units[j][0]
        left[i] -= 1
        if left[i] == 0:
            finished += 1
            if progress:
                progress(finished, total)

    return unit_done


def _redo_lost_ends(bundle: Bundle, segs: list[list[str]], units: list[tuple[int, int]],
                    by_line: list[list[LineResult]], s: Sampling, checker: Checker | None,
                    seeds: Sequence[int] | None) -> None:
    """A unit whose attention stalled or never reached its end in every attempt has lost its last words (all-caps
    text does this most). Shorter text stalls less: it is written again as two halves, which replace it in
    `by_line` when neither loses its end."""
    redo = [(i, k) for i, k in units if _lost_end(by_line[i][k]) and len(halves(segs[i][k])) == 2]
    if not redo:
        return
    parts = [h for i, k in redo for h in halves(segs[i][k])]
    res_h = _synthesize_units(bundle, parts, s, lambda j: None, checker,
                              seeds=None if seeds is None else
                              [unit_seed(seeds[i], k, SPLIT_SEED, h) for i, k in redo for h in range(2)])
    for n, (i, k) in reversed(list(enumerate(redo))):  # from the end: a line's later units keep their place
        pair = res_h[2 * n: 2 * n + 2]
        if not any(_lost_end(r) for r in pair):
            by_line[i][k: k + 1] = pair


def _place_marks(o, text: str):
    """A sampled row with its marks placed where a reader sees them (`spacing.space_marks`, `bars.cross_bars`,
    `spacing.stem_room`, `bars.underline`, `bars.part_colons`, `bars.bold_points`, `bars.lower_marks`,
    `bars.lengthen_slashes`, `bars.seat_letters`, in that order); the network's own ink otherwise."""
    c = o.chars
    s = stem_room(cross_bars(space_marks(o.strokes, c, text), c, text), c, text)
    s = part_colons(underline(s, c, text), c, text)
    s, c = bold_points(s, c, text)
    s = lengthen_slashes(lower_marks(s, c, text), c, text)
    return replace(o, strokes=seat_letters(s, c, text), chars=c)


def _join_units(text: str, mine: list[LineResult], ramp: float) -> LineResult:
    """One line's result from its units' (a whole line, or its segments joined on one baseline)."""
    if len(mine) == 1:
        mine[0].text = text
        if ramp and len(mine[0].strokes):
            # (no alignment passed: a line of one unit is not levelled, as before; its sag has no seam to step at)
            mine[0].strokes = join_segments([mine[0].strokes], [text], ramp=ramp)
        return mine[0]
    bad = [r.reason for r in mine if not r.ok]
    n = max(sum(len(r.text) for r in mine), 1)
    aligned = [r.chars for r in mine]
    joined = join_segments([r.strokes for r in mine], [r.text for r in mine], ramp=ramp, chars=aligned)
    starts = np.cumsum([0] + [len(r.text) + 1 for r in mine[:-1]])  # each segment's place in the line
    chars = (np.concatenate([c + s0 for c, s0, r in zip(aligned, starts, mine) if len(r.strokes)])
             if all(c is not None for c in aligned) and any(len(r.strokes) for r in mine) else None)
    return LineResult(text, joined, ok=not bad, reason="; ".join(dict.fromkeys(bad)),
                      attempts=max(r.attempts for r in mine), resampled=any(r.resampled for r in mine),
                      cer=sum(r.cer * len(r.text) for r in mine) / n, steps=sum(r.steps for r in mine),
                      segments=len(mine), chars=chars)


def _synthesize_units(
    bundle: Bundle,
    lines: Sequence[str],
    opts: Sampling,
    done: Callable[[int], None],
    checker: Checker | None,
    seeds: Sequence[int] | None = None,
) -> list[LineResult]:
    """Sample, check and resample every unit (a line or a segment of one); `done(i)` when unit i is final.
    `seeds`: one per unit, each unit then sampled from its own generator (seed, attempt) in batches of a
    fixed shape (see `_sample_rows`), and read back alone."""
    results: list[LineResult | None] = [None] * len(lines)
    wrong: dict[int, tuple[int, float | None]] = {}  # the kept copy: misread digits (`strict_digits`), strained CER
    todo = [i for i, t in enumerate(lines) if t.strip()]
    for i, t in enumerate(lines):
        if not t.strip():
            results[i] = LineResult(t, np.zeros((0, 3), np.float32))
    attempt = 0
    while todo:
        failed: list[int] = []
        # sort by length so a batch's lines end at similar times
        order = sorted(todo, key=lambda i: len(lines[i]))
        copies = _copies(order, lines, opts, attempt, checker, seeds is not None)
        size = opts.batch_size if seeds is None or attempt == 0 else min(max(opts.batch_size, max(copies.values())),
                                                                         RETRY_BATCH)
        for chunk in _chunks(order, copies, size):
            rows = _sample_rows(bundle, lines, chunk, copies, opts, attempt, size, checker, seeds)
            first_row = 0
            for i in chunk:
                kept = _keep_best(results, wrong, i, rows, first_row, copies[i], lines[i], attempt)
                first_row += copies[i]
                if kept and attempt < opts.retries:
                    failed.append(i)
                else:
                    done(i)
        todo = failed
        attempt += 1
        if todo:
            log.info("resampling %d line(s), attempt %d", len(todo), attempt + 1)
    for r in results:
        # out of retries, a unit that only read back a little worse than the resampling threshold is accepted
        if r is not None and not r.ok and r.reason.startswith(READ_BACK) and r.cer <= opts.report_cer:
            r.ok, r.reason = True, ""
    return [r for r in results if r is not None]


def _copies(order: list[int], lines: Sequence[str], opts: Sampling, attempt: int, checker: Checker | None,
            seeded: bool) -> dict[int, int]:
    """How many copies of each unit this pass writes (the best-reading one is kept).

    A resampling pass writes every failed unit `k` times and keeps the copy that reads best. A pass costs about as
    long as its longest line whatever its rows (on 1 CPU thread, 8 rows of 36 characters take ~1.0 s, 32 rows
    ~1.2 s), so spare rows make a second pass for the same unit rare, and the best of `k` reads better than the
    first that passes. With per-unit seeds `k` is fixed (a unit's strokes must not depend on how many others
    failed) and every batch is padded to a fixed size (see `_sample_rows`). On the first pass, when lines are read
    back, `copies` of every unit (1 unless the bundle or caller asks for more: a personal adapted network writes
    its writer's slips too) and `hard_copies` of a unit holding digits or capitals (what the network writes worst)
    if that is more, so the better reading is kept from the start."""
    if attempt == 0:
        k = 1
    elif seeded:
        k = SEEDED_CANDIDATES
    else:
        k = max(MIN_CANDIDATES, min(MAX_CANDIDATES, opts.batch_size // max(len(order), 1)))
    if attempt > 0 or checker is None:
        return {i: k for i in order}
    return {i: max(opts.copies, opts.hard_copies) if is_hard_text(lines[i]) else opts.copies for i in order}


def _chunks(order: list[int], copies: dict[int, int], size: int) -> list[list[int]]:
    """Whole units per batch, at most `size` rows (a unit with more copies fills one alone)."""
    chunks: list[list[int]] = [[]]
    rows_in = 0  # rows of the last chunk
    for i in order:
        if chunks[-1] and rows_in + copies[i] > size:
            chunks.append([])
            rows_in = 0
        chunks[-1].append(i)
        rows_in += copies[i]
    return chunks


def _sample_rows(bundle: Bundle, lines: Sequence[str], chunk: list[int], copies: dict[int, int], opts: Sampling,
                 attempt: int, size: int, checker: Checker | None,
                 seeds: Sequence[int] | None) -> list[tuple[LineResult, int, float | None]]:
    """Sample one batch (every copy of the chunk's units), check and read back each row: per row, its result
    (not yet kept), its misread digits (counted with `strict_digits` only) and its strained CER (the mean of its
    plain and strained readings, `checks.STRAINS`, read where copies of a unit tie for best (`_to_rank`); None
    elsewhere, or from a checker without `strained`)."""
    g = torch.Generator().manual_seed((opts.seed * 1_000_003 + attempt * 7919 + chunk[0]) % (2**63))
    row_units = [i for i in chunk for _ in range(copies[i])]  # the unit of each row
    texts = [lines[i] for i in row_units]
    gens, min_chars = None, 0
    if seeds is not None:
        gens = [torch.Generator().manual_seed(unit_seed(seeds[i], attempt) if j == 0 else unit_seed(seeds[i], attempt, j))
                for i in chunk for j in range(copies[i])]
        # CPU matrix products round differently for different numbers of rows (not for different
        # neighbours), and the window's sums for different numbers of characters: a batch padded to
        # `size` rows (copies of its shortest line) and to a fixed length keeps every shape fixed
        pad = max(size - len(row_units), 0)
        texts += [texts[0]] * pad
        gens += [torch.Generator().manual_seed(j) for j in range(pad)]
        min_chars = (len(opts.style.text) + 1 if opts.style is not None else 0) + SEEDED_CHARS
    cap = opts.max_steps_per_char
    outs = sample_batch(bundle, texts, opts.bias, g, opts.style, cap, unconditional_steps=cap * 10,
                        hard_bias=opts.hard_bias, row_generators=gens, min_chars=min_chars)[: len(row_units)]
    if bundle.is_synthesis:  # room after points, colons, signs; t's crossed; underscores on the line; colons parted
        outs = [_place_marks(o, lines[i]) for i, o in zip(row_units, outs)]
    reasons = [check_line(o.strokes, lines[i], o.reached_end, o.hit_cap, o.stalled) if bundle.is_synthesis else ""
               for i, o in zip(row_units, outs)]
    cers = [0.0] * len(row_units)
    digits = [0] * len(row_units)
    strained: list[float | None] = [None] * len(row_units)  # not read strained: nothing to rank
    if checker is not None and bundle.is_synthesis:
        if seeds is None:
            cers = checker([o.strokes for o in outs], [lines[i] for i in row_units])
        else:  # one line at a time: the reading must not depend on the neighbours either
            cers = [checker([o.strokes], [lines[i]])[0] for i, o in zip(row_units, outs)]
        reasons = [r or (f"{READ_BACK} (CER {c:.2f})" if c > opts.check_cer else "") for r, c in zip(reasons, cers)]
        if opts.strict_digits:
            digits = [getattr(c, "wrong_digits", 0) for c in cers]
        rank = getattr(checker, "strained", None)
        sel = _to_rank(chunk, copies, reasons, digits) if rank is not None else []
        if sel and seeds is None:
            for r, v in zip(sel, rank([outs[r].strokes for r in sel], [lines[row_units[r]] for r in sel],
                                      [cers[r] for r in sel])):
                strained[r] = float(v)
        for r in sel if seeds is not None else ():  # alone, like the plain reading
            strained[r] = float(rank([outs[r].strokes], [lines[row_units[r]]], [cers[r]])[0])
    return [(LineResult(lines[i], o.strokes, ok=not r, reason=r, attempts=attempt + 1, resampled=attempt > 0,
                        cer=float(c), steps=o.steps, chars=o.chars), d, sc)
            for i, o, r, c, d, sc in zip(row_units, outs, reasons, cers, digits, strained)]


def _to_rank(chunk: list[int], copies: dict[int, int], reasons: list[str], digits: list[int]) -> list[int]:
    """The rows worth reading strained: of each unit, its copies that tie for best (passing, fewest misread
    digits), where two or more do; a unit's only contender needs no ranking (six readings saved per copy)."""
    sel, r0 = [], 0
    for i in chunk:
        cls = [(bool(reasons[r]), digits[r]) for r in range(r0, r0 + copies[i])]
        top = [r0 + k for k, c in enumerate(cls) if c == min(cls)]
        sel += top if len(top) > 1 else []
        r0 += copies[i]
    return sel


def _keep_best(results: list[LineResult | None], wrong: dict[int, tuple[int, float | None]], i: int,
               rows: list[tuple[LineResult, int, float | None]],
               first_row: int, n: int, text: str, attempt: int) -> bool:
    """Keep unit i's best attempt so far in `results`; True when it should be written again (it fails, or reads
    a digit wrong).

    This pass's best copy of unit i is a passing one with the fewest misread digits that reads best, else the
    one that reads best; it replaces the kept attempt when it is better the same way (a passing one, else the
    one that reads best: fewest misread digits first, then the strained CER, the mean over the line read as
    written, squeezed and slanted (`checks.STRAINS`: it ranks copies by how clearly they are written, where many
    read back perfectly), then the CER). A kept attempt or a copy that was never read strained (the only
    contender of its pass) is compared by its CER alone."""
    def key(r):
        res, digits, strained = rows[r]
        return (not res.ok, digits, res.cer if strained is None else strained, res.cer, r)

    j = min(range(first_row, first_row + n), key=key)
    cand, digits, strained = rows[j]
    prev = results[i]
    if prev is None:
        better = True
    elif wrong[i][1] is None or strained is None:
        better = (not cand.ok, digits, cand.cer) < (not prev.ok, wrong[i][0], prev.cer)
    else:
        better = (not cand.ok, digits, strained, cand.cer) < (not prev.ok, *wrong[i], prev.cer)
    if better:
        results[i] = cand
        wrong[i] = (digits, strained)
    else:
        prev.attempts = attempt + 1
    return bool(cand.reason or wrong[i][0])
