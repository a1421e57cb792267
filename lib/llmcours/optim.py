"""Adam written from its equations, and learning-rate schedules with warm-up.

Adam (Kingma & Ba, 2015), at step t = 1, 2, … with gradient g_t = ∇_θ L_t(θ_{t−1}):

    m_t = β₁ m_{t−1} + (1 − β₁) g_t            first moment (moving mean)
    v_t = β₂ v_{t−1} + (1 − β₂) g_t²           second moment (moving mean of squares)
    m̂_t = m_t / (1 − β₁ᵗ),  v̂_t = v_t / (1 − β₂ᵗ)   bias correction (m_0 = v_0 = 0)
    θ_t = θ_{t−1} − η m̂_t / (√v̂_t + ε)

``weight_decay = λ`` adds λ θ_{t−1} to g_t (an L2 penalty, as ``torch.optim.Adam`` does): the
penalty then goes through the moments and is divided by √v̂_t like the rest of the gradient.
AdamW (Loshchilov & Hutter, 2019; ``decoupled_weight_decay=True`` or :class:`AdamW`) instead
shrinks the weights directly, θ ← θ − η λ θ_{t−1}, outside the moments.

Weight decay is for the weight matrices only: :func:`weight_decay_groups` splits a model's
parameters into the two groups an optimizer takes (matrices of the linear layers decayed;
biases, normalisation parameters and embeddings not).

Schedules give η_t for the update number t (counted from 1 like Adam's t; step 0 gives 0):
a linear warm-up η_t = η_max · t / N_warm for t ≤ N_warm, then a decay.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Real
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from llmcours._checks import check_number, check_optimizer

__all__ = ["Adam", "AdamW", "weight_decay_groups", "warmup_cosine", "warmup_inverse_sqrt", "warmup_exponential", "as_lambda_lr"]


def _check_adam(lr: float, betas: Any, eps: float, weight_decay: float) -> None:
    """Adam's hyper-parameters, or a ValueError naming the one that is wrong (nan included)."""
    for name, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
        if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < math.inf:
            raise ValueError(f"{name} ({value!r}) must be a finite number >= 0")
    if (
        not isinstance(betas, (tuple, list))
        or len(betas) != 2
        or not all(isinstance(b, Real) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)
    ):
        raise ValueError(f"betas ({betas!r}) must be a pair of numbers in [0, 1)")


def _moments(state: dict[str, Any], p: torch.Tensor) -> tuple[int, torch.Tensor, torch.Tensor]:
    """Advance the step count t of ``p`` and return (t, m, v); m_0 = v_0 = 0 at the first call."""
    if p.grad.is_sparse:
        raise ValueError("Adam does not support sparse gradients")
    if not state:
        state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
    state["step"] += 1
    return state["step"], state["m"], state["v"]


class Adam(torch.optim.Optimizer):
    """Adam, the update above; same arguments and results as ``torch.optim.Adam``.

    ``decoupled_weight_decay=True`` gives AdamW (same results as ``torch.optim.AdamW``): the
    decay θ ← θ − η λ θ is applied to the weights directly instead of being added to g_t.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_adam(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=bool(decoupled_weight_decay))
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One Adam update of every parameter with a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                t, m, v = _moments(self.state[p], p)
                g = p.grad
                if wd and group["decoupled_weight_decay"]:
                    p.mul_(1 - lr * wd)  # AdamW: θ ← θ − η λ θ, outside the moments
                elif wd:
                    g = g.add(p, alpha=wd)  # L2 penalty: g_t + λ θ_{t−1}
                m.lerp_(g, 1 - beta1)  # m_t = β₁ m_{t−1} + (1 − β₁) g_t = m_{t−1} + (1 − β₁)(g_t − m_{t−1})
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v_t = β₂ v_{t−1} + (1 − β₂) g_t²
                # θ_t = θ_{t−1} − η m̂_t / (√v̂_t + ε) with m̂_t = m_t / (1 − β₁ᵗ), √v̂_t = √v_t / √(1 − β₂ᵗ),
                # written in torch's order of operations so that float32 results agree to the bit.
                sqrt_v_hat = v.sqrt() / math.sqrt(1 - beta2**t)
                p.addcdiv_(m, sqrt_v_hat + eps, value=-lr / (1 - beta1**t))
        return loss


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): :class:`Adam` with decoupled weight decay, λ = 0.01
    by default as in ``torch.optim.AdamW``."""

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, decoupled_weight_decay=True)


