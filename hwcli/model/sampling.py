"""The sampling loop beside the networks: draw one batch of lines point by point (Graves §4-5).

`sample_batch` steps a `SynthesisNetwork` (or a `PredictionNetwork`) one point at a time for a batch of lines,
drawing each point from the biased mixture (`mdn.sample`, eq. 61-62). A synthesis line is written with a space
after its text where its last word can take late marks (`TAIL`) and stops on its own when the attention window
has moved past its end and the pen has lifted, or at a cap of steps per character. What to do with a line that
came out badly (checks, retries, segments) is `hwcli.synthesis`'s business, not this module's.

Strokes in and out are float32 ``(N, 3)`` normalised offsets ``[dx, dy, eos]``, y down.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..strokes import aligned_baseline, x_height
from . import mdn
from .bundle import Bundle, Style

# A synthesis line is written with a space after its text (`TAIL`), as it would be mid-line: at the end of the text
# the network otherwise stops as the pen lifts after the last letter, before the marks people add to a word once it
# is written (the bar of a final t, the accent of a final é, the dot of an i), and a line or segment ending in
# "cat", "qué" or "für" came out "cal", "que", "fur". On 192 selection lines ending in words with t, i or j (seed
# 0, 4 copies), tesseract read the last word's t 156 -> 181 of 192 times, CER 0.0453 -> 0.0379; on 192 lines of
# accented words, the last word's accent marks were missing 25% -> 15% of the time. What the network writes once
# its window has left the text is kept only where it belongs to the last word (`trim_tail`).
TAIL = " "
# ...where the last word holds a small letter (`takes_tail`): a word of capitals or digits has no late marks to add
# (but an accented capital's), and with the space after it the network stalls on it a little more often (96 copies
# of two all-capital hard test sentences, each copy from its own generator: 54 stalled against 49, 7% more steps).
# ...a stroke begun after the text is kept when it is a mark of the last word (`trim_tail`; sizes in x-heights):
TAIL_REACH = 0.5  # over the word's ink, reaching at most this far beyond it
TAIL_DOT = 0.35  # a dot: at most this wide and tall (a full stop, the point of a ! or ?), or
TAIL_LIFT = 0.35  # ...a mark clear of the line: its lowest point at least this far above the baseline
TAIL_MARK = 1.0  # ...at most this tall
TAIL_HIGH = 3.5  # ...and no higher than this above the baseline (an accent over a capital stands ~2.5 up)
# The first stroke that is not ends the line: the first letter of a word that is not there.
# A text ending in a full stop or comma: with the space after it, the network often begins the next word while its
# window is still on the point (8 of 600 `hwcli eval --lines 100` lines, seeds 0-5, read "waterfall. (", "storm. p",
# "pancakes. |", against 1 without the space). So a stroke begun on a final point or comma is kept only where it is
# a mark of the word as above, or the point: at most this many x-heights across and tall, reaching no higher than
# half of that above the baseline.
POINTS = ".,"
TAIL_POINT = 1.0
# ...and after a final ! or ? (its stem or hook begun, the network begins a word there: "taxi! (", "tilt! |"; 8 of
# 192 selection lines ending in "!" or "?" read with such a character after them, against 3 without the space),
# a second stroke begun on it is judged as one begun after the text, and a mark must lie over the word's letters.
STOPS = "!?"
# A line whose attention window stays on one of its characters this many steps in a row has stalled: it writes
# on without advancing (a scribble) until the step cap. The bundled model's segments dwell at most 18-20 steps
# on a character (median) and 25-32 (90th percentile); adapted personal networks stall far more often (a fifth
# of their segments dwell 60+ steps), and each stalled row used to run to the cap and hold its batch open.
STALL_STEPS = 60


@dataclass
class Sample:
    """One sampled line, as the loop left it."""

    strokes: np.ndarray  # (N, 3) float32 normalised offsets [dx, dy, eos]; ends with the pen up
    reached_end: bool  # the window moved past the last character (always True for a prediction network)
    hit_cap: bool  # stopped by the cap of steps per character, not by the stop rule
    steps: int  # points sampled (before trimming the prime's tail and what follows the text, `trim_tail`)
    chars: np.ndarray | None = None  # (N,) the character (0-based, in the line's own text) the window was on
    # when each point was written; None for a prediction network
    stalled: bool = False  # stopped because the window stayed on one character `STALL_STEPS` steps


def onehot_texts(bundle: Bundle, texts: Sequence[str], extra: int = 1, min_len: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, U+extra, C) one-hot with zero rows as padding (U at least `min_len`), and lengths (B,)."""
    enc = [torch.from_numpy(bundle.alphabet.encode(t)) for t in texts]
    lens = torch.tensor([len(e) for e in enc])
    U = max(int(lens.max()), min_len) + extra
    idx = torch.zeros(len(texts), U, dtype=torch.long)
    for i, e in enumerate(enc):
        idx[i, : len(e)] = e
    oh = F.one_hot(idx, len(bundle.alphabet)).float()
    oh[..., 0] = 0.0
    return oh, lens


