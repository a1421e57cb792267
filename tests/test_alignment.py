"""Tests for llmcours.alignment: reward loss and DPO vs direct formulas (atol 1e-12, float64),
PPO clipping on hand-made cases, the KL estimators' sign and unbiasedness, bad input."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcours.alignment import dpo_loss, kl_penalty, ppo_clip_objective, reward_pairwise_loss

f64 = dict(dtype=torch.float64)


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_reward_pairwise_loss_closed_form():
    r_pos = torch.tensor([2.0, 0.5, -1.0], **f64)
    r_neg = torch.tensor([1.0, 0.5, 1.0], **f64)
    expected = -(math.log(sigmoid(1.0)) + math.log(0.5) + math.log(sigmoid(-2.0))) / 3
    assert abs(reward_pairwise_loss(r_pos, r_neg).item() - expected) < 1e-12
    assert abs(reward_pairwise_loss(torch.zeros(4), torch.zeros(4)).item() - math.log(2)) < 1e-7, "equal scores: log 2"


def test_reward_pairwise_loss_is_stable_for_large_margins():
    big = torch.tensor([1000.0])
    assert reward_pairwise_loss(big, -big).item() == 0.0
    assert math.isclose(reward_pairwise_loss(-big, big).item(), 2000.0, rel_tol=1e-6), "no inf for -2000"


def test_ppo_clip_hand_made_cases():
    eps = 0.2
    logp_old = torch.zeros(6, **f64)
    ratio = torch.tensor([1.5, 1.5, 0.5, 0.5, 1.1, 0.9], **f64)
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0, 2.0, -2.0], **f64)
    per_sample = []
    for i in range(6):
        obj = ppo_clip_objective(ratio[i : i + 1].log(), logp_old[i : i + 1], adv[i : i + 1], eps)
        per_sample.append(obj.item())
    expected = [
        1.2,  # A > 0, rho above 1 + eps: clipped, no gain beyond 1.2
        -1.5,  # A < 0, rho above 1 + eps: the unclipped (worse) term is kept
        0.5,  # A > 0, rho below 1 - eps: the unclipped (worse) term is kept
        -0.8,  # A < 0, rho below 1 - eps: clipped at 0.8
        2.2,  # inside the trust region: rho A
        -1.8,
    ]
    for got, want in zip(per_sample, expected, strict=True):
        assert abs(got - want) < 1e-12, f"per-sample PPO objectives {per_sample} != {expected}"
    total = ppo_clip_objective(ratio.log(), logp_old, adv, eps).item()
    assert abs(total - sum(expected) / 6) < 1e-12, "objective is the mean"


def test_ppo_clip_gradient_vanishes_outside_trust_region():
    logp_new = torch.tensor([math.log(1.5), math.log(1.1)], requires_grad=True, **f64)
    obj = ppo_clip_objective(logp_new, torch.zeros(2, **f64), torch.ones(2, **f64))
    obj.backward()
    assert logp_new.grad[0] == 0, "clipped sample must give no gradient"
    assert abs(logp_new.grad[1].item() - 1.1 / 2) < 1e-12, "d(mean rho A)/d logp = rho A / n"


def test_dpo_loss_direct_formula():
    g = torch.Generator().manual_seed(0)
    pc, pr, rc, rr = (torch.randn(5, generator=g, **f64) * 3 for _ in range(4))
    beta = 0.3
    expected = sum(
        -math.log(sigmoid(beta * ((pc[i] - rc[i]) - (pr[i] - rr[i])).item())) for i in range(5)
    ) / 5
    assert abs(dpo_loss(pc, pr, rc, rr, beta=beta).item() - expected) < 1e-12
    # policy = reference: log 2, whatever the answers
    assert abs(dpo_loss(rc, rr, rc, rr).item() - math.log(2)) < 1e-12


def test_kl_estimators_unbiased_and_k3_nonnegative():
    g = torch.Generator().manual_seed(0)
    p = torch.softmax(torch.randn(6, generator=g, **f64), 0)  # policy
    q = torch.softmax(torch.randn(6, generator=g, **f64), 0)  # reference
    true_kl = (p * (p / q).log()).sum().item()
    samples = torch.multinomial(p, 200_000, replacement=True, generator=g)
    logp, logq = p.log()[samples], q.log()[samples]
    for estimator in ("k1", "k3"):
        est = kl_penalty(logp, logq, estimator).mean().item()
        assert abs(est - true_kl) < 0.02, f"{estimator}: {est:.4f} vs true KL {true_kl:.4f}"
    assert (kl_penalty(logp, logq, "k1") < 0).any(), "k1 samples can be negative"
    assert (kl_penalty(logp, logq, "k3") >= 0).all()


@settings(max_examples=50)
@given(st.lists(st.tuples(st.floats(-30, 0), st.floats(-30, 0)), min_size=1, max_size=20))
def test_k3_is_nonnegative_and_zero_iff_equal(pairs):
    logp = torch.tensor([a for a, _ in pairs], **f64)
    logq = torch.tensor([b for _, b in pairs], **f64)
    k3 = kl_penalty(logp, logq, "k3")
    assert (k3 >= 0).all(), f"k3 negative: {k3}"
    assert (kl_penalty(logp, logp, "k3") == 0).all() and (kl_penalty(logp, logp, "k1") == 0).all()


def test_bad_inputs_raise_value_error():
    a, b = torch.zeros(3), torch.zeros(4)
    with pytest.raises(ValueError, match="r_rejected"):
        reward_pairwise_loss(a, b)
    with pytest.raises(ValueError, match="advantages"):
        ppo_clip_objective(a, a, b)
    with pytest.raises(ValueError, match="eps"):
        ppo_clip_objective(a, a, a, eps=-0.1)
    with pytest.raises(ValueError, match="estimator"):
        kl_penalty(a, a, "k2")
    with pytest.raises(ValueError, match="logp_ref"):
        kl_penalty(a, b)
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(a, a, a, a, beta=0.0)
    with pytest.raises(ValueError, match="ref_rejected_logps"):
        dpo_loss(a, a, a, b)
