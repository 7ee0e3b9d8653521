"""Lines of text -> stroke sequences with a trained bundle: batching, priming (styles), bias, stop rule, retries.

All lines of a call are sampled together as one batch; each line stops on its own when the attention window
has moved past its last character and the pen has lifted (so the last letter is finished), or at a cap of
steps per character. Lines that fail the sanity checks (window never reached the end, ran to the cap,
absurd extents, scribbles) are resampled with a new seed up to ``retries`` times; a line that still fails is
returned with ``ok=False`` and its reason, never dropped.

Long lines are written in segments. IAM-OnDB lines are short (median 29 characters, 95th percentile 41), and a
network asked for a 50-character page line is outside what it learnt: the attention drifts and the end of the
line turns to scribble. A line longer than ``segment_chars`` is therefore cut at spaces into the fewest balanced
segments, each segment is sampled (checked and resampled) as a line of its own in the same style, and the
segments are joined on a common baseline with a word space between them (`join_segments`), evened to the line's
x-height (measured on the small letters, found through the attention window, so it does not depend on which
letters a segment holds) and to its mean slant, so the line reads as one hand. Priming each segment with the one
before it (`SamplingOptions.chain_segments`) was measured and is off: the network shrinks as it continues.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .errors import OptionError
from .model import mdn
from .model.bundle import Bundle, Style

log = logging.getLogger(__name__)

END_GRACE = 1  # steps: see the stray-stroke rule at the end of `sample_batch`


@dataclass(frozen=True)
class SamplingOptions:
    bias: float | None = None  # Graves eq. 61-62; None = the bundle's default
    style: int | str | None = None  # style index or name; None = the bundle's default style (0)
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

    def __post_init__(self) -> None:
        if self.bias is not None and not (0.0 <= self.bias <= 10.0):
            raise OptionError(f"bias must be between 0 and 10, got {self.bias}")
        if self.max_steps_per_char is not None and self.max_steps_per_char < 5:
            raise OptionError("max_steps_per_char must be at least 5")
        if self.retries is not None and self.retries < 0:
            raise OptionError("retries must be >= 0")
        if self.batch_size < 1:
            raise OptionError("batch_size must be >= 1")
        if self.segment_chars is not None and self.segment_chars != 0 and self.segment_chars < 8:
            raise OptionError("segment_chars must be 0 (never split) or at least 8")


@dataclass
class LineResult:
    text: str
    strokes: np.ndarray  # (N, 3) normalised offsets [dx, dy, eos]
    ok: bool = True
    reason: str = ""  # why the line failed its checks (when not ok)
    attempts: int = 1
    resampled: bool = False  # retried because of a failed check
    info: dict = field(default_factory=dict)


def _onehot(bundle: Bundle, texts: Sequence[str], extra: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, U+extra, C) one-hot with zero rows as padding, and lengths (B,)."""
    enc = [torch.from_numpy(bundle.alphabet.encode(t)) for t in texts]
    lens = torch.tensor([len(e) for e in enc])
    U = int(lens.max()) + extra
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
    prime: Style | Sequence[Style | None] | None = None,
    max_steps_per_char: int = 40,
    unconditional_steps: int = 0,
) -> list[dict]:
    """Sample one batch. Returns per line: strokes (N,3) numpy, reached_end, hit_cap, steps.

    Synthesis: the window runs over ``prime.text + " " + text`` after teacher-forcing the prime strokes.
    `prime` is one style for every line, or one per line (e.g. the segment before, see `synthesize`).
    Prediction network (unconditional): ``unconditional_steps`` points per line.
    """
    net = bundle.network
    B = len(texts)
    dev = next(net.parameters()).device
    shared = prime is None or isinstance(prime, Style)
    primes = [prime] * B if shared else list(prime)
    if len(primes) != B:
        raise ValueError(f"{len(primes)} primes for {B} lines")
    prefixes = [(p.text + " ") if p is not None and bundle.is_synthesis else "" for p in primes]
    if bundle.is_synthesis:
        oh, lens = _onehot(bundle, [pre + t for pre, t in zip(prefixes, texts)])
        oh = oh.to(dev)
        end = lens.to(dev)  # window index past the last real character is end + 1 (1-based u)
        n_pre = torch.tensor([len(pre) for pre in prefixes])
        cap = ((lens - n_pre).clamp(min=1) * max_steps_per_char + 20).to(dev)
    else:
        oh = None
        n_pre = torch.zeros(B, dtype=torch.long)
        cap = torch.full((B,), max(unconditional_steps, 1), device=dev)
    state = None
    x = torch.zeros(B, 1, 3, device=dev)
    x[:, 0, 2] = 1.0  # start with the pen up
    if bundle.is_synthesis and shared and prime is not None and len(prime.strokes):
        # Teacher-force the prime once, over the prime's own text, and give every line a copy of the state:
        # priming B identical rows step by step cost as much as sampling the lines themselves. The window
        # sits on the prime's text all along, so the lines' characters beyond it barely matter there, and
        # from the first sampled step on each line's window sees its own text.
        p = torch.from_numpy(prime.strokes).to(dev).unsqueeze(0)
        inp = p[:, :-1].clone()
        inp[:, 0] = x[:1, 0]  # as in training, the first input is a zero move with the pen up
        oh_prime, _ = _onehot(bundle, [prefixes[0]])
        _, state, _ = net(inp, oh_prime.to(dev), None)
        state = net.repeat_state(state, B)
        x = p[:, -1:].expand(B, -1, -1).clone()
        x[:, 0, 2] = 1.0  # the prime ends with a lifted pen
    elif bundle.is_synthesis and not shared:
        # a prime per line, teacher-forced together: rows of different lengths, each state taken at its end
        strokes = [p.strokes if p is not None and len(p.strokes) >= 2 else np.zeros((2, 3), np.float32) for p in primes]
        L = max(len(s) for s in strokes) - 1
        inp = torch.zeros(B, L, 3, device=dev)
        for b, s in enumerate(strokes):
            inp[b, : len(s) - 1] = torch.from_numpy(s[:-1])
            inp[b, 0] = 0.0
            inp[b, 0, 2] = 1.0  # as in training, the first input is a zero move with the pen up
            x[b, 0] = torch.from_numpy(s[-1])
        x[:, 0, 2] = 1.0  # each prime ends with a lifted pen
        oh_prime, _ = _onehot(bundle, prefixes)
        state = net.prime(inp, oh_prime.to(dev), torch.tensor([len(s) - 1 for s in strokes]))
    T_max = int(cap.max())
    out = torch.zeros(B, T_max, 3, device=dev)
    at = torch.zeros(B, T_max, dtype=torch.long, device=dev)  # the character the window is on at each step
    done = torch.zeros(B, dtype=torch.bool, device=dev)
    past_end = torch.zeros(B, dtype=torch.bool, device=dev)
    steps = torch.zeros(B, dtype=torch.long, device=dev)
    # After priming, the window may still rest on the prime's last letters, and the model then finishes them
    # (a stray 't' crossbar at the start of every line). Strokes that end before the window reaches the
    # line's first character are dropped: `first` is the step where the window gets there.
    n_prefix = n_pre.to(dev)
    first = torch.full((B,), -1, dtype=torch.long, device=dev)
    end_step = torch.full((B,), -1, dtype=torch.long, device=dev)
    for t in range(T_max):
        y, state, extra = net(x, oh, state, return_phi=bundle.is_synthesis)
        nxt = mdn.sample(y[:, 0], bundle.config.mixtures, bias, generator)
        nxt[done] = 0.0
        out[:, t] = nxt
        steps += (~done).long()
        if bundle.is_synthesis:
            phi = extra["phi"][:, 0]  # (B, U+1)
            u_best = phi.argmax(dim=1) + 1  # 1-based
            at[:, t] = u_best            # the window has moved past the last character when the component beyond it dominates
            past_end |= u_best >= end + 1
            end_step = torch.where((end_step < 0) & past_end, torch.full_like(end_step, t), end_step)
            first = torch.where((first < 0) & (u_best > n_prefix), torch.full_like(first, t), first)
            pen_up = nxt[:, 2] > 0.5
            done = done | (past_end & pen_up) | (steps >= cap)
        else:
            done = done | (steps >= cap)
        if t % 8 == 7 and bool(done.all()):  # a host sync every step costs more than a few extra steps
            break
        x = nxt.unsqueeze(1)
    res = []
    for b in range(B):
        n = int(steps[b])
        s = out[b, :n].cpu().numpy()
        f = int(first[b]) if int(n_prefix[b]) and 0 <= int(first[b]) < n else 0
        if f:
            # start with the stroke during which the window reached the line: the first letter's first
            # stroke often begins while the window is still on the space
            ups = np.flatnonzero(s[:f, 2] > 0.5)
            f = int(ups[-1]) + 1 if len(ups) else 0
        s = s[f:].copy()
        chars = (at[b, f:n] - 1 - n_prefix[b]).cpu().numpy()  # 0-based index into the line's own text
        if bundle.is_synthesis:
            s = trim_stray_tail(s, int(end_step[b]) - f)
            chars = chars[: len(s)]
        if len(s):
            s[-1, 2] = 1.0  # the line ends with a lifted pen
        res.append({"strokes": s, "chars": chars if bundle.is_synthesis else None, "reached_end": bool(past_end[b]) or not bundle.is_synthesis,
                    "hit_cap": bool(steps[b] >= cap[b]) and bundle.is_synthesis, "steps": n})
    return res


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


