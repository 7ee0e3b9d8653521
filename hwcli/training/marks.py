"""Accent marks learned once for every letter that carries them (`hwcli train --share-marks F`, issue 23).

A synthesis network reads its text as one-hot characters: the window vector ``w`` has one entry per character,
and each character has its own columns in the weights that read ``w`` (layer 1's ``l1_wh``, columns ``[0, C)``;
every upper layer's ``weight_ih_l0``, columns ``[3, 3 + C)``). A grown alphabet (model/grow.py) starts é as a copy
of e, and the network has to learn the acute separately for á, é, í, ó, ú, ý, ć, ń, ś, ź and their capitals, each
from the few hundred lines that hold it: with a learning rate that suits the trained weights, a column that is in
a batch one step in ten hardly moves (session 8: after 1,000 steps no accent was written).

Here each mark (acute, grave, circumflex, diaeresis, tilde, ring, caron, cedilla, ogonek, double acute, breve,
dot above, comma below, the stroke of ø ł đ, the missing dot of ı) gets one shared column per weight matrix:
training sees the weights as ``W = B + M Aᵀ``, where ``A`` (C x marks) says which marks a character carries, ``B``
is the ordinary per-character weight and ``M`` the shared marks. The gradient of M is the sum of the gradients of
every column with that mark, so the acute learns from every acute in the batch. Nothing of this is kept apart:
after each step ``Δ M Aᵀ`` is added to the network's own weights, so the network (its checkpoints, validation,
snapshots and bundles) is at every moment an ordinary one-hot network, and sampling knows nothing of marks. With
the marks' Adam at the network's learning rate this *is* the reparameterisation; `lr_scale` > 1 lets the shared
marks move faster than the rest.
"""
from __future__ import annotations

import unicodedata

import torch

from ..alphabet import Alphabet

# characters without a Unicode decomposition -> the marks they are written with
_EXTRA_MARKS = {"ø": ("slash",), "Ø": ("slash",), "ł": ("slash",), "Ł": ("slash",), "đ": ("bar",), "Đ": ("bar",),
                "ı": ("dotless",)}


def marks_of(c: str) -> tuple[str, ...]:
    """The marks `c` is written with, by name (e.g. "COMBINING ACUTE ACCENT" for é); () for a plain character."""
    if c in _EXTRA_MARKS:
        return _EXTRA_MARKS[c]
    parts = unicodedata.normalize("NFD", c)
    if len(parts) < 2 or unicodedata.combining(parts[0]):
        return ()
    return tuple(unicodedata.name(m, f"U+{ord(m):04X}") for m in parts[1:] if unicodedata.combining(m))


def mark_matrix(alphabet: Alphabet) -> tuple[torch.Tensor, list[str]]:
    """(A, names): A (C, marks) float, A[i, m] = 1 when the alphabet's character of one-hot index i carries mark m
    (index 0, padding, carries none); names in first-seen order over the alphabet."""
    names: list[str] = []
    rows: list[tuple[int, int]] = []
    for c in alphabet.chars:
        for m in marks_of(c):
            if m not in names:
                names.append(m)
            rows.append((alphabet.encode(c)[0], names.index(m)))
    a = torch.zeros(len(alphabet), len(names))
    for i, m in rows:
        a[i, m] = 1.0
    return a, names


def _targets(net: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter, int]]:
    """(name, weight, first character column) of every weight that reads the window vector."""
    out = [("l1_wh.weight", net.l1_wh.weight, 0)]
    for i, lstm in enumerate(net.stack.upper):
        out.append((f"stack.upper.{i}.weight_ih_l0", lstm.weight_ih_l0, 3))
    return out


class SharedMarks:
    """The shared marks of a synthesis network being trained (see the module docstring).

    Call `step(lr)` after each optimizer step that stepped, while the network's gradients are still there."""

    def __init__(self, net: torch.nn.Module, alphabet: Alphabet, lr_scale: float = 1.0):
        self.a, self.names = mark_matrix(alphabet)
        self.lr_scale = float(lr_scale)
        self.targets = _targets(net)
        C = len(alphabet)
        for name, w, off in self.targets:
            if w.shape[1] < off + C:
                raise ValueError(f"{name}: {w.shape[1]} columns cannot hold {C} characters from column {off}")
        self.a = self.a.to(self.targets[0][1].device)
        self.marks = [torch.zeros(w.shape[0], len(self.names), device=w.device, requires_grad=True)
                      for _, w, _ in self.targets]
        self.optim = torch.optim.Adam(self.marks, lr=1e-3)

    @property
    def active(self) -> bool:
        return bool(self.names)

    def step(self, lr: float) -> None:
        """One Adam step of the marks on the gradient the network's weights have now, folded into the weights."""
        if not self.active:
            return
        C = self.a.shape[0]
        for m, (_, w, off) in zip(self.marks, self.targets):
            g = w.grad
            m.grad = None if g is None else g[:, off:off + C] @ self.a
        before = [m.detach().clone() for m in self.marks]
        for group in self.optim.param_groups:
            group["lr"] = lr * self.lr_scale
        self.optim.step()
        with torch.no_grad():
            for m, old, (_, w, off) in zip(self.marks, before, self.targets):
                w[:, off:off + C] += (m - old) @ self.a.t()

    def state_dict(self) -> dict:
        return {"names": list(self.names), "lr_scale": self.lr_scale, "marks": [m.detach().cpu() for m in self.marks],
                "optimizer": self.optim.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if list(state.get("names", [])) != self.names or len(state.get("marks", [])) != len(self.marks):
            raise ValueError("the checkpoint's shared marks do not match this network's alphabet")
        with torch.no_grad():
            for m, saved in zip(self.marks, state["marks"]):
                if saved.shape != m.shape:
                    raise ValueError("the checkpoint's shared marks do not match this network's shape")
                m.copy_(saved)
        self.optim.load_state_dict(state["optimizer"])
