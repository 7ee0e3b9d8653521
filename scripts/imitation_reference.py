"""Write hwcli/styles/imitation_writers.json: stroke features of the real lines of IAM-OnDB testset_v writers, the
reference writers of `hwcli eval --like` (features only: no ink is shipped).

    python scripts/imitation_reference.py --data iam.npz
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="converted IAM-OnDB .npz (or the IAM-OnDB folder)")
    ap.add_argument("--writers", type=int, default=12)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "hwcli" / "styles" / "imitation_writers.json"))
    args = ap.parse_args()

    from hwcli.data.convert import load_dataset
    from hwcli.styles.likeness import reference_from_dataset

    ref = reference_from_dataset(load_dataset(args.data), args.writers)
    Path(args.out).write_text(json.dumps(ref, separators=(",", ":")))
    print(f"wrote {args.out}: {len(ref['writers'])} writers, {sum(len(v) for v in ref['writers'].values())} lines")


if __name__ == "__main__":
    main()