def check_line(strokes: np.ndarray, text: str, reached_end: bool, hit_cap: bool) -> str:
    """'' when the line looks like handwriting, else the reason it failed (normalised units)."""
    if not reached_end:
        return "attention never reached the end of the text"
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
WORD_SPACE = 1.0  # gap between joined segments, in average character advances of the line
SIZE_CLAMP = 1.4  # joined segments are scaled towards the line's mean size by at most this factor either way
SLANT_CLAMP = 0.2  # ...and sheared towards its mean slant by at most this much (about 11 degrees)


def _robust_size(points: np.ndarray) -> float:
    """Interquartile range of y: the band of most ink (x-height), little moved by ascenders and descenders."""
    if len(points) < 8:
        return 0.0
    q1, q3 = np.percentile(points[:, 1], [25, 75])
    return float(q3 - q1)


def body_height(points: np.ndarray) -> float:
    """10th-90th percentile of y of absolute points: the body of the writing (as styles measure it)."""
    if len(points) < 8:
        return 0.0
    q1, q9 = np.percentile(points[:, 1], [10, 90])
    return float(q9 - q1)


SMALL_LETTERS = frozenset("acemnorsuvwxz")  # no ascender, no descender: their height is the x-height


def x_height(points: np.ndarray, chars: np.ndarray | None, text: str) -> float:
    """Median height of the small letters (a c e m n o ...) of a line or segment: a size that does not
    depend on which letters it holds, unlike any percentile band of y. `chars[i]` is the character the
    attention window was on when point i was written (0-based into `text`). 0 when there are fewer than
    two such letters with enough ink."""
    if chars is None or len(chars) != len(points):
        return 0.0
    hs = []
    for j, ch in enumerate(text):
        if ch in SMALL_LETTERS:
            sel = points[chars == j, 1]
            if len(sel) >= 4:
                hs.append(float(np.ptp(sel)))
    return float(np.median(hs)) if len(hs) >= 2 else 0.0


