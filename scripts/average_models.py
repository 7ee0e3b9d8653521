"""Average the weights of synthesis bundles that share a parent (a "model soup"): e.g. the shipped stage and a
continuation of it trained on other generated lines, to keep what each learned.

    python scripts/average_models.py runs/v14/snap-001000.json runs/v17/snap-001000.json -o runs/soup17/best
    python scripts/average_models.py A.json B.json --weights 0.65,0.35 -o runs/soup/best

Every bundle must have the same network (kind, sizes, alphabet and scale); the weights are averaged in float64 and
stored in float32. The output takes the first bundle's styles, defaults and metadata; its provenance is the first
bundle's with an ``averaged`` entry naming each input (path, sha256 of its weights, share). Only sensible for
bundles fine-tuned from a common ancestor: weights of independently trained networks do not line up.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path


def average(paths: list[str], shares: list[float]):
    """The averaged bundle (a `Bundle` whose network holds the weighted mean of the inputs' weights)."""
    from hwcli.errors import HwcliError
    from hwcli.model.bundle import load_model, mean_weights

    if len(paths) < 2:
        raise HwcliError("give at least two bundles to average")
    if len(shares) != len(paths) or any(s < 0 for s in shares) or sum(shares) <= 0:
        raise HwcliError(f"--weights needs {len(paths)} non-negative numbers with a positive sum")
    bundles = [load_model(p) for p in paths]
    first = bundles[0]
    for p, b in zip(paths[1:], bundles[1:]):
        if b.config.to_dict() != first.config.to_dict():
            raise HwcliError(f"{p}: its network ({b.config.to_dict()}) is not {paths[0]}'s ({first.config.to_dict()})")
        if b.alphabet.chars != first.alphabet.chars:
            raise HwcliError(f"{p}: its alphabet differs from {paths[0]}'s")
        if abs(b.scale - first.scale) > 1e-6 * first.scale:
            raise HwcliError(f"{p}: its scale {b.scale} is not {paths[0]}'s {first.scale}")
    total = float(sum(shares))
    first.network.load_state_dict(mean_weights([b.network.state_dict() for b in bundles], shares))
    entries = []
    for p, w in zip(paths, shares):
        doc = json.loads(Path(p).read_text())
        entries.append({"bundle": str(p), "sha256": (doc.get("tensors") or {}).get("sha256", ""), "share": round(w / total, 6)})
    first.provenance = {**first.provenance, "averaged": entries}
    return first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundles", nargs="+", help="synthesis bundles (NAME.json) with a common ancestor")
    ap.add_argument("-o", "--out", required=True, help="output stem (writes OUT.json and OUT.safetensors)")
    ap.add_argument("--weights", default=None, help="comma-separated shares, one per bundle (default: equal)")
    a = ap.parse_args()

    from hwcli.errors import HwcliError
    from hwcli.model.bundle import save_bundle

    try:
        shares = [float(x) for x in a.weights.split(",")] if a.weights else [1.0] * len(a.bundles)
    except ValueError:
        raise SystemExit(f"average_models.py: error: --weights {a.weights!r} is not a list of numbers") from None
    try:
        b = average(a.bundles, shares)
    except HwcliError as exc:
        raise SystemExit(f"average_models.py: error: {exc}") from None
    stem = save_bundle(a.out, b.network, b.config, b.alphabet, b.scale, b.defaults, b.styles, b.provenance, b.meta)
    sha = hashlib.sha256(stem.with_suffix(".safetensors").read_bytes()).hexdigest()
    print(f"{' + '.join(a.bundles)} -> {stem}.json (weights sha256 {sha[:12]}...)")


if __name__ == "__main__":
    main()
