"""A quick look at a converted dataset: the first lines drawn one under another, each with its text below.

Meant for checking a conversion by eye (are the glitches gone, is the baseline level, does the text match
the ink), so it draws the cleaned points as they are, with no page layout: one SVG ``<g class="line">``
per line holding one ``<path>`` (a subpath per stroke) and one ``<text>``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import svgwrite

from ..fileio import atomic_output
from .dataset import Dataset

INK_HEIGHT = 60.0  # px given to the median line's ink height; one factor for all lines keeps sizes comparable
MARGIN = 20.0  # px around the drawing and between a line's text and the next line
TEXT_SIZE = 14.0  # px
MAX_WIDTH = 1600.0  # px; a wider line shrinks the common factor so nothing is cut off


def write_preview(dataset: Dataset, path: str | os.PathLike, n: int = 20) -> int:
    """Draw the first `n` lines of `dataset` into an SVG at `path` (written atomically); returns lines drawn."""
    idx = range(min(n, len(dataset)))
    lines = [_absolute(dataset.line(i)) for i in idx]
    boxes = [(xy.min(axis=0), xy.max(axis=0)) if len(xy) else (np.zeros(2), np.zeros(2)) for xy, _ in lines]
    heights = [hi[1] - lo[1] for lo, hi in boxes]
    widths = [hi[0] - lo[0] for lo, hi in boxes]
    k = INK_HEIGHT / max(float(np.median(heights)) if heights else 1.0, 1e-6)
    if widths and max(widths) * k > MAX_WIDTH:
        k = MAX_WIDTH / max(widths)

    width = MARGIN * 2 + max([w * k for w in widths] + [300.0])
    dwg = svgwrite.Drawing(size=(f"{width:.0f}px", "0px"), profile="full")
    dwg.add(dwg.rect((0, 0), ("100%", "100%"), fill="white"))
    y = MARGIN
    for i, ((xy, eos), (lo, hi)) in enumerate(zip(lines, boxes)):
        g = dwg.g(class_="line", id=f"line-{i}")
        g.add(dwg.path(d=_path_data((xy - lo) * k + (MARGIN, y), eos), fill="none", stroke="black",
                       stroke_width=1.5, stroke_linecap="round", stroke_linejoin="round"))
        y += (hi[1] - lo[1]) * k + TEXT_SIZE * 1.5
        label = f"{dataset.line_ids[i]}: {dataset.texts[i]}"
        g.add(dwg.text(label, insert=(MARGIN, y), font_size=f"{TEXT_SIZE:.0f}px", font_family="monospace", fill="#555"))
        dwg.add(g)
        y += MARGIN
    dwg["height"] = f"{y + MARGIN:.0f}px"
    dwg["viewBox"] = f"0 0 {width:.0f} {y + MARGIN:.0f}"
    with atomic_output(Path(path)) as fh:
        fh.write(dwg.tostring().encode("utf-8"))
    return len(lines)


def _absolute(offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (n, 3) -> absolute xy (n, 2) float64 and the end-of-stroke flags."""
    return np.cumsum(offsets[:, :2].astype(np.float64), axis=0), offsets[:, 2] > 0.5


def _path_data(xy: np.ndarray, eos: np.ndarray) -> str:
    parts = []
    pen_up = True
    for (x, y), end in zip(xy.tolist(), eos.tolist()):
        parts.append(f"{'M' if pen_up else 'L'}{x:.1f},{y:.1f}")
        pen_up = end
    return " ".join(parts)
