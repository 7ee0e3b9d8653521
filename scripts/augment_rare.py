"""Recombined training lines for rare characters: a writer's own words, cut out of their lines, in new lines.

Digits are 0.3% of IAM-OnDB's training characters and capitals such as X, Z and Q appear a handful of times.
Drawing the lines that hold them more often overfits those few lines (the network learns the line, not the
glyph). This script makes new lines instead: every training line is aligned with a synthesis bundle (the
attention window's most-weighted character at every point, teacher-forced), cut into words at pen lifts, and
each word that holds a rare character is written again in `--copies` new lines, between other words of the
same writer, at that writer's own word spacing. The ink is all real and every line is one writer's hand; only
the order of the words is new, so a rare glyph is seen in new company and at new places in the line.

A line is cut only when the cut is clean: every word gets at least one stroke, the strokes' words never go
backwards (a late i-dot or t-bar at the end of a line makes it go backwards: such lines are skipped), and each
word's width per character is within a factor of the line's own.

    python scripts/augment_rare.py --data iam.npz --model models/hwcli-synthesis.json -o iam-aug.npz

The output is the input dataset plus the new lines, in the "trainset" split with line ids "aug-...", so
validation (testset_v) is untouched. It is derived from IAM-OnDB: never commit it.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwcli.data.dataset import TRAIN_SPLITS, Dataset  # noqa: E402
from hwcli.model.bundle import load_model, model_path  # noqa: E402
from hwcli.training.data import rare_characters  # noqa: E402


def align(bundle, seqs: list[np.ndarray], texts: list[str], batch: int = 32) -> list[np.ndarray]:
    """Per line, the 0-based index of the character the window weighs most while each point is written."""
    net, alpha = bundle.network.eval(), bundle.alphabet
    out: list[np.ndarray | None] = [None] * len(seqs)
    order = np.argsort([len(s) for s in seqs])
    with torch.inference_mode():
        for s in range(0, len(order), batch):
            ids = order[s : s + batch]
            T = max(len(seqs[i]) for i in ids)
            U = max(len(texts[i]) for i in ids)
            x = torch.zeros(len(ids), T, 3)
            cidx = torch.zeros(len(ids), U, dtype=torch.long)
            for j, i in enumerate(ids):
                x[j, : len(seqs[i])] = torch.from_numpy(seqs[i])
                x[j, 0, 2] = 1.0
                cidx[j, : len(texts[i])] = torch.from_numpy(alpha.encode(texts[i]))
            onehot = F.one_hot(cidx, len(alpha)).float()
            onehot[..., 0] = 0.0
            # the input at step t is point t; the window of step t writes point t + 1
            _, _, ex = net(x[:, :-1], onehot, return_phi=True)
            phi = ex["phi"].numpy()
            for j, i in enumerate(ids):
                n, u = len(seqs[i]), len(texts[i])
                a = np.zeros(n, np.int64)
                a[1:] = phi[j, : n - 1, :u].argmax(1)
                out[i] = a
    return out  # type: ignore[return-value]


def cut_words(seq: np.ndarray, text: str, chars: np.ndarray, tol: float = 2.5, with_chars: bool = False):
    """[(word text, absolute points (n,3) relative to the word's left edge and the line's baseline fit)] and the
    gaps between neighbouring words, or None when the cut is not clean (see the module docstring). With
    `with_chars`, each piece also holds the aligned character of each of its points, 0-based in the word (-1 for
    the space before it)."""
    words, spans, pos = [], [], 0
    for w in text.split(" "):
        if w:
            spans.append((pos, pos + len(w)))
            words.append(w)
        pos += len(w) + 1
    if len(words) < 2:
        return None
    xy = np.cumsum(seq[:, :2], axis=0)
    ends = np.flatnonzero(seq[:, 2] > 0.5)
    bounds = np.concatenate([[0], ends + 1])
    if bounds[-1] < len(seq):
        bounds = np.concatenate([bounds, [len(seq)]])
    starts_of = np.array([a for a, _ in spans])
    owner = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b <= a:
            continue
        c = chars[a:b]
        # a character index -> its word (a space counts with the word after it)
        wi = np.searchsorted(starts_of, c, side="right") - 1
        owner.append((a, b, int(np.bincount(np.clip(wi, 0, len(words) - 1)).argmax())))
    ws = [o[2] for o in owner]
    if any(b < a for a, b in zip(ws, ws[1:])) or sorted(set(ws)) != list(range(len(words))):
        return None
    # the line's baseline: least squares of y on x over all points (lines slope a little)
    slope, icpt = np.polyfit(xy[:, 0], xy[:, 1], 1)
    pieces = []
    for k in range(len(words)):
        runs = [(a, b) for a, b, w in owner if w == k]
        pts = np.concatenate([np.column_stack([xy[a:b], seq[a:b, 2]]) for a, b in runs])
        own = np.concatenate([chars[a:b] for a, b in runs]) - spans[k][0]
        pts[-1, 2] = 1.0
        left, right = pts[:, 0].min(), pts[:, 0].max()
        pts = pts.copy()
        pts[:, 1] -= slope * pts[:, 0] + icpt
        pts[:, 0] -= left
        pieces.append((words[k], pts, left, right, np.clip(own, -1, len(words[k]) - 1)))
    widths = np.array([(p[3] - p[2]) / len(p[0]) for p in pieces])
    per_char = np.sum([p[3] - p[2] for p in pieces]) / sum(len(w) for w in words)
    if np.any(widths > tol * per_char) or np.any(widths * tol < per_char * np.array([min(len(w), 3) / 3 for w in words])):
        return None
    gaps = [b[2] - a[3] for a, b in zip(pieces, pieces[1:])]
    if min(gaps) <= 0:
        return None
    if with_chars:
        return [(w, p, c) for w, p, _, _, c in pieces], gaps
    return [(w, p) for w, p, _, _, _ in pieces], gaps


def compose(words: list[tuple[str, np.ndarray]], gaps: list[float]) -> np.ndarray:
    """Offsets (n,3) of the words written left to right on one baseline, `gaps` apart."""
    parts, x = [], 0.0
    for k, (_, pts) in enumerate(words):
        p = pts.copy()
        p[:, 0] += x
        parts.append(p)
        x = p[:, 0].max() + (gaps[k] if k < len(gaps) else 0.0)
    pts = np.concatenate(parts)
    off = np.zeros_like(pts)
    off[0, :2] = 0.0
    off[1:, :2] = np.diff(pts[:, :2], axis=0)
    off[:, 2] = pts[:, 2]
    return off.astype(np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default=None, help="synthesis bundle for the alignment (default: bundled)")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--copies", type=int, default=2, help="new lines per rare word")
    ap.add_argument("--words", default="3,7", help="words per new line: min,max")
    ap.add_argument("--max-chars", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="align only the first N training lines (for a trial)")
    a = ap.parse_args(argv)
    t0 = time.time()
    ds = Dataset.load(a.data)
    bundle = load_model(model_path(a.model))
    alpha, scale = bundle.alphabet, bundle.scale
    idx = [int(i) for i in ds.indices(list(TRAIN_SPLITS)) if ds.texts[i].strip() and all(c in alpha for c in ds.texts[i])]
    if a.limit:
        idx = idx[: a.limit]
    rare = rare_characters([ds.texts[i] for i in idx], alpha)
    seqs = [ds.normalised_line(i, scale) for i in idx]
    texts = [ds.texts[i] for i in idx]
    chars = align(bundle, seqs, texts)
    t_align = time.time() - t0
    bank: dict[int, list] = {}  # writer -> [(word, pts)]
    gaps_of: dict[int, list] = {}
    clean = 0
    for i, s, t, c in zip(idx, seqs, texts, chars):
        r = cut_words(s, t, c)
        if r is None:
            continue
        clean += 1
        w = int(ds.writer_ids[i])
        if w < 0:  # unknown writer: its lines are many hands, which must not share a line
            continue
        bank.setdefault(w, []).extend(r[0])
        gaps_of.setdefault(w, []).extend(r[1])

    def is_rare(word: str) -> bool:
        return any(ch.isdigit() or ch in rare for ch in word) or (sum(ch.isupper() for ch in word) >= 2)

    rng = np.random.default_rng(a.seed)
    lo, hi = (int(v) for v in a.words.split(","))
    new_off, new_txt, new_ids, new_w = [], [], [], []
    for w, words in bank.items():
        if len(words) < lo:
            continue
        gap = float(np.median(gaps_of[w]))
        spread = float(np.std(gaps_of[w])) * 0.5
        for k, (word, pts) in enumerate(words):
            if not is_rare(word):
                continue
            for c in range(a.copies):
                n = int(rng.integers(lo, hi + 1))
                others = [words[j] for j in rng.choice(len(words), size=min(n - 1, len(words) - 1), replace=False) if j != k]
                line = others[: n - 1]
                line.insert(int(rng.integers(0, len(line) + 1)), (word, pts))
                while len(line) > 2 and sum(len(x[0]) + 1 for x in line) - 1 > a.max_chars:
                    drop = [j for j, x in enumerate(line) if x[0] != word]
                    line.pop(int(rng.choice(drop)))
                gaps = list(np.clip(gap + spread * rng.standard_normal(len(line) - 1), 0.4 * gap, 2.0 * gap))
                new_off.append(compose(line, gaps) * np.array([scale, scale, 1.0], np.float32))
                new_txt.append(" ".join(x[0] for x in line))
                new_ids.append(f"aug-{w}-{k}-{c}")
                new_w.append(w)
    n_rare_words = sum(1 for ws in bank.values() for x in ws if is_rare(x[0]))
    old = [ds.line(i) for i in range(len(ds))]
    meta = dict(ds.meta)
    meta["augmentation"] = {"script": "scripts/augment_rare.py", "args": vars(a), "aligned_lines": len(idx),
                            "clean_cuts": clean, "rare_words": n_rare_words, "new_lines": len(new_txt),
                            "rare_chars": "".join(sorted(rare))}
    out = Dataset.from_lines(old + new_off, list(ds.texts) + new_txt, list(ds.line_ids) + new_ids,
                             [int(v) for v in ds.writer_ids] + new_w, list(ds.splits) + ["trainset"] * len(new_txt), meta)
    out.save(a.out)
    digits = sum(ch.isdigit() for t in new_txt for ch in t)
    print(json.dumps({**meta["augmentation"], "digits_added": digits, "align_s": round(t_align, 1),
                      "total_s": round(time.time() - t0, 1)}, default=str))
    for t in new_txt[:10]:
        print("  ", t)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
