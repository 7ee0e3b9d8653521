"""How a recognizer reads held-out lines that hold the whole character set, per class and per character.

    python scripts/augment_charset.py --data iam.npz -o charset-heldout.npz --lines 600 --held-out
    python scripts/read_charset_lines.py charset-heldout.npz [--recognizer PATH] [--json out.json]

The lines are testset_v writers' own ink (no training line's writer) with accents and glyphs added as in the
training lines: what a recognizer that learned the set from `augment_charset` lines reads on hands it has not
seen. Prints the CER, the share of each class's characters read right (minimal edit alignment,
`hwcli.recognizer.reading.alignment`) and the characters read worst.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwcli.alphabet import CHAR_CLASSES, DEFAULT_CHARS, char_class  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--recognizer", default=None)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)

    from hwcli.data.dataset import Dataset
    from hwcli.recognizer.network import load_recognizer
    from hwcli.recognizer.reading import alignment, corpus_error_rates, read_strokes

    ds = Dataset.load(a.data)
    rec = load_recognizer(a.recognizer) if a.recognizer else load_recognizer()
    idx = [i for i in range(len(ds)) if all(c in rec.alphabet for c in ds.texts[i])]
    refs = [ds.texts[i] for i in idx]
    hyps = read_strokes(rec, [ds.normalised_line(i) for i in idx], ds.scale)
    seen, right = Counter(), Counter()
    for r, h in zip(refs, hyps):
        _, ok = alignment(r, h)
        for c, good in zip(r, ok):
            if c != " ":
                seen[c] += 1
                right[c] += good
    out = {"lines": len(idx), "skipped": len(ds) - len(idx), **corpus_error_rates(refs, hyps), "classes": {},
           "new_characters": {}}
    for cls in CHAR_CLASSES:
        cs = [c for c in seen if char_class(c) == cls]
        n = sum(seen[c] for c in cs)
        out["classes"][cls] = {"n": n, "accuracy": sum(right[c] for c in cs) / n if n else None}
    new = [c for c in seen if c not in DEFAULT_CHARS]
    n_new = sum(seen[c] for c in new)
    out["new_accuracy"] = sum(right[c] for c in new) / n_new if n_new else None
    out["new_characters"] = {c: [right[c], seen[c]] for c in sorted(new, key=lambda c: right[c] / seen[c])}
    print(f"{out['lines']} lines ({out['skipped']} skipped: characters the recognizer lacks), CER {out['cer']:.3f}")
    for cls, v in out["classes"].items():
        if v["n"]:
            print(f"  {cls:17s} {v['accuracy']:.1%} of {v['n']}")
    if n_new:
        print(f"  characters IAM-OnDB lacks: {out['new_accuracy']:.1%} of {n_new}")
        worst = list(out["new_characters"].items())[:15]
        print("  worst:", " ".join(f"{c}:{r}/{n}" for c, (r, n) in worst))
    if a.json:
        Path(a.json).write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
