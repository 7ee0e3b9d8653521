"""Join a training dataset and a held-out generated set (`augment_charset.py --held-out`: its lines in testset_v)
into one dataset for `hwcli train-recognizer`, whose validation then holds the new characters too.

    python scripts/merge_heldout.py iam-charset7.npz charset-heldout5.npz -o iam-charset7v.npz
"""
from __future__ import annotations

import argparse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="training dataset (.npz from hwcli convert or augment_charset.py)")
    ap.add_argument("held_out", help="held-out generated lines (.npz from augment_charset.py --held-out)")
    ap.add_argument("-o", "--out", required=True)
    a = ap.parse_args()

    from hwcli.data.convert import load_dataset
    from hwcli.data.dataset import Dataset

    sets = [load_dataset(a.data), load_dataset(a.held_out)]
    if abs(sets[0].scale - sets[1].scale) > 1e-6 * sets[0].scale:
        raise SystemExit(f"the two datasets have different scales ({sets[0].scale} and {sets[1].scale})")
    Dataset.from_lines([d.line(i) for d in sets for i in range(len(d))], [t for d in sets for t in d.texts],
                       [x for d in sets for x in d.line_ids], [w for d in sets for w in d.writer_ids],
                       [s for d in sets for s in d.splits], sets[0].meta).save(a.out)
    print(f"{len(sets[0])} + {len(sets[1])} lines -> {a.out}")


if __name__ == "__main__":
    main()
