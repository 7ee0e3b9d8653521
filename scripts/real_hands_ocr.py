"""How well does tesseract read *real* hands, by how joined they are? The ceiling for a faithful cursive style.

    python scripts/real_hands_ocr.py --data iam.npz --writers 15 --lines 6

Writers of the data (all splits) with enough lines are ranked by joinedness (median pen lifts per letter,
`hwcli.styles.likeness` feature "lifts"); the `--writers` most joined and the `--writers` most print-like are
taken, `--lines` lines of 20-60 characters each, drawn as a default page draws a real line
(`evaluation.legibility.read_real_as_page`) and read by tesseract (--psm 7, eng). Prints CER per group and
per writer. No weights are chosen with it.
"""
from __future__ import annotations

import argparse
import collections
import json

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--writers", type=int, default=15)
    ap.add_argument("--lines", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from hwcli.data.convert import load_dataset
    from hwcli.evaluation.legibility import read_real_as_page
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.reading import corpus_error_rates
    from hwcli.styles.likeness import FEATURES, line_features

    ds = load_dataset(args.data)
    bundle = load_model("hwcli-synthesis")
    lifts_at = FEATURES.index("lifts")
    by_writer = collections.defaultdict(list)
    for i in range(len(ds)):
        t = ds.texts[i]
        if int(ds.writer_ids[i]) >= 0 and 20 <= len(t) <= 60:
            by_writer[int(ds.writer_ids[i])].append(i)
    rows = {}
    for w, idx in by_writer.items():
        if len(idx) >= args.lines + 2:
            f = [line_features(ds.normalised_line(i), ds.texts[i])[lifts_at] for i in idx[:12]]
            rows[w] = float(np.median(f))
    ranked = sorted(rows, key=rows.get)
    groups = {"joined (fewest lifts per letter)": ranked[: args.writers],
              "print (most lifts per letter)": ranked[-args.writers:],
              "middle": ranked[len(ranked) // 2 - args.writers // 2: len(ranked) // 2 - args.writers // 2 + args.writers]}
    rng = np.random.default_rng(args.seed)
    out = {}
    for name, ws in groups.items():
        refs, hyps, per = [], [], {}
        for w in ws:
            idx = sorted(rng.choice(by_writer[w], args.lines, replace=False).tolist())
            h = read_real_as_page(bundle, [ds.normalised_line(i) for i in idx])
            r = [ds.texts[i] for i in idx]
            per[w] = round(corpus_error_rates(r, h)["cer"], 3)
            refs += r
            hyps += h
        out[name] = {"cer": round(corpus_error_rates(refs, hyps)["cer"], 4), "lines": len(refs),
                     "lifts_per_letter": [round(rows[w], 3) for w in ws], "per_writer_cer": per}
        print(name, json.dumps(out[name]), flush=True)


if __name__ == "__main__":
    main()
