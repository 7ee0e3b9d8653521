"""Hand-written ink for characters IAM-OnDB lacks (issue 23): symbol glyphs and accent marks for training lines.

The lead's line generator splices this ink into real handwritten lines: accent marks added to real letters
(`decompose` + `mark_strokes`), symbol glyphs inserted at word positions (`glyph_strokes`).

Sources: every skeleton below was drawn by hand for hwcli (our own work, no licence needed); no coordinates were
copied from any font or data set. Pure numpy; nothing is downloaded or imported from hwcli.

Conventions: y points **down**, baseline at y = 0, so ascenders have negative y. Skeletons are authored in a unit
box with *h pointing up* (x-height 1.0, cap height ~1.45, digits ~1.35, descender ~-0.45) and turned to y-down
when drawn. A skeleton stroke is a string of control points ``"x,h x,h! ..."``; ``!`` marks a corner (the spline
is split there, the pen slows and turns); between corners the path is a centripetal Catmull-Rom spline, so curves
are smooth, never polygons. ``A(...)`` writes an elliptic arc as control points; a stroke of one point is a dot.

Drawing (`_draw`): jitter the control points (shape), overshoot/undershoot stroke ends along their tangents,
offset each stroke a little (ends do not always meet), spline, then size +-8 %, width +-10 %, a small rotation, a
smooth low-frequency wobble (~2-4 % of x-height), the caller's slant (a shear about the baseline, as
`hwcli.strokes.shear`), and finally resample at pen speed: the pen slows where the path turns and at stroke ends,
points are taken at equal time steps, scaled so that the median distance between points is `step`.
"""
from __future__ import annotations

import math
import unicodedata

import numpy as np

# ----------------------------------------------------------------------------- skeleton helpers


def A(cx: float, ch: float, rx: float, rh: float, a0: float, a1: float, n: int = 0, shrink: float = 0.0) -> str:
    """Control points of an elliptic arc (h up, degrees counter-clockwise from +x), as skeleton text.
    `shrink` > 0 narrows the radius along the arc (a spiral)."""
    n = n or max(4, int(abs(a1 - a0) / 40) + 1)
    out = []
    for i in range(n):
        f = i / (n - 1)
        a = math.radians(a0 + (a1 - a0) * f)
        r = 1.0 - shrink * f
        out.append(f"{cx + rx * r * math.cos(a):.3f},{ch + rh * r * math.sin(a):.3f}")
    return " ".join(out)


def _mirror(strokes: list[str], width: float) -> list[str]:
    """Skeleton strokes mirrored left-right inside [0, width] (``}`` from ``{``)."""
    out = []
    for s in strokes:
        pts = []
        for tok in s.split():
            corner = tok.endswith("!")
            x, h = tok.rstrip("!").split(",")
            pts.append(f"{width - float(x):.3f},{h}" + ("!" if corner else ""))
        out.append(" ".join(pts))
    return out