@torch.inference_mode()
def sample_batch(
    bundle: Bundle,
    texts: Sequence[str],
    bias: float,
    generator: torch.Generator,
    prime: Style | None = None,
    max_steps_per_char: int = 40,
    unconditional_steps: int = 0,
    hard_bias: float = 0.0,
    row_generators: Sequence[torch.Generator] | None = None,
    min_chars: int = 0,
    stall_steps: int | None = STALL_STEPS,
) -> list[Sample]:
    """Sample one batch of lines, all stepped together; each stops on its own (see `Sample`).

    Synthesis: the window runs over ``prime.text + " " + text + TAIL`` after teacher-forcing the prime strokes
    (one style for every line); what is written after the text is kept only where it marks the last word.
    Prediction network (unconditional): ``unconditional_steps`` points per line. `hard_bias` is added to
    `bias` while the window is on a digit, capital or punctuation mark of the line.

    `row_generators` (one per line) replaces `generator`: each line draws all its noise from its own
    generator, up front (`row_noise`), so its strokes do not depend on which other lines share the batch;
    `min_chars` pads the characters (prime text included) to at least this many, since the window's sums
    over characters round differently for different lengths (the caller keeps the row count fixed).
    Without `row_generators`, finished lines leave the batch as it goes (`_step_lines`).
    A synthesis line whose window stays on one of its characters `stall_steps` steps stops there (``stalled``).
    """
    B = len(texts)
    dev = next(bundle.network.parameters()).device
    prefixes = [(prime.text + " ") if prime is not None and bundle.is_synthesis else ""] * B
    written = texts  # what each line says; the window runs over it and, where it helps, a space after it (`TAIL`)
    if bundle.is_synthesis:
        texts = [t + TAIL if takes_tail(t) else t for t in texts]
    oh, end, n_pre, cap = _encode(bundle, texts, prefixes, min_chars, max_steps_per_char, unconditional_steps, dev)
    x = torch.zeros(B, 1, 3, device=dev)
    x[:, 0, 2] = 1.0  # start with the pen up
    state = None
    if bundle.is_synthesis and prime is not None and len(prime.strokes):
        state, x = _prime(bundle, prime, prefixes[0], x, B, dev)
    T_max = int(cap.max())
    noise = row_noise(row_generators, cap.tolist(), T_max).to(dev) if row_generators is not None else None
    hard = _hard_characters(texts, prefixes, oh.shape[1], dev) if bundle.is_synthesis and hard_bias else None
    lines = {k: torch.zeros(B, dtype=torch.bool, device=dev) for k in ("done", "past_end", "stalled")}
    lines.update(steps=torch.zeros(B, dtype=torch.long, device=dev),
                 first=torch.full((B,), -1, dtype=torch.long, device=dev))
    out, at = _step_lines(bundle, x, state, oh, end, n_pre.to(dev), cap, lines, T_max, bias, hard_bias, hard,
                          generator, noise, row_generators is None, stall_steps)
    return [_finish_line(bundle, out[b], at[b], lines, cap, int(n_pre[b]), b, written[b]) for b in range(B)]


