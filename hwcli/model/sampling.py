"""The sampling loop beside the networks: draw one batch of lines point by point (Graves §4-5).

`sample_batch` steps a `SynthesisNetwork` (or a `PredictionNetwork`) one point at a time for a batch of lines,
drawing each point from the biased mixture (`mdn.sample`, eq. 61-62). A synthesis line stops on its own when
the attention window has moved past its last character and the pen has lifted (the last letter is finished),
or at a cap of steps per character. What to do with a line that came out badly (checks, retries, segments) is
`hwcli.synthesis`'s business, not this module's.

Strokes in and out are float32 ``(N, 3)`` normalised offsets ``[dx, dy, eos]``, y down.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from . import mdn
from .bundle import Bundle, Style

END_GRACE = 1  # steps: see the stray-stroke rule at the end of `sample_batch`
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
    steps: int  # points sampled (before trimming the prime's tail and a stray last stroke)
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

    Synthesis: the window runs over ``prime.text + " " + text`` after teacher-forcing the prime strokes (one
    style for every line).
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
                 first=torch.full((B,), -1, dtype=torch.long, device=dev),
                 end_step=torch.full((B,), -1, dtype=torch.long, device=dev))
    out, at = _step_lines(bundle, x, state, oh, end, n_pre.to(dev), cap, lines, T_max, bias, hard_bias, hard,
                          generator, noise, row_generators is None, stall_steps)
    return [_finish_line(bundle, out[b], at[b], lines, cap, int(n_pre[b]), b) for b in range(B)]


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
    window was on at each step (B, T), 1-based) and fills `full` (per line: done, steps, past_end, end_step,
    first, stalled).

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

    for t in range(T_max):
        y, state, extra = net(x, oh, state, return_phi=bundle.is_synthesis)
        whole = len(live) == B
        if bundle.is_synthesis:
            phi = extra["phi"][:, 0]  # (b, U+1)
            u_best = phi.argmax(dim=1) + 1  # 1-based
            if whole:
                at[:, t] = u_best
            else:
                at[live, t] = u_best
        b_t = bias
        if hard is not None:
            b_t = bias + hard_bias * hard[rows, (u_best - 1).clamp(max=hard.shape[1] - 1)].to(y.dtype)
        d = r["done"]
        nxt = mdn.sample(y[:, 0], bundle.config.mixtures, b_t, generator, r["noise"][:, t] if noise is not None else None)
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
        x = nxt.unsqueeze(1)
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
    """Which synthesis lines are done after step `t` (updating `r`'s past_end, end_step, first, dwell, stalled):
    the window has moved past the last character (the component beyond it dominates) and the pen is up, the
    step cap, or the window stalled `stall_steps` steps on one character of the line."""
    pe = r["past_end"] | (u_best >= r["end"] + 1)
    r["past_end"] = pe
    es, fs = r["end_step"], r["first"]
    r["end_step"] = torch.where((es < 0) & pe, torch.full_like(es, t), es)
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


def _finish_line(bundle: Bundle, out_b, at_b, lines: dict, cap, n_prefix: int, b: int) -> Sample:
    """Line b as a `Sample`: its points from the stroke during which the window reached the line (the prime's
    tail dropped) to its end, a stray last stroke trimmed (`trim_stray_tail`), the pen lifted at the end."""
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
        s = trim_stray_tail(s, int(lines["end_step"][b]) - f)
        chars = chars[: len(s)]
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


def trim_stray_tail(strokes: np.ndarray, end_step: int) -> np.ndarray:
    """Drop a stray last stroke: one that began at most END_GRACE steps before the window passed the end.

    The window usually leaves the text as the pen lands for a new stroke after the last letter (a '|' after
    a full stop); the last letter's own strokes begin well before that step. `end_step` indexes `strokes`.
    """
    if end_step <= 0 or len(strokes) < 2:
        return strokes
    starts = np.flatnonzero(strokes[:-1, 2] > 0.5) + 1
    if len(starts) and starts[-1] >= end_step - END_GRACE:
        return strokes[: starts[-1]]
    return strokes
