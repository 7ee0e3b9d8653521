"""Turn a recognizer run's best bundle into the shipped recognizer, with its recipe and measured figures.

    python scripts/package_recognizer.py --recipe scripts/recognizer_recipe.json --run runs/rec2 --data iam.npz

The recipe (scripts/recognizer_recipe.json) records the training command(s) and a note. The bundle's provenance
gets them, plus ``val_all``: greedy-decoding CER / WER on every testset_v line the alphabet can spell, and the
share of lower-case letters, capitals, digits and punctuation read right there and on the testset_v lines that
hold a digit or three capitals (what ``hwcli eval --reference`` reports). Written to
models/hwcli-recognizer.json + .safetensors (atomically).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="scripts/recognizer_recipe.json")
    ap.add_argument("--run", required=True, help="training output directory (holds best.json)")
    ap.add_argument("--data", required=True, help="converted IAM-OnDB .npz (for the testset_v lines)")
    ap.add_argument("--out", default="models/hwcli-recognizer")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import torch

    from hwcli.data.convert import load_dataset
    from hwcli.evaluation.legibility import evaluate_reference
    from hwcli.recognizer.network import load_recognizer, save_recognizer

    torch.set_num_threads(args.threads)
    recipe = json.loads(Path(args.recipe).read_text())
    rec = load_recognizer(Path(args.run) / "best")
    ds = load_dataset(args.data)

    def figures(line_set: str) -> dict:  # what `hwcli eval --reference DATA --reference-lines 0` reports
        r = evaluate_reference(ds, rec, n=0, line_set=line_set)
        out = {k: r[k] for k in ("cer", "wer", "lines", "chars", "words")}
        out["classes"] = {c: v["accuracy"] for c, v in r["classes"].items()}
        return out

    prov = dict(rec.provenance)
    prov["command"] = recipe["command"]
    prov["note"] = recipe.get("note", "")
    prov["val_all"] = {**figures("ordinary"), "note": "greedy CTC decoding, every testset_v line the alphabet can spell"}
    prov["val_hard"] = {**figures("hard"), "note": "the testset_v lines holding a digit or three capitals"}
    stem = save_recognizer(args.out, rec.network, rec.alphabet, rec.scale, prov)
    va, vh = prov["val_all"], prov["val_hard"]
    print(f"wrote {stem}.json/.safetensors: testset_v CER {va['cer']:.4f} ({va['lines']} lines, digits "
          f"{va['classes']['digits']:.2f}, capitals {va['classes']['capitals']:.2f}); lines with digits or capitals "
          f"CER {vh['cer']:.4f} ({vh['lines']} lines)")


if __name__ == "__main__":
    main()
