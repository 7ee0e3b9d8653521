"""hwcli.model.network: shapes, state carried across calls, the attention window's kappa, config round trip."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hwcli.model.mdn import mdn_size
from hwcli.model.network import NetworkConfig, PredictionNetwork, SynthesisNetwork, build_network
from tiny_bundle import tiny_config

torch.set_num_threads(1)
B, T, U = 2, 12, 5


def _inputs(cfg: NetworkConfig, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.cat([torch.randn(B, T, 2, generator=g), (torch.rand(B, T, 1, generator=g) < 0.2).float()], -1)
    idx = torch.randint(1, cfg.alphabet_size, (B, U), generator=g)
    idx[1, 3:] = 0  # the second text is shorter: padding
    onehot = F.one_hot(idx, cfg.alphabet_size).float()
    onehot[..., 0] = 0.0
    return x, onehot


def _net(kind: str, **kw) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_network(tiny_config(kind, **kw)).eval()


@pytest.mark.parametrize("layers", [1, 3])
def test_synthesis_shapes(layers):
    net = _net("synthesis", layers=layers)
    assert isinstance(net, SynthesisNetwork)
    x, oh = _inputs(net.cfg)
    y, state, extras = net(x, oh, return_phi=True)
    assert y.shape == (B, T, mdn_size(net.cfg.mixtures))
    assert extras["phi"].shape == (B, T, U)
    assert extras["kappa"].shape == (B, net.cfg.window_k)
    assert state["w"].shape == (B, net.cfg.alphabet_size) and state["h1"].shape == (B, net.cfg.hidden)
    assert len(state["upper"]) == layers - 1
    assert net(x, oh)[2]["phi"] is None  # phi only when asked for


def test_prediction_shapes():
    net = _net("prediction")
    assert isinstance(net, PredictionNetwork)
    x, _ = _inputs(net.cfg)
    y, state, extras = net(x)
    assert y.shape == (B, T, mdn_size(net.cfg.mixtures))
    assert extras["phi"] is None


@pytest.mark.parametrize("kind", ["synthesis", "prediction"])
@pytest.mark.parametrize("cut", [1, 5])
def test_state_carries_across_calls(kind, cut):
    """Running a sequence in one call equals running it in two pieces with the state passed on."""
    net = _net(kind, layers=3)
    x, oh = _inputs(net.cfg)
    with torch.no_grad():
        y_full, st_full, _ = net(x, oh)
        y1, st, _ = net(x[:, :cut], oh)
        y2, st2, _ = net(x[:, cut:], oh, st)
    assert torch.allclose(torch.cat([y1, y2], 1), y_full, atol=1e-5)
    if kind == "synthesis":
        assert torch.allclose(st2["kappa"], st_full["kappa"], atol=1e-5)
        assert torch.allclose(st2["w"], st_full["w"], atol=1e-5)


def test_window_kappa_never_moves_backwards():
    net = _net("synthesis")
    with torch.no_grad():  # large random window weights: kappa must still only move forwards (eq. 51)
        net.window.weight.mul_(20.0)
    x, oh = _inputs(net.cfg)
    kappas, state = [], None
    with torch.no_grad():
        for t in range(T):
            _, state, extras = net(x[:, t : t + 1], oh, state)
            kappas.append(extras["kappa"])
    k = torch.stack(kappas, 1)  # (B, T, K)
    assert (k[:, 0] > 0).all()
    assert (k[:, 1:] - k[:, :-1] >= 0).all()


def test_window_vector_is_phi_times_the_characters():
    """Eq. 47: w_t = sum_u phi(t, u) c_u; phi >= 0, and padding rows (zero one-hots) add nothing."""
    net = _net("synthesis")
    x, oh = _inputs(net.cfg)
    with torch.no_grad():
        _, state, extras = net(x, oh, return_phi=True)
    phi = extras["phi"]
    assert (phi >= 0).all()
    assert torch.allclose(state["w"], torch.einsum("bu,buc->bc", phi[:, -1], oh), atol=1e-6)
    assert (state["w"][:, 0] == 0).all()


def test_gradients_reach_every_parameter():
    net = _net("synthesis").train()
    x, oh = _inputs(net.cfg)
    y, _, _ = net(x, oh)
    y.pow(2).mean().backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert missing == []


def test_config_round_trip_and_validation():
    cfg = tiny_config("prediction", hidden=8)
    assert NetworkConfig.from_dict({**cfg.to_dict(), "unknown_future_field": 1}) == cfg
    with pytest.raises(ValueError):
        NetworkConfig(kind="transformer")
    with pytest.raises(ValueError):
        NetworkConfig(hidden=0)


def test_repeat_state_equals_a_batch_of_identical_rows():
    net = build_network(tiny_config("synthesis", hidden=12, layers=3)).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 9, 3, generator=g)
    oh = F.one_hot(torch.randint(1, net.cfg.alphabet_size, (1, 5), generator=g), net.cfg.alphabet_size).float()
    with torch.no_grad():
        _, one, _ = net(x, oh)
        _, three, _ = net(x.expand(3, -1, -1), oh.expand(3, -1, -1))
        rep = net.repeat_state(one, 3)
        for k in ("h1", "c1", "kappa", "w"):
            torch.testing.assert_close(rep[k], three[k])
        for (h, c), (h3, c3) in zip(rep["upper"], three["upper"]):
            torch.testing.assert_close(h, h3)
            torch.testing.assert_close(c, c3)
        step = torch.randn(3, 1, 3, generator=g)
        torch.testing.assert_close(net(step, oh.expand(3, -1, -1), rep)[0], net(step, oh.expand(3, -1, -1), three)[0])


def test_prime_of_rows_of_different_lengths_equals_each_row_alone():
    net = build_network(tiny_config("synthesis", hidden=12, layers=3)).eval()
    g = torch.Generator().manual_seed(2)
    lens = [9, 4, 6]
    x = torch.randn(3, 9, 3, generator=g)
    oh = F.one_hot(torch.randint(1, net.cfg.alphabet_size, (3, 5), generator=g), net.cfg.alphabet_size).float()
    st = net.prime(x, oh, torch.tensor(lens))
    with torch.no_grad():
        for b, n in enumerate(lens):
            _, one, _ = net(x[b : b + 1, :n], oh[b : b + 1])
            for k in ("h1", "c1", "kappa", "w"):
                torch.testing.assert_close(st[k][b : b + 1], one[k])
            for (h, c), (h1, c1) in zip(st["upper"], one["upper"]):
                torch.testing.assert_close(h[:, b : b + 1], h1)
                torch.testing.assert_close(c[:, b : b + 1], c1)


def test_sampling_weight_copies_match_the_parameters_and_follow_their_changes():
    """Without autograd the network multiplies by cached contiguous copies of its transposed weights: the same
    function as with autograd, and a change of the weights (an optimiser step, load_state_dict) is seen."""
    torch.manual_seed(0)
    net = SynthesisNetwork(tiny_config())
    x, oh = torch.randn(3, 1, 3), F.one_hot(torch.randint(1, 10, (3, 6)), net.cfg.alphabet_size).float()
    state = None
    for _ in range(3):  # step by step, as sampling does (the upper layers take their one-step path)
        with torch.no_grad():
            y_fast, s_fast, _ = net(x, oh, state)
        y_ref, s_ref, _ = net(x, oh, state)  # autograd on: nn.Linear and nn.LSTM themselves
        torch.testing.assert_close(y_fast, y_ref.detach(), rtol=1e-5, atol=1e-5)
        state = {k: v for k, v in s_fast.items()}
    with torch.no_grad():
        before, _, _ = net(x, oh, None)
        for p in net.parameters():
            p.add_(0.05)  # in place, as an optimiser does
        after, _, _ = net(x, oh, None)
        net.load_state_dict({k: v + 0.01 for k, v in net.state_dict().items()})
        loaded, _, _ = net(x, oh, None)
    ref, _, _ = net(x, oh, None)
    assert not torch.allclose(before, after) and not torch.allclose(after, loaded)
    torch.testing.assert_close(loaded, ref.detach(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layers", [1, 3])
def test_step_is_forward_of_one_step_to_the_bit(layers):
    """`SynthesisNetwork.step`, sampling's one-step path, computes what `forward` computes for T = 1, number for
    number (the same operations on the same operands: strokes do not change with the path), from no state and
    from a carried one, and its state carries on in `forward`."""
    net = _net("synthesis", layers=layers)
    x, oh = _inputs(net.cfg)
    s_step = s_fwd = None
    with torch.inference_mode():
        for t in range(5):
            y_s, s_step, phi_s = net.step(x[:, t], oh, s_step)
            y_f, s_fwd, ex = net(x[:, t : t + 1], oh, s_fwd, return_phi=True)
            assert torch.equal(y_s, y_f[:, 0]) and torch.equal(phi_s, ex["phi"][:, 0])
            for k in ("h1", "c1", "kappa", "w"):
                assert torch.equal(s_step[k], s_fwd[k])
            for (h_s, c_s), (h_f, c_f) in zip(s_step["upper"] or [], s_fwd["upper"] or []):
                assert torch.equal(h_s, h_f) and torch.equal(c_s, c_f)
        y_next, _, _ = net(x[:, 5:6], oh, s_step)  # the step's state is forward's state
        y_ref, _, _ = net(x[:, 5:6], oh, s_fwd)
    assert torch.equal(y_next, y_ref)
