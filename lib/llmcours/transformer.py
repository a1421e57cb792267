"""A tiny GPT: a decoder-only Transformer written top to bottom, nanoGPT style.

    x_0 = E[idx] + P[0..T−1]                         token embeddings + learned positions
    x_l = x_{l−1} + MHA(LN(x_{l−1}), causal mask)    for each of the L blocks:
    x_l = x_l + FFN(LN(x_l))                         FFN(x) = W_2 GELU(W_1 x + b_1) + b_2
    logits = LN(x_L) Eᵀ                              output layer tied to the embeddings

The blocks are **pre-norm** (LayerNorm *before* each sub-layer, inside the residual branch, as in
GPT-2 and most LLMs since): the residual stream ``x`` is a plain sum, its gradient reaches the
first layers unchanged, and deep stacks train without a long warm-up. The original Transformer
(and the course's "Add & Norm" figure) is **post-norm**, ``x = LN(x + sublayer(x))``;
``TransformerBlock(..., pre_norm=False)`` gives that variant for comparison.

Parameter count: each block has 4·d² (W^Q, W^K, W^V, W^O) + 8·d² (FFN with d_ff = 4d) = 12·d²
weights, and the (tied) embedding V·d, hence ``estimate_gpt_params = 12·L·d² + V·d``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from llmcours.attention import MultiHeadAttention, causal_mask

__all__ = ["FeedForward", "TransformerBlock", "GPTConfig", "GPT", "estimate_gpt_params"]


class FeedForward(nn.Module):
    """Position-wise feed-forward network: ``W_2 act(W_1 x + b_1) + b_2``, ``d_ff = 4·d_model``
    by default (GELU as in GPT; the original paper used ReLU)."""

    def __init__(self, d_model: int, d_ff: int | None = None, dropout: float = 0.0, activation: str = "gelu") -> None:
        super().__init__()
        d_ff = 4 * d_model if d_ff is None else d_ff
        if d_model < 1 or d_ff < 1:
            raise ValueError(f"d_model ({d_model}) and d_ff ({d_ff}) must be positive")
        acts = {"gelu": nn.GELU, "relu": nn.ReLU}
        if activation not in acts:
            raise ValueError(f"activation ({activation!r}) must be one of {sorted(acts)}")
        self.net = nn.Sequential(
            nn.Linear(d_model, d_ff), acts[activation](), nn.Linear(d_ff, d_model), nn.Dropout(dropout)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """FFN(x) = W_2 φ(W_1 x + b_1) + b_2, position by position: same shape as ``x``."""
        return self.net(x)


class TransformerBlock(nn.Module):
    """Self-attention then feed-forward, each wrapped in a residual connection and a LayerNorm.

    ``pre_norm=True`` (default, GPT-2): ``x + f(LN(x))``; ``pre_norm=False`` (Vaswani et al.):
    ``LN(x + f(x))``. ``forward(x, mask=None)``, ``mask`` as in :class:`MultiHeadAttention`
    (bool, True = may attend).
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, pre_norm: bool = True) -> None:
        super().__init__()
        self.pre_norm = pre_norm
        self.ln_1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(d_model)
        self.ffn = FeedForward(d_model, dropout=dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attention then FFN, each with its residual connection and LayerNorm: ``(B, T, d_model)``."""
        if self.pre_norm:
            x = x + self.drop(self.attn(self.ln_1(x), mask=mask)[0])
            return x + self.ffn(self.ln_2(x))
        x = self.ln_1(x + self.drop(self.attn(x, mask=mask)[0]))  # "Add & Norm"
        return self.ln_2(x + self.ffn(x))


@dataclass
class GPTConfig:
    """Sizes of a :class:`GPT`: vocabulary ``V``, context length ``T_max``, width ``d_model``,
    ``n_heads`` heads per block, ``n_layers`` blocks ``L``, dropout probability."""

    vocab_size: int
    context_length: int
    d_model: int
    n_heads: int
    n_layers: int
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "context_length", "d_model", "n_heads", "n_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} ({getattr(self, name)}) must be a positive integer")
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads ({self.n_heads}) must divide d_model ({self.d_model})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout ({self.dropout}) must be in [0, 1)")


class GPT(nn.Module):
    """Decoder-only Transformer language model: ``forward(idx (B, T)) -> logits (B, T, V)``.

    ``logits[b, t]`` scores the token that follows ``idx[b, : t + 1]`` (causal mask): train it
    with ``cross_entropy(logits[:, :-1], idx[:, 1:])``. A 1-D ``idx (T,)`` gives ``(T, V)``.
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)  # E
        self.pos_emb = nn.Embedding(c.context_length, c.d_model)  # P, learned positions
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(c.d_model, c.n_heads, c.dropout) for _ in range(c.n_layers)
        )
        self.ln_f = nn.LayerNorm(c.d_model)  # pre-norm needs a last LayerNorm before the output
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.lm_head.weight = self.tok_emb.weight  # weight tying: V·d parameters saved
        self.register_buffer("mask", causal_mask(c.context_length), persistent=False)
        self.apply(self._init_weights)
        # GPT-2: scale the layers that write into the residual stream by 1/√(2L), so that the
        # variance of x does not grow with the number of blocks.
        for block in self.blocks:
            for lin in (block.attn.w_o, block.ffn.net[2]):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * c.n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Token ids ``idx (B, T)`` (or ``(T,)``) -> next-token logits ``(B, T, vocab_size)``."""
        if idx.dim() == 1:
            return self.forward(idx[None])[0]
        if idx.dim() != 2 or idx.dtype not in (torch.long, torch.int32):
            raise ValueError(f"idx must be an integer tensor of shape (B, T), got {tuple(idx.shape)} {idx.dtype}")
        T = idx.shape[1]
        if not 1 <= T <= self.config.context_length:
            raise ValueError(f"idx has length T={T}; expected 1 <= T <= context_length={self.config.context_length}")
        x = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(T, device=idx.device)))
        mask = self.mask[:T, :T]
        for block in self.blocks:
            x = block(x, mask)
        return self.lm_head(self.ln_f(x))

    def num_params(self) -> int:
        """Number of distinct parameters (the tied embedding counted once)."""
        return sum(p.numel() for p in self.parameters())


def estimate_gpt_params(n_layers: int, d_model: int, vocab_size: int) -> int:
    """``12·L·d² + V·d``: the weight matrices of the blocks plus the tied embedding.

    Not counted: biases and LayerNorms (about 13·d per block), the position table
    (``context_length·d``) and the final LayerNorm — a fraction of a percent at GPT-2 size.
    """
    for name, value in (("n_layers", n_layers), ("d_model", d_model), ("vocab_size", vocab_size)):
        if value < 1:
            raise ValueError(f"{name} ({value}) must be a positive integer")
    return 12 * n_layers * d_model**2 + vocab_size * d_model
