"""The losses of alignment: reward model, PPO, KL penalty (RLHF) and DPO.

Notation of the course: f_θ the policy (the model being tuned), f_base (or f_ref) the frozen
model it starts from, r_φ(x, y) the reward model, y⁺ / y⁻ the preferred / rejected answers.
Every function takes log-probabilities (sums over an answer's tokens, or per token) and returns
a mean over the batch unless said otherwise.

- Reward model (Bradley–Terry), to minimise:  L(φ) = −mean log σ(r_φ(x, y⁺) − r_φ(x, y⁻))
- PPO clipped objective, to *maximise* (Schulman et al. 2017):
      L^PPO = mean min(ρ_t Â_t, clip(ρ_t, 1 − ε, 1 + ε) Â_t),  ρ_t = f_θ(y_t|x_t) / f_θ_old(y_t|x_t)
- RLHF objective: E[r_φ(x, y)] − β KL(f_θ ‖ f_base), the KL estimated from samples y ~ f_θ.
- DPO (Rafailov et al. 2023), to minimise, no reward model and no sampling:
      L = −mean log σ(β [(log f_θ(y⁺) − log f_ref(y⁺)) − (log f_θ(y⁻) − log f_ref(y⁻))])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["reward_pairwise_loss", "ppo_clip_objective", "kl_penalty", "dpo_loss"]


def _check_same_shape(**tensors: torch.Tensor) -> None:
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
    is the loss). ρ = exp(log f_θ − log f_θ_old); ``logp_old`` should be detached.

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
    """Per-sample estimates of KL(f_θ ‖ f_ref) from log-probs of tokens sampled from f_θ.

    With log r = log f_ref(y) − log f_θ(y) (Schulman, *Approximating KL Divergence*, 2020):

    - ``"k1"``: −log r = log f_θ(y) − log f_ref(y). Unbiased, but single samples can be negative.
      This is the per-token penalty of InstructGPT-style RLHF: reward_t −= β · k1_t.
    - ``"k3"``: (r − 1) − log r. Also unbiased (E_{f_θ}[r] = 1), and ≥ 0 for every sample since
      log r ≤ r − 1; lower variance when f_θ is close to f_ref.

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
    Δ = log f_θ(y|x) − log f_ref(y|x), the implicit reward ``β·Δ`` of an answer.

    ``beta`` plays the part of the KL coefficient: larger β keeps f_θ closer to f_ref.
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
