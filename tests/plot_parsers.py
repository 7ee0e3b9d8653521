"""Small readers for plotter output, used by the tests: G-code, HP-GL, the strokes of an hwcli PDF, and
a stroke-set comparison (each stroke matched to one of the other set, in either direction)."""
from __future__ import annotations

import re

import numpy as np

WORD = re.compile(r"([A-Z])\s*(-?\d+(?:\.\d+)?)")


def parse_gcode(text: str, pen_up: str, pen_down: str, rapid: float = 5000.0, dwell_ms: bool = False,
                start: tuple[float, float] = (0.0, 0.0)) -> dict:
    """Strokes (machine mm) drawn by a G-code program, checking that pen-downs and pen-ups alternate.

    A pen command may be several lines ('\n' between them, e.g. Marlin's "M400\nM280 P0 S30"): its last line
    moves the pen, and the lines before it must come right before that one.
    Also replays the time the program takes, acceleration-free: every move's length over its feed (the modal
    F of G1; `rapid` mm/min for G0), plus every G4 P dwell (seconds, or milliseconds when `dwell_ms`), the pen
    starting at `start` (machine mm).

    Returns {"strokes": [(n, 2) arrays], "moves": [(x, y) of every move], "pauses": count of M0,
             "units": G21 seen, "absolute": G90 seen, "end_up": pen up at the end, "seconds": replayed time,
             "dwells": [P values], "raw": the code lines}.
    """
    x, y = start
    feed = None
    seconds = 0.0
    down = False
    strokes: list[list[tuple[float, float]]] = []
    moves = []
    info = {"units": False, "absolute": False, "pauses": 0}
    up_lines, down_lines = pen_up.split("\n"), pen_down.split("\n")
    raw = [ln.split(";", 1)[0].strip() for ln in text.splitlines()]
    raw = [ln for ln in raw if ln]
    dwells = []
    for k, line in enumerate(raw):
        for cmd in (up_lines, down_lines):
            if line == cmd[-1] and len(cmd) > 1:
                assert raw[k - len(cmd) + 1:k + 1] == cmd, f"pen command split: {raw[k - len(cmd) + 1:k + 1]}"
        if line == down_lines[-1]:
            assert not down, "pen-down while the pen is already down"
            down = True
            strokes.append([(x, y)])
            continue
        if line == up_lines[-1]:
            down = False
            continue
        if line in up_lines[:-1] or line in down_lines[:-1]:
            continue
        words = dict((k, float(v)) for k, v in WORD.findall(line))
        code = line.split()[0]
        if code == "G21":
            info["units"] = True
        elif code == "G90":
            info["absolute"] = True
        elif code == "G4":
            dwells.append(words["P"])
            seconds += words["P"] / 1000 if dwell_ms else words["P"]
        elif code == "M0":
            assert not down, "pause with the pen down"
            info["pauses"] += 1
        elif code in ("G0", "G1"):
            if code == "G1" and "F" in words:
                feed = words["F"]
            if "X" in words or "Y" in words:
                nx, ny = words.get("X", x), words.get("Y", y)
                speed = rapid if code == "G0" else feed
                assert speed, "a G1 move before any feed"
                seconds += 60.0 * float(np.hypot(nx - x, ny - y)) / speed
                x, y = nx, ny
                moves.append((x, y))
                if down:
                    assert code == "G1", "rapid move with the pen down"
                    strokes[-1].append((x, y))
    return {"strokes": [np.array(s) for s in strokes], "moves": moves, "end_up": not down, "seconds": seconds,
            "dwells": dwells, "raw": raw, **info}


def parse_hpgl(text: str) -> dict:
    """Strokes (plotter units) of an HP-GL program: each PU ends a stroke, each PD after a PU starts one."""
    down = False
    pos = (0, 0)
    strokes: list[list[tuple[int, int]]] = []
    cmds = [c.strip() for c in text.replace("\n", "").split(";") if c.strip()]
    seen = []
    for c in cmds:
        op, args = c[:2], c[2:]
        seen.append(op)
        nums = [int(v) for v in args.split(",")] if args else []
        pts = list(zip(nums[0::2], nums[1::2]))
        if op == "PU":
            down = False
            if pts:
                pos = pts[-1]
        elif op == "PD":
            if not down:
                strokes.append([pos])
                down = True
            strokes[-1].extend(pts)
            if pts:
                pos = pts[-1]
    return {"strokes": [np.array(s, float) for s in strokes], "ops": seen, "end_up": not down}


def pdf_strokes(content: str) -> list[np.ndarray]:
    """On-curve points of every stroke of an hwcli PDF page stream (page mm, y down): 'm' starts a stroke,
    'c' and 'l' add their end point."""
    strokes: list[list[tuple[float, float]]] = []
    for line in content.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) == 6 and parts[2] == "m" and parts[5] == "l":  # a dot: a tiny segment on one line
            strokes.append([(float(parts[0]), float(parts[1])), (float(parts[3]), float(parts[4]))])
        elif parts[-1] == "m" and len(parts) == 3:
            strokes.append([(float(parts[0]), float(parts[1]))])
        elif parts[-1] in ("c", "l") and strokes and len(parts) in (3, 7):
            strokes[-1].append((float(parts[-3]), float(parts[-2])))
    return [np.array(s) for s in strokes]


def point_to_polyline(p: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Distance of every point `p` (k, 2) to the polyline `line` (n, 2)."""
    if len(line) == 1:
        return np.linalg.norm(p - line[0], axis=1)
    a, b = line[:-1], line[1:]
    d = b - a
    dd = np.maximum((d * d).sum(1), 1e-12)
    t = np.clip(((p[:, None, :] - a[None]) * d[None]).sum(2) / dd[None], 0, 1)
    proj = a[None] + t[..., None] * d[None]
    return np.linalg.norm(p[:, None, :] - proj, axis=2).min(1)


def match_strokes(got: list[np.ndarray], want: list[np.ndarray], tol: float) -> None:
    """Assert `got` and `want` are the same strokes (any order, either direction) within `tol`:
    every point of each lies within `tol` of its partner's polyline and the end points agree."""
    assert len(got) == len(want), (len(got), len(want))
    free = list(range(len(want)))
    for g in got:
        best = None
        for k in free:
            w = want[k]
            ends = min(np.linalg.norm(g[0] - w[0]) + np.linalg.norm(g[-1] - w[-1]),
                       np.linalg.norm(g[0] - w[-1]) + np.linalg.norm(g[-1] - w[0]))
            if ends <= 2 * tol and (best is None or ends < best[0]):
                best = (ends, k)
                if ends == 0:
                    break
        assert best is not None, f"no stroke matches one starting at {g[0]}"
        w = want[best[1]]
        assert point_to_polyline(g, w).max() <= tol
        assert point_to_polyline(w, g).max() <= tol
        free.remove(best[1])
