"""The losses of alignment: reward model, PPO, KL penalty (RLHF) and DPO.

Notation of the course: π_θ the policy (the model being tuned), π_base (or π_ref) the frozen
model it starts from, r_φ(x, y) the reward model, y⁺ / y⁻ the preferred / rejected answers.
Every function takes log-probabilities (sums over an answer's tokens, or per token) and returns
a mean over the batch unless said otherwise.

- Reward model (Bradley–Terry), to minimise:  L(φ) = −mean log σ(r_φ(x, y⁺) − r_φ(x, y⁻))
- PPO clipped objective, to *maximise* (Schulman et al. 2017):
      L^PPO = mean min(ρ_t Â_t, clip(ρ_t, 1 − ε, 1 + ε) Â_t),  ρ_t = π_θ(y_t|x_t) / π_θ_old(y_t|x_t)
- RLHF objective: E[r_φ(x, y)] − β KL(π_θ ‖ π_base), the KL estimated from samples y ~ π_θ.
- DPO (Rafailov et al. 2023), to minimise, no reward model and no sampling:
      L = −mean log σ(β [(log π_θ(y⁺) − log π_ref(y⁺)) − (log π_θ(y⁻) − log π_ref(y⁻))])

The toy of chapter 11 runs the whole pipeline on CPU with a policy that chooses among K
candidate answers per prompt (not a token-level language model: an honest simplification):
:func:`load_preferences` (French prompts, each with K answers ranked best first, written for the
course), :func:`ranking_pairs` (a ranking of K answers → its K(K−1)/2 preference pairs, as in
InstructGPT), :func:`train_reward_model`, :class:`CandidatePolicy`
(π_θ(y_k | x) ∝ π_ref(y_k | x) exp(θ · φ(x, y_k))), :func:`categorical_kl` (the exact KL of
two such distributions), :func:`ppo_iteration` (sample, reward minus the KL penalty, advantage,
PPO-clip epochs) and :func:`train_dpo`.
"""

from __future__ import annotations

import json

import torch
import torch.nn.functional as F
from torch import nn

from llmcours._checks import check_int, check_tensor

__all__ = [
    "reward_pairwise_loss", "ppo_clip_objective", "kl_penalty", "dpo_loss", "load_preferences",
    "ranking_pairs", "train_reward_model", "CandidatePolicy", "categorical_kl", "ppo_iteration",
    "train_dpo",
]


def _check_same_shape(**tensors: torch.Tensor) -> None:
    for name, t in tensors.items():
        check_tensor(t, name)
    shapes = {name: tuple(t.shape) for name, t in tensors.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"arguments must have the same shape, got {shapes}")


def reward_pairwise_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """``−mean log σ(r⁺ − r⁻)``: small when the chosen answers score above the rejected ones.

    ``logsigmoid`` keeps it finite for large margins, where ``log(sigmoid(·))`` gives −inf.
    """
    _check_same_shape(r_chosen=r_chosen, r_rejected=r_rejected)
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def ppo_clip_objective(
    logp_new: torch.Tensor, logp_old: torch.Tensor, advantages: torch.Tensor, eps: float = 0.2
) -> torch.Tensor:
    """PPO's clipped surrogate ``mean min(ρ Â, clip(ρ, 1−ε, 1+ε) Â)``, to maximise (its negative
    is the loss). ρ = exp(log π_θ − log π_θ_old); ``logp_old`` should be detached.

    The min makes it pessimistic: with Â > 0 nothing is gained by pushing ρ above 1 + ε, with
    Â < 0 nothing by pushing it below 1 − ε, so one batch cannot move the policy far.
    """
    _check_same_shape(logp_new=logp_new, logp_old=logp_old, advantages=advantages)
    if eps < 0:
        raise ValueError(f"eps ({eps}) must be >= 0")
    ratio = torch.exp(logp_new - logp_old)
    clipped = torch.clamp(ratio, 1 - eps, 1 + eps)
    return torch.minimum(ratio * advantages, clipped * advantages).mean()