def report_threshold(defaults: dict) -> float:
    """Read-back CER above which a line is reported as failed (never below the resampling threshold)."""
    return max(float(defaults.get("fail_cer", 0.5)), float(defaults.get("check_cer", 0.5)))


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


def even_out_size(points: np.ndarray, ramp: float, baseline: float | None = None) -> np.ndarray:
    """Counter the network's shrinking along a line or segment: absolute points ``(N, 3)`` scaled about the
    baseline by ``exp(ramp * (t - 0.5))``, t = 0 at the left-most ink and 1 at the right-most.

    x is remapped by the integral of the same factor, so letters keep their proportions: the line starts a
    little smaller and ends a little bigger. Written lines shrink (the first 40% of a segment has ~1.26x the
    body height of its last 40%, real IAM-OnDB lines ~1.09x); the bundle's ``size_ramp`` default (0.2 for
    the bundled model) brings that to ~1.1. The baseline (estimated when not given) stays where it is.
    """
    from .page.placement import estimate_baseline

    if len(points) < 8 or ramp == 0:
        return points
    x0, width = float(points[:, 0].min()), float(np.ptp(points[:, 0]))
    if width <= 0:
        return points
    out = points.astype(np.float64, copy=True)
    t = (out[:, 0] - x0) / width
    f = np.exp(ramp * (t - 0.5))
    b = estimate_baseline(points) if baseline is None else baseline
    out[:, 0] = x0 + width * (f - math.exp(-ramp / 2)) / ramp
    out[:, 1] = b + (out[:, 1] - b) * f
    return out.astype(points.dtype)


