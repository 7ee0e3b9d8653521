"""Reading strokes back: greedy CTC decoding, character and word error rates, the checker for `synthesize`.

Units: strokes are normalised offsets ``(N, 3)`` [dx, dy, eos]. A synthesis bundle and a recognizer each
carry a ``scale`` (sensor units per normalised unit); strokes in a synthesis bundle's units are multiplied by
``synthesis_scale / recognizer_scale`` before reading. Both models trained on the same converted data have
the same scale, and then the factor is 1.
"""
from __future__ import annotations

import contextlib
from typing import Sequence

import numpy as np
import torch

from ..alphabet import Alphabet
from .network import N_FEATURES, Recognizer, RecognizerBundle, features, load_recognizer

__all__ = ["cer", "wer", "edit_distance", "corpus_error_rates", "greedy_decode", "recognize", "read_strokes",
           "load_recognizer"]

# ----------------------------------------------------------------------------- error rates


def edit_distance(ref: Sequence, hyp: Sequence) -> int:
    """Levenshtein distance (insertions, deletions, substitutions cost 1) between two sequences."""
    if len(ref) < len(hyp):
        ref, hyp = hyp, ref
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def _words(text: str) -> list[str]:
    return text.split()


def cer(ref: str, hyp: str) -> float:
    """Character error rate of one line: edits / reference length (1.0 for anything against an empty ref)."""
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def alignment(ref: str, hyp: str) -> tuple[int, list[bool]]:
    """The edit distance of `ref` and `hyp`, and for each character of `ref` whether a minimal edit alignment
    matches it with the same character."""
    n, m = len(ref), len(hyp)
    d = np.zeros((n + 1, m + 1), np.int32)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]))
    ok = [False] * n
    i, j = n, m
    while i > 0 and j > 0:
        if ref[i - 1] == hyp[j - 1] and d[i, j] == d[i - 1, j - 1]:
            ok[i - 1] = True
            i, j = i - 1, j - 1
        elif d[i, j] == d[i - 1, j - 1] + 1:
            i, j = i - 1, j - 1
        elif d[i, j] == d[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return int(d[n, m]), ok


class ReadBack(float):
    """A checker's result for one line: its CER (the float's value), and how many of its digits were misread
    (`wrong_digits`; accented letters and symbols the data set lacks count too: `texts.is_key_char`) and what was read (`reading`). A plain float from another checker means no digit
    was counted."""

    wrong_digits: int = 0
    reading: str = ""

    def __new__(cls, value: float, wrong_digits: int = 0, reading: str = "") -> "ReadBack":
        self = super().__new__(cls, value)
        self.wrong_digits = int(wrong_digits)
        self.reading = reading
        return self


def read_back(ref: str, hyp: str) -> ReadBack:
    """The CER of reading `hyp` for `ref` and its misread key characters (`texts.key_positions`: digits, accented
    letters, symbols, colons, the separators inside numbers), from one alignment (none without them)."""
    from ..texts import key_positions

    keys = key_positions(ref)
    if not keys:
        return ReadBack(cer(ref, hyp), 0, hyp)
    dist, ok = alignment(ref, hyp)
    return ReadBack(dist / len(ref), sum(1 for i in keys if not ok[i]), hyp)


def wer(ref: str, hyp: str) -> float:
    """Word error rate of one line (words split on whitespace)."""
    r, h = _words(ref), _words(hyp)
    if not r:
        return 0.0 if not h else 1.0
    return edit_distance(r, h) / len(r)


def corpus_error_rates(refs: Sequence[str], hyps: Sequence[str]) -> dict:
    """Corpus CER and WER: total edits over total reference characters / words (long lines weigh more)."""
    ce = sum(edit_distance(r, h) for r, h in zip(refs, hyps))
    we = sum(edit_distance(_words(r), _words(h)) for r, h in zip(refs, hyps))
    nc = sum(len(r) for r in refs)
    nw = sum(len(_words(r)) for r in refs)
    return {"cer": ce / max(nc, 1), "wer": we / max(nw, 1), "lines": len(refs), "chars": nc, "words": nw}


# ----------------------------------------------------------------------------- decoding


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
    """Best path: argmax per frame, merge repeats, drop blanks (class 0). log_probs (B, T', C) -> B index lists."""
    best = log_probs.argmax(-1).cpu().numpy()
    out = []
    for b, n in enumerate(lengths.cpu().tolist()):
        p = best[b, :n]
        keep = np.ones(len(p), bool)
        keep[1:] = p[1:] != p[:-1]
        out.append([int(c) for c in p[keep] if c != 0])
    return out


@contextlib.contextmanager
def _single_thread():
    """Run torch ops on one thread, then restore the caller's setting.

    The network is a chain of small per-time-step matmuls: extra threads add only synchronisation, and on a
    busy CPU every synchronisation waits for a scheduler slice (25 lines: 0.23 s on 1 thread, 11-19 s on 2
    threads of a 2-core machine with a training run beside it).
    """
    n = torch.get_num_threads()
    if n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


@torch.no_grad()
def recognize(net: Recognizer, alphabet: Alphabet, seqs: Sequence[np.ndarray], batch_size: int = 64,
              factor: float = 1.0) -> list[str]:
    """Read lines of normalised offsets (the recognizer's units after multiplying dx, dy by `factor`).

    Lines are sorted by length and read in batches (little padding); the result is in the input order.
    Empty lines read as "". The network is put in eval mode and left there. On a CPU it runs on one thread
    (see `_single_thread`).
    """
    net.eval()
    dev = next(net.parameters()).device
    if dev.type != "cpu":
        return _recognize(net, alphabet, seqs, batch_size, factor, dev)
    with _single_thread():
        return _recognize(net, alphabet, seqs, batch_size, factor, dev)


def _recognize(net, alphabet, seqs, batch_size, factor, dev) -> list[str]:
    out = [""] * len(seqs)
    order = sorted((i for i in range(len(seqs)) if len(seqs[i])), key=lambda i: len(seqs[i]))
    for s in range(0, len(order), batch_size):
        ids = order[s : s + batch_size]
        T = max(len(seqs[i]) for i in ids)
        x = torch.zeros(len(ids), T, N_FEATURES)
        for j, i in enumerate(ids):
            off = np.asarray(seqs[i], np.float32)
            if factor != 1.0:
                off = off * np.array([factor, factor, 1.0], np.float32)
            x[j, : len(off)] = torch.from_numpy(features(off, net.cfg.reorder_delayed))
        lengths = torch.tensor([len(seqs[i]) for i in ids])
        lp, flen = net(x.to(dev), lengths.to(dev))
        for i, idx in zip(ids, greedy_decode(lp, flen)):
            out[i] = alphabet.decode(idx)
    return out


def read_strokes(rec: RecognizerBundle, strokes: Sequence[np.ndarray], scale: float | None = None,
                 batch_size: int = 64) -> list[str]:
    """Text of each stroke sequence; `scale` is the strokes' units (a synthesis bundle's scale; None = the
    recognizer's own)."""
    factor = 1.0 if scale is None else float(scale) / rec.scale
    return recognize(rec.network, rec.alphabet, strokes, batch_size, factor)
