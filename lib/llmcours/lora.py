"""LoRA: Low-Rank Adaptation of a frozen linear layer (Hu et al., 2021).

Instead of updating a d_out × d_in weight W, LoRA freezes it and learns a low-rank update

    W' = W + (α / r) · B A,      A ∈ R^{r × d_in},  B ∈ R^{d_out × r},  r ≪ min(d_in, d_out),

so the layer computes h = W x + b + (α / r) · B (A x). A is initialised like an ``nn.Linear``
(Kaiming-uniform, as ``peft``) and B with zeros, so at the start W' = W exactly and training
only moves away from the pre-trained model. Only r·(d_in + d_out) parameters per layer are
trained; after training, ``merge`` folds B A into W and the adapter costs nothing at inference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["LoRALinear", "apply_lora", "count_trainable"]


def _check_hyperparameters(r: int, alpha: float, dropout: float) -> None:
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise ValueError(f"r ({r!r}) must be an integer >= 1")
    if alpha <= 0:
        raise ValueError(f"alpha ({alpha}) must be > 0")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout ({dropout}) must be in [0, 1)")


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus the trainable low-rank update (α/r)·B A."""

    def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise ValueError(f"base ({type(base).__name__}) must be an nn.Linear")
        _check_hyperparameters(r, alpha, dropout)
        self.base, self.r, self.alpha = base, r, alpha
        self.scaling = alpha / r
        for p in self.base.parameters():
            p.requires_grad_(False)
        factory = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, **factory))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, **factory))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # as nn.Linear, and peft
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """W x + (α/r)·B A x: the frozen layer plus the low-rank update."""
        update = self.dropout(x) @ self.lora_A.T @ self.lora_B.T
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


def apply_lora(
    model: nn.Module,
    target_modules: str | Sequence[str],
    r: int,
    alpha: float,
    dropout: float = 0.0,
) -> nn.Module:
    """Freeze ``model`` and wrap its ``nn.Linear`` layers named by ``target_modules`` in LoRA.

    A layer matches when its full name equals a target or ends with ``"." + target`` (as
    ``peft``: ``"q_proj"`` matches ``model.layers.0.self_attn.q_proj``). The model is changed
    in place and returned; afterwards only the A and B matrices are trainable.
    """
    _check_hyperparameters(r, alpha, dropout)
    targets = [target_modules] if isinstance(target_modules, str) else list(target_modules)
    if not targets:
        raise ValueError("target_modules is empty: name at least one nn.Linear, e.g. 'q_proj'")
    matches = [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear)
        and any(name == t or name.endswith("." + t) for t in targets)
    ]
    if not matches:
        raise ValueError(f"target_modules ({targets}) matches no nn.Linear layer of the model")
    for p in model.parameters():
        p.requires_grad_(False)
    for name in matches:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    return model


def count_trainable(model: nn.Module) -> int:
    """Number of parameters with ``requires_grad`` (each shared tensor counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
