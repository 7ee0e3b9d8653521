"""Choosing a personal style's priming line and its geometry.

The candidate priming lines are scored by the network's own likelihood (teacher-forced NLL per point: how well
the model can follow that line), the best few each prime a set of calibration sentences, which the bundled
recognizer reads back; the prime whose sentences read best wins, and its sentences give the hand's letter width
and body height, as packaging measures the bundled styles (page layout then sizes and wraps the hand by what it
writes). The network writes only part of the way towards an unfamiliar hand, so the same sentences also give a
geometry correction (`geometry_correction`): the x scale and shear that bring their letter width and slant to the
writer's own, stored with the style and applied to every line written in it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..model.personal import PERSONAL_SOURCE
from ..texts import CALIBRATION

CANDIDATES = 4  # priming lines tried by sampling (the rest are ranked out by likelihood alone)


def line_nll(bundle, lines) -> list[float]:
    """Teacher-forced NLL per point of each line under the synthesis network (lower: the model follows it)."""
    import torch

    from ..model import mdn
    from ..model.sampling import onehot_texts

    out = []
    net = bundle.network
    with torch.inference_mode():
        for ln in lines:
            seq = torch.from_numpy(ln.offsets).unsqueeze(0)
            oh, _ = onehot_texts(bundle, [ln.text])
            y, _, _ = net(seq[:, :-1], oh)
            mask = torch.ones(1, seq.shape[1] - 1)
            out.append(float(mdn.nll(y, seq[:, 1:], mask, bundle.config.mixtures)) / mask.sum().item())
    return out


@dataclass
class Choice:
    style: object  # the chosen Style, with char_width and body_height measured
    record: dict  # what was tried and how it scored


def choose_prime(bundle, lines, name: str, recognizer=None, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None, match_geometry: bool = True) -> Choice:
    """The best priming line of `lines` for `bundle` (see the module docstring), measured; with
    `match_geometry`, with the correction that gives its lines the writer's letter width and slant."""
    from ..model.bundle import Style
    from ..strokes import body_height
    from ..recognizer.reading import cer, read_strokes
    from ..strokes import to_points
    from ..synthesis import SamplingOptions, synthesize

    nll = line_nll(bundle, lines)
    # very long lines make a long prime (slow, and the model drifts); very short ones say little about the hand
    pool = [i for i, ln in enumerate(lines) if 12 <= len(ln.text) <= 50] or list(range(len(lines)))
    pool = sorted(pool, key=lambda i: nll[i])[:CANDIDATES]
    tried = []
    samples: dict = {}  # candidate -> its sampled lines that passed the checks
    for k, i in enumerate(pool):
        st = Style(name, lines[i].text, lines[i].offsets, source=lines[i].name)
        res = synthesize(bundle, CALIBRATION, SamplingOptions(style=st, seed=seed, retries=0, check=False))
        good = [r for r in res if r.ok and len(r.strokes) > 8]
        score = float(len(res) - len(good))  # failed lines count as unreadable
        if recognizer is not None:
            hyps = read_strokes(recognizer, [r.strokes for r in res], bundle.scale)
            score = float(np.mean([1.0 if not r.ok else cer(r.text, " ".join(h.split())) for r, h in zip(res, hyps)]))
        widths = [float(np.ptp(np.cumsum(r.strokes[:, 0]))) / len(r.text) for r in good]
        heights = [body_height(to_points(r.strokes)) for r in good]
        tried.append({"line": lines[i].name, "text": lines[i].text, "nll_point": round(nll[i], 4),
                      "readback_cer" if recognizer is not None else "failed_lines": round(score, 4),
                      "char_width": float(np.median(widths)) if widths else 0.0,
                      "body_height": float(np.median(heights)) if heights else 0.0, "index": i})
        samples[i] = [(r.strokes, r.text) for r in good]
        if progress:
            progress(k + 1, len(pool))
    key = "readback_cer" if recognizer is not None else "failed_lines"
    best = min(tried, key=lambda t: (t[key], t["nll_point"]))
    ln = lines[best["index"]]
    cw, bh, measured = best["char_width"], best["body_height"], "sampled lines"
    if cw <= 0 or bh <= 0:
        # no sampled line passed the checks: the writer's own lines are the best measure there is
        pts = [to_points(x.offsets) for x in lines]
        cw = float(np.median([np.ptp(p[:, 0]) / len(x.text) for p, x in zip(pts, lines)]))
        bh = float(np.median([body_height(p) for p in pts]))
        measured = "the writer's lines"
    geometry = {}
    if match_geometry and measured == "sampled lines":
        geometry = geometry_correction(hand_geometry([(x.offsets, x.text) for x in lines]), samples[best["index"]])
        cw *= geometry["x_scale"]  # the page lays out the lines as they will be drawn
    style = Style(name, ln.text, ln.offsets, source=f"{PERSONAL_SOURCE} {ln.name}", char_width=cw, body_height=bh,
                  x_scale=geometry.get("x_scale", 1.0), shear=geometry.get("shear", 0.0))
    return Choice(style, {"criterion": key, "chosen": best["line"], "measured_on": measured, "candidates": tried,
                          "geometry": geometry or None})


