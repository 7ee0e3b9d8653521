"""Rank candidate priming lines (styles) by how legibly a synthesis model writes in them.

    python scripts/score_styles.py --model runs/main/best.json --data iam.npz --out style-scores.json

Candidates are testset_v lines of 25-45 characters, up to --per-writer per writer (the validation writers are
never trained on). The model writes the first --lines built-in sentences primed with each candidate (the
recipe's sampling defaults, self-check off, one seed for all) and the bundled recognizer reads them back.
Prints the candidates best first (CER, WER, prime points, writer, text); --bundle-out saves a copy of the model
with the --top best as its styles, to look at with `hwcli styles --model ... --preview sheet.pdf` before naming
them in scripts/model_recipe.json.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

from hwcli.training.packaging import style_from_line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="synthesis bundle (NAME.json)")
    ap.add_argument("--data", required=True, help="IAM-OnDB copy or converted .npz")
    ap.add_argument("--recipe", default="scripts/model_recipe.json", help="its sampling defaults are used")
    ap.add_argument("--per-writer", type=int, default=2)
    ap.add_argument("--candidates", default=None, help="comma-separated line ids to score instead")
    ap.add_argument("--lines", type=int, default=12, help="built-in sentences written per candidate")
    ap.add_argument("--bias", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="write the ranking as JSON here")
    ap.add_argument("--bundle-out", default=None, help="save the model with the best --top candidates as styles")
    ap.add_argument("--top", type=int, default=24)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from hwcli.data.convert import load_dataset
    from hwcli.data.dataset import VALID_SPLIT
    from hwcli.recognizer.legibility import eval_lines, evaluate
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.network import load_recognizer

    bundle = load_model(args.model)
    bundle.defaults.update(json.loads(Path(args.recipe).read_text()).get("defaults", {}))
    rec = load_recognizer()
    ds = load_dataset(args.data)
    by_writer = collections.defaultdict(list)
    for i in ds.indices([VALID_SPLIT]):
        t = ds.texts[i]
        if 25 <= len(t) <= 45 and all(c in bundle.alphabet for c in t):
            by_writer[int(ds.writer_ids[i])].append(int(i))
    cands = [i for w in sorted(by_writer) for i in by_writer[w][: args.per_writer]]
    if args.candidates:
        by_id = {lid: k for k, lid in enumerate(ds.line_ids)}
        missing = [c for c in args.candidates.split(",") if c not in by_id]
        if missing:
            ap.error(f"unknown line id(s): {', '.join(missing)}")
        cands = [by_id[c] for c in args.candidates.split(",")]
    texts = eval_lines(args.lines)
    bias = bundle.sampling.bias if args.bias is None else args.bias
    print(f"{len(cands)} candidates from {len(by_writer)} writers, {len(texts)} lines each", file=sys.stderr)
    rows = []
    t0 = time.time()
    for n, i in enumerate(cands, 1):
        bundle.styles = [style_from_line(ds, i, ds.line_ids[i])]
        row = evaluate(bundle, rec, texts, 0, bias, check=False, seed=args.seed)
        rows.append({"line_id": ds.line_ids[i], "writer": int(ds.writer_ids[i]), "cer": row.cer, "wer": row.wer,
                     "failed": round(row.failed * row.lines), "prime_points": len(ds.line(i)), "text": ds.texts[i]})
        print(f"[{n}/{len(cands)}] {ds.line_ids[i]} CER {row.cer:.3f} ({time.time() - t0:.0f} s)", file=sys.stderr)
    rows.sort(key=lambda r: (r["cer"], r["wer"]))
    for r in rows:
        print(f"{r['cer']:6.1%} {r['wer']:6.1%} {r['failed']:2d} {r['prime_points']:4d} w{r['writer']:<6d} "
              f"{r['line_id']:13s} {r['text']}")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    if args.bundle_out:
        from hwcli.model.bundle import save_bundle

        by_id = {lid: k for k, lid in enumerate(ds.line_ids)}
        styles = [style_from_line(ds, by_id[r["line_id"]], f"{r['line_id']} {r['cer']:.0%}") for r in rows[: args.top]]
        save_bundle(args.bundle_out, bundle.network, bundle.config, bundle.alphabet, bundle.scale,
                    defaults=bundle.defaults, styles=styles, provenance=bundle.provenance, meta=dict(bundle.meta))


if __name__ == "__main__":
    main()
