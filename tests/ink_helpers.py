"""Lines of ink with a known attention alignment, for the tests of what is done to sampled strokes by character."""
from __future__ import annotations

import numpy as np


def aligned_line(parts) -> tuple[np.ndarray, np.ndarray]:
    """parts: (character index, absolute points [(x, y), ...]) per pen-down stroke, in writing order -> offsets
    ``(N, 3)`` (the pen lifted after each stroke's last point) and the character of each point (`Sample.chars`)."""
    pts, pen, chars = [], [], []
    for c, stroke in parts:
        for j, p in enumerate(stroke):
            pts.append(p)
            pen.append(1.0 if j == len(stroke) - 1 else 0.0)
            chars.append(c)
    pts = np.asarray(pts, np.float64)
    off = np.zeros((len(pts), 3), np.float32)
    off[0, :2] = pts[0]
    off[1:, :2] = np.diff(pts, axis=0)
    off[:, 2] = pen
    return off, np.asarray(chars)
