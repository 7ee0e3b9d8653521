"""Mixture density output (Graves eq. 17-26) and biased sampling (eq. 61-62).

``y`` (..., 1 + 6M) is split into ``e_hat`` (1), ``pi_hat`` (M), ``mu`` (2M: x then y), ``sigma_hat`` (2M),
``rho_hat`` (M). Numerics: log-sum-exp over components, sigma bounded below, rho bounded inside (-1, 1).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

LOG_2PI = math.log(2 * math.pi)
MIN_LOG_SIGMA = -6.0  # sigma >= e^-6 in normalised units: keeps the density bounded in float32
RHO_MAX = 0.999  # |rho| < 1 keeps 1 - rho^2 away from zero


def mdn_size(m: int) -> int:
    return 1 + 6 * m


def split(y: Tensor, m: int, bias: float | Tensor = 0.0):
    """Raw outputs -> (e_logit, log_pi, mu_x, mu_y, log_sx, log_sy, rho), each (..., M) except e (...).

    ``bias`` (eq. 61-62): pi = softmax(pi_hat (1 + b)), sigma = exp(sigma_hat - b); b = 0 is the plain model.
    """
    e_logit = y[..., 0]
    pi_hat = y[..., 1 : 1 + m]
    mu_x = y[..., 1 + m : 1 + 2 * m]
    mu_y = y[..., 1 + 2 * m : 1 + 3 * m]
    s_x = y[..., 1 + 3 * m : 1 + 4 * m]
    s_y = y[..., 1 + 4 * m : 1 + 5 * m]
    rho = RHO_MAX * torch.tanh(y[..., 1 + 5 * m : 1 + 6 * m])
    if not (isinstance(bias, float) and bias == 0.0):
        b = bias if isinstance(bias, float) else bias.unsqueeze(-1)
        pi_hat = pi_hat * (1 + b)
        s_x = s_x - b
        s_y = s_y - b
    log_pi = F.log_softmax(pi_hat, dim=-1)
    log_sx = s_x.clamp(min=MIN_LOG_SIGMA)
    log_sy = s_y.clamp(min=MIN_LOG_SIGMA)
    return e_logit, log_pi, mu_x, mu_y, log_sx, log_sy, rho


def nll(y: Tensor, target: Tensor, mask: Tensor, m: int) -> Tensor:
    """Sum over valid steps of -log Pr(x_{t+1} | y_t) (eq. 26). y (B,T,1+6M), target (B,T,3), mask (B,T)."""
    return nll_per_line(y, target, mask, m).sum()


def nll_per_line(y: Tensor, target: Tensor, mask: Tensor, m: int) -> Tensor:
    """(B,) sum over each line's valid steps of -log Pr(x_{t+1} | y_t); see `nll`."""
    e_logit, log_pi, mu_x, mu_y, log_sx, log_sy, rho = split(y, m)
    dx = target[..., 0:1]
    dy = target[..., 1:2]
    zx = (dx - mu_x) * torch.exp(-log_sx)
    zy = (dy - mu_y) * torch.exp(-log_sy)
    one_m_r2 = 1 - rho * rho
    z = zx * zx + zy * zy - 2 * rho * zx * zy
    log_n = -LOG_2PI - log_sx - log_sy - 0.5 * torch.log(one_m_r2) - z / (2 * one_m_r2)  # eq. 24-25
    log_mix = torch.logsumexp(log_pi + log_n, dim=-1)
    # eq. 26: Bernoulli end-of-stroke; e = sigmoid(-e_hat) in the paper (eq. 18), we use sigmoid(e_hat)
    log_e = -F.binary_cross_entropy_with_logits(e_logit, target[..., 2], reduction="none")
    return -((log_mix + log_e) * mask).sum(dim=1)


def sample(y: Tensor, m: int, bias: float | Tensor, generator: torch.Generator | None,
           noise: Tensor | None = None) -> Tensor:
    """One draw per row from the (biased) mixture: y (B, 1+6M) -> (B, 3) [dx, dy, eos].

    ``noise`` (B, 4) = [uniform for the component, two standard normals, uniform for eos], drawn by the
    caller per row, replaces `generator`: a row's draw then depends on its own noise only, not on the
    other rows of the batch (see `synthesis.sample_batch`'s per-row generators).
    """
    e_logit, log_pi, mu_x, mu_y, log_sx, log_sy, rho = split(y, m, bias)
    B = y.shape[0]
    if noise is not None:
        cdf = torch.cumsum(log_pi.exp(), dim=1)
        k = (cdf < noise[:, :1] * cdf[:, -1:]).sum(dim=1).clamp(max=m - 1)  # inverse-CDF pick of a component
        return _draw(e_logit, mu_x, mu_y, log_sx, log_sy, rho, k, noise[:, 1:3], noise[:, 3])
    k = torch.multinomial(log_pi.exp(), 1, generator=generator).squeeze(1)
    n = torch.randn(B, 2, generator=generator, device=y.device, dtype=y.dtype)
    u_eos = torch.rand(B, generator=generator, device=y.device, dtype=y.dtype)
    return _draw(e_logit, mu_x, mu_y, log_sx, log_sy, rho, k, n, u_eos)


def _draw(e_logit: Tensor, mu_x: Tensor, mu_y: Tensor, log_sx: Tensor, log_sy: Tensor, rho: Tensor, k: Tensor,
          n: Tensor, u_eos: Tensor) -> Tensor:
    """The point of component k (B,) given normals n (B, 2) and a uniform u_eos (B,): (B, 3)."""
    ar = torch.arange(k.shape[0], device=k.device)
    mx, my = mu_x[ar, k], mu_y[ar, k]
    sx, sy, r = log_sx[ar, k].exp(), log_sy[ar, k].exp(), rho[ar, k]
    dx = mx + sx * n[:, 0]
    dy = my + sy * (r * n[:, 0] + torch.sqrt(1 - r * r) * n[:, 1])
    eos = (u_eos < torch.sigmoid(e_logit)).to(e_logit.dtype)
    return torch.stack([dx, dy, eos], dim=1)
