"""Shared accent marks while training (hwcli/training/marks.py, `hwcli train --share-marks`)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hwcli.alphabet import DEFAULT_CHARS, Alphabet
from hwcli.errors import OptionError
from hwcli.model import mdn
from hwcli.model.grow import grown
from hwcli.model.network import NetworkConfig, build_network
from hwcli.training import CKPT_NAME, TrainOptions, train
from hwcli.training.loop import optimizer_step
from hwcli.training.marks import SharedMarks, mark_matrix, marks_of
from tiny_bundle import make_dataset

torch.set_num_threads(1)


@pytest.mark.parametrize("c,marks", [("é", ("COMBINING ACUTE ACCENT",)), ("Ő", ("COMBINING DOUBLE ACUTE ACCENT",)),
                                     ("ç", ("COMBINING CEDILLA",)), ("ł", ("slash",)), ("ı", ("dotless",)),
                                     ("e", ()), ("ß", ()), ("€", ()), ("æ", ())])
def test_each_letter_knows_its_marks(c, marks):
    assert marks_of(c) == marks


def test_the_mark_matrix_ties_every_letter_with_an_acute_to_one_column():
    alpha = grown(Alphabet(DEFAULT_CHARS))
    a, names = mark_matrix(alpha)
    acute = names.index("COMBINING ACUTE ACCENT")
    with_acute = {alpha.chars[i - 1] for i in torch.nonzero(a[:, acute]).flatten().tolist()}
    assert {"é", "á", "ń", "ź", "É", "Ú"} <= with_acute and "e" not in with_acute
    assert a[0].sum() == 0 and a.sum(1).max() == 1  # padding carries nothing; no letter of the set has two marks


def _batch(alpha, texts, T=10):
    idx = torch.zeros(len(texts), max(map(len, texts)), dtype=torch.long)
    for i, t in enumerate(texts):
        idx[i, : len(t)] = torch.from_numpy(alpha.encode(t))
    oh = F.one_hot(idx, len(alpha)).float()
    oh[..., 0] = 0
    g = torch.Generator().manual_seed(1)
    x = torch.randn(len(texts), T, 3, generator=g)
    x[..., 2] = (x[..., 2] > 1).float()
    tgt = torch.randn(len(texts), T, 3, generator=g)
    tgt[..., 2] = (tgt[..., 2] > 1).float()
    return x, tgt, torch.ones(len(texts), T), oh


def test_a_step_with_shared_marks_is_the_step_of_the_reparameterised_network():
    """W = B + M Aᵀ with B and M stepped by their own Adam: the same weights as folding Δ M Aᵀ into W."""
    torch.manual_seed(0)
    alpha = Alphabet("abcfeé áí")
    cfg = NetworkConfig(hidden=6, layers=2, window_k=2, mixtures=2, alphabet_size=len(alpha))
    net = build_network(cfg)
    ref = build_network(cfg)
    ref.load_state_dict(net.state_dict())
    x, tgt, mask, oh = _batch(alpha, ["café", "ab í", "é á"])

    shared = SharedMarks(net, alpha, lr_scale=3.0)
    optim = torch.optim.Adam(net.parameters(), lr=1e-3)

    # the reference: explicit parameters B (the network's own) and M, W built from them in the forward pass
    a, _ = mark_matrix(alpha)
    targets = [("l1_wh", 0)] + [(f"stack.upper.{i}", 3) for i in range(cfg.layers - 1)]
    ms = [torch.zeros(6 * 4, a.shape[1], requires_grad=True) for _ in targets]
    base = {n: p for n, p in ref.named_parameters()}
    opt_b = torch.optim.Adam(list(base.values()), lr=1e-3)
    opt_m = torch.optim.Adam(ms, lr=3e-3)
    C = len(alpha)

    def ref_forward():
        params = dict(base)
        for (name, off), m in zip(targets, ms):
            key = f"{name}.weight" if name == "l1_wh" else f"{name}.weight_ih_l0"
            w = base[key]
            params[key] = torch.cat([w[:, :off], w[:, off:off + C] + m @ a.t(), w[:, off + C:]], 1)
        y, _, _ = torch.func.functional_call(ref, params, (x, oh))
        return mdn.nll(y, tgt, mask, cfg.mixtures) / mask.sum()

    for step in range(3):
        y, _, _ = net(x, oh)
        loss = mdn.nll(y, tgt, mask, cfg.mixtures) / mask.sum()
        assert optimizer_step(net, optim, loss, 1e-3, clip=1e9)
        shared.step(1e-3)

        opt_b.zero_grad()
        opt_m.zero_grad()
        ref_forward().backward()
        opt_b.step()
        opt_m.step()
    with torch.no_grad():
        folded = dict(base)
        for (name, off), m in zip(targets, ms):
            key = f"{name}.weight" if name == "l1_wh" else f"{name}.weight_ih_l0"
            w = base[key].clone()
            w[:, off:off + C] += m @ a.t()
            folded[key] = w
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, folded[k], rtol=1e-5, atol=1e-6, msg=k)
    # the marks moved: the accented letters' columns differ from their base letters' by more than before
    assert any(m.abs().max() > 0 for m in shared.marks)


def test_share_marks_needs_accented_letters_and_is_bounded(tmp_path):
    with pytest.raises(OptionError, match="share-marks"):
        TrainOptions(share_marks=-1)
    with pytest.raises(OptionError, match="share-marks"):
        TrainOptions(share_marks=5, kind="prediction")
    ds = make_dataset(None, n_lines=6)
    with pytest.raises(OptionError, match="no accented letters"):
        train(ds, TrainOptions(out=str(tmp_path / "r"), hidden=8, layers=1, window_k=2, mixtures=2, batch_size=2,
                               val_lines=0, preview=False, device="cpu", threads=1, max_steps=1, share_marks=5))


def _opts(out, **kw):
    base = dict(out=str(out), hidden=8, layers=2, window_k=2, mixtures=2, batch_size=2, val_lines=0, preview=False,
                device="cpu", threads=1, lr=0.01, lr_half_life=20, val_every=2, seed=3, share_marks=4.0)
    return TrainOptions(**{**base, **kw})


def test_a_run_with_shared_marks_resumes_exactly(tmp_path):
    texts = ["café", "noël", "crème", "ça", "été", "naïve"]
    ds = make_dataset(None, n_lines=8, n_valid=2, texts=texts)
    train(ds, _opts(tmp_path / "straight", max_steps=6))
    train(ds, _opts(tmp_path / "split", max_steps=3))
    half = torch.load(tmp_path / "split" / CKPT_NAME, map_location="cpu", weights_only=True)
    assert half["marks"]["names"] and half["marks"]["optimizer"]["state"]  # the marks' Adam state is kept
    train(ds, _opts(tmp_path / "split", max_steps=6), resume=True)
    a = torch.load(tmp_path / "straight" / CKPT_NAME, map_location="cpu", weights_only=True)
    b = torch.load(tmp_path / "split" / CKPT_NAME, map_location="cpu", weights_only=True)
    for k, v in a["model"].items():
        torch.testing.assert_close(v, b["model"][k], rtol=1e-5, atol=1e-6, msg=k)
    for m, n in zip(a["marks"]["marks"], b["marks"]["marks"]):
        torch.testing.assert_close(m, n, rtol=1e-5, atol=1e-6)
    # and the marks did something: without them the same run ends elsewhere
    train(ds, _opts(tmp_path / "plain", max_steps=6, share_marks=0.0))
    c = torch.load(tmp_path / "plain" / CKPT_NAME, map_location="cpu", weights_only=True)
    assert not torch.allclose(a["model"]["l1_wh.weight"], c["model"]["l1_wh.weight"])
