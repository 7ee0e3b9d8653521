"""Rank candidate priming lines (styles) by how legibly a synthesis model writes in them.

    python scripts/score_styles.py --model runs/main/best.json --data iam.npz --out style-scores.json

Candidates are testset_v lines of 25-45 characters, up to --per-writer per writer (the validation writers are
never trained on). The model writes the first --lines built-in sentences primed with each candidate (the
recipe's sampling defaults, self-check off, one seed for all) and the bundled recognizer reads them back.
With --selection the lines are the selection sets instead (--lines testset_v transcriptions and --lines
generated hard lines: dates, prices, addresses, all-caps; never `hwcli eval`'s own sets, so eval's figures for
the chosen styles stay honest), and with --tesseract tesseract reads them too, each drawn at page size; the
ranking is then by the mean of the CERs (recognizer and tesseract, ordinary and hard).
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
    ap.add_argument("--selection", action="store_true", help="score on the selection sets (ordinary + hard), not eval's sentences")
    ap.add_argument("--tesseract", action="store_true", help="also read with tesseract")
    ap.add_argument("--min-chars", type=int, default=25, help="shortest candidate line")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from hwcli.data.convert import load_dataset
    from hwcli.data.dataset import VALID_SPLIT
    from hwcli.evaluation.legibility import eval_lines, evaluate
    from hwcli.model.bundle import load_model
    from hwcli.recognizer.network import load_recognizer

    bundle = load_model(args.model)
    bundle.defaults.update(json.loads(Path(args.recipe).read_text()).get("defaults", {}))
    rec = load_recognizer()
    ds = load_dataset(args.data)
    by_writer = collections.defaultdict(list)
    for i in ds.indices([VALID_SPLIT]):
        t = ds.texts[i]
        if args.min_chars <= len(t) <= 45 and all(c in bundle.alphabet for c in t):
            by_writer[int(ds.writer_ids[i])].append(int(i))
    cands = [i for w in sorted(by_writer) for i in by_writer[w][: args.per_writer]]
    if args.candidates:
        by_id = {lid: k for k, lid in enumerate(ds.line_ids)}
        missing = [c for c in args.candidates.split(",") if c not in by_id]
        if missing:
            ap.error(f"unknown line id(s): {', '.join(missing)}")
        cands = [by_id[c] for c in args.candidates.split(",")]
    sets = {"ordinary": eval_lines(args.lines)}
    if args.selection:
        from hwcli.evaluation.selection import hard_lines, ordinary_lines

        valid = [t for t, sp in zip(ds.texts, ds.splits) if sp == VALID_SPLIT]
        sets = {"ordinary": ordinary_lines(valid, args.lines, args.seed), "hard": hard_lines(args.lines, args.seed)}
    bias = bundle.sampling.bias if args.bias is None else args.bias
    print(f"{len(cands)} candidates from {len(by_writer)} writers, {sum(map(len, sets.values()))} lines each", file=sys.stderr)
    rows = []
    t0 = time.time()
    for n, i in enumerate(cands, 1):
        bundle.styles = [style_from_line(ds, i, ds.line_ids[i])]
        own = " ".join(ds.texts[i].split())
        row = {"line_id": ds.line_ids[i], "writer": int(ds.writer_ids[i]), "prime_points": len(ds.line(i)), "text": ds.texts[i]}
        cers, failed = [], 0
        for name, texts in sets.items():
            r = evaluate(bundle, rec, [t for t in texts if t != own], 0, bias, check=False, seed=args.seed,
                         tesseract=args.tesseract)
            row[f"{name}_cer"], row[f"{name}_wer"] = r.cer, r.wer
            cers.append(r.cer)
            failed += round(r.failed * r.lines)
            if args.tesseract:
                row[f"{name}_ocr_cer"] = r.ocr_cer
                cers.append(r.ocr_cer)
        row.update(cer=sum(cers) / len(cers), wer=row["ordinary_wer"], failed=failed)
        rows.append(row)
        print(f"[{n}/{len(cands)}] {ds.line_ids[i]} score {row['cer']:.3f} ({time.time() - t0:.0f} s)", file=sys.stderr)
    rows.sort(key=lambda r: (r["cer"], r["wer"]))
    for r in rows:
        parts = " ".join(f"{k[:-4]} {r[k]:.3f}" for k in r if k.endswith("_cer"))
        print(f"{r['cer']:6.3f} [{parts}] {r['failed']:2d} {r['prime_points']:4d} w{r['writer']:<6d} "
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