def join_segments(parts: Sequence[np.ndarray], texts: Sequence[str], space: float = WORD_SPACE,
                  ramp: float = 0.0, heights: list | None = None,
                  chars: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
    """Offsets of consecutive segments of one line -> offsets of the whole line (model units, y down).

    Each segment is evened out in size (`even_out_size` with `ramp`), scaled towards the line's mean size,
    its estimated baseline put on the first one's, and each starts `space` average character advances (ink
    width per character over the segments) right of the previous segment's right-most ink.
    """
    from .page.placement import estimate_baseline
    from .strokes import shear, slant, to_offsets, to_points

    keep = [k for k, p in enumerate(parts) if len(p)]
    pts = [to_points(np.asarray(parts[k], np.float32)) for k in keep]
    if not pts:
        return np.zeros((0, 3), np.float32)
    seg_chars = [chars[k] if chars is not None else None for k in keep]
    seg_texts = [texts[k] for k in keep]

    def xh(ps: list[np.ndarray]) -> list[float]:
        return [x_height(p, c, t) for p, c, t in zip(ps, seg_chars, seg_texts)]

    bases = [estimate_baseline(p) for p in pts]  # every step below keeps each segment's baseline in place
    if heights is not None:
        heights.append(xh(pts))  # as sampled
    pts = [even_out_size(p, ramp, b) for p, b in zip(pts, bases)]
    # Segments may still differ in size: scale each about its left end and baseline towards the line's mean
    # size, by at most SIZE_CLAMP either way. Size is the x-height of the small letters where the attention
    # alignment gives it (it does not depend on which letters a segment holds), else the IQR of y.
    sizes = np.array(xh(pts))
    if not np.all(sizes > 0):
        sizes = np.array([_robust_size(p) for p in pts])
    weights = np.array([len(p) for p in pts], np.float64)
    factors = np.ones(len(pts))
    if np.all(sizes > 0):
        target = float(np.exp(np.sum(weights * np.log(sizes)) / weights.sum()))
        factors = np.clip(target / sizes, 1 / SIZE_CLAMP, SIZE_CLAMP)
    for p, b, f in zip(pts, bases, factors):
        p[:, 0] = (p[:, 0] - p[:, 0].min()) * f
        p[:, 1] = b + (p[:, 1] - b) * f
    # ...and sheared towards the line's mean slant, by at most SLANT_CLAMP either way
    slants = np.array([slant(p) for p in pts])
    target_slant = float(np.sum(weights * slants) / weights.sum())
    pts = [shear(p, float(np.clip(target_slant - sl, -SLANT_CLAMP, SLANT_CLAMP)), b)
           for p, sl, b in zip(pts, slants, bases)]
    if heights is not None:
        heights.append(xh(pts))  # as drawn
    n_chars = sum(len(t) for t, p in zip(texts, parts) if len(p))
    adv = sum(float(np.ptp(p[:, 0])) for p in pts) / max(n_chars, 1)
    out = []
    right = 0.0
    for k, (p, b) in enumerate(zip(pts, bases)):
        if k:
            p[:, 0] += right + space * adv - p[:, 0].min()
            p[:, 1] += bases[0] - b
        p[-1, 2] = 1.0  # the pen lifts between segments
        right = float(p[:, 0].max())
        out.append(p)
    joined = np.concatenate(out)
    offsets = to_offsets(joined)
    offsets[0, :2] = joined[0, :2]
    return offsets


def synthesize(
    bundle: Bundle,
    lines: Sequence[str],
    opts: SamplingOptions = SamplingOptions(),
    progress: Callable[[int, int], None] | None = None,
    checker: Callable[[list[np.ndarray], list[str]], list[float]] | None = None,
) -> list[LineResult]:
    """Sample every line; see the module docstring. ``checker(strokes, texts) -> error rates`` (optional)
    reads lines back (the recognizer) and lines above the bundle's threshold are resampled too.
    ``progress(done, total)`` counts finished lines."""
    d = bundle.defaults
    seg_chars = int(d.get("segment_chars", 0) if opts.segment_chars is None else opts.segment_chars)
    ramp = float(d.get("size_ramp", 0.0))
    if not bundle.is_synthesis:
        seg_chars, ramp = 0, 0.0
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

    # Segments are sampled in rounds: round k writes the k-th segment of every line that has one. With
    # `chain_segments`, a segment is primed with the ink and text of the segment before it instead of the
    # style's prime, so it continues that hand (size, slant, spacing) rather than starting afresh.
    n_rounds = max((len(ss) for ss in segs), default=0)
    by_line: list[list[LineResult | None]] = [[None] * len(ss) for ss in segs]
    style = bundle.style(opts.style) if bundle.is_synthesis else None
    for k in range(n_rounds):
        rows = [i for i, ss in enumerate(segs) if len(ss) > k]
        primes = None
        if k and opts.chain_segments and bundle.is_synthesis:
            primes = []
            for i in rows:
                prev = by_line[i][k - 1]
                ok = prev is not None and len(prev.strokes) >= 2
                primes.append(Style("previous segment", prev.text, prev.strokes) if ok else style)
        res_k = _synthesize_units(bundle, [segs[i][k] for i in rows], opts, lambda j: unit_done(int(first_unit[rows[j]]) + k),
                                  checker, primes=primes, round_=k)
        for i, r in zip(rows, res_k):
            by_line[i][k] = r
    res = [r for rs in by_line for r in rs]
    out: list[LineResult] = []
    pos = 0
    for t, ss in zip(lines, segs):
        mine = res[pos : pos + len(ss)]  # units are in line order
        pos += len(ss)
        if len(mine) == 1:
            mine[0].text = t
            if ramp and len(mine[0].strokes):
                mine[0].strokes = join_segments([mine[0].strokes], [t], ramp=ramp)
            out.append(mine[0])
            continue
        bad = [r.reason for r in mine if not r.ok]
        n = max(sum(len(r.text) for r in mine), 1)
        heights: list = []
        joined = join_segments([r.strokes for r in mine], [r.text for r in mine], ramp=ramp, heights=heights,
                               chars=[r.info.get("chars") for r in mine])
        starts = np.cumsum([0] + [len(r.text) + 1 for r in mine[:-1]])  # each segment's place in the line
        aligned = [r.info.get("chars") for r in mine]
        chars = (np.concatenate([c + s0 for c, s0, r in zip(aligned, starts, mine) if len(r.strokes)])
                 if all(c is not None for c in aligned) and any(len(r.strokes) for r in mine) else None)
        out.append(LineResult(t, joined, ok=not bad,
                              reason="; ".join(dict.fromkeys(bad)), attempts=max(r.attempts for r in mine),
                              resampled=any(r.resampled for r in mine),
                              info={"cer": sum(r.info.get("cer", 0.0) * len(r.text) for r in mine) / n,
                                    "steps": sum(r.info.get("steps", 0) for r in mine), "segments": len(mine),
                                    "segment_heights": heights, "chars": chars}))
    return out


def _synthesize_units(
    bundle: Bundle,
    lines: Sequence[str],
    opts: SamplingOptions,
    done: Callable[[int], None],
    checker: Callable[[list[np.ndarray], list[str]], list[float]] | None,
    primes: Sequence[Style | None] | None = None,
    round_: int = 0,
) -> list[LineResult]:
    """Sample, check and resample every unit (a line or a segment of one); `done(i)` when unit i is final.
    `primes`: one prime per unit (default: the style's, shared); `round_` varies the seeds between rounds."""
    d = bundle.defaults
    bias = float(d.get("bias", 0.75) if opts.bias is None else opts.bias)
    cap = int(opts.max_steps_per_char or d.get("max_steps_per_char", 40))
    retries = int(d.get("retries", 3) if opts.retries is None else opts.retries)
    threshold = float(d.get("check_cer", 0.5))  # resample a unit that reads back worse than this
    report_above = report_threshold(d)  # ...and report it only above this
    prime = bundle.style(opts.style) if bundle.is_synthesis else None
    results: list[LineResult | None] = [None] * len(lines)
    todo = [i for i, t in enumerate(lines) if t.strip()]
    for i, t in enumerate(lines):
        if not t.strip():
            results[i] = LineResult(t, np.zeros((0, 3), np.float32))
    attempt = 0
    while todo:
        failed: list[int] = []
        # sort by length so a batch's lines end at similar times
        order = sorted(todo, key=lambda i: len(lines[i]))
        for start in range(0, len(order), opts.batch_size):
            chunk = order[start : start + opts.batch_size]
            g = torch.Generator().manual_seed((opts.seed * 1_000_003 + attempt * 7919 + chunk[0] + round_ * 104_729) % (2**63))
            outs = sample_batch(bundle, [lines[i] for i in chunk], bias, g,
                                prime if primes is None else [primes[i] for i in chunk], cap,
                                unconditional_steps=cap * 10)
            reasons = [check_line(o["strokes"], lines[i], o["reached_end"], o["hit_cap"]) if bundle.is_synthesis else ""
                       for i, o in zip(chunk, outs)]
            cers = [0.0] * len(chunk)
            if checker is not None and bundle.is_synthesis:
                cers = checker([o["strokes"] for o in outs], [lines[i] for i in chunk])
                reasons = [r or (f"{READ_BACK} (CER {c:.2f})" if c > threshold else "") for r, c in zip(reasons, cers)]
            for i, o, r, c in zip(chunk, outs, reasons, cers):
                prev = results[i]
                cand = LineResult(lines[i], o["strokes"], ok=not r, reason=r, attempts=attempt + 1,
                                  resampled=attempt > 0, info={"cer": c, "steps": o["steps"], "chars": o.get("chars")})
                # keep the best attempt: a passing one, else the one that reads best
                if prev is None or (not prev.ok and (cand.ok or c < prev.info.get("cer", 1e9))):
                    if prev is not None:
                        cand.attempts = attempt + 1
                    results[i] = cand
                else:
                    prev.attempts = attempt + 1
                if r and attempt < retries:
                    failed.append(i)
                else:
                    done(i)
        todo = failed
        attempt += 1
        if todo:
            log.info("resampling %d line(s), attempt %d", len(todo), attempt + 1)
    for r in results:
        # out of retries, a unit that only read back a little worse than the resampling threshold is accepted
        if r is not None and not r.ok and r.reason.startswith(READ_BACK) and r.info.get("cer", 1.0) <= report_above:
            r.ok, r.reason = True, ""
    return [r for r in results if r is not None]
