"""How much GPU memory a training run needs, against the card it will run on.

A CUDA configuration that does not fit the card fails after minutes of loading with
``CUDA out of memory``; this estimate says so before. Training memory is the sum of

* the weights (4 bytes per parameter in float32; mixed precision keeps float32 master weights),
* their gradients (4 bytes per *trainable* parameter),
* the optimiser state (Adam/AdamW: two float32 moments, 8 bytes per trainable parameter),
* the activations kept for the backward pass. For a Transformer of ``L`` layers, width ``d``,
  ``a`` heads, on ``b`` sequences of ``s`` tokens, Korthikanti et al. (2022, *Reducing
  Activation Recomputation in Large Transformer Models*, eq. 1) count
  ``s·b·d·(34 + 5·a·s/d)`` bytes per layer in 16-bit precision (twice that in float32), plus
  the logits and their gradient, ``2·b·s·V`` float32 numbers.

It is an order of magnitude, not an allocator trace (no CUDA context, no fragmentation): the
report keeps a 20 % margin. ``card_memory`` reads the card (``torch.cuda``) or, on a CPU,
``LLMCOURS_CARD_MEMORY_GB`` (default 15: a Colab T4, the smallest card the course targets).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ._checks import check_int
from .notebook import fr

__all__ = ["CARD_MEMORY_ENV", "MemoryEstimate", "card_memory", "memory_report",
           "training_memory"]

CARD_MEMORY_ENV = "LLMCOURS_CARD_MEMORY_GB"
T4_GB = 15.0  # what a Colab T4 offers (15 360 MiB): the smallest card the course targets
MARGIN = 1.2  # CUDA context, allocator fragmentation, temporary buffers
PRECISIONS = ("no", "bf16", "fp16")


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes needed by one training run, part by part (``activations`` is 0 when unknown)."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    activations_known: bool

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations


def _dims(model: nn.Module) -> tuple[int, int, int, int] | None:
    """(layers, width, heads, vocabulary) of a Transformer (ours or Hugging Face's), else None."""
    config = getattr(model, "config", None)
    names = (("n_layers", "d_model", "n_heads", "vocab_size"),
             ("num_hidden_layers", "hidden_size", "num_attention_heads", "vocab_size"))
    for keys in names:
        values = [getattr(config, k, None) for k in keys]
        if all(isinstance(v, int) and v > 0 for v in values):
            return tuple(values)  # type: ignore[return-value]
    return None


def training_memory(
    model: nn.Module, *, batch_size: int = 1, seq_len: int = 1, precision: str = "no",
    optimizer: str = "adam",
) -> MemoryEstimate:
    """Estimate the memory of training ``model`` on ``batch_size`` sequences of ``seq_len``.

    ``precision`` is ``fit``'s ``mixed_precision`` (``"no"``, ``"bf16"``, ``"fp16"``);
    ``optimizer`` is ``"adam"`` (two moments per parameter), ``"sgd"`` (none) or ``"none"``
    (inference: no gradient, no optimiser state, no activation kept).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model ({type(model).__name__}) must be a torch.nn.Module")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    seq_len = check_int(seq_len, "seq_len", minimum=1)
    if precision not in PRECISIONS:
        raise ValueError(f"precision ({precision!r}) must be one of {PRECISIONS}")
    if optimizer not in ("adam", "sgd", "none"):
        raise ValueError(f"optimizer ({optimizer!r}) must be 'adam', 'sgd' or 'none'")
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if optimizer == "none":
        return MemoryEstimate(weights, 0, 0, 0, True)
    gradients = 4 * trainable
    state = 8 * trainable if optimizer == "adam" else 0
    dims = _dims(model)
    activations = 0
    if dims is not None:
        layers, d, heads, vocab = dims
        s, b = seq_len, batch_size
        per_layer = s * b * d * (34 + 5 * heads * s / d)  # bytes at 16 bits (Korthikanti eq. 1)
        scale = 1 if precision in ("bf16", "fp16") else 2
        activations = int(layers * per_layer * scale + 2 * b * s * vocab * 4)
    return MemoryEstimate(weights, gradients, state, activations, dims is not None)


def card_memory(device: Any = None) -> int:
    """Bytes of memory of the GPU ``device`` (default: the current one), or of the simulated card.

    Without a GPU the card is ``LLMCOURS_CARD_MEMORY_GB`` gigabytes (default 15, a T4).
    """
    if torch.cuda.is_available() and getattr(device, "type", str(device or "cuda")) == "cuda":
        return torch.cuda.get_device_properties(device or 0).total_memory
    raw = os.environ.get(CARD_MEMORY_ENV, "").strip()
    try:
        gigabytes = float(raw) if raw else T4_GB
    except ValueError:
        raise ValueError(f"{CARD_MEMORY_ENV} ({raw!r}) must be a number of gigabytes") from None
    if not gigabytes > 0:
        raise ValueError(f"{CARD_MEMORY_ENV} ({raw!r}) must be > 0")
    return int(gigabytes * 1e9)


def memory_report(estimate: MemoryEstimate, card: int) -> tuple[bool, str]:
    """(fits, one French line): the estimate with its margin, against ``card`` bytes."""
    if not isinstance(estimate, MemoryEstimate):
        raise ValueError(f"estimate ({type(estimate).__name__}) must be a MemoryEstimate")
    card = check_int(card, "card", minimum=1)
    need = estimate.total * MARGIN
    fits = need <= card
    activations = fr(estimate.activations / 1e9, 2) if estimate.activations_known else "?"
    detail = (f"poids {fr(estimate.weights / 1e9, 2)} + gradients {fr(estimate.gradients / 1e9, 2)}"
              f" + Adam {fr(estimate.optimizer / 1e9, 2)} + activations {activations}")
    line = (f"mémoire estimée {fr(need / 1e9, 2)} Go (dont {round((MARGIN - 1) * 100)} % de marge ;"
            f" {detail}) pour une carte de {fr(card / 1e9, 1)} Go : "
            + ("tient" if fits else "NE TIENT PAS"))
    return fits, line