# (advance width, strokes) per character; a list of such tuples gives alternative forms, one chosen per call.
_G: dict[str, object] = {
    # ---- digits (height ~1.35)
    "0": (0.95, [A(0.45, 0.68, 0.38, 0.68, 95, 462, 10)]),
    "1": [(0.7, ["0.18,1.08 0.5,1.35! 0.47,0"]), (0.6, ["0.38,1.35 0.33,0"])],
    "2": (1.0, ["0.1,1.02 0.3,1.3 0.6,1.33 0.78,1.1 0.7,0.8 0.4,0.42 0.08,0.02! 0.88,0.04"]),
    "3": (0.95, ["0.12,1.16 0.4,1.35 0.68,1.28 0.74,1.02 0.42,0.76! 0.76,0.58 0.8,0.24 0.52,0.0 0.1,0.12"]),
    "4": [(1.0, ["0.6,1.35 0.06,0.45! 0.92,0.47", "0.68,0.95 0.64,0"]),
          (1.0, ["0.25,1.35 0.12,0.55! 0.9,0.55", "0.72,1.35 0.68,0"])],
    "5": (0.95, ["0.24,1.35 0.17,0.8! 0.45,0.88 0.72,0.7 0.78,0.32 0.5,0.0 0.1,0.12", "0.24,1.35 0.78,1.37"]),
    "6": (0.95, ["0.72,1.3 0.42,1.25 0.16,0.85 0.1,0.38 0.34,0.0 0.64,0.05 0.78,0.34 0.6,0.62 0.3,0.6 0.12,0.38"]),
    "7": [(0.95, ["0.08,1.33 0.86,1.35! 0.56,0.72 0.36,0"]),
          (0.95, ["0.08,1.33 0.86,1.35! 0.56,0.72 0.36,0", "0.3,0.68 0.8,0.7"])],
    "8": (0.95, ["0.72,1.2 0.46,1.35 0.16,1.17 0.24,0.86 0.55,0.66 0.8,0.36 0.62,0.02 0.26,0.02 0.1,0.3 "
                 "0.36,0.66 0.64,0.9 0.74,1.16 0.48,1.35"]),
    "9": (0.95, ["0.76,1.16 0.5,1.33 0.2,1.2 0.15,0.95 0.36,0.76 0.64,0.86 0.78,1.14! 0.72,0.5 0.56,0.1 0.3,0"]),
    # ---- the weak letters
    "X": (1.1, ["0.06,1.45 0.96,0", "0.92,1.45 0.1,0"]),
    "x": (0.85, ["0.06,1.0 0.76,0", "0.72,1.0 0.1,0"]),
    "Z": [(1.05, ["0.08,1.42 0.9,1.45! 0.08,0.03! 0.96,0.0"]),
          (1.05, ["0.08,1.42 0.9,1.45! 0.08,0.03! 0.96,0.0", "0.25,0.72 0.8,0.74"])],
    "z": (0.85, ["0.08,0.98 0.72,1.0! 0.08,0.02! 0.8,0"]),
    "Q": (1.2, [A(0.55, 0.72, 0.48, 0.72, 95, 462, 10), "0.62,0.35 1.08,-0.1"]),
    "q": (0.95, ["0.72,0.86 0.46,1.0 0.15,0.86 0.05,0.45 0.24,0.02 0.52,0.1 0.7,0.5! 0.74,1.0! 0.72,0.0 "
                 "0.7,-0.45! 0.9,-0.3"]),
    "J": [(0.9, ["0.76,1.45 0.73,0.3 0.52,0.0 0.22,0.02 0.06,0.3"]),
          (1.0, ["0.35,1.45 1.0,1.46", "0.7,1.44 0.68,0.3 0.5,0.0 0.2,0.02 0.05,0.3"])],
    "j": (0.6, ["0.46,1.0 0.44,-0.25 0.26,-0.45 0.05,-0.35", "0.48,1.36"]),
    # ---- symbols
    "@": (1.28, ["0.74,0.78 0.52,0.94 0.3,0.8 0.27,0.45 0.44,0.3 0.66,0.45 0.74,0.8! 0.73,0.45 0.8,0.3 0.98,0.38 "
                 "1.1,0.7 1.0,1.06 0.66,1.26 0.3,1.16 0.08,0.8 0.08,0.35 0.3,0.02 0.66,-0.06 0.98,0.08"]),
    "#": (1.05, ["0.38,1.15 0.28,0", "0.74,1.15 0.64,0", "0.06,0.8 0.98,0.82", "0.0,0.36 0.92,0.38"]),
    "$": (0.95, ["0.8,1.05 0.52,1.2 0.22,1.06 0.25,0.78 0.55,0.6 0.8,0.35 0.66,0.05 0.36,0.0 0.1,0.16",
                 "0.5,1.45 0.46,-0.22"]),
    "£": (1.0, ["0.86,1.14 0.74,1.38 0.5,1.42 0.36,1.18 0.38,0.6 0.3,0.2 0.1,0.03 0.06,0.16 0.26,0.18 0.55,0.05 "
                "0.92,0.06", "0.1,0.72 0.66,0.73"]),
    "€": (1.05, [A(0.64, 0.72, 0.52, 0.72, 55, 305, 8), "0.0,0.86 0.68,0.87", "0.0,0.56 0.62,0.57"]),
    "¥": (1.0, ["0.05,1.4 0.5,0.72", "0.95,1.4 0.5,0.72! 0.5,0", "0.14,0.56 0.86,0.57", "0.14,0.28 0.86,0.29"]),
    "¢": (0.85, [A(0.46, 0.5, 0.36, 0.5, 42, 318, 7), "0.5,1.15 0.42,-0.2"]),
    "=": (0.9, ["0.05,0.66 0.78,0.67", "0.05,0.3 0.78,0.31"]),
    "<": (0.9, ["0.76,0.96 0.06,0.5! 0.76,0.04"]),
    ">": (0.9, ["0.06,0.96 0.76,0.5! 0.06,0.04"]),
    "_": (1.05, ["0.0,-0.12 1.0,-0.1"]),
    "~": (0.95, ["0.04,0.4 0.2,0.58 0.42,0.5 0.62,0.38 0.82,0.54"]),
    "^": (0.7, ["0.05,0.95 0.32,1.42! 0.58,0.95"]),
    "|": (0.45, ["0.22,1.5 0.2,-0.38"]),
    "\\": (0.85, ["0.05,1.45 0.76,-0.1"]),
    "/": (0.85, ["0.76,1.45 0.05,-0.1"]),
    "{": (0.65, ["0.56,1.5 0.36,1.4 0.3,1.0 0.28,0.74 0.08,0.6! 0.28,0.48 0.3,0.1 0.36,-0.26 0.56,-0.36"]),
    "[": (0.6, ["0.5,1.5 0.16,1.5! 0.16,-0.3! 0.5,-0.3"]),
    "]": (0.6, ["0.1,1.5 0.44,1.5! 0.44,-0.3! 0.1,-0.3"]),
    "°": (0.6, [A(0.28, 1.18, 0.19, 0.22, 100, 462, 8)]),
    "§": (0.85, ["0.66,1.3 0.42,1.45 0.18,1.3 0.22,1.05 0.55,0.86 0.7,0.6 0.5,0.42",
                 "0.32,0.98 0.12,0.76 0.26,0.5 0.56,0.3 0.62,0.1 0.38,-0.05 0.12,0.08"]),
    "×": (0.8, ["0.1,0.86 0.66,0.2", "0.66,0.86 0.1,0.2"]),
    "÷": (0.9, ["0.42,0.92", "0.05,0.52 0.8,0.53", "0.42,0.14"]),
    # a colon as people write it: a dot at the x-height and one on the baseline, not two specks at mid-height
    ":": (0.4, ["0.18,0.86", "0.16,0.06"]),
    "±": (0.9, ["0.08,0.7 0.76,0.71", "0.42,1.06 0.42,0.34", "0.08,0.06 0.76,0.07"]),
    "•": (0.55, [A(0.27, 0.5, 0.14, 0.14, 90, 800, 14, shrink=0.8)]),
    "«": (0.9, ["0.42,0.76 0.1,0.45! 0.42,0.14", "0.78,0.76 0.46,0.45! 0.78,0.14"]),
    "¿": (0.9, ["0.5,0.95", "0.5,0.62 0.48,0.3 0.22,0.06 0.12,-0.24 0.34,-0.44 0.64,-0.4 0.8,-0.2"]),
    "¡": (0.45, ["0.22,0.95", "0.22,0.62 0.2,-0.4"]),
    "%": (1.0, [A(0.26, 1.1, 0.16, 0.22, 100, 462, 8), "0.86,1.36 0.1,0.0", A(0.72, 0.25, 0.16, 0.22, 100, 462, 8)]),
    "&": (1.0, ["0.92,0.02 0.52,0.45 0.26,0.86 0.3,1.25 0.5,1.4 0.7,1.26 0.62,1.0 0.3,0.7 0.08,0.35 0.2,0.03 "
                "0.5,0.0 0.76,0.3 0.86,0.56"]),
    "+": (0.85, ["0.38,0.96 0.38,0.14", "0.04,0.55 0.74,0.56"]),
    "*": (0.75, ["0.36,1.22 0.36,0.62", "0.1,1.06 0.62,0.78", "0.62,1.06 0.1,0.78"]),
    "`": (0.45, ["0.1,1.45 0.3,1.2"]),
    "\u2013": (0.85, ["0.05,0.5 0.76,0.51"]),
    "\u2014": (1.45, ["0.05,0.5 1.36,0.52"]),
    # ---- letters with no base + mark route
    "æ": (1.35, ["0.6,0.85 0.38,1.0 0.12,0.82 0.05,0.4 0.22,0.02 0.5,0.12 0.62,0.5! 0.63,0.96! 0.6,0.42 "
                 "0.68,0.46 0.96,0.56 1.1,0.8 0.96,1.0 0.74,0.86 0.65,0.45 0.78,0.08 1.0,0.0 1.22,0.15"]),
    "Æ": (1.5, ["0.0,0.0 0.66,1.45! 1.32,1.46", "0.68,1.42 0.72,0.02! 1.36,0.03", "0.3,0.56 0.7,0.57",
                "0.74,0.76 1.2,0.77"]),
    "œ": (1.25, [A(0.33, 0.5, 0.3, 0.5, 100, 462, 9), "0.62,0.5 0.95,0.6 1.05,0.85 0.86,1.0 0.66,0.85 0.6,0.45 "
                 "0.72,0.08 0.95,0.0 1.14,0.15"]),
    "Œ": (1.6, [A(0.5, 0.72, 0.46, 0.72, 100, 462, 10), "1.46,1.45 0.76,1.45! 0.73,0.02! 1.46,0.03",
                "0.76,0.75 1.3,0.76"]),
    # ß mostly as German hands write it, its stem standing on the baseline like an l's (the form with a
    # descender, stretched to the writer's, made a network write ß floating above the line, a superscript)
    "ß": [(0.95, ["0.08,0.0 0.1,0.9 0.2,1.35 0.45,1.46 0.7,1.3 0.68,1.0 0.45,0.85! 0.76,0.7 0.86,0.35 "
                  "0.66,0.02 0.35,0.05"]),
          (0.95, ["0.06,-0.05 0.1,0.9 0.2,1.35 0.45,1.46 0.72,1.32 0.7,1.02 0.48,0.86! 0.8,0.66 0.86,0.3 "
                  "0.64,0.0 0.32,0.06"]),
          (0.95, ["0.08,-0.4 0.1,0.9 0.2,1.35 0.45,1.46 0.7,1.3 0.68,1.0 0.45,0.85! 0.76,0.7 0.86,0.35 "
                  "0.66,0.02 0.35,0.05"])],
    "ð": (0.95, ["0.2,1.4 0.55,1.15 0.75,0.6 0.6,0.08 0.35,0.0 0.1,0.25 0.15,0.65 0.4,0.82 0.72,0.68",
                 "0.26,1.04 0.7,1.3"]),
    "Ð": (1.15, ["0.22,1.45 0.2,0.02", "0.22,1.42 0.6,1.38 0.9,1.05 0.95,0.55 0.75,0.15 0.4,0.0 0.16,0.05",
                 "0.0,0.72 0.46,0.73"]),
    "þ": (0.9, ["0.12,1.45 0.1,-0.45", "0.12,0.8 0.35,1.0 0.65,0.95 0.76,0.5 0.6,0.1 0.35,0.0 0.12,0.15"]),
    "Þ": (0.95, ["0.12,1.45 0.12,0.0", "0.12,1.1 0.6,1.1 0.83,0.85 0.7,0.45 0.12,0.4"]),
}
_G["}"] = (0.65, _mirror(_G["{"][1], 0.64))
_G[">"] = (0.9, _mirror(_G["<"][1], 0.82))
_G["»"] = (0.9, _mirror(_G["«"][1], 0.88))

