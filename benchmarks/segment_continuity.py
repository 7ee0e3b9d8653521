"""Do the segments of a long line look like one hand? Size and slant of neighbouring segments.

Samples page-length lines (built-in unseen sentences longer than one segment, round-robin over the bundle's
styles) with the bundled model and compares neighbouring segments of each line, as sampled (before the join)
and as drawn on the page (with each segment levelled before the join, and, for comparison, the same segments
joined without it, as before session 11):

- x-height ratio (max/min): median height of the small letters (a c e m n o r s u v w x z), the size measure
  the join itself evens out;
- letter-normalised size ratio: every letter's height divided by the median height of the same letter over
  the whole run, medianed per segment; it uses all letters (capitals, ascenders, descenders) and is not the
  measure the join corrects, so it is an independent check;
- slant difference (absolute, as a shear; 0.1 is about 6 degrees).

    python benchmarks/segment_continuity.py --lines 200 --threads 1
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np

import hwcli.strokes as strokes
import hwcli.synthesis.run as synthesis
from bench_args import add_model_args, load_bundle
from hwcli.evaluation.legibility import SENTENCES
from hwcli.strokes import estimate_baseline, slant, to_points, x_height
from hwcli.synthesis import SamplingOptions, synthesize


def _letter_heights(points, chars, text) -> dict:
    out = {}
    for j, ch in enumerate(text):
        if ch.isalnum():
            sel = points[chars == j, 1]
            if len(sel) >= 4:
                out[j] = (ch, float(np.ptp(sel)))
    return out


SEAM_LETTERS = 6


def _end_letters(seg, key, side: int):
    """The points of a segment's first (side 1) or last (side -1) SEAM_LETTERS non-space characters, or None."""
    if seg["chars"] is None or len(seg["chars"]) != len(seg[key]):
        return None
    idx = [j for j, ch in enumerate(seg["text"]) if not ch.isspace()]
    pick = idx[:SEAM_LETTERS] if side > 0 else idx[-SEAM_LETTERS:]
    sel = np.isin(seg["chars"], pick)
    return seg[key][sel] if sel.sum() >= 8 else None


def run(bundle, lines_by_style, seed: int, bias):
    """Per line: a list of segments, each {text, chars, sampled points, drawn points}."""
    recorded = []
    original = synthesis.join_segments

    def spy(parts, texts, *a, **kw):
        out = original(parts, texts, *a, **kw)
        level = strokes.level
        strokes.level = lambda p, c, t: p  # the same segments joined as before session 11 (no levelling)
        try:
            old = to_points(original(parts, texts, *a, **kw))
        finally:
            strokes.level = level
        chars = kw.get("chars") or [None] * len(parts)
        drawn = to_points(out)
        segs, pos = [], 0
        for p, t, c in zip(parts, texts, chars):
            if len(p):
                segs.append({"text": t, "chars": c, "sampled": to_points(np.asarray(p, np.float32)),
                             "drawn": drawn[pos : pos + len(p)], "unlevelled": old[pos : pos + len(p)]})
                pos += len(p)
        if len(segs) > 1:
            recorded.append(segs)
        return out

    synthesis.join_segments = spy
    try:
        for st, lines in lines_by_style.items():
            synthesize(bundle, lines, SamplingOptions(style=st, bias=bias, seed=seed))
    finally:
        synthesis.join_segments = original
    return recorded


def report(name: str, recorded) -> None:
    typical = defaultdict(list)
    for segs in recorded:
        for s in segs:
            if s["chars"] is not None:
                for ch, h in _letter_heights(s["drawn"], s["chars"], s["text"]).values():
                    typical[ch].append(h)
    typical = {ch: float(np.median(v)) for ch, v in typical.items()}

    def norm_size(s, key):
        if s["chars"] is None:
            return 0.0
        hs = [h / typical[ch] for ch, h in _letter_heights(s[key], s["chars"], s["text"]).values() if typical.get(ch)]
        return float(np.median(hs)) if len(hs) >= 3 else 0.0

    rows = {}
    for key in ("sampled", "unlevelled", "drawn"):
        xr, nr, sd, bd, seam = [], [], [], [], []
        for segs in recorded:
            xs = [x_height(s[key], s["chars"], s["text"]) for s in segs]
            if key != "sampled":
                # baselines by the stroke-based estimate (not the alignment the join uses), in x-heights
                bl = [estimate_baseline(s[key]) for s in segs]
                bd += [abs(bl[k] - bl[k + 1]) / max(xs[k], xs[k + 1], 1e-9) for k in range(len(segs) - 1)]
                # the step at the seam: the last letters of a segment against the first of the next
                for k in range(len(segs) - 1):
                    a, b = _end_letters(segs[k], key, -1), _end_letters(segs[k + 1], key, 1)
                    if a is not None and b is not None and max(xs[k], xs[k + 1]) > 0:
                        seam.append(abs(estimate_baseline(a) - estimate_baseline(b)) / max(xs[k], xs[k + 1]))
            ns = [norm_size(s, key) for s in segs]
            sl = [slant(s[key]) for s in segs]
            for k in range(len(segs) - 1):
                if min(xs[k], xs[k + 1]) > 0:
                    xr.append(max(xs[k], xs[k + 1]) / min(xs[k], xs[k + 1]))
                if min(ns[k], ns[k + 1]) > 0:
                    nr.append(max(ns[k], ns[k + 1]) / min(ns[k], ns[k + 1]))
                sd.append(abs(sl[k] - sl[k + 1]))
        rows[key] = (xr, nr, sd)
        if key != "sampled":
            print(f"  {name:9s} {key:10s} baseline step between neighbouring segments (stroke-based estimate, in "
                  f"x-heights): median {np.median(bd):.3f} p90 {np.percentile(bd, 90):.3f}; at the seam (the last "
                  f"{SEAM_LETTERS} letters against the next segment's first {SEAM_LETTERS}): median {np.median(seam):.3f} "
                  f"p90 {np.percentile(seam, 90):.3f}, share over 0.25 x-heights {np.mean(np.array(seam) > 0.25):.1%} "
                  f"({len(seam)} seams)")
    for key, (xr, nr, sd) in rows.items():
        print(f"  {name:9s} {key:7s}  pairs {len(xr):3d}  x-height ratio median {np.median(xr):.3f} p90 "
              f"{np.percentile(xr, 90):.3f} | letter-normalised ratio median {np.median(nr):.3f} p90 "
              f"{np.percentile(nr, 90):.3f} | slant difference median {np.median(sd):.3f} p90 {np.percentile(sd, 90):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(ap)
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--bias", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--style", type=int, action="append", help="only this style (repeatable; default: all, round-robin)")
    args = ap.parse_args()
    bundle = load_bundle(args)
    seg = bundle.sampling.segment_chars or 36
    long_lines = [s for s in SENTENCES if len(s) > seg]
    chosen = args.style or list(range(max(len(bundle.styles), 1)))
    n_styles = len(chosen)
    by_style = {st: [long_lines[i % len(long_lines)] for i in range(k, args.lines, n_styles)] for k, st in enumerate(chosen)}
    print(f"{args.lines} lines of {seg + 1}-{max(map(len, long_lines))} characters, {n_styles} styles round-robin, "
          f"segments of <= {seg} characters, seed {args.seed}")
    t0 = time.perf_counter()
    rec = run(bundle, by_style, args.seed, args.bias)
    report("separate", rec)
    print(f"  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