def _encode(bundle: Bundle, texts: Sequence[str], prefixes: Sequence[str], min_chars: int, max_steps_per_char: int,
            unconditional_steps: int, dev) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor, torch.Tensor]:
    """(one-hot text (B, U+1, C), index of each line's end (B,), prime characters per line (B,), step cap (B,)):
    the window runs over prefix + text; a prediction network has no text and a fixed number of steps."""
    B = len(texts)
    if not bundle.is_synthesis:
        return None, None, torch.zeros(B, dtype=torch.long), torch.full((B,), max(unconditional_steps, 1), device=dev)
    oh, lens = onehot_texts(bundle, [pre + t for pre, t in zip(prefixes, texts)], min_len=min_chars)
    end = lens.to(dev)  # window index past the last real character is end + 1 (1-based u)
    n_pre = torch.tensor([len(pre) for pre in prefixes])
    cap = ((lens - n_pre).clamp(min=1) * max_steps_per_char + 20).to(dev)
    return oh.to(dev), end, n_pre, cap


def _prime(bundle: Bundle, prime: Style, prefix: str, x: torch.Tensor, B: int, dev):
    """(state, first input) after teacher-forcing one prime, copied to every line.

    Teacher-force the prime once, over the prime's own text, and give every line a copy of the state: priming B
    identical rows step by step cost as much as sampling the lines themselves. The window sits on the prime's
    text all along, so the lines' characters beyond it barely matter there, and from the first sampled step on
    each line's window sees its own text."""
    net = bundle.network
    p = torch.from_numpy(prime.strokes).to(dev).unsqueeze(0)
    inp = p[:, :-1].clone()
    inp[:, 0] = x[:1, 0]  # as in training, the first input is a zero move with the pen up
    oh_prime, _ = onehot_texts(bundle, [prefix])
    _, state, _ = net(inp, oh_prime.to(dev), None)
    state = net.repeat_state(state, B)
    x = p[:, -1:].expand(B, -1, -1).clone()
    x[:, 0, 2] = 1.0  # the prime ends with a lifted pen
    return state, x


def _hard_characters(texts: Sequence[str], prefixes: Sequence[str], U: int, dev) -> torch.Tensor:
    """(B, U) True on the characters that get `hard_bias`: the characters the network saw least (digits,
    capitals, punctuation, and the accented letters and symbols of `texts.is_key_char`, learnt from generated
    lines only) get a higher bias: neater, nearer the model's most likely shape, while ordinary letters keep
    the variety of the base bias. (Accented lower-case letters added in session 12: `hwcli eval --set everyday`
    tesseract CER 0.125 -> 0.111 seed 0, 0.122 -> 0.110 seed 1.) A style's priming text is left alone."""
    from ..texts import is_key_char

    hard = torch.zeros(len(texts), U, dtype=torch.bool)
    for b, (pre, text) in enumerate(zip(prefixes, texts)):
        for j, ch in enumerate(text):
            hard[b, len(pre) + j] = not ((ch.islower() and not is_key_char(ch)) or ch.isspace())
    return hard.to(dev)


