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

Hoffmann et al.'s parametric fit (their eq. 2 and section 3.3, "approach 3"), with an
irreducible term E (the entropy of text itself) that no model can go below:

    L(N, D) = E + A / N^α + B / D^β,     E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28

Along an isoFLOP curve (C fixed, D = C / (6N)) it has one minimum: the compute-optimal model.

``fit_power_law`` fits ``y ≈ a·x^(−α)`` by least squares on ``log y = log a − α·log x`` (the
straight line of a log-log plot); ``training_costs`` turns FLOPs into accelerator-hours, kWh
and money under stated assumptions; ``attention_matrix_bytes`` is the memory of the T × T
attention scores that makes long contexts expensive (O(T²)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from llmcours._checks import check_number, check_sequence

__all__ = [
    "training_flops",
    "chinchilla_optimal",
    "kaplan_loss",
    "chinchilla_loss",
    "fit_power_law",
    "training_costs",
    "attention_matrix_bytes",
]

TOKENS_PER_PARAM = 20.0  # Chinchilla's compute-optimal ratio D / N


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        check_number(value, name, minimum=0, strict=True)


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


def chinchilla_loss(
    n_params: float,
    n_tokens: float,
    *,
    e: float = 1.69,
    a: float = 406.4,
    b: float = 410.7,
    alpha: float = 0.34,
    beta: float = 0.28,
) -> float:
    """Hoffmann et al.'s fitted loss ``E + A/N^α + B/D^β`` (nats/token on their MassiveText)."""
    _check_positive(n_params=n_params, n_tokens=n_tokens, a=a, b=b, alpha=alpha, beta=beta)
    return e + a / n_params**alpha + b / n_tokens**beta


def fit_power_law(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """``(a, α)`` such that ``y ≈ a·x^(−α)``: least squares on ``log y = log a − α·log x``.

    A decreasing law has α > 0 (Kaplan: L(N) = (N_c/N)^α_N, i.e. a = N_c^α_N). Needs at least two
    distinct positive x and positive y.
    """
    xs, ys = _check_fit_data(x, y)
    lx, ly = [math.log(v) for v in xs], [math.log(v) for v in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    slope = sum((u - mx) * (v - my) for u, v in zip(lx, ly, strict=True)) / sum((u - mx) ** 2 for u in lx)
    return math.exp(my - slope * mx), -slope


def _check_fit_data(x: Sequence[float], y: Sequence[float]) -> tuple[list[float], list[float]]:
    xs = [check_number(v, f"x[{i}]") for i, v in enumerate(check_sequence(x, "x"))]
    ys = [check_number(v, f"y[{i}]") for i, v in enumerate(check_sequence(y, "y"))]
    if len(xs) != len(ys):
        raise ValueError(f"x and y must have the same length, got {len(xs)} and {len(ys)}")
    if len(xs) < 2:
        raise ValueError(f"need at least 2 points to fit a power law, got {len(xs)}")
    for name, values in (("x", xs), ("y", ys)):
        bad = [v for v in values if not v > 0 or math.isinf(v)]
        if bad:
            raise ValueError(f"{name} must hold finite values > 0 (log-log fit), got {bad[0]}")
    if len(set(xs)) < 2:
        raise ValueError(f"x must hold at least 2 distinct values, got only {xs[0]}")
    return xs, ys


def training_costs(
    flops: float,
    *,
    peak_flops: float,
    utilization: float,
    power_watts: float,
    pue: float = 1.0,
    price_per_hour: float = 0.0,
) -> dict[str, float]:
    """Accelerator-hours, energy and price of ``flops`` FLOPs on accelerators of ``peak_flops``
    FLOP/s used at a fraction ``utilization`` (the MFU), each drawing ``power_watts``.

    ``hours = flops / (peak · utilization) / 3600``; ``kwh = hours · power / 1000 · pue`` (the
    data centre's power usage effectiveness adds cooling and losses); ``price = hours ·
    price_per_hour``. Returns ``{"hours", "kwh", "price"}``.
    """
    _check_positive(flops=flops, peak_flops=peak_flops, utilization=utilization,
                    power_watts=power_watts)
    if not 0 < utilization <= 1:
        raise ValueError(f"utilization ({utilization}) must be in (0, 1]")
    if not pue >= 1:
        raise ValueError(f"pue ({pue}) must be >= 1 (1 = no overhead)")
    if not price_per_hour >= 0:
        raise ValueError(f"price_per_hour ({price_per_hour}) must be >= 0")
    hours = flops / (peak_flops * utilization) / 3600
    return {"hours": hours, "kwh": hours * power_watts / 1000 * pue, "price": hours * price_per_hour}


def attention_matrix_bytes(
    context_length: int,
    *,
    n_heads: int = 1,
    batch_size: int = 1,
    bytes_per_value: int = 2,
    window: int | None = None,
) -> int:
    """Memory of one layer's attention scores, ``B·h·T·T`` values (``B·h·T·w`` when each query
    sees only the last ``window`` keys, a sliding window), of ``bytes_per_value`` bytes each."""
    for name, value in (("context_length", context_length), ("n_heads", n_heads),
                        ("batch_size", batch_size), ("bytes_per_value", bytes_per_value)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} ({value!r}) must be a positive integer")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise ValueError(f"window ({window!r}) must be a positive integer or None")
    keys = context_length if window is None else min(window, context_length)
    return batch_size * n_heads * context_length * keys * bytes_per_value