#: How far `geometry_correction` may reshape what the network writes: letter width by at most 1.33x either way,
#: slant by at most 0.4 (about 22 degrees).
MAX_X_SCALE, MAX_SHEAR = 1.33, 0.4


def hand_geometry(lines: Sequence[tuple[np.ndarray, str]]) -> dict:
    """Median slant (`strokes.slant`: shear units, + leaning right) and letter width (ink width per character
    / body height) of (offsets, text) lines; empty when there are none."""
    from ..strokes import body_height, slant, to_points

    sl, wr = [], []
    for off, text in lines:
        pts = to_points(off)
        h = body_height(pts)
        if len(pts) > 8 and h > 0 and text.strip():
            sl.append(slant(pts))
            wr.append(float(np.ptp(pts[:, 0])) / len(text) / h)
    return {"slant": float(np.median(sl)), "width": float(np.median(wr))} if sl else {}


def geometry_correction(writer: dict, sampled: Sequence[tuple[np.ndarray, str]], rounds: int = 3) -> dict:
    """The x scale and shear (`strokes.restyle`) that give `sampled` lines (offsets, text) the `writer`'s letter
    width and slant (`hand_geometry`), within `MAX_X_SCALE` and `MAX_SHEAR`.

    The network, primed or adapted, writes only part of the way towards an unfamiliar hand: on 4 unseen
    IAM-OnDB writers, generated slant was off by up to 3.8 and letter width by up to 1.7 of a writer's own
    line-to-line spread. The slant measure responds to a shear only in part (which pen moves count as
    near-vertical changes with it), so the correction is refined on the sampled lines themselves, `rounds`
    times: restyle them, measure, adjust."""
    from ..strokes import restyle

    start = hand_geometry(sampled)
    if not writer or not start:
        return {"x_scale": 1.0, "shear": 0.0}
    sx, k, now = 1.0, 0.0, start
    for _ in range(rounds):
        sx = float(np.clip(sx * writer["width"] / now["width"], 1 / MAX_X_SCALE, MAX_X_SCALE))
        k = float(np.clip(k + writer["slant"] - now["slant"], -MAX_SHEAR, MAX_SHEAR))
        now = hand_geometry([(restyle(o, sx, k), t) for o, t in sampled])
    return {"x_scale": round(sx, 4), "shear": round(k, 4), "writer_slant": round(writer["slant"], 4),
            "sampled_slant": round(start["slant"], 4), "corrected_slant": round(now["slant"], 4),
            "writer_width": round(writer["width"], 4), "sampled_width": round(start["width"], 4),
            "corrected_width": round(now["width"], 4)}