def kl_penalty(logp_policy: torch.Tensor, logp_ref: torch.Tensor, estimator: str = "k1") -> torch.Tensor:
    """Per-sample estimates of KL(π_θ ‖ π_ref) from log-probs of tokens sampled from π_θ.

    With log r = log π_ref(y) − log π_θ(y) (Schulman, *Approximating KL Divergence*, 2020):

    - ``"k1"``: −log r = log π_θ(y) − log π_ref(y). Unbiased, but single samples can be negative.
      This is the per-token penalty of InstructGPT-style RLHF: reward_t −= β · k1_t.
    - ``"k3"``: (r − 1) − log r. Also unbiased (E_{π_θ}[r] = 1), and ≥ 0 for every sample since
      log r ≤ r − 1; lower variance when π_θ is close to π_ref.

    Returns a tensor of the inputs' shape: ``.mean()`` (or a sum over tokens) gives the estimate.
    """
    _check_same_shape(logp_policy=logp_policy, logp_ref=logp_ref)
    log_r = logp_ref - logp_policy
    if estimator == "k1":
        return -log_r
    if estimator == "k3":
        return torch.expm1(log_r) - log_r  # expm1 is exact near r = 1, where the two terms cancel
    raise ValueError(f"estimator ({estimator!r}) must be 'k1' or 'k3'")


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    beta: float = 0.1,
) -> torch.Tensor:
    """Direct Preference Optimization loss, ``−mean log σ(β (Δ⁺ − Δ⁻))`` with
    Δ = log π_θ(y|x) − log π_ref(y|x), the implicit reward ``β·Δ`` of an answer.

    ``beta`` plays the part of the KL coefficient: larger β keeps π_θ closer to π_ref.
    """
    _check_same_shape(
        policy_chosen_logps=policy_chosen_logps,
        policy_rejected_logps=policy_rejected_logps,
        ref_chosen_logps=ref_chosen_logps,
        ref_rejected_logps=ref_rejected_logps,
    )
    if not beta > 0:
        raise ValueError(f"beta ({beta}) must be > 0")
    margin = (policy_chosen_logps - ref_chosen_logps) - (policy_rejected_logps - ref_rejected_logps)
    return -F.logsigmoid(beta * margin).mean()


# --- The toy pipeline of chapter 11: a policy over K candidate answers per prompt -------------