GLYPH_CHARS: str = "".join(_G)

# ----------------------------------------------------------------------------- accents

MARKS: tuple[str, ...] = ("acute", "grave", "circumflex", "diaeresis", "tilde", "ring", "caron", "caron_apostrophe",
                          "cedilla", "ogonek", "double_acute", "breve", "comma_below", "dot_above", "stroke_slash",
                          "stroke_bar", "stroke_cross")

_COMBINING = {"\u0301": "acute", "\u0300": "grave", "\u0302": "circumflex", "\u0308": "diaeresis", "\u0303": "tilde",
              "\u030a": "ring", "\u030c": "caron", "\u0327": "cedilla", "\u0328": "ogonek", "\u030b": "double_acute",
              "\u0306": "breve", "\u0326": "comma_below", "\u0307": "dot_above"}
_SPECIAL = {"ø": ("o", ("stroke_slash",)), "Ø": ("O", ("stroke_slash",)), "ł": ("l", ("stroke_bar",)),
            "Ł": ("L", ("stroke_bar",)), "đ": ("d", ("stroke_cross",)), "Đ": ("D", ("stroke_cross",)),
            "ı": ("i", ())}
#: Characters whose base "i" loses its dot (the caller removes the i's dot before adding the marks).
DOTLESS: frozenset[str] = frozenset("ıíìîï")


