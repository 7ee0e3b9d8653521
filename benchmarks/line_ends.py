"""Nothing dropped or added at the ends of lines: is the last character written, and no stray mark after it?

Samples built-in lines (the 100 ordinary sentences, then the hard set, then again with the next seed, up to
--lines) with the bundled model as `hwcli write` does, and judges each line's end through the attention
window's alignment of ink to characters (`LineResult.chars`):

- written: the last character of the text (a full stop, question mark, digit or letter) has ink aligned to it;
- stray: a stroke that begins after the window has left the last character survived the stop rule and does not
  start over the last word's ink (a new letter or a '|' after the line; a t's bar or an accent written on the space
  after the text, `hwcli.model.sampling.TAIL`, is a mark of the word, counted apart as "marks after the text").

Failures are listed, and --sheet FILE.svg draws the last 12 characters' worth of ink of each failure (and a
few passing lines) so that a person can check the judgement.

    python benchmarks/line_ends.py --lines 200 --threads 1
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from bench_args import add_model_args, load_bundle
from hwcli.evaluation.legibility import HARD_SENTENCES, SENTENCES
from hwcli.strokes import to_points
from hwcli.synthesis import SamplingOptions, synthesize


def judge(text: str, strokes: np.ndarray, chars: np.ndarray | None) -> tuple[bool, bool, int]:
    """(last character written, stray mark after it, strokes begun after it over the last word)."""
    if chars is None or len(chars) != len(strokes) or not len(strokes):
        return False, False, 0
    last = len(text.rstrip()) - 1
    down = np.ones(len(strokes), bool)
    down[1:] = strokes[:-1, 2] < 0.5  # point i is drawn when the pen was down coming into it...
    down |= strokes[:, 2] > 0.5  # ...or it ends a stroke (a dot is one point with eos)
    written = bool(np.any(chars[down] == last))
    starts = np.concatenate([[0], np.flatnonzero(strokes[:-1, 2] > 0.5) + 1])
    late = [a for a in starts if chars[a] > last]
    if not late:
        return written, False, 0
    x = np.cumsum(strokes[:, 0].astype(np.float64))
    word_end = x[chars <= last].max()  # the right end of the text's ink
    ends = np.append(starts[1:], len(strokes))
    over = [x[a:ends[list(starts).index(a)]].min() <= word_end for a in late]
    return written, not all(over), int(sum(over))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(ap)
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--style", default=None)
    ap.add_argument("--sheet", default=None, help="draw failing line ends into this SVG")
    args = ap.parse_args()
    bundle = load_bundle(args)
    pool = list(SENTENCES) + list(HARD_SENTENCES)
    lines = [pool[i % len(pool)] for i in range(args.lines)]
    t0 = time.perf_counter()
    res = []
    for rep in range(0, len(lines), len(pool)):
        res += synthesize(bundle, lines[rep : rep + len(pool)], SamplingOptions(style=args.style, seed=rep // len(pool)))
    dt = time.perf_counter() - t0
    bad = []
    n_ok = marks = 0
    for r in res:
        written, stray, late = judge(r.text, r.strokes, r.chars)
        marks += late > 0
        if written and not stray:
            n_ok += 1
        else:
            bad.append((r, written, stray))
    print(f"{len(res)} lines ({dt:.0f} s): last character written and no stray mark in {n_ok} "
          f"({n_ok / max(len(res), 1):.1%}); missing last character {sum(not w for _, w, _ in bad)}, "
          f"stray mark {sum(s for _, _, s in bad)}; marks after the text (over the last word) in {marks} lines")
    for r, w, s in bad:
        print(f"  {'missing end' if not w else ''}{' + ' if (not w and s) else ''}{'stray mark' if s else ''}: {r.text!r}")
    if args.sheet:
        _sheet(args.sheet, [b[0] for b in bad] + [r for r in res[:6]])


def _sheet(path: str, results) -> None:
    rows = []
    for k, r in enumerate(results):
        pts = to_points(r.strokes)
        chars = r.chars
        keep = chars >= len(r.text) - 12 if chars is not None else np.arange(len(pts)) >= len(pts) - 150
        p = pts[keep]
        if not len(p):
            continue
        p = p - [p[:, 0].min(), p[:, 1].min(), 0]
        d = []
        pen = True
        for x, y, e in p:
            d.append(f"{'M' if pen else 'L'}{x * 4:.1f},{y * 4 + 20 + k * 110:.1f}")
            pen = e > 0.5
        rows.append(f'<path d="{" ".join(d)}" fill="none" stroke="black" stroke-width="1.5"/>'
                    f'<text x="420" y="{60 + k * 110}" font-size="14">{r.text[-20:]!s}</text>')
    with open(path, "w") as fh:
        fh.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="800" height="{110 * len(results) + 20}">'
                 f'<rect width="100%" height="100%" fill="white"/>{"".join(rows)}</svg>')


if __name__ == "__main__":
    main()
