"""Training data for every model: normalised lines of one split set, length-bucketed epoch order, the splits.

`LineData` turns a `Dataset`'s lines (sensor units) into normalised tensors once; `epoch_batches` orders an
epoch as a pure function of ``(seed, epoch)``, so a resumed run sees exactly the batches an uninterrupted one
would. Rare lines (`mark_rare`, `rare_characters`) can be drawn more often, each extra copy distorted.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..alphabet import Alphabet
from ..data.dataset import TRAIN_SPLITS, VALID_SPLIT, Dataset


class LineData:
    """Normalised training tensors of one split set, built once (no work per step beyond slicing)."""

    def __init__(self, ds: Dataset, idx: np.ndarray, alphabet: Alphabet, scale: float, max_len: int):
        keep = [i for i in idx if 2 < ds.lengths[i] <= max_len and all(c in alphabet for c in ds.texts[i])]
        self.skipped = len(idx) - len(keep)
        self.seqs = [torch.from_numpy(ds.normalised_line(i, scale)) for i in keep]
        for s in self.seqs:
            s[0, 2] = 1.0  # every line starts with a lifted pen
        self.texts = [ds.texts[i] for i in keep]
        self.chars = [torch.from_numpy(alphabet.encode(t)) for t in self.texts]
        self.lengths = np.array([len(s) for s in self.seqs])
        self.n_chars = len(alphabet)
        self.rare = np.zeros(len(self.seqs), bool)  # set by `mark_rare`
        self.neat = np.zeros(len(self.seqs), bool)  # set by `mark_neat`

    def mark_rare(self, rare_chars: set[str]) -> None:
        """Flag the lines that hold at least one of `rare_chars`."""
        self.rare = np.array([any(c in rare_chars for c in t) for t in self.texts], bool)

    def mark_neat(self, neat: np.ndarray) -> None:
        """Flag the lines judged neat (e.g. read back right by the recognizer), which `epoch_batches` can favour."""
        neat = np.asarray(neat, bool)
        if neat.shape != self.rare.shape:
            raise ValueError(f"{len(neat)} neatness flags for {len(self)} lines")
        self.neat = neat

    def __len__(self) -> int:
        return len(self.seqs)

    def batch(self, ids: list[int], device, jitter: float = 0.0, rng: np.random.Generator | None = None) -> tuple:
        """x (B,T,3) inputs, target (B,T,3), mask (B,T), onehot (B,U,C) for lines `ids`.

        An id ``i + len(self)`` (an extra copy of a rare line, see `epoch_batches`) is line ``i`` drawn through a
        random affine distortion of up to `jitter` (x and y scale, shear), so repeats are never identical ink."""
        n_lines = len(self)
        ids = list(ids)
        lines = [i % n_lines for i in ids]
        T = int(self.lengths[lines].max()) - 1
        U = max(len(self.chars[i]) for i in lines)
        B = len(ids)
        seq = torch.zeros(B, T + 1, 3)
        mask = torch.zeros(B, T)
        cidx = torch.zeros(B, U, dtype=torch.long)
        for j, (i, raw) in enumerate(zip(lines, ids)):
            n = len(self.seqs[i])
            seq[j, :n] = self.seqs[i]
            if raw >= n_lines and jitter > 0 and rng is not None:
                sx, sy = 1.0 + rng.uniform(-jitter, jitter, 2)
                sh = rng.uniform(-jitter, jitter)
                dx, dy = seq[j, :n, 0].clone(), seq[j, :n, 1].clone()
                seq[j, :n, 0] = float(sx) * dx + float(sh) * dy
                seq[j, :n, 1] = float(sy) * dy
            mask[j, : n - 1] = 1.0
            cidx[j, : len(self.chars[i])] = self.chars[i]
        onehot = F.one_hot(cidx, self.n_chars).float()
        onehot[..., 0] = 0.0
        return (seq[:, :-1].to(device), seq[:, 1:].to(device), mask.to(device), onehot.to(device))

    def epoch_batches(self, seed: int, epoch: int, batch_size: int, rare_weight: float = 1.0,
                      neat_weight: float = 1.0) -> list[list[int]]:
        """Batches of similar length (little padding) in a random order that depends only on (seed, epoch).

        With `rare_weight` w > 1 each rare line (`mark_rare`) appears w times an epoch on average: floor(w - 1)
        extra copies plus one more with probability frac(w - 1). A copy has the id ``line + len(self)``. With
        `neat_weight` v > 1 a neat line (`mark_neat`) is weighted v as well (a neat rare line w * v)."""
        rng = np.random.default_rng([seed, epoch])
        pool_ids = np.arange(len(self))
        w = np.where(self.rare, max(rare_weight, 1.0), 1.0) * np.where(self.neat, max(neat_weight, 1.0), 1.0)
        ids = np.flatnonzero(w > 1.0)
        if len(ids):
            extra = np.floor(w[ids] - 1.0).astype(int) + (rng.random(len(ids)) < (w[ids] - 1.0) % 1.0)
            pool_ids = np.concatenate([pool_ids, np.repeat(ids, extra) + len(self)])
        perm = pool_ids[rng.permutation(len(pool_ids))]
        pool = batch_size * 50
        batches = []
        for s in range(0, len(perm), pool):
            chunk = perm[s : s + pool]
            chunk = chunk[np.argsort(self.lengths[chunk % len(self)], kind="stable")]
            batches += [chunk[k : k + batch_size].tolist() for k in range(0, len(chunk), batch_size)]
        order = rng.permutation(len(batches))
        return [batches[k] for k in order if len(batches[k]) > 0]


def split_indices(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) line indices: the IAM-OnDB task split, or, for a dataset without it (e.g. own
    InkML), every 20th line held out for validation."""
    train_idx, valid_idx = ds.indices(TRAIN_SPLITS), ds.indices([VALID_SPLIT])
    if len(train_idx) == 0:
        all_idx = np.arange(len(ds))
        valid_idx = all_idx[::20] if len(ds) >= 20 else all_idx[:1]
        train_idx = np.setdiff1d(all_idx, valid_idx) if len(ds) >= 2 else all_idx
    return train_idx, valid_idx


def validation_subset(n: int, k: int, seed: int) -> list[int]:
    """A fixed random subset of k of n validation lines (all when k is 0 or >= n), sorted."""
    if not k or n <= k:
        return list(range(n))
    return sorted(np.random.default_rng(seed).choice(n, k, replace=False).tolist())


def rare_characters(texts: list[str], alphabet: Alphabet, share: float = 0.001) -> set[str]:
    """The alphabet's characters (space aside) that make up less than `share` of the characters of `texts`:
    on IAM-OnDB (share 0.001) every digit, 11 of the capitals (E J K O Q R U V X Y Z), j q z and the rarer punctuation: 20% of the lines."""
    counts = {c: 0 for c in alphabet.chars if c != " "}
    n = 0
    for t in texts:
        for c in t:
            if c in counts:
                counts[c] += 1
                n += 1
    return {c for c, k in counts.items() if k < share * max(n, 1)}
