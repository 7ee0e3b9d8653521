"""A training run's best bundle -> the shipped model: styles (priming lines), their measured size, sampling
defaults and provenance (``scripts/package_model.py`` is the command line around `package_model`).

A recipe (``scripts/model_recipe.json``) names the model, records the exact training command and a note, gives
the sampling defaults, and lists the priming lines that become the styles, in order (the default style is
``defaults.default_style``, 0 unless the recipe says otherwise):
``{"line_id": "e02-025-05", "name": "neat print", "description": "upright print, round"}``, IAM-OnDB line ids
(the description is optional: a few words on how the hand looks, which ``--style WORD`` matches).

Each style is measured on lines the model samples in it (`measure_styles`): the advance per character, so page
layout wraps lines to the width they will really have, and the body height, so pages size the hand by what it
writes rather than by its prime.
"""
from __future__ import annotations

import logging
import os
from typing import Sequence
from pathlib import Path

import numpy as np

from ..data.dataset import Dataset
from ..errors import DatasetError
from ..model.bundle import Bundle, Style, save_bundle
from ..strokes import body_height, to_points
from ..synthesis import SamplingOptions, synthesize
from ..texts import CALIBRATION

log = logging.getLogger(__name__)



def style_from_line(ds: Dataset, i: int, name: str) -> Style:
    """A style priming with dataset line `i`: its offsets in the dataset's normalised units, and its text."""
    off = ds.normalised_line(i)
    off[0] = (0.0, 0.0, 1.0)
    return Style(name, ds.texts[i], off, source=f"IAM-OnDB {ds.line_ids[i]} (writer {int(ds.writer_ids[i])}, {ds.splits[i]})")


def measure_styles(bundle: Bundle, styles: list[Style], bias: float | None = None,
                   lines: Sequence[str] = CALIBRATION) -> list[tuple[int, int]]:
    """Set each style's ``char_width`` and ``body_height`` (normalised units) from `lines` sampled in it with
    `bundle`'s defaults (no read-back check); returns (lines that passed the checks, lines) per style. A style
    none of whose lines pass keeps 0 (unknown): the page then measures its prime instead."""
    counts = []
    kept = bundle.styles
    try:
        for s in styles:
            bundle.styles = [s]
            res = synthesize(bundle, lines, SamplingOptions(style=0, bias=bias, seed=0, retries=1, check=False))
            good = [r for r in res if r.ok and len(r.strokes) > 8]
            widths = [float(np.ptp(np.cumsum(r.strokes[:, 0]))) / len(r.text) for r in good]
            s.char_width = float(np.median(widths)) if widths else 0.0
            s.body_height = float(np.median([body_height(to_points(r.strokes)) for r in good])) if good else 0.0
            log.info("style %r: %.2f units per character, body height %.2f (%d of %d lines ok)",
                     s.name, s.char_width, s.body_height, len(good), len(res))
            counts.append((len(good), len(res)))
    finally:
        bundle.styles = kept
    return counts


def package_model(src: Bundle, recipe: dict, out_dir: str | os.PathLike, ds: Dataset | None = None,
                  half: bool = False) -> Path:
    """Write ``out_dir/<recipe name>.json + .safetensors``: `src`'s network with the recipe's styles (read from
    `ds`, measured), defaults and provenance (``command``, ``note``); returns the stem."""
    specs = recipe.get("styles", [])
    if specs and ds is None:
        raise DatasetError("the recipe has styles: the dataset holding their priming lines is needed")
    by_id = {lid: i for i, lid in enumerate(ds.line_ids)} if ds is not None else {}
    missing = [s["line_id"] for s in specs if s["line_id"] not in by_id]
    if missing:
        raise DatasetError(f"priming line(s) {', '.join(missing)} not in the dataset")
    styles = [style_from_line(ds, by_id[s["line_id"]], s["name"]) for s in specs]
    for st, spec in zip(styles, specs):
        st.description = spec.get("description", "")
    defaults = recipe.get("defaults", {})
    # a style `src` already has (same priming line, same strokes) keeps its measured size, so repackaging a
    # bundle with more styles leaves the pages of its existing ones as they were
    known = {(s.source, s.text): s for s in src.styles if s.char_width > 0 and s.body_height > 0}
    new = []
    for st in styles:
        old = known.get((st.source, st.text))
        if old is not None and old.strokes.shape == st.strokes.shape and np.allclose(old.strokes, st.strokes, atol=1e-3):
            st.char_width, st.body_height = old.char_width, old.body_height
        else:
            new.append(st)
    if new:
        src.defaults.update(defaults)  # measure as the bundle will sample
        measure_styles(src, new, defaults.get("bias"))
    prov = {**src.provenance, "command": recipe.get("command", ""), "note": recipe.get("note", "")}
    return save_bundle(Path(out_dir) / recipe["name"], src.network, src.config, src.alphabet, src.scale,
                       defaults=defaults, styles=styles, provenance=prov, meta=dict(src.meta), half=half)
