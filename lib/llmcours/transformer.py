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

**KV cache.** Generating token t+1 only needs the query of the *new* token; the keys and values of
the tokens before it do not change (causal mask). :class:`KVCache` keeps them, one ``(K, V)`` pair
per block of shape ``(B, h, t, d_k)``, so that ``forward(new_ids, past_key_values=cache,
use_cache=True)`` computes the new positions only: each new token costs O(t·d) in attention
instead of recomputing the whole O(t²·d) prefix (the Hugging Face ``past_key_values`` idiom).

Parameter count: each block has 4·d² (W^Q, W^K, W^V, W^O) + 8·d² (FFN with d_ff = 4d) = 12·d²
weights, and the (tied) embedding V·d, hence ``estimate_gpt_params = 12·L·d² + V·d``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from llmcours._checks import check_int, check_tensor
from llmcours.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention

__all__ = [
    "FeedForward",
    "TransformerBlock",
    "GPTConfig",
    "GPT",
    "GPTOutput",
    "KVCache",
    "estimate_gpt_params",
]


class KVCache:
    """Keys and values of the tokens already processed, per block: ``K, V`` of shape
    ``(B, n_heads, t, d_k)``. Same method names as Hugging Face's ``DynamicCache``."""

    def __init__(self) -> None:
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append the new positions' ``k, v`` to block ``layer``'s cache; return all of them."""
        if layer == len(self.keys):  # first call for this block
            self.keys.append(k)
            self.values.append(v)
        else:
            self.keys[layer] = torch.cat([self.keys[layer], k], dim=-2)
            self.values[layer] = torch.cat([self.values[layer], v], dim=-2)
        return self.keys[layer], self.values[layer]

    def get_seq_length(self) -> int:
        """Number of positions held, ``t``."""
        return self.keys[0].shape[-2] if self.keys else 0

    def reorder_cache(self, beam_idx: torch.Tensor) -> None:
        """Keep the rows ``beam_idx`` of the batch, in that order (beam search follows its beams)."""
        self.keys = [k.index_select(0, beam_idx.to(k.device)) for k in self.keys]
        self.values = [v.index_select(0, beam_idx.to(v.device)) for v in self.values]


class GPTOutput(NamedTuple):
    """``GPT.forward(..., use_cache=True)``: ``logits (B, T, V)`` and the updated cache."""

    logits: torch.Tensor
    past_key_values: KVCache


class FeedForward(nn.Module):
    """Position-wise feed-forward network: ``W_2 act(W_1 x + b_1) + b_2``, ``d_ff = 4·d_model``
    by default (GELU as in GPT; the original paper used ReLU)."""

    def __init__(self, d_model: int, d_ff: int | None = None, dropout: float = 0.0, activation: str = "gelu") -> None:
        super().__init__()
        d_model = check_int(d_model, "d_model", minimum=1)
        d_ff = 4 * d_model if d_ff is None else check_int(d_ff, "d_ff", minimum=1)
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
        d_model = check_int(d_model, "d_model", minimum=1)
        self.pre_norm = pre_norm
        self.ln_1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(d_model)
        self.ffn = FeedForward(d_model, dropout=dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, cache: KVCache | None = None, layer: int = 0
    ) -> torch.Tensor:
        """Attention then FFN, each with its residual connection and LayerNorm: ``(B, T, d_model)``.

        With a ``cache``, ``x`` holds the new positions only; their keys and values are appended
        to ``cache`` (slot ``layer``) and the queries attend to all the cached ones.
        """
        if self.pre_norm:
            x = x + self.drop(self._self_attention(self.ln_1(x), mask, cache, layer))
            return x + self.ffn(self.ln_2(x))
        x = self.ln_1(x + self.drop(self._self_attention(x, mask, cache, layer)))  # "Add & Norm"
        return self.ln_2(x + self.ffn(x))

    def _self_attention(
        self, x: torch.Tensor, mask: torch.Tensor | None, cache: KVCache | None, layer: int
    ) -> torch.Tensor:
        if cache is None:
            return self.attn(x, mask=mask)[0]
        a = self.attn  # the same projections as MultiHeadAttention.forward, K and V cached
        q = a._split_heads(a.w_q(x))
        k, v = cache.update(layer, a._split_heads(a.w_k(x)), a._split_heads(a.w_v(x)))
        heads, _ = scaled_dot_product_attention(q, k, v, mask, dropout_p=a.dropout_p if a.training else 0.0)
        B, _, T, _ = heads.shape
        return a.w_o(heads.transpose(1, 2).reshape(B, T, a.d_model))


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
            setattr(self, name, check_int(getattr(self, name), name, minimum=1))
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

    def forward(
        self, idx: torch.Tensor, past_key_values: KVCache | None = None, use_cache: bool = False
    ) -> torch.Tensor | GPTOutput:
        """Token ids ``idx (B, T)`` (or ``(T,)``) -> next-token logits ``(B, T, vocab_size)``.

        KV cache: with ``use_cache=True`` (or a ``past_key_values`` cache given), ``idx`` holds the
        positions that follow those in the cache, the cache is updated in place and the result is
        ``GPTOutput(logits, past_key_values)``; the logits equal those of the whole sequence.
        """
        if check_tensor(idx, "idx").dim() == 1:
            out = self.forward(idx[None], past_key_values, use_cache)
            return out[0] if isinstance(out, torch.Tensor) else GPTOutput(out.logits[0], out.past_key_values)
        cache = KVCache() if use_cache and past_key_values is None else past_key_values
        start = cache.get_seq_length() if cache is not None else 0  # positions already cached
        self._check_idx(idx, start)
        T = idx.shape[1]
        positions = torch.arange(start, start + T, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(positions))  # x_0 = E[idx] + P[t]
        mask = self.mask[start : start + T, : start + T]  # new position t sees keys 0..t
        for layer, block in enumerate(self.blocks):
            x = block(x, mask, cache, layer)  # x_l = Block_l(x_{l-1})
        logits = self.lm_head(self.ln_f(x))  # LN(x_L) Eᵀ
        return logits if cache is None else GPTOutput(logits, cache)

    def _check_idx(self, idx: torch.Tensor, start: int) -> None:
        if idx.dim() != 2 or idx.dtype not in (torch.long, torch.int32):
            raise ValueError(f"idx must be an integer tensor of shape (B, T), got {tuple(idx.shape)} {idx.dtype}")
        T, n_ctx = idx.shape[1], self.config.context_length
        if T < 1 or start + T > n_ctx:
            raise ValueError(
                f"idx has length T={T} after {start} cached positions; expected "
                f"1 <= T and cached + T <= context_length={n_ctx}"
            )
        if idx.numel() and (idx.min() < 0 or idx.max() >= self.config.vocab_size):
            raise ValueError(
                f"idx holds token ids in [{int(idx.min())}, {int(idx.max())}]; expected ids in "
                f"[0, vocab_size={self.config.vocab_size})"
            )

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
