"""Turn a training run's best bundle into the shipped model: add styles, sampling defaults and provenance.

    python scripts/package_model.py --recipe scripts/model_recipe.json --run runs/main --data ../shared/iam-ondb

The recipe (scripts/model_recipe.json) records the exact training command, and the priming lines (IAM-OnDB line
ids from testset_v writers, with a name each) that become the styles, in order (style 0 is the default).
The bundle is written to models/<name>.json + .safetensors.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


CALIBRATION = [
    "It was a bright cold morning in the town",
    "She wrote a long letter to her brother",
    "The garden was full of apples and bees",
    "We will meet again at the station at noon",
    "The children ran down to the river after school",
    "A cup of tea and a quiet evening by the fire",
    "He found the key under the mat by the door",
    "Most of the shops close early on a Sunday",
]


def style_from_line(ds, i: int, name: str):
    """A style priming with dataset line `i`: its offsets in the model's normalised units, and its text."""
    from hwcli.model.bundle import Style

    off = ds.normalised_line(i)
    off[0] = (0.0, 0.0, 1.0)
    return Style(name, ds.texts[i], off, source=f"IAM-OnDB {ds.line_ids[i]} (writer {int(ds.writer_ids[i])}, {ds.splits[i]})")


def measure_char_widths(bundle, styles, bias) -> None:
    """Set each style's char_width and body_height from lines the model samples in it, so that page layout
    wraps lines to the width they will really have and sizes the hand by what it writes, not by its prime."""
    from hwcli.page.placement import body_height
    from hwcli.strokes import to_points
    from hwcli.synthesis import SamplingOptions, synthesize

    for s in styles:
        bundle.styles = [s]
        res = synthesize(bundle, CALIBRATION, SamplingOptions(style=0, bias=bias, seed=0, retries=1, check=False))
        good = [r for r in res if r.ok and len(r.strokes) > 8]
        widths = [float(np.ptp(np.cumsum(r.strokes[:, 0]))) / len(r.text) for r in good]
        s.char_width = float(np.median(widths)) if widths else 0.0
        s.body_height = float(np.median([body_height(to_points(r.strokes)) for r in good])) if good else 0.0
        print(f"style {s.name!r}: {s.char_width:.2f} units per character, body height {s.body_height:.2f} "
              f"({len(good)} of {len(res)} lines ok)")
    bundle.styles = []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="scripts/model_recipe.json")
    ap.add_argument("--run", required=True, help="training output directory (holds best.json)")
    ap.add_argument("--data", default=None, help="IAM-OnDB copy or converted .npz (for the priming lines)")
    ap.add_argument("--out", default="models")
    ap.add_argument("--half", action="store_true", help="store float16 tensors")
    args = ap.parse_args()

    from hwcli.data.convert import load_dataset
    from hwcli.model.bundle import load_model, save_bundle

    recipe = json.loads(Path(args.recipe).read_text())
    src = load_model(Path(args.run) / "best.json")
    styles = []
    if recipe.get("styles") and not args.data:
        ap.error("the recipe has styles: --data is needed to read their priming lines")
    ds = load_dataset(args.data) if recipe.get("styles") else None
    by_id = {lid: i for i, lid in enumerate(ds.line_ids)} if ds is not None else {}
    for spec in recipe.get("styles", []):
        styles.append(style_from_line(ds, by_id[spec["line_id"]], spec["name"]))
    if styles:
        src.defaults.update(recipe.get("defaults", {}))  # measure as the bundle will sample
        measure_char_widths(src, styles, recipe.get("defaults", {}).get("bias"))
    prov = dict(src.provenance)
    prov["command"] = recipe.get("command", "")
    prov["note"] = recipe.get("note", "")
    stem = save_bundle(Path(args.out) / recipe["name"], src.network, src.config, src.alphabet, src.scale,
                       defaults=recipe.get("defaults", {}), styles=styles, provenance=prov,
                       meta={k: v for k, v in src.meta.items()}, half=args.half)
    size = sum(p.stat().st_size for p in stem.parent.glob(stem.name + ".*"))
    print(f"wrote {stem}.json/.safetensors ({size / 1e6:.1f} MB, {len(styles)} styles)")


if __name__ == "__main__":
    main()