def load_preferences() -> list[dict]:
    """The course's French preference data: ``[{"prompt": str, "answers": [str, ...]}, ...]``,
    each prompt with the same number of answers, **ranked best first** (``data/preferences_fr.jsonl``:
    helpful and polite, helpful but curt, polite but evasive, rude and useless)."""
    from .data import data_path

    lines = data_path("preferences_fr.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def ranking_pairs(n_answers: int) -> list[tuple[int, int]]:
    """Every (better, worse) pair of indices of a ranking of ``n_answers`` (best first):
    K(K−1)/2 comparisons from one ranking, as InstructGPT does with its K = 4 to 9 answers."""
    if isinstance(n_answers, bool) or not isinstance(n_answers, int) or n_answers < 2:
        raise ValueError(f"n_answers ({n_answers!r}) must be an integer >= 2")
    return [(i, j) for i in range(n_answers) for j in range(i + 1, n_answers)]


def train_reward_model(
    reward_model: nn.Module,
    chosen: torch.Tensor,
    rejected: torch.Tensor,
    *,
    steps: int = 300,
    lr: float = 1e-2,
    weight_decay: float = 0.0,
) -> list[float]:
    """Fit ``reward_model`` (inputs → one score each) on preference pairs by full-batch AdamW on
    :func:`reward_pairwise_loss`; ``chosen[i]`` was preferred to ``rejected[i]``. Returns the
    loss before each step (the first is the untrained model's)."""
    _check_same_shape(chosen=chosen, rejected=rejected)
    if check_int(steps, "steps") < 1:
        raise ValueError(f"steps ({steps}) must be >= 1")
    optimizer = torch.optim.AdamW(reward_model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    for _ in range(steps):
        r_chosen = reward_model(chosen).squeeze(-1)
        r_rejected = reward_model(rejected).squeeze(-1)
        loss = reward_pairwise_loss(r_chosen, r_rejected)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


class CandidatePolicy(nn.Module):
    """A policy over K candidate answers per prompt: log π_θ(y_k | x) = log softmax_k(ℓ_ref + θ·φ).

    ``features``: φ(x, y_k), shape (P, K, d), fixed (e.g. sentence embeddings of prompt and
    answer); ``ref_logits``: the reference policy's logits ℓ_ref, shape (P, K), default zeros
    (uniform). θ starts at zero, so π_θ = π_ref before any update. ``forward(prompts)`` returns
    the log-probabilities of the candidates of the prompts of index ``prompts`` (all by default).
    """

    def __init__(self, features: torch.Tensor, ref_logits: torch.Tensor | None = None) -> None:
        super().__init__()
        if check_tensor(features, "features", floating=True).dim() != 3:
            raise ValueError(f"features (shape {tuple(features.shape)}) must be (P, K, d)")
        if ref_logits is None:
            ref_logits = torch.zeros(features.shape[:2], dtype=features.dtype)
        if tuple(ref_logits.shape) != tuple(features.shape[:2]):
            raise ValueError(f"ref_logits (shape {tuple(ref_logits.shape)}) must be (P, K) = "
                             f"{tuple(features.shape[:2])}")
        self.register_buffer("features", features.detach().clone())
        self.register_buffer("ref_logp", F.log_softmax(ref_logits.detach().to(features.dtype), -1))
        self.theta = nn.Parameter(torch.zeros(features.shape[-1], dtype=features.dtype))

    def forward(self, prompts: torch.Tensor | None = None) -> torch.Tensor:
        features = self.features if prompts is None else self.features[prompts]
        ref_logp = self.ref_logp if prompts is None else self.ref_logp[prompts]
        return F.log_softmax(ref_logp + features @ self.theta, dim=-1)


def categorical_kl(logp: torch.Tensor, logq: torch.Tensor) -> torch.Tensor:
    """Exact KL(p ‖ q) = Σ_k p_k (log p_k − log q_k) over the last dimension, from log-probs."""
    _check_same_shape(logp=logp, logq=logq)
    return (logp.exp() * (logp - logq)).sum(-1)


def ppo_iteration(
    policy: CandidatePolicy,
    optimizer: torch.optim.Optimizer,
    rewards: torch.Tensor,
    prompts: torch.Tensor,
    *,
    n_samples: int = 4,
    beta: float = 0.1,
    eps: float = 0.2,
    epochs: int = 4,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """One RLHF iteration with PPO on a :class:`CandidatePolicy`.

    1. sample ``n_samples`` answers y ~ π_old(· | x) for each prompt of ``prompts``;
    2. score them: R = r_φ(x, y) − β (log π_old(y|x) − log π_ref(y|x)), the reward model's score
       (``rewards``, shape (P, K), one score per candidate) minus the per-sample KL penalty (k1);
    3. advantage Â = R − b(x), with b(x) the mean R of the samples of the same prompt;
    4. ``epochs`` gradient steps on −:func:`ppo_clip_objective` with the samples fixed.

    Returns the mean reward-model score and the mean penalised reward of the samples.
    """
    if tuple(rewards.shape) != tuple(policy.ref_logp.shape):
        raise ValueError(f"rewards (shape {tuple(rewards.shape)}) must be (P, K) = "
                         f"{tuple(policy.ref_logp.shape)}")
    if n_samples < 2:
        raise ValueError(f"n_samples ({n_samples}) must be >= 2: the baseline is their mean")
    if beta < 0:
        raise ValueError(f"beta ({beta}) must be >= 0")
    with torch.no_grad():
        logp_all = policy(prompts)  # (B, K) under π_old
        actions = torch.multinomial(logp_all.exp(), n_samples, replacement=True,
                                    generator=generator)  # (B, n_samples)
        logp_old = logp_all.gather(1, actions)
        logp_ref = policy.ref_logp[prompts].gather(1, actions)
        score = rewards[prompts].gather(1, actions)
        total = score - beta * kl_penalty(logp_old, logp_ref, "k1")
        advantages = total - total.mean(dim=1, keepdim=True)
    for _ in range(epochs):
        logp_new = policy(prompts).gather(1, actions)
        loss = -ppo_clip_objective(logp_new, logp_old, advantages, eps)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"score": score.mean().item(), "penalised": total.mean().item()}


def train_dpo(
    policy: CandidatePolicy,
    prompts: torch.Tensor,
    chosen: torch.Tensor,
    rejected: torch.Tensor,
    *,
    beta: float = 0.1,
    steps: int = 100,
    lr: float = 1e-2,
) -> list[float]:
    """Fit a :class:`CandidatePolicy` on preference pairs with :func:`dpo_loss` (full batch, Adam):
    pair i says that candidate ``chosen[i]`` of prompt ``prompts[i]`` beats ``rejected[i]``.
    No reward model, no sampling. Returns the loss before each step (the first is log 2)."""
    _check_same_shape(prompts=prompts, chosen=chosen, rejected=rejected)
    if check_int(steps, "steps") < 1:
        raise ValueError(f"steps ({steps}) must be >= 1")
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    # DPO needs log π_θ and log π_ref of both answers: four forward passes per pair. The two
    # through the frozen reference do not depend on θ, so they are computed once, here.
    ref_chosen = policy.ref_logp[prompts, chosen]
    ref_rejected = policy.ref_logp[prompts, rejected]
    losses = []
    for _ in range(steps):
        logp = policy(prompts)
        loss = dpo_loss(logp.gather(1, chosen[:, None]).squeeze(1),
                        logp.gather(1, rejected[:, None]).squeeze(1),
                        ref_chosen, ref_rejected, beta=beta)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
