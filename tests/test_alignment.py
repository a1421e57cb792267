"""Tests for llmcours.alignment: reward loss and DPO vs direct formulas (atol 1e-12, float64),
PPO clipping on hand-made cases, the KL estimators' sign and unbiasedness, bad input; the toy
pipeline of chapter 11 (preference data, ranking pairs, reward model training, the candidate
policy against torch.distributions, PPO iterations reaching the closed-form optimum of the
KL-regularised objective, DPO) and its bad input."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from llmcours.alignment import (
    CandidatePolicy,
    categorical_kl,
    dpo_loss,
    kl_penalty,
    load_preferences,
    ppo_clip_objective,
    ppo_iteration,
    ranking_pairs,
    reward_pairwise_loss,
    train_dpo,
    train_reward_model,
)

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


# --- the toy pipeline of chapter 11 -----------------------------------------------------------


def test_preference_data_is_ranked_french_answers():
    data = load_preferences()
    assert len(data) >= 12, f"only {len(data)} prompts"
    assert {len(row["answers"]) for row in data} == {4}, "every prompt has 4 ranked answers"
    texts = [a for row in data for a in row["answers"]]
    assert len(set(texts)) == len(texts), "no answer appears twice"
    assert all(row["prompt"].strip() and all(a.strip() for a in row["answers"]) for row in data)
    assert any(ch in "".join(texts) for ch in "éèàç"), "French text with accents"


def test_ranking_pairs():
    assert ranking_pairs(2) == [(0, 1)]
    pairs = ranking_pairs(4)
    assert len(pairs) == 6 and all(i < j for i, j in pairs), "K(K-1)/2 pairs, better first"
    assert len(ranking_pairs(9)) == 36
    for bad in (1, 0, 2.0, True, "4"):
        with pytest.raises(ValueError, match="n_answers"):
            ranking_pairs(bad)


def _toy_features(P=6, K=4, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(P, K, d, generator=g, **f64)


def test_train_reward_model_learns_a_linear_preference():
    feats = _toy_features(P=30)
    w_true = torch.tensor([1.0, -2.0, 0.5, 0.0, 1.0], **f64)
    true_r = feats @ w_true
    order = true_r.argsort(dim=1, descending=True)  # a ranking per prompt, best first
    p = torch.tensor([i for i in range(30) for _ in ranking_pairs(4)])
    c = torch.stack([order[i, a] for i in range(30) for a, _ in ranking_pairs(4)])
    r = torch.stack([order[i, b] for i in range(30) for _, b in ranking_pairs(4)])
    torch.manual_seed(0)
    head = nn.Linear(5, 1).double()
    with torch.no_grad():
        first = reward_pairwise_loss(head(feats[p, c]).squeeze(-1), head(feats[p, r]).squeeze(-1))
    losses = train_reward_model(head, feats[p, c], feats[p, r], steps=200, lr=0.05)
    assert len(losses) == 200 and abs(losses[0] - first.item()) < 1e-12, "first loss = untrained"
    assert losses[-1] < 0.2 * losses[0], f"loss did not drop: {losses[0]:.3f} -> {losses[-1]:.3f}"
    with torch.no_grad():
        scores = head(feats).squeeze(-1)
    assert (scores[p, c] > scores[p, r]).float().mean() > 0.95
    with pytest.raises(ValueError, match="rejected"):
        train_reward_model(head, feats[p, c], feats[p, r][:-1])
    with pytest.raises(ValueError, match="steps"):
        train_reward_model(head, feats[p, c], feats[p, r], steps=0)


def test_candidate_policy_matches_categorical():
    feats = _toy_features()
    ref_logits = torch.randn(6, 4, generator=torch.Generator().manual_seed(1), **f64)
    policy = CandidatePolicy(feats, ref_logits)
    ref = torch.distributions.Categorical(logits=ref_logits)
    assert torch.allclose(policy(), ref.logits, atol=1e-12), "theta = 0: the policy is f_ref"
    with torch.no_grad():
        policy.theta.copy_(torch.randn(5, generator=torch.Generator().manual_seed(2), **f64))
    expected = torch.distributions.Categorical(logits=ref_logits + feats @ policy.theta)
    assert torch.allclose(policy(), expected.logits, atol=1e-12)
    assert torch.allclose(policy().exp().sum(-1), torch.ones(6, **f64))
    idx = torch.tensor([4, 1])
    assert torch.allclose(policy(idx), policy()[idx])
    uniform = CandidatePolicy(feats)
    assert torch.allclose(uniform().exp(), torch.full((6, 4), 0.25, **f64)), "default: uniform"
    with pytest.raises(ValueError, match="features"):
        CandidatePolicy(feats[0])
    with pytest.raises(ValueError, match="ref_logits"):
        CandidatePolicy(feats, ref_logits[:, :3])


def test_categorical_kl_matches_torch():
    g = torch.Generator().manual_seed(0)
    logp = torch.log_softmax(torch.randn(7, 5, generator=g, **f64), -1)
    logq = torch.log_softmax(torch.randn(7, 5, generator=g, **f64), -1)
    expected = torch.distributions.kl_divergence(torch.distributions.Categorical(logits=logp),
                                                 torch.distributions.Categorical(logits=logq))
    assert torch.allclose(categorical_kl(logp, logq), expected, atol=1e-12)
    assert torch.allclose(categorical_kl(logp, logp), torch.zeros(7, **f64))
    with pytest.raises(ValueError, match="logq"):
        categorical_kl(logp, logq[:, :4])


def _run_ppo(beta, iterations=200, lr=0.02, seed=0):
    feats = _toy_features(P=8, d=6, seed=seed)
    rewards = feats @ torch.tensor([1.0, -1.0, 0.5, 0.0, 0.5, -0.5], **f64)  # linear in φ
    policy = CandidatePolicy(feats)
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    prompts = torch.arange(8)
    for _ in range(iterations):
        stats = ppo_iteration(policy, optimizer, rewards, prompts, n_samples=16, beta=beta,
                              generator=g)
    return policy, rewards, stats


def test_ppo_raises_the_reward_and_reaches_the_regularised_optimum():
    beta = 1.0
    policy, rewards, stats = _run_ppo(beta)
    with torch.no_grad():
        logp = policy()
    start = rewards.mean(-1)  # uniform policy
    expected = (logp.exp() * rewards).sum(-1)
    assert expected.mean() > start.mean() + 0.3, "PPO must raise the expected reward"
    # closed form of max E[r] - beta KL(f || f_ref): f* ∝ f_ref exp(r / beta), here in the family
    best = torch.log_softmax(policy.ref_logp + rewards / beta, -1)
    gap = (logp.exp() - best.exp()).abs().max().item()
    assert gap < 1e-3, f"PPO policy is {gap:.3f} away from the closed-form optimum"
    assert set(stats) == {"score", "penalised"}


def test_the_kl_penalty_keeps_the_policy_closer():
    kls = {}
    for beta in (0.0, 2.0):
        policy, _, _ = _run_ppo(beta, iterations=60)
        with torch.no_grad():
            kls[beta] = categorical_kl(policy(), policy.ref_logp).mean().item()
    assert kls[2.0] < 0.5 * kls[0.0], f"KL with beta=2 {kls[2.0]:.3f} vs beta=0 {kls[0.0]:.3f}"


def test_ppo_iteration_is_seeded_and_checks_its_input():
    a, _, _ = _run_ppo(0.1, iterations=5)
    b, _, _ = _run_ppo(0.1, iterations=5)
    assert torch.equal(a.theta, b.theta), "same generator seed, same policy"
    policy = CandidatePolicy(_toy_features())
    optimizer = torch.optim.Adam(policy.parameters())
    rewards = torch.zeros(6, 4, **f64)
    with pytest.raises(ValueError, match="rewards"):
        ppo_iteration(policy, optimizer, rewards[:, :3], torch.arange(6))
    with pytest.raises(ValueError, match="n_samples"):
        ppo_iteration(policy, optimizer, rewards, torch.arange(6), n_samples=1)
    with pytest.raises(ValueError, match="beta"):
        ppo_iteration(policy, optimizer, rewards, torch.arange(6), beta=-1.0)


def test_train_dpo_prefers_the_chosen_answers():
    feats = _toy_features(P=10, d=6)
    rewards = feats @ torch.tensor([1.0, -1.0, 0.5, 0.0, 0.5, -0.5], **f64)
    order = rewards.argsort(dim=1, descending=True)
    pairs = ranking_pairs(4)
    p = torch.tensor([i for i in range(10) for _ in pairs])
    c = torch.stack([order[i, a] for i in range(10) for a, _ in pairs])
    r = torch.stack([order[i, b] for i in range(10) for _, b in pairs])
    policy = CandidatePolicy(feats)
    losses = train_dpo(policy, p, c, r, beta=0.5, steps=150, lr=0.05)
    assert abs(losses[0] - math.log(2)) < 1e-12, "policy = reference: log 2"
    assert losses[-1] < 0.5 * losses[0]
    with torch.no_grad():
        implicit = 0.5 * (policy() - policy.ref_logp)
    assert (implicit[p, c] > implicit[p, r]).float().mean() > 0.9
    with pytest.raises(ValueError, match="rejected"):
        train_dpo(policy, p, c, r[:-1])
    with pytest.raises(ValueError, match="steps"):
        train_dpo(policy, p, c, r, steps=0)
    with pytest.raises(ValueError, match="beta"):
        train_dpo(policy, p, c, r, beta=0.0)
