"""How a recognizer reads held-out lines that hold the whole character set, per class and per character.

    python scripts/augment_charset.py --data iam.npz -o charset-heldout.npz --lines 600 --held-out
    python scripts/read_charset_lines.py charset-heldout.npz [--recognizer PATH] [--json out.json] [--tesseract]

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import augment_charset  # noqa: E402  (scripts/ is not a package)


# in IAM-OnDB, but a handful of times: the generated lines add them (their capitals and digits reported)
WEAK = "".join(c for c in augment_charset.WEAK if not c.islower())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--recognizer", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--tesseract", action="store_true",
                    help="also read the lines with tesseract (with the accent languages), drawn as a page draws them")
    ap.add_argument("--tesseract-lines", type=int, default=0, help="tesseract reads only the first N lines (0 = all)")
    ap.add_argument("--model", default=None, help="synthesis bundle whose default page size draws the lines "
                    "(default: hwcli-charset)")
    a = ap.parse_args(argv)

    from hwcli.data.dataset import Dataset
    from hwcli.recognizer.network import load_recognizer
    from hwcli.recognizer.reading import read_strokes

    ds = Dataset.load(a.data)
    rec = load_recognizer(a.recognizer) if a.recognizer else load_recognizer()
    idx = [i for i in range(len(ds)) if all(c in rec.alphabet for c in ds.texts[i])]
    refs = [ds.texts[i] for i in idx]
    hyps = read_strokes(rec, [ds.normalised_line(i) for i in idx], ds.scale)
    out = {"lines": len(idx), "skipped": len(ds) - len(idx), "recognizer": tally(refs, hyps)}
    report("recognizer", out)
    if a.tesseract:
        from hwcli.evaluation.legibility import read_real_as_page
        from hwcli.evaluation.ocr import accent_languages
        from hwcli.model.bundle import load_model

        bundle = load_model(a.model or "hwcli-charset")
        langs = accent_languages()
        sub = idx[: a.tesseract_lines] if a.tesseract_lines else idx
        ocr = read_real_as_page(bundle, [ds.normalised_line(i, bundle.scale) for i in sub], languages=langs)
        out["tesseract"] = tally(refs[: len(sub)], ocr)
        out["tesseract"]["languages"] = langs
        report(f"tesseract ({len(sub)} lines, -l {langs})", out)
    if a.json:
        Path(a.json).write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


def tally(refs: list[str], hyps: list[str]) -> dict:
    """CER, WER, share of each class's characters read right, and of each character IAM-OnDB lacks."""
    from hwcli.recognizer.reading import alignment, corpus_error_rates

    seen, right = Counter(), Counter()
    for r, h in zip(refs, hyps):
        _, ok = alignment(r, h)
        for c, good in zip(r, ok):
            if c != " ":
                seen[c] += 1
                right[c] += good
    out = {**corpus_error_rates(refs, hyps), "classes": {}, "new_characters": {}}
    for cls in CHAR_CLASSES:
        cs = [c for c in seen if char_class(c) == cls]
        n = sum(seen[c] for c in cs)
        out["classes"][cls] = {"n": n, "accuracy": sum(right[c] for c in cs) / n if n else None}
    new = [c for c in seen if c not in DEFAULT_CHARS]
    n_new = sum(seen[c] for c in new)
    out["new_accuracy"] = sum(right[c] for c in new) / n_new if n_new else None
    out["new_characters"] = {c: [right[c], seen[c]] for c in sorted(new, key=lambda c: right[c] / seen[c])}
    out["weak_characters"] = {c: [right[c], seen[c]] for c in WEAK if seen[c]}
    return out


def report(title: str, out: dict) -> None:
    key = "tesseract" if title.startswith("tesseract") else "recognizer"
    t = out[key]
    print(f"{title}: {out['lines']} lines ({out['skipped']} skipped: characters the recognizer lacks), CER {t['cer']:.3f}")
    for cls, v in t["classes"].items():
        if v["n"]:
            print(f"  {cls:17s} {v['accuracy']:.1%} of {v['n']}")
    if t["new_accuracy"] is not None:
        n_new = sum(n for _, n in t["new_characters"].values())
        print(f"  characters IAM-OnDB lacks: {t['new_accuracy']:.1%} of {n_new}")
        worst = list(t["new_characters"].items())[:15]
        print("  worst:", " ".join(f"{c}:{r}/{n}" for c, (r, n) in worst))
    if t.get("weak_characters"):
        print("  weak in IAM-OnDB:", " ".join(f"{c}:{r}/{n}" for c, (r, n) in t["weak_characters"].items()))


if __name__ == "__main__":
    raise SystemExit(main())
