"""Graves (2013) handwriting networks.

`SynthesisNetwork` (section 5, figure 12) and `PredictionNetwork` (section 4): stacked LSTM layers with skip
connections from the input to every layer and from every layer to the output, a mixture density output
(see `mdn.py`), and - for synthesis - a soft window over the one-hot characters of the text.

Names follow the paper: ``x`` pen offsets (input), ``c`` the one-hot characters, ``h^n`` the hidden state of
layer n, window parameters ``alpha, beta, kappa`` (eq. 46-51), window weights ``phi(t, u)`` (eq. 46), window
vector ``w_t`` (eq. 47), output ``y_t`` (eq. 17) mapped to ``e, pi, mu, sigma, rho`` (eq. 18-22).

Shapes: B batch, T time steps, U characters, C alphabet size (padding index 0 included), H hidden size,
K window components, M mixture components.

Deviation from the paper (for speed on a CPU, not for the maths): layer 1 and the window are stepped in a
Python loop because ``w_t`` feeds back into layer 1 at t+1; layers 2..L do not feed back, so they run as a
whole-sequence ``nn.LSTM`` (oneDNN) after the loop. The computed function is the same as Graves' network.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import Tensor, nn

from .mdn import mdn_size


@dataclass(frozen=True)
class NetworkConfig:
    kind: str = "synthesis"  # "synthesis" (section 5) or "prediction" (section 4, no window)
    hidden: int = 400  # LSTM cells per layer
    layers: int = 3  # stacked LSTM layers
    window_k: int = 10  # K, Gaussians of the attention window
    mixtures: int = 20  # M, bivariate Gaussians of the output mixture
    alphabet_size: int = 80  # C, one-hot classes including padding at index 0
    kappa_scale: float = 0.04  # multiplies exp(kappa_hat) (deviation, see SynthesisNetwork.window)

    def __post_init__(self) -> None:
        if self.kind not in ("synthesis", "prediction"):
            raise ValueError(f"unknown network kind {self.kind!r}")
        if min(self.hidden, self.layers, self.window_k, self.mixtures, self.alphabet_size) < 1:
            raise ValueError("network sizes must be positive")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "NetworkConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def _frozen(cache: dict, key: str, make, *ws: Tensor) -> Tensor:
    """``make(*ws)`` (a transposed or summed copy of weights); without autograd kept contiguous in `cache` while
    the weights are unchanged (same storage, same in-place version), with autograd computed as it is.

    Sampling multiplies by the same weights hundreds of times; a contiguous ``W.t()`` copy makes each small
    product markedly faster than the transposed view nn.Linear uses (on 1 CPU thread, 10 x 341 by 341 x 1024:
    ~90 us against ~130 us). Training always uses the parameters themselves.
    """
    if torch.is_grad_enabled():
        return make(*ws)
    sig = tuple((w.data_ptr(), w._version) for w in ws)
    hit = cache.get(key)
    if hit is None or hit[0] != sig:
        hit = (sig, make(*ws).contiguous())
        cache[key] = hit
    return hit[1]


def _transposed(w: Tensor) -> Tensor:
    return w.t()


def _linear(cache: dict, key: str, lin: nn.Linear, x: Tensor) -> Tensor:
    """``lin(x)``; without autograd, with a cached contiguous transposed weight (see `_frozen`)."""
    if torch.is_grad_enabled():
        return lin(x)
    wt = _frozen(cache, key, _transposed, lin.weight)
    x2 = x.reshape(-1, x.shape[-1])
    y = torch.mm(x2, wt) if lin.bias is None else torch.addmm(lin.bias, x2, wt)
    return y.reshape(*x.shape[:-1], wt.shape[1])


def _lstm_cell(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """The LSTM cell (Graves eq. 7-11 without peepholes, nn.LSTM's gate order i, f, g, o) from its summed gate
    inputs (B, 4H) and the cell state (B, H): the new (h, c). Every layer and path (training, priming, sampling's
    one step) calls this one, so they compute the same numbers."""
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def build_network(cfg: NetworkConfig) -> nn.Module:
    return SynthesisNetwork(cfg) if cfg.kind == "synthesis" else PredictionNetwork(cfg)


class _Stack(nn.Module):
    """Layers 2..L as whole-sequence LSTMs, each fed the input, the window vector and the layer below."""

    def __init__(self, skip_in: int, hidden: int, layers: int):
        super().__init__()
        self.upper = nn.ModuleList(nn.LSTM(skip_in + hidden, hidden, batch_first=True) for _ in range(layers - 1))
        self._fz: dict = {}  # sampling's weight copies (`_frozen`), not parameters

    def forward(self, skip: Tensor, h1: Tensor, state: list | None) -> tuple[list[Tensor], list]:
        if skip.shape[1] == 1 and not torch.is_grad_enabled():
            return self._step(skip[:, 0], h1[:, 0], state)
        hs, new_state = [h1], []
        for i, lstm in enumerate(self.upper):
            out, st = lstm(torch.cat([skip, hs[-1]], dim=-1), None if state is None else state[i])
            hs.append(out)
            new_state.append(st)
        return hs, new_state


    def _step(self, skip: Tensor, h1: Tensor, state: list | None) -> tuple[list[Tensor], list]:
        """One time step without autograd: the LSTM cell equations on nn.LSTM's own weights.

        Same result as calling the nn.LSTM layers with T = 1, several times faster for sampling, where the
        per-call overhead of the fused kernel dominates.
        """
        hs, new_state = self.cells(skip, h1, state)
        return [h1.unsqueeze(1)] + [h.unsqueeze(1) for h in hs], new_state

    def cells(self, skip: Tensor, h1: Tensor, state: list | None) -> tuple[list[Tensor], list]:
        """`_step` on (B, .) tensors: the hidden states (B, H) of layers 2..L and their new state."""
        B = skip.shape[0]
        hs, new_state = [], []
        below = h1
        for i, lstm in enumerate(self.upper):
            H = lstm.hidden_size
            if state is None:
                h = c = skip.new_zeros(B, H)
            else:
                h, c = state[i][0][0], state[i][1][0]
            fz = self._fz
            bias = _frozen(fz, f"b{i}", torch.add, lstm.bias_ih_l0, lstm.bias_hh_l0)
            gates = torch.addmm(bias, torch.cat([skip, below], dim=1), _frozen(fz, f"ih{i}", _transposed, lstm.weight_ih_l0))
            gates = gates.addmm_(h, _frozen(fz, f"hh{i}", _transposed, lstm.weight_hh_l0))
            h, c = _lstm_cell(gates, c)
            hs.append(h)
            new_state.append((h.unsqueeze(0), c.unsqueeze(0)))
            below = h
        return hs, new_state


class SynthesisNetwork(nn.Module):
    """Graves section 5. ``forward(x, onehot, state=None, return_phi=False)`` -> (y, state, extras).

    x: (B, T, 3) normalised offsets [dx, dy, eos]; onehot: (B, U, C) float one-hot characters, all-zero rows
    for padding (and for index 0); state: None (zeros) or the dict a previous call returned (`initial_state`
    shows its keys and shapes). y: (B, T, 1 + 6M) raw outputs for `mdn`; extras: ``phi`` (B, T, U) window
    weights when `return_phi` (else None) and the final ``kappa`` (B, K).
    """

    def __init__(self, cfg: NetworkConfig):
        super().__init__()
        self.cfg = cfg
        H, K, C = cfg.hidden, cfg.window_k, cfg.alphabet_size
        # layer 1: gates = W_x x_t + W_w w_{t-1} + W_h h_{t-1} + b (eq. 52)
        self.l1_x = nn.Linear(3, 4 * H)
        self.l1_wh = nn.Linear(C + H, 4 * H, bias=False)
        self.window = nn.Linear(H, 3 * K)  # eq. 48: (alpha_hat, beta_hat, kappa_hat) from h^1_t
        self.stack = _Stack(3 + C, H, cfg.layers)
        self.output = nn.Linear(H * cfg.layers, mdn_size(cfg.mixtures))  # eq. 17: all layers -> y_t
        self._fz: dict = {}  # sampling's weight copies (`_frozen`), not parameters
        with torch.no_grad():
            self.l1_x.bias[H : 2 * H].fill_(1.0)  # forget gate bias 1: remembers from the start
            # start the window with wide, gently moving Gaussians so that attention can find the text
            self.window.bias[K : 2 * K].fill_(-1.0)

    def initial_state(self, batch: int, device=None) -> dict:
        H, K, C = self.cfg.hidden, self.cfg.window_k, self.cfg.alphabet_size
        z = lambda *s: torch.zeros(*s, device=device)  # noqa: E731
        return {"h1": z(batch, H), "c1": z(batch, H), "kappa": z(batch, K), "w": z(batch, C), "upper": None}

    @staticmethod
    def repeat_state(state: dict, batch: int) -> dict:
        """A state of batch 1 repeated `batch` times (e.g. one teacher-forced prime for every line)."""
        def rep(t: Tensor, dim: int) -> Tensor:
            return t.repeat_interleave(batch, dim=dim)

        upper = state["upper"]
        return {**{k: rep(state[k], 0) for k in ("h1", "c1", "kappa", "w")},
                "upper": None if upper is None else [(rep(h, 1), rep(c, 1)) for h, c in upper]}  # nn.LSTM: (1, B, H)

    @staticmethod
    def select_state(state: dict, rows: Tensor) -> dict:
        """The state of the given rows only (e.g. the lines still being sampled)."""
        upper = state["upper"]
        return {**{k: state[k].index_select(0, rows) for k in ("h1", "c1", "kappa", "w")},
                "upper": None if upper is None else [(h.index_select(1, rows), c.index_select(1, rows)) for h, c in upper]}

    def window_step(self, h1: Tensor, kappa: Tensor, onehot: Tensor, u: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Eq. 46-51 for one step. h1 (B,H), kappa (B,K), onehot (B,U,C), u (U,) -> w (B,C), kappa, phi (B,U).

        Deviation: kappa advances by ``kappa_scale * exp(kappa_hat)`` instead of ``exp(kappa_hat)``, which
        starts the window at a plausible speed (about 1/25 character per point) instead of one character per
        point; it is a reparameterisation, not a change of the function class.
        """
        K = self.cfg.window_k
        p = _linear(self._fz, "window", self.window, h1)
        alpha = torch.exp(p[:, :K])
        beta = torch.exp(p[:, K : 2 * K])
        kappa = kappa + self.cfg.kappa_scale * torch.exp(p[:, 2 * K :].clamp(max=4.0))
        phi = (alpha.unsqueeze(2) * torch.exp(-beta.unsqueeze(2) * (kappa.unsqueeze(2) - u) ** 2)).sum(1)
        w = torch.bmm(phi.unsqueeze(1), onehot).squeeze(1)
        return w, kappa, phi

    def step(self, x: Tensor, onehot: Tensor, state: dict | None) -> tuple[Tensor, dict, Tensor]:
        """One sampling step without autograd: x (B, 3) -> (y (B, 1 + 6M), state, phi (B, U)).

        `forward` with T = 1, operation for operation on the same operands (so the very same numbers), without
        its packing into sequences (stacks, unbinds, views, the modules' call overhead): sampling takes hundreds
        of steps a page and this bookkeeping cost about as much as the small products themselves.
        """
        B, U = x.shape[0], onehot.shape[1]
        st = state or self.initial_state(B, x.device)
        h, c, kappa, w = st["h1"], st["c1"], st["kappa"], st["w"]
        fz = self._fz
        key = ("u", U, x.dtype, x.device)
        u = fz.get(key)
        if u is None:
            u = fz[key] = torch.arange(1, U + 1, dtype=x.dtype, device=x.device)
        gx_t = torch.addmm(self.l1_x.bias, x, _frozen(fz, "l1_x", _transposed, self.l1_x.weight))
        Wt = _frozen(fz, "l1_wh", _transposed, self.l1_wh.weight)
        h, c = _lstm_cell(torch.addmm(gx_t, torch.cat([w, h], dim=1), Wt), c)
        w, kappa, phi = self.window_step(h, kappa, onehot, u)
        hs, upper = self.stack.cells(torch.cat([x, w], dim=1), h, st["upper"])
        y = torch.addmm(self.output.bias, torch.cat([h, *hs], dim=1),
                        _frozen(fz, "output", _transposed, self.output.weight))
        return y, {"h1": h, "c1": c, "kappa": kappa, "w": w, "upper": upper}, phi

    @torch.no_grad()
    def prime(self, x: Tensor, onehot: Tensor, lengths: Tensor) -> dict:
        """Teacher-force rows of different lengths at once; the state after each row's own last input.

        x (B,T,3) padded inputs, onehot (B,U,C) each row's priming text, lengths (B,) valid steps per row
        (>= 1). Layer 1 and the window stop updating a row past its length; the upper layers run packed, so
        their final states are taken at each row's own end.
        """
        B, T, _ = x.shape
        U = onehot.shape[1]
        st = self.initial_state(B, x.device)
        h, c, kappa, w = st["h1"], st["c1"], st["kappa"], st["w"]
        u = torch.arange(1, U + 1, dtype=x.dtype, device=x.device)
        gx = _linear(self._fz, "l1_x", self.l1_x, x)
        Wt = _frozen(self._fz, "l1_wh", _transposed, self.l1_wh.weight)
        hs, ws = [], []
        for t, gx_t in enumerate(gx.unbind(1)):
            h_new, c_new = _lstm_cell(torch.addmm(gx_t, torch.cat([w, h], dim=1), Wt), c)
            w_new, kappa_new, _ = self.window_step(h_new, kappa, onehot, u)
            live = (lengths > t).unsqueeze(1)
            h, c = torch.where(live, h_new, h), torch.where(live, c_new, c)
            w, kappa = torch.where(live, w_new, w), torch.where(live, kappa_new, kappa)
            hs.append(h_new)
            ws.append(w_new)
        below = torch.stack(hs, 1)
        skip = torch.cat([x, torch.stack(ws, 1)], dim=-1)
        upper = []
        lens = lengths.to("cpu")
        for lstm in self.stack.upper:
            packed = nn.utils.rnn.pack_padded_sequence(torch.cat([skip, below], dim=-1), lens, batch_first=True,
                                                       enforce_sorted=False)
            out, st_i = lstm(packed)
            below, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
            upper.append(st_i)
        return {"h1": h, "c1": c, "kappa": kappa, "w": w, "upper": upper}

    def forward(self, x: Tensor, onehot: Tensor, state: dict | None = None, return_phi: bool = False):
        """x (B,T,3); onehot (B,U,C) float one-hot characters (zero rows for padding)."""
        B, T, _ = x.shape
        U = onehot.shape[1]
        st = state or self.initial_state(B, x.device)
        h, c, kappa, w = st["h1"], st["c1"], st["kappa"], st["w"]
        u = torch.arange(1, U + 1, dtype=x.dtype, device=x.device)  # Graves indexes characters from 1
        gx = _linear(self._fz, "l1_x", self.l1_x, x)  # (B,T,4H): the input's part of the gates, all steps at once
        Wt = _frozen(self._fz, "l1_wh", _transposed, self.l1_wh.weight)
        hs, ws, phis = [], [], []
        # unbind once: indexing gx[:, t] in the loop would make backward allocate a (B,T,4H) zero tensor per step
        for gx_t in gx.unbind(1):
            h, c = _lstm_cell(torch.addmm(gx_t, torch.cat([w, h], dim=1), Wt), c)
            w, kappa, phi = self.window_step(h, kappa, onehot, u)
            hs.append(h)
            ws.append(w)
            if return_phi:
                phis.append(phi)
        h1 = torch.stack(hs, 1)
        wseq = torch.stack(ws, 1)
        layers, upper = self.stack(torch.cat([x, wseq], dim=-1), h1, st["upper"])
        y = _linear(self._fz, "output", self.output, torch.cat(layers, dim=-1))
        new_state = {"h1": h, "c1": c, "kappa": kappa, "w": w, "upper": upper}
        extras = {"phi": torch.stack(phis, 1) if return_phi else None, "kappa": kappa}
        return y, new_state, extras


class PredictionNetwork(nn.Module):
    """Graves section 4: the same stack without a window. ``forward(x, state)`` -> (y, state, extras)."""

    def __init__(self, cfg: NetworkConfig):
        super().__init__()
        self.cfg = cfg
        H = cfg.hidden
        self.first = nn.LSTM(3, H, batch_first=True)
        self.stack = _Stack(3, H, cfg.layers)
        self.output = nn.Linear(H * cfg.layers, mdn_size(cfg.mixtures))

    def initial_state(self, batch: int, device=None) -> dict:
        return {"first": None, "upper": None}

    @staticmethod
    def select_state(state: dict, rows: Tensor) -> dict:
        """The state of the given rows only (e.g. the lines still being sampled)."""
        def sel(pair):
            return None if pair is None else (pair[0].index_select(1, rows), pair[1].index_select(1, rows))

        upper = state["upper"]
        return {"first": sel(state["first"]), "upper": None if upper is None else [sel(p) for p in upper]}

    def forward(self, x: Tensor, onehot: Tensor | None = None, state: dict | None = None, return_phi: bool = False):
        st = state or self.initial_state(x.shape[0], x.device)
        h1, first = self.first(x, st["first"])
        layers, upper = self.stack(x, h1, st["upper"])
        y = self.output(torch.cat(layers, dim=-1))
        return y, {"first": first, "upper": upper}, {"phi": None, "kappa": None}
