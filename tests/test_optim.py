"""Tests for llmcours.optim: Adam vs torch.optim.Adam and AdamW vs torch.optim.AdamW over 100
steps (atol 1e-6, float32), L2 vs decoupled decay, the schedules vs their closed forms
(rel 1e-12) and their monotonic pieces, bad input (nan included)."""

import copy
import math
from itertools import pairwise

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from llmcours.optim import (
    Adam,
    AdamW,
    as_lambda_lr,
    warmup_cosine,
    warmup_exponential,
    warmup_inverse_sqrt,
    weight_decay_groups,
)
from llmcours.transformer import GPT, GPTConfig


def _train_pair(weight_decay, betas=(0.9, 0.999), lr=1e-2, steps=100):
    torch.manual_seed(0)
    ours_net = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))
    ref_net = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))
    ref_net.load_state_dict(ours_net.state_dict())
    X, y = torch.randn(64, 6), torch.randn(64, 1)
    ours = Adam(ours_net.parameters(), lr=lr, betas=betas, weight_decay=weight_decay)
    ref = torch.optim.Adam(ref_net.parameters(), lr=lr, betas=betas, weight_decay=weight_decay)
    for _ in range(steps):
        for net, opt in ((ours_net, ours), (ref_net, ref)):
            opt.zero_grad()
            nn.functional.mse_loss(net(X), y).backward()
            opt.step()
    return ours_net, ref_net


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.9, 0.95)])
def test_adam_matches_torch_over_100_steps(weight_decay, betas):
    ours_net, ref_net = _train_pair(weight_decay, betas)
    moved = (ours_net[0].weight - _train_pair(weight_decay, betas, steps=0)[0][0].weight).abs().max()
    assert moved > 1e-2, "100 steps must move the parameters"
    for (name, p), q in zip(ours_net.named_parameters(), ref_net.parameters(), strict=True):
        diff = (p - q).abs().max().item()
        assert diff <= 1e-6, f"{name}: max |ours - torch.optim.Adam| = {diff:.3g} > 1e-6"


@pytest.mark.parametrize("ours_cls", [AdamW, lambda params, **kw: Adam(params, decoupled_weight_decay=True, **kw)])
def test_adamw_matches_torch_adamw_over_100_steps(ours_cls):
    """Decoupled weight decay (θ ← θ − ηλθ outside the moments) = torch.optim.AdamW, atol 1e-6."""
    nets = []
    for opt_cls in (ours_cls, torch.optim.AdamW):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))
        opt = opt_cls(net.parameters(), lr=1e-2, betas=(0.9, 0.95), weight_decay=0.1)
        X, y = torch.randn(64, 6), torch.randn(64, 1)
        for _ in range(100):
            opt.zero_grad()
            nn.functional.mse_loss(net(X), y).backward()
            opt.step()
        nets.append(net)
    for p, q in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        diff = (p - q).abs().max().item()
        assert diff <= 1e-6, f"max |ours - torch.optim.AdamW| = {diff:.3g} > 1e-6"


