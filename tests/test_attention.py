"""Tests for llmcours.attention: parity with torch (F.scaled_dot_product_attention,
nn.MultiheadAttention), the course's 3-token example, masks and bad input.

Tolerances: float64 comparisons use atol 1e-10; float32 ones atol 1e-6 (as stated per test).
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from llmcours.attention import (
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)


def assert_close(actual, expected, atol, what):
    diff = (actual - expected).abs().max().item()
    assert diff <= atol, f"{what}: max |difference| {diff:.3g} > atol {atol:g}"


# --- the course's worked example (3 tokens, d_k = 2) -------------------------------------------

def test_course_three_token_example():
    Q = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    K = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    V = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    S_course = torch.tensor([[0.707, 0.707, 0.0], [0.0, 0.707, 0.707], [0.707, 1.414, 0.707]])
    A_course = torch.tensor([[0.401, 0.401, 0.198], [0.198, 0.401, 0.401], [0.248, 0.503, 0.248]])
    out, A = scaled_dot_product_attention(Q, K, V)
    S = Q @ K.T / math.sqrt(2)
    assert_close(S, S_course, 5e-4, "scores S vs the course (3 decimals)")
    assert_close(A, A_course, 5e-4, "weights A vs the course (3 decimals)")
    assert torch.equal(A.round(decimals=3), A_course), f"A rounded to 3 decimals: {A.round(decimals=3)}"
    assert_close(out, A @ V, 1e-7, "output vs A V")
    assert A[2].argmax() == 1, "token 3 must attend most to token 2 (0.503)"


# --- parity with torch's scaled_dot_product_attention ------------------------------------------

@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-10), (torch.float32, 1e-6)])
@pytest.mark.parametrize("masking", ["none", "causal", "padding", "causal+padding"])
def test_sdpa_matches_torch(dtype, atol, masking):
    g = torch.Generator().manual_seed(0)
    B, H, T, d_k, d_v = 3, 2, 7, 8, 5
    q = torch.randn(B, H, T, d_k, generator=g, dtype=dtype)
    k = torch.randn(B, H, T, d_k, generator=g, dtype=dtype)
    v = torch.randn(B, H, T, d_v, generator=g, dtype=dtype)
    mask = None
    if "causal" in masking:
        mask = causal_mask(T)
    if "padding" in masking:
        pad = padding_mask([7, 4, 1], T)[:, None]  # (B, 1, 1, T)
        mask = pad if mask is None else mask & pad
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert_close(out, expected, atol, f"output ({masking}, {dtype})")
    ones = torch.ones(B, H, T, dtype=dtype)
    assert_close(weights.sum(-1), ones, atol, "rows of A must sum to 1")
    if mask is not None:
        assert (weights[~mask.expand_as(weights)] == 0).all(), "masked positions must get weight 0"


def test_cross_attention_lengths_differ():
    g = torch.Generator().manual_seed(1)
    q = torch.randn(2, 3, 4, generator=g, dtype=torch.float64)
    k = torch.randn(2, 6, 4, generator=g, dtype=torch.float64)
    v = torch.randn(2, 6, 9, generator=g, dtype=torch.float64)
    out, weights = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 9) and weights.shape == (2, 3, 6)
    assert_close(out, F.scaled_dot_product_attention(q, k, v), 1e-10, "cross-attention output")


def test_fully_masked_row_gives_zeros_not_nan():
    q = torch.randn(1, 3, 4)
    mask = torch.tensor([[True, False, False], [False, False, False], [True, True, True]])
    out, weights = scaled_dot_product_attention(q, q, q, mask)
    assert not torch.isnan(out).any() and not torch.isnan(weights).any(), "NaN in a masked row"
    assert (weights[0, 1] == 0).all() and (out[0, 1] == 0).all(), "fully masked row must be zeros"
    assert_close(out, F.scaled_dot_product_attention(q, q, q, attn_mask=mask), 1e-6, "vs torch")


def test_fully_masked_row_has_finite_gradients():
    q = torch.randn(1, 3, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True, True, False], [False, False, False], [True, True, True]])
    out, _ = scaled_dot_product_attention(q, q, q, mask)
    out.sum().backward()
    assert torch.isfinite(q.grad).all(), f"NaN/inf gradient: {q.grad}"


def test_dropout_on_weights():
    torch.manual_seed(0)
    q = torch.randn(2, 50, 8)
    out, w = scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert_close(w.sum(-1), torch.ones(2, 50), 1e-5, "returned weights are before dropout")
    assert not torch.allclose(out, w @ q), "dropout must change the output"
    mha = MultiHeadAttention(8, 2, dropout=0.5).eval()
    assert torch.equal(mha(q)[0], mha(q)[0]), "no dropout in eval mode"


def test_causal_mask_and_padding_mask():
    expected = torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.bool)
    assert torch.equal(causal_mask(3), expected), f"causal_mask(3) = {causal_mask(3)}"
    pm = padding_mask([2, 0], 3)
    assert pm.shape == (2, 1, 3) and pm.tolist() == [[[True, True, False]], [[False, False, False]]]


def test_changing_a_future_token_does_not_change_the_past():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(5, 4, generator=g)
    out, _ = scaled_dot_product_attention(x, x, x, causal_mask(5))
    x2 = x.clone()
    x2[3:] += 10.0
    out2, _ = scaled_dot_product_attention(x2, x2, x2, causal_mask(5))
    assert torch.equal(out[:3], out2[:3]), "positions 0..2 changed when tokens 3..4 changed"


@settings(max_examples=40, deadline=None)
@given(T_q=st.integers(1, 6), T_k=st.integers(1, 6), d=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_weights_are_distributions(T_q, T_k, d, seed):
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(T_q, d, generator=g), torch.randn(T_k, d, generator=g)
    v = torch.randn(T_k, 3, generator=g)
    out, weights = scaled_dot_product_attention(q, k, v)
    assert (weights >= 0).all()
    assert_close(weights.sum(-1), torch.ones(T_q), 1e-5, "row sums")
    # each output is a convex combination of the values: inside their bounding box
    assert (out <= v.max(0).values + 1e-5).all() and (out >= v.min(0).values - 1e-5).all()


# --- MultiHeadAttention vs nn.MultiheadAttention ------------------------------------------------

def _pair(d_model=12, n_heads=3, bias=True, seed=0):
    torch.manual_seed(seed)
    ref = nn.MultiheadAttention(d_model, n_heads, bias=bias, batch_first=True).double().eval()
    return ref, MultiHeadAttention.from_torch(ref).eval()


@pytest.mark.parametrize("bias", [True, False])
def test_mha_from_torch_self_attention(bias):
    ref, ours = _pair(bias=bias)
    x = torch.randn(2, 5, 12, dtype=torch.float64)
    out, w = ours(x)
    out_ref, w_ref = ref(x, x, x)
    assert_close(out, out_ref, 1e-10, "MHA output")
    assert_close(w, w_ref, 1e-10, "head-averaged weights")
    _, w_heads = ours(x, average_weights=False)
    _, w_heads_ref = ref(x, x, x, average_attn_weights=False)
    assert w_heads.shape == (2, 3, 5, 5)
    assert_close(w_heads, w_heads_ref, 1e-10, "per-head weights")


def test_mha_from_torch_cross_attention_with_masks():
    ref, ours = _pair()
    q = torch.randn(3, 4, 12, dtype=torch.float64)
    kv = torch.randn(3, 6, 12, dtype=torch.float64)
    lengths = [6, 3, 1]
    allowed = padding_mask(lengths, 6)  # ours: True = may attend, (B, 1, T_k)
    key_padding_mask = ~allowed[:, 0]  # torch: True = padding (ignored)
    out, w = ours(q, kv, kv, mask=allowed)
    out_ref, w_ref = ref(q, kv, kv, key_padding_mask=key_padding_mask)
    assert_close(out, out_ref, 1e-10, "output with padding mask")
    assert_close(w, w_ref, 1e-10, "weights with padding mask")


def test_mha_from_torch_causal_mask():
    ref, ours = _pair()
    x = torch.randn(2, 6, 12, dtype=torch.float64)
    out, w = ours(x, mask=causal_mask(6))
    out_ref, w_ref = ref(x, x, x, attn_mask=~causal_mask(6))  # torch: True = NOT allowed
    assert_close(out, out_ref, 1e-10, "output with causal mask")
    assert_close(w, w_ref, 1e-10, "weights with causal mask")


def test_mha_float32_fast_path_parity():
    torch.manual_seed(3)
    ref = nn.MultiheadAttention(16, 4, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(ref).eval()
    x = torch.randn(2, 9, 16)
    with torch.no_grad():  # torch takes its fused C++ path here
        out_ref, w_ref = ref(x, x, x)
        out, w = ours(x)
    assert_close(out, out_ref, 1e-6, "float32 output")
    assert_close(w, w_ref, 1e-6, "float32 weights")


def test_mha_gradients_flow():
    _, ours = _pair()
    x = torch.randn(2, 4, 12, dtype=torch.float64, requires_grad=True)
    out, _ = ours(x, mask=causal_mask(4))
    out.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in ours.parameters())
    assert torch.isfinite(x.grad).all()


# --- positional encoding -------------------------------------------------------------------------

def test_sinusoidal_positional_encoding_formula():
    pe = sinusoidal_positional_encoding(50, 16)
    assert pe.shape == (50, 16)
    pos, i = 7, 3
    angle = pos / 10000 ** (2 * i / 16)
    assert abs(pe[pos, 2 * i].item() - math.sin(angle)) < 1e-6
    assert abs(pe[pos, 2 * i + 1].item() - math.cos(angle)) < 1e-6
    assert torch.equal(pe[0, 0::2], torch.zeros(8)) and torch.equal(pe[0, 1::2], torch.ones(8))
    assert sinusoidal_positional_encoding(4, 5).shape == (4, 5)


# --- bad input -------------------------------------------------------------------------------------

def test_bad_inputs_raise_value_error():
    q = torch.randn(2, 3, 4)
    with pytest.raises(ValueError, match="d_k"):
        scaled_dot_product_attention(q, torch.randn(2, 3, 5), torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="T_k"):
        scaled_dot_product_attention(q, q, torch.randn(2, 4, 4))
    with pytest.raises(ValueError, match="mask"):
        scaled_dot_product_attention(q, q, q, torch.ones(3, 3))  # float mask
    with pytest.raises(ValueError, match="mask"):
        scaled_dot_product_attention(q, q, q, torch.ones(4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="at least 2"):
        scaled_dot_product_attention(torch.randn(4), torch.randn(4), torch.randn(4))
    with pytest.raises(ValueError, match="n_heads"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="dropout"):
        MultiHeadAttention(8, 2, dropout=1.5)
    with pytest.raises(ValueError, match="dropout_p"):
        scaled_dot_product_attention(q, q, q, dropout_p=-0.1)
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match="query"):
        mha(torch.randn(2, 3, 7))
    with pytest.raises(ValueError, match="key and value"):
        mha(torch.randn(2, 3, 8), torch.randn(2, 4, 8), torch.randn(2, 5, 8))
    with pytest.raises(ValueError, match="T"):
        causal_mask(0)
    with pytest.raises(ValueError, match="lengths"):
        padding_mask([4], 3)
    with pytest.raises(ValueError, match="max_len"):
        sinusoidal_positional_encoding(0, 8)
    with pytest.raises(ValueError, match="embed_dim"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, kdim=4, vdim=4, batch_first=True))


def test_padding_mask_refuses_non_integer_lengths():
    with pytest.raises(ValueError, match=r"lengths \(\[2.5, 1.0\]\) must be a 1-D list of integers"):
        padding_mask([2.5, 1], 3)
    with pytest.raises(ValueError, match="lengths"):
        padding_mask(torch.tensor([True, False]), 3)
    with pytest.raises(ValueError, match=r"T \(the padded length\) \(3.0\) must be an integer"):
        padding_mask([2, 1], 3.0)
    import numpy as np

    expected = torch.tensor([[[True, True, False]], [[True, False, False]]])
    assert torch.equal(padding_mask(np.array([2, 1]), np.int64(3)), expected)


def test_sizes_accept_numpy_integers_and_refuse_floats():
    import numpy as np

    assert causal_mask(np.int64(3)).shape == (3, 3)
    assert MultiHeadAttention(np.int64(8), np.int32(2)).d_k == 4
    assert sinusoidal_positional_encoding(np.int64(5), np.int64(4)).shape == (5, 4)
    with pytest.raises(ValueError, match=r"n_heads \(2.0\) must be an integer"):
        MultiHeadAttention(8, 2.0)
    with pytest.raises(ValueError, match=r"T \(the sequence length\) \(2.5\) must be an integer"):
        causal_mask(2.5)


def test_the_shown_source_starts_with_the_maths():
    # show_source(scaled_dot_product_attention) must read like the equation: one line of checks.
    import inspect

    body = inspect.getsource(scaled_dot_product_attention).split('"""')[-1].strip().splitlines()
    assert body[0].strip().startswith("_check_") and "raise" not in "\n".join(body)
    forward = inspect.getsource(MultiHeadAttention.forward).split('"""')[-1]
    assert "raise" not in forward