def decompose(char: str) -> tuple[str, tuple[str, ...]] | None:
    """An accented letter -> (base letter, marks), e.g. "é" -> ("e", ("acute",)); "ď ť ľ Ľ" take
    "caron_apostrophe"; "ø ł đ" their strokes; "ı" -> ("i", ()) (see `DOTLESS`). None for anything else (plain
    letters, æ ß þ ð œ ...: those are in `GLYPH_CHARS`)."""
    if len(char) != 1:
        return None
    if char in _SPECIAL:
        return _SPECIAL[char]
    d = unicodedata.normalize("NFD", char)
    if len(d) < 2 or not d[0].isascii() or not d[0].isalpha():
        return None
    marks = []
    for c in d[1:]:
        if c not in _COMBINING:
            return None
        marks.append(_COMBINING[c])
    if d[0] in "dtlL" and marks == ["caron"]:
        marks = ["caron_apostrophe"]
    return d[0], tuple(marks)


# ----------------------------------------------------------------------------- drawing


def _parse(stroke: str) -> tuple[np.ndarray, np.ndarray]:
    """Skeleton text -> ((n, 2) [x, y] with y down, (n,) bool corner flags)."""
    pts, corners = [], []
    for tok in stroke.split():
        corners.append(tok.endswith("!"))
        x, h = tok.rstrip("!").split(",")
        pts.append((float(x), -float(h)))
    return np.asarray(pts, dtype=np.float64), np.asarray(corners, dtype=bool)


def _catmull_rom(p: np.ndarray, per: int = 16) -> np.ndarray:
    """Dense centripetal Catmull-Rom spline through the points `p` (n >= 2)."""
    if len(p) == 2:
        t = np.linspace(0.0, 1.0, per + 1)[:, None]
        return p[0] * (1 - t) + p[1] * t
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    out = [p[:1]]
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        t0 = 0.0
        t1 = t0 + max(np.linalg.norm(p1 - p0), 1e-6) ** 0.5
        t2 = t1 + max(np.linalg.norm(p2 - p1), 1e-6) ** 0.5
        t3 = t2 + max(np.linalg.norm(p3 - p2), 1e-6) ** 0.5
        t = np.linspace(t1, t2, per + 1)[1:, None]
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        out.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    return np.vstack(out)


