"""Turn a training run's best bundle into the shipped model: add styles, sampling defaults and provenance.

    python scripts/package_model.py --recipe scripts/model_recipe.json --run runs/main --data ../shared/iam-ondb

The recipe (scripts/model_recipe.json) records the exact training command, and the priming lines (IAM-OnDB line
ids from testset_v writers, with a name each) that become the styles, in order (style 0 is the default).
The bundle is written to models/<name>.json + .safetensors. The work is `hwcli.training.packaging.package_model`.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="scripts/model_recipe.json")
    ap.add_argument("--run", required=True, help="training output directory (holds best.json)")
    ap.add_argument("--data", default=None, help="IAM-OnDB copy or converted .npz (for the priming lines)")
    ap.add_argument("--out", default="models")
    ap.add_argument("--half", action="store_true", help="store float16 tensors")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from hwcli.data.convert import load_dataset
    from hwcli.model.bundle import load_model
    from hwcli.training.packaging import package_model

    recipe = json.loads(Path(args.recipe).read_text())
    if recipe.get("styles") and not args.data:
        ap.error("the recipe has styles: --data is needed to read their priming lines")
    ds = load_dataset(args.data) if recipe.get("styles") else None
    stem = package_model(load_model(Path(args.run) / "best.json"), recipe, args.out, ds, half=args.half)
    size = sum(p.stat().st_size for p in stem.parent.glob(stem.name + ".*"))
    print(f"wrote {stem}.json/.safetensors ({size / 1e6:.1f} MB, {len(recipe.get('styles', []))} styles)")


if __name__ == "__main__":
    main()