def test_l2_and_decoupled_weight_decay_differ():
    """Same λ, same gradients: L2 goes through √v̂ (scale-free), AdamW shrinks θ by ηλθ."""
    results = {}
    for decoupled in (False, True):
        p = nn.Parameter(torch.tensor([10.0, 0.1], dtype=torch.float64))
        opt = Adam([p], lr=0.1, weight_decay=0.5, decoupled_weight_decay=decoupled)
        p.grad = torch.zeros_like(p)  # only the decay acts
        opt.step()
        results[decoupled] = p.detach().clone()
    # L2: g = λθ, the first step is −η·sign(g) whatever |θ|; AdamW: θ(1 − ηλ), then a zero step
    torch.testing.assert_close(results[False], torch.tensor([9.9, 0.0], dtype=torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(results[True], torch.tensor([9.5, 0.095], dtype=torch.float64), atol=1e-12, rtol=0)


def test_adam_first_step_is_lr_times_sign():
    """At t = 1, m̂ = g and v̂ = g², so θ moves by −η·g/(|g| + ε) ≈ −η·sign(g)."""
    p = nn.Parameter(torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64))
    p.grad = torch.tensor([0.5, -4.0, 1e-3], dtype=torch.float64)
    Adam([p], lr=0.1, eps=0.0).step()
    expected = torch.tensor([0.9, -1.9, 2.9], dtype=torch.float64)
    assert torch.allclose(p.detach(), expected, atol=1e-12), f"after one step {p.detach()}"


def test_adam_with_lambda_lr_schedule_matches_torch():
    kw = dict(warmup_steps=5, total_steps=30, lr_max=1e-2, lr_min=1e-3)
    nets = []
    for opt_cls in (Adam, torch.optim.Adam):
        torch.manual_seed(0)
        net = nn.Linear(4, 1)
        opt = opt_cls(net.parameters(), lr=1.0)
        sched = as_lambda_lr(opt, warmup_cosine, **kw)
        X, y = torch.randn(32, 4), torch.randn(32, 1)
        for t in range(1, 31):
            assert math.isclose(opt.param_groups[0]["lr"], warmup_cosine(t, **kw), rel_tol=1e-12)
            opt.zero_grad()
            nn.functional.mse_loss(net(X), y).backward()
            opt.step()
            sched.step()
        nets.append(net)
    diff = (nets[0].weight - nets[1].weight).abs().max().item()
    assert diff <= 1e-6, f"scheduled Adam differs from torch by {diff}"


# --- parameter groups ---------------------------------------------------------------------------

def _ids(group):
    return {id(p) for p in group["params"]}


def test_weight_decay_groups_of_gpt_decay_exactly_the_block_matrices():
    """Tied GPT: the decayed group is the 12·L·d² of the blocks' matrices (the course's count
    minus the embedding V·d); embeddings, biases and LayerNorms are the rest, each tensor once."""
    V, T, d, h, L = 50, 16, 32, 4, 3
    model = GPT(GPTConfig(V, T, d, h, L))
    decayed, plain = weight_decay_groups(model, 0.1)
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert sum(p.numel() for p in decayed["params"]) == 12 * L * d * d
    assert all(p.dim() == 2 for p in decayed["params"])
    assert not _ids(decayed) & _ids(plain), "a parameter is in both groups"
    assert _ids(decayed) | _ids(plain) == {id(p) for p in model.parameters()}
    for name in ("tok_emb.weight", "pos_emb.weight", "ln_f.weight", "ln_f.bias", "blocks.0.ffn.net.0.bias"):
        assert id(model.get_parameter(name)) in _ids(plain), f"{name} must not be decayed"
    with_emb = weight_decay_groups(model, 0.1, decay_embeddings=True)[0]
    assert sum(p.numel() for p in with_emb["params"]) == 12 * L * d * d + V * d + T * d


def test_weight_decay_groups_decay_the_matrices_and_not_the_biases():
    """One AdamW step with zero gradients: the matrix shrinks by (1 − ηλ), the bias and the
    LayerNorm do not move; frozen parameters are left out; torch.optim.AdamW agrees."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    net[2].weight.requires_grad_(False)
    before = [p.detach().clone() for p in net.parameters()]
    groups = weight_decay_groups(net, 0.5)
    assert _ids(groups[0]) == {id(net[0].weight)}, "only the trainable matrix is decayed"
    assert id(net[2].weight) not in _ids(groups[1]), "a frozen parameter is not given to the optimizer"
    ref_net = copy.deepcopy(net)
    for model, opt_cls in ((net, AdamW), (ref_net, torch.optim.AdamW)):
        opt = opt_cls(weight_decay_groups(model, 0.5), lr=0.1)
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        opt.step()
    torch.testing.assert_close(net[0].weight, before[0] * (1 - 0.1 * 0.5), rtol=0, atol=1e-7)
    for i in (1, 2, 3, 5):  # first bias, LayerNorm gain and shift, last bias
        assert torch.equal(list(net.parameters())[i], before[i])
    for p, q in zip(net.parameters(), ref_net.parameters(), strict=True):
        assert torch.equal(p, q)


def test_weight_decay_groups_bad_input():
    with pytest.raises(ValueError, match="model"):
        weight_decay_groups([nn.Parameter(torch.zeros(2, 2))], 0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        weight_decay_groups(nn.Linear(2, 2), -0.1)
    with pytest.raises(ValueError, match="trainable"):
        weight_decay_groups(nn.Linear(2, 2).requires_grad_(False), 0.1)


# --- schedules -----------------------------------------------------------------------------------

def test_warmup_cosine_closed_form():
    W, T, hi, lo = 10, 110, 1e-3, 1e-5
    assert warmup_cosine(0, W, T, hi, lo) == 0.0
    assert math.isclose(warmup_cosine(5, W, T, hi, lo), hi * 5 / 10, rel_tol=1e-12)
    assert math.isclose(warmup_cosine(W, W, T, hi, lo), hi, rel_tol=1e-12), "warm-up end = lr_max"
    assert math.isclose(warmup_cosine(60, W, T, hi, lo), lo + 0.5 * (hi - lo), rel_tol=1e-12), "half-way"
    t = 35
    expected = lo + 0.5 * (hi - lo) * (1 + math.cos(math.pi * (t - W) / (T - W)))
    assert math.isclose(warmup_cosine(t, W, T, hi, lo), expected, rel_tol=1e-12)
    assert math.isclose(warmup_cosine(T, W, T, hi, lo), lo, rel_tol=1e-12), "total end = lr_min"
    assert warmup_cosine(T + 50, W, T, hi, lo) == lo
    assert warmup_cosine(0, 0, T, hi, lo) == hi, "no warm-up starts at lr_max"


def test_warmup_inverse_sqrt_closed_form():
    W, hi = 100, 2e-3
    assert math.isclose(warmup_inverse_sqrt(25, W, hi), hi / 4, rel_tol=1e-12)
    assert math.isclose(warmup_inverse_sqrt(W, W, hi), hi, rel_tol=1e-12), "warm-up end = lr_max"
    assert math.isclose(warmup_inverse_sqrt(400, W, hi), hi * math.sqrt(100 / 400), rel_tol=1e-12)
    # the course's eta_max / sqrt(t), rescaled by sqrt(N_warm) to be continuous:
    assert math.isclose(warmup_inverse_sqrt(900, W, hi), hi * math.sqrt(W) / math.sqrt(900), rel_tol=1e-12)


def test_warmup_exponential_closed_form():
    W, hi, g = 20, 1e-3, 0.9
    assert math.isclose(warmup_exponential(10, W, hi, g), hi / 2, rel_tol=1e-12)
    assert math.isclose(warmup_exponential(W, W, hi, g), hi, rel_tol=1e-12), "warm-up end = lr_max"
    assert math.isclose(warmup_exponential(W + 7, W, hi, g), hi * g**7, rel_tol=1e-12)


@given(W=st.integers(1, 50), extra=st.integers(1, 200))
def test_schedules_monotonic_pieces(W, extra):
    T = W + extra
    warm = [warmup_cosine(t, W, T, 1.0, 0.1) for t in range(W + 1)]
    decay = [warmup_cosine(t, W, T, 1.0, 0.1) for t in range(W, T + 2)]
    assert all(a < b for a, b in pairwise(warm)), "warm-up must increase strictly"
    assert all(a >= b for a, b in pairwise(decay)), "cosine decay must not increase"
    for fn in (lambda t: warmup_inverse_sqrt(t, W, 1.0), lambda t: warmup_exponential(t, W, 1.0, 0.97)):
        values = [fn(t) for t in range(T)]
        assert all(a < b for a, b in pairwise(values[: W + 1]))
        assert all(a > b for a, b in pairwise(values[W:])), "decay must decrease"
        assert max(values) == values[W] and math.isclose(values[W], 1.0)


def test_bad_inputs_raise_value_error():
    p = [nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match="lr"):
        Adam(p, lr=-1.0)
    with pytest.raises(ValueError, match="betas"):
        Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps"):
        Adam(p, eps=-1e-8)
    with pytest.raises(ValueError, match="weight_decay"):
        Adam(p, weight_decay=-0.1)
    for bad in (float("nan"), float("inf"), "1e-3", None, True):
        with pytest.raises(ValueError, match="lr"):
            Adam(p, lr=bad)
    for bad in ((float("nan"), 0.999), (0.9, float("nan")), (-0.1, 0.999), (0.9,), 0.9, ("a", "b")):
        with pytest.raises(ValueError, match="betas"):
            Adam(p, betas=bad)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="eps"):
            Adam(p, eps=bad)
        with pytest.raises(ValueError, match="weight_decay"):
            AdamW(p, weight_decay=bad)
    Adam(p, lr=np.float32(1e-3), betas=[np.float64(0.9), 0.95])  # numpy numbers are numbers
    with pytest.raises(ValueError, match="step"):
        warmup_cosine(-1, 10, 100, 1e-3)
    with pytest.raises(ValueError, match="warmup_steps"):
        warmup_cosine(5, 200, 100, 1e-3)
    with pytest.raises(ValueError, match="lr_min"):
        warmup_cosine(5, 10, 100, 1e-3, lr_min=1e-2)
    with pytest.raises(ValueError, match="warmup_steps"):
        warmup_inverse_sqrt(5, 0, 1e-3)
    with pytest.raises(ValueError, match="lr_max"):
        warmup_inverse_sqrt(5, 10, -1e-3)
    with pytest.raises(ValueError, match="gamma"):
        warmup_exponential(5, 10, 1e-3, gamma=1.5)
    with pytest.raises(ValueError, match="warmup_steps"):
        warmup_exponential(5, -1, 1e-3, gamma=0.9)
    with pytest.raises(ValueError, match="lr"):
        as_lambda_lr(torch.optim.SGD(p, lr=0.0), warmup_inverse_sqrt, warmup_steps=10, lr_max=1e-3)