def _step_lines(bundle: Bundle, x, state, oh, end, n_prefix, cap, full: dict, T_max: int, bias: float,
                hard_bias: float, hard, generator, noise, compact: bool, stall_steps: int | None):
    """Step the network over the batch until every line has stopped; returns (points (B, T, 3), the character the
    window was on at each step (B, T), 1-based) and fills `full` (per line: done, steps, past_end, first,
    stalled).

    Lines finish at different steps. With `compact`, the loop steps only the lines still being written: every
    8 steps the finished ones are dropped from the batch (`live` maps the batch's rows to lines), so a long last
    line does not drag the whole batch along. Not with per-line generators: a line's strokes must not depend on
    its batch mates, and the arithmetic of a batch depends (in the last bits) on its size.

    After priming, the window may still rest on the prime's last letters, and the model then finishes them
    (a stray 't' crossbar at the start of every line): `first` is the step where the window reaches the line's
    first character, so that strokes ending before it can be dropped (`_finish_line`)."""
    net = bundle.network
    B = x.shape[0]
    dev = x.device
    out = torch.zeros(B, T_max, 3, device=dev)
    at = torch.zeros(B, T_max, dtype=torch.long, device=dev)  # the character the window is on at each step
    live = torch.arange(B, device=dev)
    rows = live.clone()
    # Per-line bookkeeping of the rows being stepped, in `live` order: kept compact, so a step does no
    # gathering or scattering; written back to the full tensors when lines leave the batch and at the end.
    r = {k: v.clone() for k, v in full.items()}
    r.update(cap=cap, n_prefix=n_prefix, dwell=torch.zeros_like(r["steps"]), last_u=torch.zeros_like(r["steps"]))
    # dwell: steps in a row the window has been on the character last_u
    if bundle.is_synthesis:
        r["end"] = end.to(dev)
    if noise is not None:
        r["noise"] = noise

    def write_back() -> None:
        for k, v in full.items():
            v[live] = r[k]

    if bundle.is_synthesis:
        x = x[:, 0]  # `net.step` takes (B, 3)
    for t in range(T_max):
        if bundle.is_synthesis:
            y, state, phi = net.step(x, oh, state)  # y (b, 1+6M), phi (b, U+1)
        else:
            y, state, _ = net(x, oh, state)
            y = y[:, 0]
        whole = len(live) == B
        if bundle.is_synthesis:
            u_best = phi.argmax(dim=1) + 1  # 1-based
            if whole:
                at[:, t] = u_best
            else:
                at[live, t] = u_best
        b_t = bias
        if hard is not None:
            b_t = bias + hard_bias * hard[rows, (u_best - 1).clamp(max=hard.shape[1] - 1)].to(y.dtype)
        d = r["done"]
        nxt = mdn.sample(y, bundle.config.mixtures, b_t, generator, r["noise"][:, t] if noise is not None else None)
        nxt[d] = 0.0
        if whole:
            out[:, t] = nxt
        else:
            out[live, t] = nxt
        r["steps"] += (~d).long()
        if bundle.is_synthesis:
            r["done"] = _stop_rule(r, u_best, nxt, d, t, stall_steps)
        else:
            r["done"] = d | (r["steps"] >= r["cap"])
        x = nxt if bundle.is_synthesis else nxt.unsqueeze(1)
        if t % 8 == 7:  # a host sync every step costs more than a few extra steps
            keep = torch.nonzero(~r["done"]).squeeze(1)
            if len(keep) == 0:
                break
            if compact and len(keep) < len(live):
                write_back()
                live = live.index_select(0, keep)
                r = {k: v.index_select(0, keep) for k, v in r.items()}
                x, state = x.index_select(0, keep), net.select_state(state, keep)
                if oh is not None:
                    oh = oh.index_select(0, keep)
                if hard is not None:
                    hard = hard.index_select(0, keep)
                rows = torch.arange(len(live), device=dev)
    write_back()
    return out, at


