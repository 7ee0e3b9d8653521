"""Are the characters beyond IAM-OnDB's written at the hand's size? Two measures on lines no evaluation set holds,
sampled without the self-check (the network's own sizes):

- codes: a code or number after a capitalised word ("Code 7XQ9-ZK42 today"): the height of the code's ink over the
  word's (both should stand about capital high; generated lines whose glyphs were too small taught a network to
  write codes small);
- accents: lines of Polish, Czech, Hungarian, Slovak, Romanian and Turkish words, dense with accents, each also
  written with its accents stripped (same seed): the width of the line's second half, accented over stripped
  (1.0: the accents cost no size; the words after a run of accented letters come out smaller).

Which point belongs to which character comes from the attention window (`SampleResult.chars`). Prints the median,
the mean and the share of lines below a bound, per model.

    python benchmarks/glyph_size.py --models hwcli-charset,runs/v21/snap-000400.json --threads 1
    python benchmarks/glyph_size.py --models hwcli-charset --measure accents --seeds 0,1,2
"""
from __future__ import annotations

import argparse
import unicodedata

import numpy as np

CODE_LINES = ["Code 7XQ9-ZK42 today", "Zone Q4 is here", "Room 12B upstairs", "Order 58213 shipped",
              "Ticket QZX-904 valid", "Plate XJ07 ZKQ seen", "Gate 47 closes soon", "Total 0.50 only",
              "Flight LH 2471 boards", "Unit Z9 is free", "Batch X-1042 packed", "Level 3 done", "Price 19.99 each",
              "Seat 14F please", "Bus 7Q stops here", "Box QX-88 sealed"]
ACCENT_LINES = ["Łódź, Gdańsk: zażółć gęślą jaźń", "Příliš žluťoučký kůň úpěl ďábelské ódy", "Szia Ádám, jövő héten?",
                "Árvíztűrő tükörfúrógép és sárga", "Wesołych Świąt z Łodzi i Kraków", "Ďakujem, že ste prišli včas",
                "Mulțumesc pentru ședința de mâine", "Teşekkürler, güzel çiçekler için", "Köszönöm szépen a levelét",
                "Cześć, jak się masz? Dziękuję", "Vážení přátelé, těšíme se na vás", "Žluté růže pro paní Dvořákovou"]
_PLAIN = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "İ": "I", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O"})


def strip_accents(text: str) -> str:
    """`text` with every accent mark taken off (ł -> l, ı -> i, ...)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.translate(_PLAIN)) if not unicodedata.combining(c))


def _ink(res, a: int, b: int, axis: int) -> float | None:
    """The 2nd-98th percentile extent along `axis` of the points written for characters a..b-1."""
    pts = np.cumsum(res.strokes[:, :2].astype(np.float64), axis=0)
    m = (res.chars >= a) & (res.chars < b)
    if m.sum() < 5:
        return None
    v = pts[m, axis]
    return float(np.percentile(v, 98) - np.percentile(v, 2))


def code_ratios(bundle, seeds) -> list[float]:
    from hwcli.synthesis import SamplingOptions, synthesize

    out = []
    for seed in seeds:
        for t, r in zip(CODE_LINES, synthesize(bundle, CODE_LINES, SamplingOptions(seed=seed, check=False))):
            w = t.split(" ")
            a0 = len(w[0]) + 1
            hw, hc = _ink(r, 0, len(w[0]), 1), _ink(r, a0, a0 + len(w[1]), 1)
            if hw and hc:
                out.append(hc / hw)
    return out


def accent_ratios(bundle, seeds) -> list[float]:
    from hwcli.synthesis import SamplingOptions, synthesize

    out = []
    plain = [strip_accents(t) for t in ACCENT_LINES]
    for seed in seeds:
        acc = synthesize(bundle, ACCENT_LINES, SamplingOptions(seed=seed, check=False))
        ref = synthesize(bundle, plain, SamplingOptions(seed=seed, check=False))
        for t, ra, rp in zip(ACCENT_LINES, acc, ref):
            h = len(t) // 2
            wa, wp = _ink(ra, h, len(t), 0), _ink(rp, h, len(t), 0)
            if wa and wp:
                out.append(wa / wp)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="hwcli-charset", help="comma-separated bundles (names or .json paths)")
    ap.add_argument("--measure", choices=["codes", "accents", "both"], default="both")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import torch

    from hwcli.model.bundle import load_model

    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    for spec in args.models.split(","):
        bundle = load_model(spec)
        rows = []
        if args.measure in ("codes", "both"):
            rows.append(("codes: code height / word height", code_ratios(bundle, seeds), 0.75))
        if args.measure in ("accents", "both"):
            rows.append(("accents: second-half width, accented / stripped", accent_ratios(bundle, seeds), 0.8))
        for what, r, bound in rows:
            r = np.asarray(r)
            print(f"{spec}: {what}: median {np.median(r):.2f}, mean {r.mean():.2f}, below {bound}: "
                  f"{(r < bound).mean():.0%} (n={len(r)})", flush=True)


if __name__ == "__main__":
    main()
