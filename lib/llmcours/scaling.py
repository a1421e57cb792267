"""Scaling laws: training compute, the Chinchilla rule and Kaplan et al.'s power law.

Training compute: a forward pass costs about 2 FLOPs per parameter per token (one multiply and
one add), the backward pass twice that, hence ``C ≈ 6·N·D`` FLOPs for N parameters and D
training tokens (Kaplan et al. 2020, section 2.1). GPT-3: 6 × 175e9 × 300e9 = 3.15e23 FLOPs.

Chinchilla (Hoffmann et al. 2022, *Training Compute-Optimal Large Language Models*): for a fixed
budget C, loss is lowest when parameters and tokens grow together, roughly ``D ≈ 20·N``. With
C = 6·N·D = 120·N², the compute-optimal model has ``N = √(C / 120)`` and ``D = 20·N``.

Kaplan et al. 2020 (*Scaling Laws for Neural Language Models*, arXiv:2001.08361), eq. 1.1 and
1.5, test loss in nats per token of a model trained to convergence on WebText2:

    L(N) = (N_c / N)^α_N,                       N_c = 8.8e13,  α_N = 0.076
    L(N, D) = [(N_c / N)^(α_N / α_D) + D_c / D]^α_D,   D_c = 5.4e13,  α_D = 0.095

N counts non-embedding parameters and the constants depend on the tokenizer and data: use the
law for its shape (a straight line in log-log axes), not to predict another model's loss.
"""

from __future__ import annotations

import math

__all__ = ["training_flops", "chinchilla_optimal", "kaplan_loss"]

TOKENS_PER_PARAM = 20.0  # Chinchilla's compute-optimal ratio D / N


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} ({value}) must be > 0")


def training_flops(n_params: float, n_tokens: float) -> float:
    """``C = 6·N·D`` FLOPs to train ``n_params`` parameters on ``n_tokens`` tokens."""
    _check_positive(n_params=n_params, n_tokens=n_tokens)
    return 6.0 * n_params * n_tokens


def chinchilla_optimal(compute: float, tokens_per_param: float = TOKENS_PER_PARAM) -> tuple[float, float]:
    """``(N, D)`` spending ``compute`` FLOPs with ``D = r·N``: ``N = √(C / (6r))``, ``D = r·N``.

    Inverse of :func:`training_flops` along the Chinchilla line (r = 20 by default).
    """
    _check_positive(compute=compute, tokens_per_param=tokens_per_param)
    n_params = math.sqrt(compute / (6.0 * tokens_per_param))
    return n_params, tokens_per_param * n_params


def kaplan_loss(
    n_params: float,
    n_tokens: float | None = None,
    *,
    n_c: float = 8.8e13,
    alpha_n: float = 0.076,
    d_c: float = 5.4e13,
    alpha_d: float = 0.095,
) -> float:
    """Kaplan et al.'s predicted loss (nats/token): ``(N_c/N)^α_N``, or ``L(N, D)`` when
    ``n_tokens`` is given (eq. 1.5; it tends to ``L(N)`` as D → ∞)."""
    _check_positive(n_params=n_params, n_c=n_c, alpha_n=alpha_n, d_c=d_c, alpha_d=alpha_d)
    if n_tokens is None:
        return (n_c / n_params) ** alpha_n
    _check_positive(n_tokens=n_tokens)
    return ((n_c / n_params) ** (alpha_n / alpha_d) + d_c / n_tokens) ** alpha_d
