"""Score bundles (e.g. a run's snap-* exports from `hwcli train --snapshots`) by how their writing reads.

    python scripts/score_checkpoints.py --data iam.npz runs/v4/snap-*.json hwcli-synthesis --tesseract

Each bundle samples the same selection lines (testset_v transcriptions and generated hard lines, never `hwcli
eval`'s own sets: see `hwcli.evaluation.selection`) in its default style at its default bias without the
self-check, for each seed, and the lines are read back by the bundled recognizer (and tesseract). Prints a table and,
with --json, writes the figures. Lower ``readback_cer`` (the mean of the CERs) is better. ``--style 2,4``
scores each bundle in those styles instead of its default one, and ``--check`` samples with the self-check
on, as users get the lines, (styles differ a lot in how well they read, so
compare weights in the style that will ship).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="bundles: names or paths (.json or stem)")
    ap.add_argument("--data", required=True, help="converted IAM-OnDB .npz (for the testset_v texts)")
    ap.add_argument("--lines", type=int, default=60, help="lines per set (ordinary and hard)")
    ap.add_argument("--seeds", default="0", help="comma-separated sampling seeds")
    ap.add_argument("--tesseract", action="store_true", help="also read with tesseract")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bias", help="comma-separated biases to try instead of each bundle's default")
    ap.add_argument("--hard-bias", help="comma-separated hard_bias values to try instead of each bundle's default")
    ap.add_argument("--check", action="store_true", help="sample with the read-back self-check on, as hwcli write does")
    ap.add_argument("--style", help="comma-separated style indices to try instead of each bundle's default style")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--charset", action="store_true",
                    help="also score generated lines that hold the characters IAM-OnDB lacks (selection.charset_lines)")
    ap.add_argument("--recognizer", default=None, help="recognizer bundle to read with (default: the bundled one)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    from hwcli.data.dataset import VALID_SPLIT, Dataset
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.network import load_recognizer
    from hwcli.evaluation.selection import charset_lines, hard_lines, ordinary_lines, readback_score

    ds = Dataset.load(a.data)
    texts = [t for t, s in zip(ds.texts, ds.splits) if s == VALID_SPLIT]
    ordinary, hard = ordinary_lines(texts, a.lines), hard_lines(a.lines)
    charset = charset_lines(a.lines) if a.charset else []
    rec = load_recognizer(a.recognizer) if a.recognizer else load_recognizer()
    seeds = [int(s) for s in a.seeds.split(",")]
    rows = []
    styles = [int(v) for v in a.style.split(",")] if a.style else [None]
    variants = [(bias, hb, st) for bias in _floats(a.bias) for hb in _floats(a.hard_bias) for st in styles]
    for m, (bias, hb, st) in [(m, v) for m in a.models for v in variants]:
        b = load_model(m)
        if st is not None:
            if not 0 <= st < len(b.styles):
                ap.error(f"--style {st}: {m} has {len(b.styles)} styles")
            b.defaults["default_style"] = st
        if bias is not None:
            b.defaults["bias"] = bias
        if hb is not None:
            b.defaults["hard_bias"] = hb
        t0 = time.perf_counter()
        per_seed = [readback_score(b, rec, ordinary, hard, tesseract=a.tesseract, seed=s, check=a.check,
                                   charset=charset) for s in seeds]
        row = {"model": m, "style": b.default_style_index, "bias": b.defaults["bias"], "hard_bias": b.defaults["hard_bias"],
               "steps": b.provenance.get("steps"), "val_nll_point": b.provenance.get("val_nll_point")}
        for k in per_seed[0]:
            vals = [p[k] for p in per_seed if p[k] is not None]
            row[k] = float(np.mean(vals)) if vals else None
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        cols = [k for k in row if k.startswith("readback_")]
        print(m, f"style={row['style']} bias={row['bias']} hard_bias={row['hard_bias']}", " ".join(f"{k[9:]}={row[k]:.3f}" for k in cols if row[k] is not None),
              f"nll={row['val_nll_point']}", f"{row['seconds']}s", flush=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"ordinary": ordinary, "hard": hard, "charset": charset, "seeds": seeds, "rows": rows}, fh, indent=1)
    best = min(rows, key=lambda r: r["readback_cer"])
    print(f"best: {best['model']} style {best['style']} readback_cer {best['readback_cer']:.4f}")
    return 0


def _floats(spec: str | None) -> list:
    return [float(v) for v in spec.split(",")] if spec else [None]


if __name__ == "__main__":
    sys.exit(main())