def _stop_rule(r: dict, u_best, nxt, d, t: int, stall_steps: int | None):
    """Which synthesis lines are done after step `t` (updating `r`'s past_end, first, dwell, stalled): the window
    has moved past the last character (the component beyond it dominates) and the pen is up, the step cap, or the
    window stalled `stall_steps` steps on one character of the line. A line already done (`d`: a row still stepped
    with its batch) no longer moves past its end."""
    pe = r["past_end"] | ((u_best >= r["end"] + 1) & ~d)
    r["past_end"] = pe
    fs = r["first"]
    r["first"] = torch.where((fs < 0) & (u_best > r["n_prefix"]), torch.full_like(fs, t), fs)
    pen_up = nxt[:, 2] > 0.5
    stop = d | (pe & pen_up) | (r["steps"] >= r["cap"])
    if stall_steps:
        on_text = (u_best > r["n_prefix"]) & ~pe
        dw = torch.where(on_text & (u_best == r["last_u"]), r["dwell"] + 1, torch.ones_like(u_best))
        r["dwell"], r["last_u"] = dw, u_best
        st = on_text & (dw >= stall_steps) & ~stop
        r["stalled"] = r["stalled"] | st
        stop = stop | st
    return stop


def _finish_line(bundle: Bundle, out_b, at_b, lines: dict, cap, n_prefix: int, b: int, text: str) -> Sample:
    """Line b as a `Sample`: its points from the stroke during which the window reached the line (the prime's
    tail dropped) to its end, what it wrote after its text kept only where it marks the last word (`trim_tail`),
    the pen lifted at the end."""
    n = int(lines["steps"][b])
    first = int(lines["first"][b])
    s = out_b[:n].cpu().numpy()
    f = first if n_prefix and 0 <= first < n else 0
    if f:
        # start with the stroke during which the window reached the line: the first letter's first
        # stroke often begins while the window is still on the space
        ups = np.flatnonzero(s[:f, 2] > 0.5)
        f = int(ups[-1]) + 1 if len(ups) else 0
    s = s[f:].copy()
    chars = (at_b[f:n] - 1 - n_prefix).cpu().numpy()  # 0-based index into the line's own text
    if bundle.is_synthesis:
        s = trim_tail(s, chars, text)
        chars = np.minimum(chars[: len(s)], len(text))  # past the text: on the space after it
    if len(s):
        s[-1, 2] = 1.0  # the line ends with a lifted pen
    return Sample(s, reached_end=bool(lines["past_end"][b]) or not bundle.is_synthesis,
                  hit_cap=bool(lines["steps"][b] >= cap[b]) and bundle.is_synthesis, steps=n,
                  chars=chars if bundle.is_synthesis else None, stalled=bool(lines["stalled"][b]))


def row_noise(generators: Sequence[torch.Generator], caps: Sequence[int], T: int) -> torch.Tensor:
    """(B, T, 4) noise for `mdn.sample`: row b's first caps[b] steps drawn from generators[b] alone (a row
    never runs past its cap), so a row's noise depends on its own generator and cap only; zeros beyond."""
    noise = torch.zeros(len(caps), T, 4)
    for b, (g, c) in enumerate(zip(generators, caps)):
        noise[b, :c, 0::3] = torch.rand(c, 2, generator=g)  # component, eos
        noise[b, :c, 1:3] = torch.randn(c, 2, generator=g)
    return noise


def takes_tail(text: str) -> bool:
    """Whether `text` is written with `TAIL` after it: its last word holds a small letter (and it does not end in a
    space already)."""
    words = text.split()
    return bool(words) and not text[-1].isspace() and any(c.islower() for c in words[-1])


