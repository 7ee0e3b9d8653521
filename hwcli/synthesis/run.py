"""The sampling pass: lines of text -> checked stroke sequences (see the package docstring)."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np
import torch

from ..model.bundle import Bundle, Style
from ..model.sampling import sample_batch
from ..strokes import join_segments, restyle
from .checks import READ_BACK, Checker, _lost_end, check_line, is_hard_unit, line_checker
from .options import (MAX_CANDIDATES, MIN_CANDIDATES, RETRY_BATCH, SEEDED_CANDIDATES, SEEDED_CHARS, LineResult,
                      Sampling, SamplingOptions)
from .segments import SPLIT_SEED, halves, split_segments, unit_seed

log = logging.getLogger(__name__)


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