def weight_decay_groups(
    model: nn.Module, weight_decay: float, *, decay_embeddings: bool = False
) -> list[dict[str, Any]]:
    """The trainable parameters of ``model`` as optimizer groups: ``[decayed, not decayed]``.

    Decayed (``weight_decay``): the weight matrices of the ``nn.Linear`` layers, the
    parameters that multiply activations. Not decayed (0): biases, the gains and shifts of the
    normalisations (shrinking them towards 0 would only fight the normalisation), and the
    ``nn.Embedding`` tables, whose rare tokens' rows get few gradients and would just fade,
    unless ``decay_embeddings=True`` (nanoGPT decays them; OLMo 2 does not). A matrix tied
    to an embedding (GPT's output layer) is treated as the embedding. Empty groups are left
    out. Use: ``AdamW(weight_decay_groups(model, 0.1), lr=...)``.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model ({type(model).__name__}) must be a torch.nn.Module")
    _check_adam(1.0, (0.9, 0.999), 1e-8, weight_decay)
    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    matrices = {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)}
    if decay_embeddings:
        matrices |= embeddings
    else:
        matrices -= embeddings
    params = [p for p in model.parameters() if p.requires_grad]  # each shared tensor once
    if not params:
        raise ValueError("model has no trainable parameter")
    groups = [
        {"params": [p for p in params if id(p) in matrices], "weight_decay": weight_decay},
        {"params": [p for p in params if id(p) not in matrices], "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


def _check_warmup(step: int, warmup_steps: int, lr_max: float, **others: float) -> None:
    """step, warmup_steps, lr_max: numbers >= 0; ``others`` (total_steps, gamma...): numbers."""
    for name, value in {"step": step, "warmup_steps": warmup_steps, "lr_max": lr_max}.items():
        check_number(value, name, minimum=0)
    for name, value in others.items():
        check_number(value, name)


def warmup_cosine(step: int, warmup_steps: int, total_steps: int, lr_max: float, lr_min: float = 0.0) -> float:
    """Linear warm-up, then cosine annealing from ``lr_max`` to ``lr_min`` at ``total_steps``:

        η_t = η_max · t / N_warm                                         for t ≤ N_warm
        η_t = η_min + ½ (η_max − η_min)(1 + cos(π (t − N_warm) / (T − N_warm)))  for N_warm < t ≤ T
        η_t = η_min                                                      for t > T
    """
    _check_warmup(step, warmup_steps, lr_max, total_steps=total_steps, lr_min=lr_min)
    if total_steps < 1 or warmup_steps > total_steps:
        raise ValueError(f"total_steps ({total_steps}) must be >= 1 and >= warmup_steps ({warmup_steps})")
    if not 0 <= lr_min <= lr_max:
        raise ValueError(f"lr_min ({lr_min}) must be in [0, lr_max={lr_max}]")
    if step <= warmup_steps:
        return lr_max * step / warmup_steps if warmup_steps else lr_max
    if step >= total_steps:
        return lr_min
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * progress))


def warmup_inverse_sqrt(step: int, warmup_steps: int, lr_max: float) -> float:
    """Linear warm-up, then decay in 1/√t (the schedule of *Attention Is All You Need*):

        η_t = η_max · t / N_warm        for t ≤ N_warm
        η_t = η_max · √(N_warm / t)     for t > N_warm

    The course writes the decay η_max/√t; the factor √N_warm makes both pieces equal η_max at
    t = N_warm, so the curve has no jump.
    """
    _check_warmup(step, warmup_steps, lr_max)
    if warmup_steps < 1:
        raise ValueError(f"warmup_steps ({warmup_steps}) must be >= 1 for the inverse square root")
    if step <= warmup_steps:
        return lr_max * step / warmup_steps
    return lr_max * math.sqrt(warmup_steps / step)


def warmup_exponential(step: int, warmup_steps: int, lr_max: float, gamma: float) -> float:
    """Linear warm-up, then exponential decay by ``gamma`` per step:

        η_t = η_max · t / N_warm          for t ≤ N_warm
        η_t = η_max · γ^(t − N_warm)      for t > N_warm,  0 < γ ≤ 1
    """
    _check_warmup(step, warmup_steps, lr_max, gamma=gamma)
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma ({gamma}) must be in (0, 1]")
    if step <= warmup_steps:
        return lr_max * step / warmup_steps if warmup_steps else lr_max
    return lr_max * gamma ** (step - warmup_steps)


def as_lambda_lr(optimizer: torch.optim.Optimizer, schedule_fn: Callable[..., float], **kwargs: Any) -> LambdaLR:
    """A ``LambdaLR`` that sets every group's lr to ``schedule_fn(t, **kwargs)``.

    Call ``scheduler.step()`` after each ``optimizer.step()``: update number t = 1, 2, … then
    uses η_t (LambdaLR counts from 0, hence the ``+ 1``). The optimizer's own ``lr`` is replaced.
    """
    factors = []
    for group in check_optimizer(optimizer, "optimizer").param_groups:
        base = group.get("initial_lr", group["lr"])
        if base <= 0:
            raise ValueError(f"optimizer lr ({base}) must be > 0 to be rescaled by LambdaLR")
        factors.append(lambda s, base=base: schedule_fn(s + 1, **kwargs) / base)
    return LambdaLR(optimizer, factors)