def trim_tail(strokes: np.ndarray, chars: np.ndarray, text: str) -> np.ndarray:
    """`strokes` up to the first stroke that is not part of the text's last word, of those begun after the window
    left the word's last letter. Begun after the text (on the space after it, `TAIL`, or past it), a stroke must be
    a dot over the word (at most `TAIL_DOT` x-heights across: a full stop, the point of a ! or ?) or a mark clear
    of the line over its letters (its lowest point at least `TAIL_LIFT` x-heights above the baseline, its highest
    at most `TAIL_HIGH`, at most `TAIL_MARK` tall: an accent, an i's dot, a t's bar), reaching at most
    `TAIL_REACH` x-heights beyond the ink it lies over. Begun on a final ! or ?, the first stroke is its stem or
    hook and any other is judged the same way; begun on a final full stop or comma, a stroke may also be the point
    itself (at most `TAIL_POINT` x-heights across and tall, reaching no higher than half of that above the
    baseline): a t's bar written as the window reached the point stays, a letter begun there goes. Sizes and the
    baseline are the line's own (`strokes.x_height`, `strokes.aligned_baseline`); where too few letters show
    them, what was begun after the text is dropped and the rest kept. Any other stroke begun on the text is never
    dropped, nor a line's only stroke."""
    n = min(len(strokes), len(chars))
    if n < 2:
        return strokes
    last = len(text.rstrip())  # past the text's last character
    mark = text[last - 1] if last and text[last - 1] in POINTS + STOPS else ""  # a final point, comma, ! or ?
    starts = np.concatenate([[0], np.flatnonzero(strokes[: n - 1, 2] > 0.5) + 1])
    after = [k for k, a in enumerate(starts) if a > 0 and (chars[a] >= last or (mark and chars[a] == last - 1))]
    if mark in STOPS and after and chars[starts[after[0]]] == last - 1:
        after = after[1:]  # the stem of the ! or the hook of the ?
    if not after:
        return strokes
    pts = np.cumsum(np.asarray(strokes[:n, :2], np.float64), axis=0)
    first = last - len(text.split()[-1]) if text.strip() else 0
    word = pts[(chars[:n] >= first) & (chars[:n] < last)]
    ends = np.append(starts[1:], n)
    a = starts[after[0]]
    if chars[a] >= last and len(word) and pts[a:ends[after[0]], 0].min() > word[:, 0].max():
        return _lifted(strokes[:a])  # the usual case: a new word begun right of this one; no need to measure
    on_text = np.flatnonzero(chars[:n] < last)
    xh = x_height(pts[on_text], chars[on_text], text) if len(on_text) else 0.0
    base = aligned_baseline(pts[on_text], chars[on_text], text) if xh > 0 else None
    letters = pts[(chars[:n] >= first) & (chars[:n] < last - bool(mark))]
    if base is None or len(letters) < 2:  # nothing to measure by: what was begun on the text stays, the rest goes
        past = [k for k in after if chars[starts[k]] >= last]
        return _lifted(strokes[: starts[past[0]]]) if past else strokes
    for k in after:
        q = pts[starts[k] : ends[k]]
        lo, hi = q.min(axis=0), q.max(axis=0)
        size = max(hi[0] - lo[0], hi[1] - lo[1])
        keep = (size <= TAIL_DOT * xh and _over(lo, hi, word, xh)) or (
            _over(lo, hi, letters, xh) and hi[1] <= base - TAIL_LIFT * xh  # y grows down the page
            and hi[1] - lo[1] <= TAIL_MARK * xh and lo[1] >= base - TAIL_HIGH * xh)
        if chars[starts[k]] < last and mark in POINTS:  # begun on a final point or comma: it may be the point
            keep = keep or (size <= TAIL_POINT * xh and lo[1] >= base - TAIL_POINT * xh / 2)
        if not keep:
            return _lifted(strokes[: starts[k]])
    return strokes


def _over(lo, hi, ink: np.ndarray, xh: float) -> bool:
    """Whether a stroke spanning `lo`..`hi` lies over `ink`: starting left of its right end, reaching at most
    `TAIL_REACH` x-heights beyond it on either side."""
    x0, x1 = ink[:, 0].min(), ink[:, 0].max()
    return bool(lo[0] <= x1 and lo[0] >= x0 - TAIL_REACH * xh and hi[0] <= x1 + TAIL_REACH * xh)


def _lifted(strokes: np.ndarray) -> np.ndarray:
    out = strokes.copy()
    if len(out):
        out[-1, 2] = 1.0
    return out
