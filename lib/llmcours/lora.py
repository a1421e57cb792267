"""LoRA: Low-Rank Adaptation of a frozen linear layer (Hu et al., 2021).

Instead of updating a d_out × d_in weight W, LoRA freezes it and learns a low-rank update

    W' = W + (α / r) · B A,      A ∈ R^{r × d_in},  B ∈ R^{d_out × r},  r ≪ min(d_in, d_out),

so the layer computes h = W x + b + (α / r) · B (A x). A is initialised like an ``nn.Linear``
(Kaiming-uniform, as ``peft``) and B with zeros, so at the start W' = W exactly and training
only moves away from the pre-trained model. Only r·(d_in + d_out) parameters per layer are
trained; after training, ``merge`` folds B A into W and the adapter costs nothing at inference.
The layers, their initialisation and the parameter counts are those of ``peft``'s LoRA
(``LoraConfig(r, lora_alpha, target_modules)``); ``tests/test_lora.py`` checks the parity.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import nn

from llmcours._checks import check_int, check_module

__all__ = ["LoRALinear", "apply_lora", "count_trainable"]


def _check_hyperparameters(r: int, alpha: float, dropout: float) -> int:
    """``r`` as an int (>= 1); ``alpha`` > 0 and finite; ``dropout`` in [0, 1)."""
    r = check_int(r, "r", minimum=1)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < math.inf:
        raise ValueError(f"alpha ({alpha!r}) must be a finite number > 0")
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
        raise ValueError(f"dropout ({dropout!r}) must be a number in [0, 1)")
    return r


def _check_base(base: nn.Module) -> nn.Linear:
    if not isinstance(base, nn.Linear):
        raise ValueError(f"base ({type(base).__name__}) must be an nn.Linear")
    return base


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus the trainable low-rank update (α/r)·B A."""

    def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.base = _check_base(base)
        self.r = _check_hyperparameters(r, alpha, dropout)
        self.alpha = alpha
        self.scaling = alpha / self.r  # α/r
        self.base.requires_grad_(False)  # W (and b) stay frozen
        d_in, d_out = base.in_features, base.out_features
        factory = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.lora_A = nn.Parameter(torch.empty(self.r, d_in, **factory))  # A: r × d_in
        self.lora_B = nn.Parameter(torch.zeros(d_out, self.r, **factory))  # B: d_out × r, B = 0
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # as nn.Linear, and peft
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """h = W x + b + (α/r)·B A x: the frozen layer plus the low-rank update."""
        update = self.dropout(x) @ self.lora_A.T @ self.lora_B.T  # B (A x), never B A itself
        return self.base(x) + self.scaling * update

    def delta_weight(self) -> torch.Tensor:
        """(α/r)·B A, the d_out × d_in update added to W."""
        return self.scaling * (self.lora_B @ self.lora_A)

    @torch.no_grad()
    def merge(self) -> nn.Linear:
        """A new ``nn.Linear`` with weight W + (α/r)·B A (and the same bias)."""
        merged = nn.Linear(
            self.base.in_features,
            self.base.out_features,
            bias=self.base.bias is not None,
            device=self.base.weight.device,
            dtype=self.base.weight.dtype,
        )
        merged.weight.copy_(self.base.weight + self.delta_weight())
        if self.base.bias is not None:
            merged.bias.copy_(self.base.bias)
        return merged

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha}"


def _check_targets(target_modules: str | Sequence[str]) -> list[str]:
    targets = [target_modules] if isinstance(target_modules, str) else target_modules
    if not isinstance(targets, Sequence) or not all(isinstance(t, str) and t for t in targets):
        raise ValueError(f"target_modules ({target_modules!r}) must be a layer name or a list of "
                         "names, e.g. ['q_proj', 'v_proj']")
    if not targets:
        raise ValueError("target_modules is empty: name at least one nn.Linear, e.g. 'q_proj'")
    return list(targets)


def _matching_linears(model: nn.Module, targets: list[str]) -> list[str]:
    """Names of the ``nn.Linear`` layers named ``t`` or ``*.t`` for a target t (as ``peft``:
    ``"q_proj"`` matches ``model.layers.0.self_attn.q_proj``)."""
    check_module(model, "model")
    names = [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear)
        and any(name == t or name.endswith("." + t) for t in targets)
    ]
    if not names:
        raise ValueError(f"target_modules ({targets}) matches no nn.Linear layer of the model")
    return names


def apply_lora(
    model: nn.Module,
    target_modules: str | Sequence[str],
    r: int,
    alpha: float,
    dropout: float = 0.0,
) -> nn.Module:
    """Freeze ``model`` and wrap its ``nn.Linear`` layers named by ``target_modules`` in LoRA.

    The model is changed in place and returned; afterwards only the A and B matrices are
    trainable.
    """
    _check_hyperparameters(r, alpha, dropout)
    names = _matching_linears(model, _check_targets(target_modules))
    model.requires_grad_(False)  # every pre-trained weight is frozen
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)  # "" is the model itself
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    return model


def count_trainable(model: nn.Module) -> int:
    """Number of parameters with ``requires_grad`` (each shared tensor counted once)."""
    return sum(p.numel() for p in check_module(model, "model").parameters() if p.requires_grad)