def _spline(p: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Dense path: smooth pieces between corners."""
    if len(p) == 1:
        return p.copy()
    cut = [0] + [i for i in range(1, len(p) - 1) if corners[i]] + [len(p) - 1]
    parts = [_catmull_rom(p[a:b + 1]) for a, b in zip(cut[:-1], cut[1:])]
    return np.vstack([parts[0]] + [q[1:] for q in parts[1:]])


def _arc(path: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])


def _pen_speed_resample(path: np.ndarray, step: float, xh: float) -> np.ndarray:
    """Points of `path` at equal time steps of a pen that slows in turns and at the ends; median spacing ~ step."""
    if len(path) < 2:
        return path.astype(np.float32)
    s = _arc(path)
    total = s[-1]
    if total < 0.6 * step:  # a dot or a tiny tick: 1-3 points
        n = 1 if total < 0.05 * step else (2 if total < 0.35 * step else 3)
        idx = np.linspace(0, len(path) - 1, n).round().astype(int)
        return path[idx].astype(np.float32)
    # turning per unit length (curvature), smoothed a little so the pen slows before and after a turn
    d = np.diff(path, axis=0)
    ang = np.arctan2(d[:, 1], d[:, 0])
    turn = np.abs((np.diff(ang) + np.pi) % (2 * np.pi) - np.pi)
    seg = np.linalg.norm(d, axis=1)
    kappa = np.zeros(len(path))
    kappa[1:-1] = turn / np.maximum(0.5 * (seg[:-1] + seg[1:]), 1e-9)
    win = max(1, int(round(0.05 * xh / max(np.median(seg), 1e-9))))
    if win > 1:
        half = win // 2
        kappa = np.convolve(np.pad(kappa, half, mode="edge"), np.ones(2 * half + 1) / (2 * half + 1), mode="valid")
    r = 1.0 / np.maximum(kappa, 1e-9) / xh  # radius in x-heights
    v = np.clip(r / (r + 0.2), 0.12, 1.0)
    ramp = 0.12 * xh
    v *= np.clip(0.3 + 0.7 * np.minimum(s, total - s) / ramp, 0.3, 1.0)
    dt_path = np.diff(s) / np.maximum(0.5 * (v[:-1] + v[1:]), 1e-6)
    t = np.concatenate([[0.0], np.cumsum(dt_path)])
    dt = step  # the pen's top speed is 1: a first guess
    for _ in range(3):
        n = max(2, int(round(t[-1] / dt)) + 1)
        tt = np.linspace(0.0, t[-1], n)
        ss = np.interp(tt, t, s)
        out = np.stack([np.interp(ss, s, path[:, 0]), np.interp(ss, s, path[:, 1])], axis=1)
        med = float(np.median(np.linalg.norm(np.diff(out, axis=0), axis=1)))
        if n <= 3 or med <= 0 or abs(med / step - 1) < 0.05:
            break
        dt *= step / med
    return out.astype(np.float32)


def _wobble(rng: np.random.Generator, amp: float) -> tuple:
    """A smooth random function of arc length (in x-heights): two sinusoids per axis."""
    lam = rng.uniform(0.7, 2.5, size=(2, 2))
    ph = rng.uniform(0, 2 * np.pi, size=(2, 2))
    a = rng.uniform(0.5, 1.0, size=(2, 2)) * amp / math.sqrt(2)
    return lam, ph, a


def _draw(skel: list[str], rng: np.random.Generator, *, xh: float, slant: float, step: float,
          jitter: float = 0.025, size_var: float = 0.08, width_var: float = 0.10, rot_deg: float = 3.0,
          wobble: float = 0.03, stretch: tuple[float, float] = (1.0, 1.0)) -> tuple[list[np.ndarray], float]:
    """Skeleton strokes -> pen-down strokes in the caller's units (y down, origin unchanged), and the x scale
    applied (size * width), for the advance width. `stretch` (up, down) > 1 lengthens what stands above the
    x-height (the control points' heights above 1.0) and what hangs below the baseline, as a writer's ascenders
    and descenders are longer than the skeleton's."""
    step = step if step > 0 else xh / 6.0
    size = 1.0 + rng.uniform(-size_var, size_var)
    width = 1.0 + rng.uniform(-width_var, width_var)
    rot = math.radians(rng.uniform(-rot_deg, rot_deg))
    c, s_ = math.cos(rot), math.sin(rot)
    wob = _wobble(rng, rng.uniform(0.67, 1.33) * wobble)
    arc0 = 0.0
    out = []
    for text in skel:
        p, corners = _parse(text)
        up, down = stretch  # y down: heights above the x-height are y < -1, a descender y > 0
        if up != 1.0:
            p[:, 1] = np.where(p[:, 1] < -1.0, -1.0 + (p[:, 1] + 1.0) * up, p[:, 1])
        if down != 1.0:
            p[:, 1] = np.where(p[:, 1] > 0.0, p[:, 1] * down, p[:, 1])
        p = p + rng.normal(0.0, jitter, size=p.shape)  # shape variation
        p = p + rng.normal(0.0, 0.6 * jitter, size=(1, 2))  # the stroke sits a little off: ends do not meet
        if len(p) >= 2:  # overshoot / undershoot at both ends, along the tangent
            for end, nb in ((0, 1), (-1, -2)):
                tan = p[end] - p[nb]
                ln = np.linalg.norm(tan)
                if ln > 1e-6:
                    p[end] = p[end] + tan / ln * float(np.clip(rng.normal(0.0, 0.03), -0.07, 0.07))
        path = _spline(p, corners)
        # low-frequency wobble along the whole glyph's arc length
        sarc = arc0 + _arc(path)
        arc0 = sarc[-1] + 0.3
        lam, ph, a = wob
        for k in range(2):
            path[:, k] += (a[k] * np.sin(2 * np.pi * sarc[:, None] / lam[k] + ph[k])).sum(axis=1)
        # size, width, rotation, slant; units
        x, y = path[:, 0] * width, path[:, 1]
        x, y = c * x - s_ * y, s_ * x + c * y
        path = np.stack([x, y], axis=1) * size * xh
        if slant:
            path[:, 0] += slant * (0.0 - path[:, 1])
        out.append(_pen_speed_resample(path, step, xh))
    return out, size * width


def glyph_strokes(char: str, rng: np.random.Generator, *, x_height: float, slant: float = 0.0,
                  step: float = 0.0, cap_height: float | None = None) -> tuple[list[np.ndarray], float]:
    """Pen-down strokes of `char` as a hand writes it: ([(n_i, 2) float32 absolute [x, y]], advance width).
    Left edge at x = 0 (the ink's leftmost point), baseline y = 0, y down; the advance is the ink's right edge
    plus the glyph's right side bearing. `x_height` in the caller's units; `slant` a shear as
    hwcli.strokes.slant measures it (> 0 leaning right), applied about the baseline; `step`: the writer's median
    distance between consecutive pen-down points (0 = x_height / 6). Natural variation per call from `rng`.

    `cap_height`: the writer's capital height in x-heights (None: the skeletons' own, `CAP_SKELETON`). The
    skeletons have a typeface's proportions (capitals 1.45 x-heights, digits 1.35, descenders 0.45), but hands
    write their capitals, digits, ascenders and descenders much longer than their small letters (IAM-OnDB, the
    median writer: capitals 2.3 x-heights, 1.8-3.1 from the 10th to the 90th percentile; digits 0.76 of the
    capitals, ascenders 0.83, descenders 1.2 x-heights, 0.52 of the capitals): with it a tall glyph is scaled
    whole to the writer's capitals (`glyph_fit`), and the ascenders and descenders of small letters stretched, so
    that spliced glyphs are not written smaller than the writer's own letters."""
    if char not in _G:
        raise KeyError(f"no glyph for {char!r}")
    if x_height <= 0:
        raise ValueError("x_height must be positive")
    if cap_height is not None and not 0.5 <= cap_height <= 5.0:
        raise ValueError("cap_height must be between 0.5 and 5 x-heights")
    entry = _G[char]
    if isinstance(entry, list):
        entry = entry[int(rng.integers(len(entry)))]
    adv, skel = entry
    size, stretch = glyph_fit(char, skel, cap_height)
    xh = x_height * size  # a tall glyph scaled whole: as if the x-height were larger
    strokes, xs = _draw(skel, rng, xh=xh, slant=slant, step=step, stretch=stretch)
    allp = np.vstack(strokes)
    x0 = float(allp[:, 0].min())
    strokes = [(st - np.float32([x0, 0.0])).astype(np.float32) for st in strokes]
    skel_right = max(float(_parse(t)[0][:, 0].max()) for t in skel)
    bearing = max(adv - skel_right, 0.05) * xs * xh
    return strokes, float(allp[:, 0].max() - x0 + bearing)


CAP_SKELETON = 1.45  # the skeletons' capital height, in x-heights
DIGIT_SKELETON = 1.35  # ... and their digits'
TALL_GLYPH = 1.2  # a glyph whose skeleton reaches above this (x-heights) is written at the writer's capital height
# shares of the capital height, from IAM-OnDB's writers (medians of cleanly cut letters, over 164 writers)
DIGIT_SHARE = 0.76  # a digit's height
ASCENDER_SHARE = 0.83  # the top of b d h k l (and of ß ð þ)
DESCENDER_SHARE = 0.52  # the depth of g j p q y below the baseline
ASCENDER_LETTERS = frozenset("ßðþ")


def skeleton_extent(skel: list[str]) -> tuple[float, float]:
    """(top, bottom) of a glyph's skeleton's control points, in x-heights above the baseline."""
    ys = np.concatenate([_parse(t)[0][:, 1] for t in skel])
    return float(-ys.min()), float(-ys.max())


def glyph_fit(char: str, skel: list[str], cap_height: float | None) -> tuple[float, tuple[float, float]]:
    """(size, (up, down) stretch) that fit a glyph to a writer whose capitals are `cap_height` x-heights tall
    (see `glyph_strokes`). Without it, and for glyphs within the x-height band (x z + = < > ...): as drawn. A
    small letter keeps its body: its ascender (ß ð þ; a j's dot is no ascender) is stretched up to
    `ASCENDER_SHARE` of the capitals, its descender (q j ß þ) down to `DESCENDER_SHARE`. A digit is scaled whole
    to `DIGIT_SHARE` of the capitals; any other tall glyph (capitals, currency signs, brackets, ...) to the
    capitals' height."""
    if cap_height is None:
        return 1.0, (1.0, 1.0)
    top, bottom = skeleton_extent(skel)
    if char.islower():
        up = max(1.0, (ASCENDER_SHARE * cap_height - 1.0) / (top - 1.0)) if char in ASCENDER_LETTERS else 1.0
        down = max(1.0, DESCENDER_SHARE * cap_height / -bottom) if bottom < -0.2 else 1.0
        return 1.0, (up, down)
    if top <= TALL_GLYPH:
        return 1.0, (1.0, 1.0)
    if char.isdigit():
        return DIGIT_SHARE * cap_height / DIGIT_SKELETON, (1.0, 1.0)
    return cap_height / CAP_SKELETON, (1.0, 1.0)


# mark skeletons, centred near (0, 0), h up, in x-heights
def _mark_skel(mark: str, rng: np.random.Generator) -> list[str]:
    ln = rng.uniform(0.28, 0.42)
    if mark in ("acute", "grave", "double_acute", "caron_apostrophe"):
        if mark == "caron_apostrophe":
            ang, ln = rng.uniform(60, 85), ln * 0.7
        else:
            ang = rng.uniform(18, 70)  # some writers' acute nearly flat, some steep
        dx, dh = 0.5 * ln * math.cos(math.radians(ang)), 0.5 * ln * math.sin(math.radians(ang))
        if mark == "grave":
            dx = -dx
        top, bot = (dx, dh), (-dx, -dh)
        a, b = (top, bot) if rng.random() < 0.75 else (bot, top)  # most pull the pen down
        one = f"{a[0]:.3f},{a[1]:.3f} {b[0]:.3f},{b[1]:.3f}"
        if mark != "double_acute":
            return [one]
        gap = rng.uniform(0.1, 0.16)
        scale = 0.8
        s1 = f"{a[0] * scale - gap:.3f},{a[1] * scale:.3f} {b[0] * scale - gap:.3f},{b[1] * scale:.3f}"
        s2 = f"{a[0] * scale + gap:.3f},{a[1] * scale:.3f} {b[0] * scale + gap:.3f},{b[1] * scale:.3f}"
        return [s1, s2]
    w, h = 0.5 * ln, rng.uniform(0.1, 0.15)
    if mark == "circumflex":
        return [f"{-w:.3f},{-h:.3f} 0,{h:.3f}! {w:.3f},{-h:.3f}"]
    if mark == "caron":
        return [f"{-w:.3f},{h:.3f} 0,{-h:.3f}! {w:.3f},{h:.3f}"]
    if mark == "breve":
        return [f"{-w:.3f},{h:.3f} {-0.6 * w:.3f},{-0.4 * h:.3f} 0,{-h:.3f} {0.6 * w:.3f},{-0.4 * h:.3f} "
                f"{w:.3f},{h:.3f}"]
    if mark == "tilde":
        a = rng.uniform(0.07, 0.11)
        return [f"{-w:.3f},{-0.5 * a:.3f} {-0.5 * w:.3f},{a:.3f} 0,0 {0.5 * w:.3f},{-a:.3f} {w:.3f},{0.5 * a:.3f}"]
    if mark == "ring":
        r = rng.uniform(0.11, 0.16)
        return [A(0.0, 0.0, r, r * rng.uniform(0.85, 1.15), 100, 470, 8)]
    if mark in ("dot_above", "diaeresis"):
        gap = rng.uniform(0.09, 0.13)  # with the mark's growth: dots ~0.25-0.45 x-heights apart
        xs = [0.0] if mark == "dot_above" else [-gap, gap]
        out = []
        tick = rng.random() < 0.4  # this writer's dots are short ticks
        for x in xs:
            if tick:
                dx, dh = rng.uniform(0.0, 0.05), rng.uniform(0.04, 0.08)
                out.append(f"{x + dx:.3f},{dh / 2:.3f} {x - dx:.3f},{-dh / 2:.3f}")
            else:  # a dot: a tiny blot, 2-3 points (IAM-OnDB's i-dots: 3 points, ~0.1 x-height across)
                d = rng.uniform(0.03, 0.07)
                out.append(f"{x:.3f},0 {x + d:.3f},{-d:.3f}")
        return out
    if mark == "cedilla":
        return ["0,0.04 0.0,-0.08! 0.11,-0.12 0.12,-0.22 0.02,-0.28 -0.1,-0.25"]
    if mark == "comma_below":
        return ["0.03,0.0 0.035,-0.07 -0.03,-0.2"]
    if mark == "ogonek":
        return ["0,0.02 -0.09,-0.1 -0.06,-0.24 0.08,-0.28"]
    raise KeyError(mark)


def mark_strokes(mark: str, rng: np.random.Generator, *, box: tuple[float, float, float, float],
                 x_height: float, slant: float = 0.0, step: float = 0.0, capital: bool = False,
                 speed: float = 1.0) -> list[np.ndarray]:
    """The pen-down strokes of an accent mark for a letter whose ink occupies `box` = (x_left, x_right, y_top,
    y_bottom) (y down, in the line's units), as a hand adds it: above the letter (gap ~0.15-0.4 x-height, less
    over capitals, centred on the letter's centre shifted by the slant), after the top right (caron_apostrophe),
    below (cedilla, comma_below), at the bottom right (ogonek), or through the letter (the strokes of ø ł đ).

    `speed` multiplies the marks' point spacing (a fraction of the letters', below; at most the letters' own): a
    network trained on marks written at 0.45-0.6 of it wrote the letters after a run of marks with shorter
    steps too (session 18: long strokes' step 0.92 -> 0.80 of the stripped line's along a dense line), so the
    words after them came out narrow."""
    if mark not in MARKS:
        raise KeyError(f"unknown mark {mark!r}")
    if x_height <= 0:
        raise ValueError("x_height must be positive")
    xl, xr, yt, yb = (float(v) for v in box)
    xh = x_height
    pen = step if step > 0 else xh / 6.0  # the letters' point spacing; marks are written slower (a fraction of it)
    cx, cy = 0.5 * (xl + xr), 0.5 * (yt + yb)

    def at(y: float) -> float:  # the letter's centre line at height y (follows the slant)
        return cx + slant * (cy - y)

    def place(strokes: list[np.ndarray], x: float, y: float, anchor: str) -> list[np.ndarray]:
        allp = np.vstack(strokes)
        bx = 0.5 * (allp[:, 0].min() + allp[:, 0].max())
        by = {"bottom": allp[:, 1].max(), "top": allp[:, 1].min(), "centre": 0.5 * (allp[:, 1].min() +
                                                                                        allp[:, 1].max())}[anchor]
        return [(st + np.float32([x - bx, y - by])).astype(np.float32) for st in strokes]

    if mark in ("stroke_slash", "stroke_bar", "stroke_cross"):
        w, h = max(xr - xl, 0.2 * xh), max(yb - yt, 0.2 * xh)
        if mark == "stroke_slash":  # ø: lower left below the letter to upper right above it
            ext = rng.uniform(0.05, 0.2, size=2) * xh
            p0 = (xl - rng.uniform(0.0, 0.12) * w, yb + ext[0])
            p1 = (xr + rng.uniform(0.0, 0.12) * w, yt - ext[1])
            skel = [f"{p0[0] / xh:.4f},{-p0[1] / xh:.4f} {p1[0] / xh:.4f},{-p1[1] / xh:.4f}"]
            strokes, _ = _draw(skel, rng, xh=xh, slant=0.0, step=step, jitter=0.015, size_var=0.0, width_var=0.0,
                               rot_deg=0.0, wobble=0.02)
            return strokes
        # the bar of ł as long as people make it, across the stem and well past it (0.38-0.55 x-heights made a
        # 2-3 point speck at the letters' point spacing, and the network wrote ł as l: read right 0 of 12)
        ln = rng.uniform(0.62, 0.85) if mark == "stroke_bar" else rng.uniform(0.38, 0.55)
        if mark == "stroke_bar":  # ł: a bar rising steeply to the right across the stem
            if capital:  # Ł: at mid-height of the capital
                ang = math.radians(rng.uniform(15, 40))
                y = yt + rng.uniform(0.45, 0.62) * h
            else:  # ł: inside the x-height band, well below a t-bar and steeper than one (session 20: a bar at
                # 0.45-0.62 of the l's height, 15-40 degrees, sat where a t is crossed; the network wrote ł as a t
                # and the recognizer read it so 16 of 18 times)
                ang = math.radians(rng.uniform(28, 50))
                y = yb - rng.uniform(0.45, 0.8) * xh
            x = xl + slant * (yb - y) + rng.uniform(0.0, 0.15) * w if capital else at(y)  # Ł: the stem is left
        else:  # đ Đ: a near-horizontal bar across the ascender (d: right stem) or the capital's stem (left)
            ang = math.radians(rng.uniform(-4, 8))
            if capital:
                y = yt + rng.uniform(0.42, 0.58) * h
                x = xl + slant * (yb - y) + rng.uniform(0.05, 0.2) * w
            else:
                y = yt + rng.uniform(0.15, 0.28) * h
                x = xr + slant * (yt - y) - rng.uniform(0.08, 0.2) * xh
        dx, dh = 0.5 * ln * math.cos(ang), 0.5 * ln * math.sin(ang)
        skel = [f"{-dx:.3f},{-dh:.3f} {dx:.3f},{dh:.3f}"]
        # written slower than the letters, as the accent marks are (below): 5-8 points, not a speck
        strokes, _ = _draw(skel, rng, xh=xh, slant=0.0, step=pen * min(0.6 * speed, 1.0), jitter=0.015, wobble=0.02)
        return place(strokes, x + rng.normal(0, 0.03) * xh, y + rng.normal(0, 0.03) * xh, "centre")

    skel = _mark_skel(mark, rng)
    # A mark is drawn larger than a printed accent and slower than the letters: IAM-OnDB's pen points lie ~0.3
    # x-heights apart, so a 0.3 x-height mark at the letters' speed was 2-3 points (a dot or a dash; a ring, a
    # tilde and a caron could not be told apart), and a network trained on it learned a speck. People write
    # accents about as large as a t-bar is long (0.4-0.8 x-heights) and slowly, so a shaped mark has 5-10 points.
    grow = 1.0 if mark == "dot_above" else rng.uniform(1.35, 1.8)
    slow = 0.45 if mark in ("ring", "tilde", "breve", "circumflex", "caron", "cedilla", "ogonek") else 0.6
    strokes, _ = _draw(skel, rng, xh=xh * grow, slant=slant, step=pen * min(slow * speed, 1.0),
                       jitter=0.012, wobble=0.02)
    jx, jy = rng.normal(0.0, 0.05) * xh, rng.normal(0.0, 0.02) * xh
    if mark in ("cedilla", "comma_below"):
        gap = (rng.uniform(-0.04, 0.04) if mark == "cedilla" else rng.uniform(0.06, 0.18)) * xh
        y = yb + gap
        return place(strokes, at(y) + 0.5 * jx, y + jy, "top")
    if mark == "ogonek":
        y = yb - rng.uniform(0.0, 0.05) * xh
        x = xr + slant * (yb - y) - rng.uniform(0.05, 0.15) * xh
        return place(strokes, x + 0.4 * jx, y, "top")
    if mark == "caron_apostrophe":
        y = yt + rng.uniform(-0.05, 0.12) * xh
        x = xr + rng.uniform(0.08, 0.2) * xh
        return place(strokes, x + 0.3 * jx, y, "top")
    gap = (rng.uniform(0.1, 0.28) if capital else rng.uniform(0.15, 0.4)) * xh
    y = yt - gap
    mh = float(np.ptp(np.vstack(strokes)[:, 1]))
    return place(strokes, at(y - 0.5 * mh) + jx, y + jy, "bottom")
