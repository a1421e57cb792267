"""Scaled dot-product attention, multi-head attention and sinusoidal positions.

The attention of *Attention Is All You Need* (Vaswani et al., 2017), in the course's notation:

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V

``S = Q Kᵀ / √d_k`` are the scores, ``A = softmax(S)`` (row by row) the attention weights: row
``i`` of ``A`` is the distribution of token ``i``'s attention over the keys. A boolean ``mask``
(``True`` = may attend) sets the forbidden scores to −∞ before the softmax, so their weight is 0
(the causal mask of a decoder is lower-triangular).

Multi-head attention projects the same inputs ``h`` times into spaces of size
``d_k = d_model / h``, attends in each, concatenates the heads and projects back:

    head_j = Attention(Q W_j^Q, K W_j^K, V W_j^V),    MultiHead = Concat(head_1..head_h) W^O

Conventions: tensors are batch-first, ``(B, T, d_model)``. Our mask says where attention is
**allowed**, the opposite of ``torch.nn.MultiheadAttention``'s boolean ``attn_mask`` (``True`` =
forbidden). A query row whose keys are all masked gets weights 0 and output 0 (not NaN), as
``torch.nn.functional.scaled_dot_product_attention`` does.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_int, check_sequence, check_tensor

__all__ = [
    "scaled_dot_product_attention",
    "causal_mask",
    "padding_mask",
    "MultiHeadAttention",
    "sinusoidal_positional_encoding",
]


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout_p: float) -> None:
    for name, x in (("q", q), ("k", k), ("v", v)):
        check_tensor(x, name, floating=True)
    if q.dim() < 2 or k.dim() < 2 or v.dim() < 2:
        raise ValueError(
            f"q, k, v must have at least 2 dimensions (..., T, d), got shapes "
            f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must share their last dimension d_k, got {q.shape[-1]} and {k.shape[-1]}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have the same length T_k, got {k.shape[-2]} and {v.shape[-2]}"
        )
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout_p ({dropout_p}) must be in [0, 1)")


def _check_mask(mask: torch.Tensor, scores_shape: torch.Size) -> None:
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor (True = may attend), got dtype {mask.dtype}")
    try:
        shape = torch.broadcast_shapes(mask.shape, scores_shape)
    except RuntimeError:
        shape = None
    if shape != scores_shape:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the scores' shape "
            f"{tuple(scores_shape)} (..., T_q, T_k)"
        )


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    dropout_p: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(softmax(Q Kᵀ / √d_k) V, A)`` for ``q (..., T_q, d_k)``, ``k (..., T_k, d_k)``,
    ``v (..., T_k, d_v)``.

    ``mask``: optional bool tensor broadcastable to ``(..., T_q, T_k)``, ``True`` where query
    ``i`` may attend to key ``j``. ``weights`` has shape ``(..., T_q, T_k)`` and each row sums to
    1, except fully masked rows, which are all zeros (so is their output). ``dropout_p > 0``
    drops attention weights before they multiply ``V`` (training only; the returned weights
    are the ones before dropout).
    """
    _check_qkv(q, k, v, dropout_p)
    d_k = q.shape[-1]
    # S = Q Kᵀ / √d_k, (..., T_q, T_k). Scaling Q (T_q·d_k numbers) rather than S (T_q·T_k) and
    # masking S in place spare two passes over, and two allocations of, the largest tensor.
    scores = (q / math.sqrt(d_k)) @ k.transpose(-2, -1)
    if mask is not None:
        _check_mask(mask, scores.shape)
        scores.masked_fill_(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # A: each row is a distribution over the keys
    if mask is not None:
        # A row with every key masked is softmax(−∞, …, −∞) = 0/0 = NaN: define it as zeros.
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    if dropout_p > 0:
        return F.dropout(weights, dropout_p) @ v, weights
    return weights @ v, weights


def causal_mask(T: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Lower-triangular ``(T, T)`` bool mask: token ``i`` may attend to tokens ``j ≤ i``."""
    T = check_int(T, "T (the sequence length)", minimum=1)
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def _check_lengths(lengths: torch.Tensor | list[int], T: int) -> tuple[torch.Tensor, int]:
    T = check_int(T, "T (the padded length)", minimum=0)
    if not torch.is_tensor(lengths):
        lengths = check_sequence(lengths, "lengths")
    lengths = torch.as_tensor(lengths)
    if (
        lengths.dim() != 1
        or lengths.is_floating_point()
        or lengths.is_complex()
        or lengths.dtype == torch.bool
        or (lengths < 0).any()
        or (lengths > T).any()
    ):
        raise ValueError(
            f"lengths ({lengths.tolist()}) must be a 1-D list of integers in [0, T={T}]"
        )
    return lengths, T


def padding_mask(lengths: torch.Tensor | list[int], T: int) -> torch.Tensor:
    """``(B, 1, T)`` bool mask allowing the first ``lengths[b]`` keys of sequence ``b``.

    It broadcasts over the queries; combine it with :func:`causal_mask` with ``&``.
    """
    lengths, T = _check_lengths(lengths, T)
    return (torch.arange(T, device=lengths.device) < lengths[:, None])[:, None, :]


def _check_mha_args(d_model: int, n_heads: int, dropout: float) -> tuple[int, int]:
    d_model = check_int(d_model, "d_model", minimum=1)
    n_heads = check_int(n_heads, "n_heads", minimum=1)
    if d_model % n_heads != 0:
        raise ValueError(f"n_heads ({n_heads}) must divide d_model ({d_model})")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout ({dropout}) must be in [0, 1)")
    return d_model, n_heads


def _check_mha_inputs(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, d_model: int
) -> None:
    for name, x in (("query", query), ("key", key), ("value", value)):
        check_tensor(x, name, floating=True)
        if x.dim() != 3 or x.shape[-1] != d_model:
            raise ValueError(
                f"{name} must have shape (B, T, d_model={d_model}), got {tuple(x.shape)}"
            )
    if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
        raise ValueError(
            f"key and value must have the same (B, T_k) and query the same B, got query "
            f"{tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
        )


class MultiHeadAttention(nn.Module):
    """Multi-head attention with ``n_heads`` heads of size ``d_k = d_model // n_heads``.

    ``W^Q, W^K, W^V`` (``w_q``, ``w_k``, ``w_v``) hold all heads side by side, ``d_model`` columns
    each; head ``j`` uses columns ``j·d_k … (j+1)·d_k``. ``dropout`` acts on the attention weights
    during training, as in ``nn.MultiheadAttention``.
    """

    def __init__(self, d_model: int, n_heads: int, bias: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        d_model, n_heads = _check_mha_args(d_model, n_heads, dropout)
        self.d_model, self.n_heads, self.d_k = d_model, n_heads, d_model // n_heads
        self.w_q = nn.Linear(d_model, d_model, bias=bias)
        self.w_k = nn.Linear(d_model, d_model, bias=bias)
        self.w_v = nn.Linear(d_model, d_model, bias=bias)
        self.w_o = nn.Linear(d_model, d_model, bias=bias)
        self.dropout_p = dropout

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape  # (B, T, d_model) -> (B, n_heads, T, d_k)
        return x.view(B, T, self.n_heads, self.d_k).transpose(1, 2)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        average_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(out (B, T_q, d_model), weights)``.

        ``key``/``value`` default to ``query`` (self-attention). ``mask``: bool, ``True`` = may
        attend, broadcastable to ``(B, T_q, T_k)`` (the same for every head) or to
        ``(B, n_heads, T_q, T_k)``. ``weights`` is averaged over the heads, ``(B, T_q, T_k)``, like
        torch's ``average_attn_weights=True``; with ``average_weights=False`` it is per head,
        ``(B, n_heads, T_q, T_k)``.
        """
        key = query if key is None else key
        value = key if value is None else value
        _check_mha_inputs(query, key, value, self.d_model)
        q = self._split_heads(self.w_q(query))
        k = self._split_heads(self.w_k(key))
        v = self._split_heads(self.w_v(value))
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)  # (B, T_q, T_k) -> (B, 1, T_q, T_k): the same for every head
        dropout_p = self.dropout_p if self.training else 0.0
        heads, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p=dropout_p)
        B, _, T_q, _ = heads.shape  # Concat(head_1, ..., head_h): (B, T_q, d_model)
        out = self.w_o(heads.transpose(1, 2).reshape(B, T_q, self.d_model))
        return out, (weights.mean(dim=1) if average_weights else weights)

    @classmethod
    def from_torch(cls, m: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of an ``nn.MultiheadAttention`` (same ``embed_dim`` for q, k, v).

        torch stacks ``W^Q, W^K, W^V`` in one ``in_proj_weight`` of shape ``(3·d_model,
        d_model)``. Our module is always batch-first: if ``m.batch_first`` is False, the copy
        computes the same thing but expects ``(B, T, d)`` where ``m`` expects ``(T, B, d)``.
        Remember that ``m``'s boolean ``attn_mask`` means *forbidden*: pass ``~attn_mask`` to us.
        """
        if not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:
            raise ValueError(
                "m must use kdim = vdim = embed_dim, no bias_k/bias_v, no add_zero_attn"
            )
        bias = m.in_proj_bias is not None
        new = cls(m.embed_dim, m.num_heads, bias=bias, dropout=m.dropout).to(m.in_proj_weight.dtype)
        with torch.no_grad():
            for lin, w in zip((new.w_q, new.w_k, new.w_v), m.in_proj_weight.chunk(3), strict=True):
                lin.weight.copy_(w)
            new.w_o.weight.copy_(m.out_proj.weight)
            if bias:
                for lin, b in zip(
                    (new.w_q, new.w_k, new.w_v), m.in_proj_bias.chunk(3), strict=True
                ):
                    lin.bias.copy_(b)
                new.w_o.bias.copy_(m.out_proj.bias)
        return new


def sinusoidal_positional_encoding(max_len: int, d_model: int) -> torch.Tensor:
    """``(max_len, d_model)`` table of Vaswani et al.'s fixed positions:

        PE[pos, 2i]   = sin(pos / 10000^(2i / d_model)),
        PE[pos, 2i+1] = cos(pos / 10000^(2i / d_model))

    Each pair of columns is a rotation at its own frequency, so ``PE[pos + k]`` is a linear
    function of ``PE[pos]``. An odd ``d_model`` drops the last cosine column.
    """
    max_len = check_int(max_len, "max_len", minimum=1)
    d_model = check_int(d_model, "d_model", minimum=1)
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]
    inv_freq = torch.pow(10000.0, -torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(pos * inv_freq)
    pe[:, 1::2] = torch.cos(pos * inv_freq)[:, : d_model // 2]
    return pe
