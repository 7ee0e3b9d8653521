"""hwcli.model.mdn: the mixture density loss against the formula, numerical stability, bias, seeded sampling."""
from __future__ import annotations

import math

import pytest
import torch

from hwcli.model import mdn

M = 3


def _raw(B=2, T=4, m=M, scale=1.0, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, mdn.mdn_size(m), generator=g) * scale


def _direct_nll(y: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, m: int) -> float:
    """Graves eq. 18-26 written out point by point in float64, with no library helpers."""
    total = 0.0
    B, T, _ = y.shape
    for b in range(B):
        for t in range(T):
            if mask[b, t] == 0:
                continue
            v = [float(a) for a in y[b, t]]
            e_hat, pi_hat = v[0], v[1 : 1 + m]
            mx, my = v[1 + m : 1 + 2 * m], v[1 + 2 * m : 1 + 3 * m]
            sx = [math.exp(s) for s in v[1 + 3 * m : 1 + 4 * m]]
            sy = [math.exp(s) for s in v[1 + 4 * m : 1 + 5 * m]]
            rho = [mdn.RHO_MAX * math.tanh(r) for r in v[1 + 5 * m : 1 + 6 * m]]
            z_pi = sum(math.exp(p) for p in pi_hat)
            pi = [math.exp(p) / z_pi for p in pi_hat]
            x1, x2, x3 = (float(a) for a in target[b, t])
            dens = 0.0
            for j in range(m):
                zx, zy = (x1 - mx[j]) / sx[j], (x2 - my[j]) / sy[j]
                z = zx * zx + zy * zy - 2 * rho[j] * zx * zy
                n = math.exp(-z / (2 * (1 - rho[j] ** 2))) / (2 * math.pi * sx[j] * sy[j] * math.sqrt(1 - rho[j] ** 2))
                dens += pi[j] * n
            e = 1 / (1 + math.exp(-e_hat))  # hwcli: e = sigmoid(e_hat) (the paper has sigmoid(-e_hat))
            total -= math.log(dens) + math.log(e if x3 == 1 else 1 - e)
    return total


def test_nll_matches_the_mixture_density_formula():
    y = _raw(B=2, T=5)
    g = torch.Generator().manual_seed(1)
    target = torch.cat([torch.randn(2, 5, 2, generator=g), (torch.rand(2, 5, 1, generator=g) < 0.3).float()], -1)
    mask = torch.ones(2, 5)
    mask[1, 3:] = 0  # padding must not count
    got = mdn.nll(y.double(), target.double(), mask.double(), M)
    assert got.dtype == torch.float64
    assert float(got) == pytest.approx(_direct_nll(y, target, mask, M), rel=1e-9, abs=1e-9)
    # float32 (what training uses) agrees too
    assert float(mdn.nll(y, target, mask, M)) == pytest.approx(_direct_nll(y, target, mask, M), rel=1e-5)


def test_nll_is_a_sum_over_masked_points():
    y = _raw(B=1, T=6)
    target = torch.zeros(1, 6, 3)
    full = mdn.nll(y, target, torch.ones(1, 6), M)
    halves = mdn.nll(y[:, :3], target[:, :3], torch.ones(1, 3), M) + mdn.nll(y[:, 3:], target[:, 3:], torch.ones(1, 3), M)
    assert torch.allclose(full, halves, atol=1e-5)
    assert float(mdn.nll(y, target, torch.zeros(1, 6), M)) == 0.0


@pytest.mark.parametrize("scale", [1e3, 1e-6, 80.0])
def test_nll_stays_finite_for_extreme_outputs(scale):
    y = (_raw(B=2, T=4, scale=scale)).requires_grad_(True)
    target = torch.tensor([[[0.0, 0.0, 1.0], [50.0, -50.0, 0.0], [1e-3, 0.0, 0.0], [-3.0, 2.0, 1.0]]] * 2)
    loss = mdn.nll(y, target, torch.ones(2, 4), M)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(y.grad).all()


def test_nll_stays_finite_at_rho_and_sigma_limits():
    y = torch.zeros(1, 2, mdn.mdn_size(M))
    y[..., 1 + 3 * M : 1 + 5 * M] = -100.0  # sigma far below the floor
    y[..., 1 + 5 * M :] = 100.0  # rho -> 1
    y.requires_grad_(True)
    loss = mdn.nll(y, torch.tensor([[[0.5, -0.5, 0.0], [0.0, 0.0, 1.0]]]), torch.ones(1, 2), M)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(y.grad).all()


def test_bias_sharpens_sigma_and_pi():
    y = _raw(B=3, T=1)[:, 0]
    _, log_pi0, mx0, my0, lsx0, lsy0, rho0 = mdn.split(y, M)
    _, log_pi1, mx1, my1, lsx1, lsy1, rho1 = mdn.split(y, M, bias=2.0)
    assert (lsx1 < lsx0).all() and (lsy1 < lsy0).all()
    assert torch.allclose(lsx0 - lsx1, torch.full_like(lsx0, 2.0))  # eq. 61: sigma = exp(sigma_hat - b)
    assert torch.equal(mx0, mx1) and torch.equal(my0, my1) and torch.equal(rho0, rho1)
    # eq. 62: a peakier mixture: the largest weight grows and the entropy falls
    assert (log_pi1.max(-1).values > log_pi0.max(-1).values).all()
    entropy = lambda lp: -(lp.exp() * lp).sum(-1)  # noqa: E731
    assert (entropy(log_pi1) < entropy(log_pi0)).all()
    # a per-row bias tensor equals the scalar bias row by row
    per_row = mdn.split(y, M, bias=torch.tensor([0.0, 2.0, 2.0]))
    assert torch.allclose(per_row[1][1:], log_pi1[1:]) and torch.allclose(per_row[1][0], log_pi0[0])


def test_sample_is_deterministic_with_a_seeded_generator():
    y = _raw(B=4, T=1)[:, 0]
    a = mdn.sample(y, M, 0.5, torch.Generator().manual_seed(7))
    b = mdn.sample(y, M, 0.5, torch.Generator().manual_seed(7))
    c = mdn.sample(y, M, 0.5, torch.Generator().manual_seed(8))
    assert a.shape == (4, 3)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert set(a[:, 2].tolist()) <= {0.0, 1.0}


def test_sample_with_high_bias_lands_on_the_dominant_mean():
    y = torch.zeros(2, mdn.mdn_size(M))
    y[:, 1] = 3.0  # component 0 dominates
    y[:, 1 + M] = 1.5  # mu_x of component 0
    y[:, 1 + 2 * M] = -0.5  # mu_y of component 0
    y[:, 0] = -20.0  # pen stays down
    s = mdn.sample(y, M, 10.0, torch.Generator().manual_seed(0))
    # sigma = exp(0 - 10) is floored at exp(MIN_LOG_SIGMA), about 0.0025
    assert torch.allclose(s[:, 0], torch.full((2,), 1.5), atol=0.02)
    assert torch.allclose(s[:, 1], torch.full((2,), -0.5), atol=0.02)
    assert (s[:, 2] == 0).all()
