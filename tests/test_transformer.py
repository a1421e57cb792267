"""Tests for llmcours.transformer: causality, parameter count, weight tying, the blocks against
torch's own pre/post-norm layers, overfitting a short text, the KV cache (cached logits equal
the whole-sequence pass within 1e-5), bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from llmcours.attention import MultiHeadAttention, causal_mask
from llmcours.transformer import (
    GPT,
    FeedForward,
    GPTConfig,
    KVCache,
    TransformerBlock,
    estimate_gpt_params,
)


def small_gpt(seed=0, **overrides):
    torch.manual_seed(seed)
    cfg = dict(vocab_size=50, context_length=16, d_model=32, n_heads=4, n_layers=2)
    cfg.update(overrides)
    return GPT(GPTConfig(**cfg)).eval()


def test_logits_shape_and_1d_input():
    model = small_gpt()
    idx = torch.randint(0, 50, (3, 10))
    assert model(idx).shape == (3, 10, 50)
    assert torch.allclose(model(idx[0]), model(idx)[0], atol=1e-6), "1-D input must equal batch row"


def test_causal_future_tokens_never_change_past_logits():
    model = small_gpt()
    g = torch.Generator().manual_seed(1)
    idx = torch.randint(0, 50, (2, 16), generator=g)
    logits = model(idx)
    for t in range(15):
        changed = idx.clone()
        changed[:, t + 1 :] = torch.randint(0, 50, (2, 15 - t), generator=g)
        diff = (model(changed)[:, : t + 1] - logits[:, : t + 1]).abs().max().item()
        assert diff < 1e-6, f"changing tokens after position {t} changed logits at <= {t} by {diff}"


def test_weight_tying():
    model = small_gpt()
    assert model.lm_head.weight is model.tok_emb.weight
    assert model.num_params() == sum(p.numel() for p in set(model.parameters()))


def test_estimate_gpt_params_close_to_real_count():
    # GPT-2 small shape (L=12, d=768, V=50257, context 1024) is too big to build in a test;
    # this mid-size model has the same structure.
    L, d, V, ctx = 6, 512, 8000, 256
    model = GPT(GPTConfig(vocab_size=V, context_length=ctx, d_model=d, n_heads=8, n_layers=L))
    real = model.num_params()
    est = estimate_gpt_params(L, d, V)
    assert est == 12 * L * d * d + V * d
    # What the estimate leaves out: positions (ctx·d), biases and LayerNorms (13·d per block:
    # 4d attention biases, 5d FFN biases, 4d LayerNorm weights) and the final LayerNorm (2d).
    assert real - est == ctx * d + L * 13 * d + 2 * d, f"unexpected uncounted parameters {real - est}"
    assert abs(real - est) / real < 0.02, f"estimate {est} vs real {real}: more than 2% off"


def test_block_matches_torch_encoder_layer():
    """Our pre-norm and post-norm blocks equal nn.TransformerEncoderLayer(norm_first=...)."""
    torch.manual_seed(2)
    d, h = 16, 4
    x = torch.randn(2, 5, d, dtype=torch.float64)
    for pre_norm in (True, False):
        ref = nn.TransformerEncoderLayer(
            d, h, dim_feedforward=4 * d, dropout=0.0, activation="gelu", batch_first=True, norm_first=pre_norm
        ).double().eval()
        block = TransformerBlock(d, h, pre_norm=pre_norm).double().eval()
        block.attn = MultiHeadAttention.from_torch(ref.self_attn)
        block.ln_1.load_state_dict(ref.norm1.state_dict())
        block.ln_2.load_state_dict(ref.norm2.state_dict())
        block.ffn.net[0].load_state_dict(ref.linear1.state_dict())
        block.ffn.net[2].load_state_dict(ref.linear2.state_dict())
        expected = ref(x, src_mask=~causal_mask(5), is_causal=False)
        diff = (block(x, causal_mask(5)) - expected).abs().max().item()
        assert diff < 1e-10, f"pre_norm={pre_norm}: block differs from torch by {diff}"


def test_feedforward_shape_and_activation():
    ff = FeedForward(8, 20, activation="relu")
    assert ff(torch.randn(3, 4, 8)).shape == (3, 4, 8)
    assert isinstance(ff.net[1], nn.ReLU) and ff.net[0].out_features == 20


def test_tiny_gpt_overfits_a_short_text():
    text = "le chat dort sur le tapis rouge."
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text])
    model = small_gpt(seed=0, vocab_size=len(chars), context_length=len(ids)).train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    # Tiny matrices: one thread is fastest, and avoids OpenMP stalls on a busy machine
    # (about 5 s here; 2 threads next to other jobs took 100+ s).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(200):
            loss = F.cross_entropy(model(ids[None, :-1])[0], ids[1:])
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    assert loss.item() < 0.1, f"loss after 200 steps is {loss.item():.3f}, expected < 0.1"
    model.eval()
    greedy = model(ids[None, :-1])[0].argmax(-1)
    assert torch.equal(greedy, ids[1:]), "the model must predict every next character of the text"


def test_dropout_only_in_training():
    model = small_gpt(dropout=0.5)
    idx = torch.randint(0, 50, (1, 8))
    assert torch.equal(model.eval()(idx), model(idx)), "eval mode must be deterministic"
    model.train()
    assert not torch.equal(model(idx), model(idx)), "train mode must apply dropout"


def test_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match="n_heads"):
        GPTConfig(vocab_size=10, context_length=8, d_model=30, n_heads=4, n_layers=1)
    with pytest.raises(ValueError, match="vocab_size"):
        GPTConfig(vocab_size=0, context_length=8, d_model=32, n_heads=4, n_layers=1)
    with pytest.raises(ValueError, match="dropout"):
        GPTConfig(vocab_size=10, context_length=8, d_model=32, n_heads=4, n_layers=1, dropout=1.0)
    model = small_gpt()
    with pytest.raises(ValueError, match="context_length"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="idx"):
        model(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="n_layers"):
        estimate_gpt_params(0, 8, 10)
    with pytest.raises(ValueError, match="activation"):
        FeedForward(8, activation="tanh")
    with pytest.raises(ValueError, match="n_heads"):
        TransformerBlock(10, 3)


# -- KV cache ----------------------------------------------------------------------------------
def test_cached_logits_equal_the_whole_sequence():
    """Feeding the tokens one at a time (or in chunks) through the cache gives the logits of one
    pass over the whole sequence, within 1e-5."""
    model = small_gpt(seed=3)
    idx = torch.randint(0, 50, (2, 16), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        full = model(idx)
        for chunks in ([1] * 16, [5, 1, 4, 6], [16]):
            cache, pieces, start = None, [], 0
            for size in chunks:
                out = model(idx[:, start : start + size], past_key_values=cache, use_cache=True)
                cache, start = out.past_key_values, start + size
                pieces.append(out.logits)
            diff = (torch.cat(pieces, dim=1) - full).abs().max().item()
            assert diff < 1e-5, f"chunks {chunks}: cached logits differ by {diff}"
            assert cache.get_seq_length() == 16 and len(cache.keys) == 2
            assert cache.keys[0].shape == (2, 4, 16, 8)  # (B, n_heads, t, d_k)


def test_cache_works_for_post_norm_blocks_and_1d_input():
    torch.manual_seed(0)
    block = TransformerBlock(16, 2, pre_norm=False).eval()
    x = torch.randn(1, 6, 16)
    cache = KVCache()
    with torch.no_grad():
        steps = [block(x[:, t : t + 1], causal_mask(6)[t : t + 1, : t + 1], cache) for t in range(6)]
        assert torch.allclose(torch.cat(steps, 1), block(x, causal_mask(6)), atol=1e-5)
        model = small_gpt()
        logits, cache = model(torch.tensor([1, 2, 3]), use_cache=True)
        assert logits.shape == (3, 50) and cache.get_seq_length() == 3


def test_cache_reorder_follows_beams():
    model = small_gpt()
    idx = torch.randint(0, 50, (3, 5), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        _, cache = model(idx, use_cache=True)
        cache.reorder_cache(torch.tensor([2, 2, 0]))
        nxt = torch.tensor([[7], [8], [9]])
        got = model(nxt, past_key_values=cache).logits[:, -1]
        expected = model(torch.cat([idx[[2, 2, 0]], nxt], 1))[:, -1]
    assert torch.allclose(got, expected, atol=1e-5)


def test_cache_beyond_context_length_is_refused():
    model = small_gpt()
    with torch.no_grad():
        _, cache = model(torch.zeros(1, 16, dtype=torch.long), use_cache=True)
        with pytest.raises(ValueError, match="context_length"):
            model(torch.zeros(1, 1, dtype=torch.long), past_key_values=cache)


def test_config_takes_numpy_integers_and_refuses_floats_and_bools():
    config = GPTConfig(vocab_size=np.int64(10), context_length=8, d_model=16, n_heads=2, n_layers=1)
    assert type(config.vocab_size) is int and config.vocab_size == 10
    for bad in (10.0, True, "10", None):
        with pytest.raises(ValueError, match="vocab_size"):
            GPTConfig(vocab_size=bad, context_length=8, d_model=16, n_heads=2, n_layers=1)
    with pytest.raises(ValueError, match="n_layers"):
        GPTConfig(vocab_size=10, context_length=8, d_model=16, n_heads=2, n_layers=1.5)


def test_token_ids_outside_the_vocabulary_are_refused():
    model = small_gpt()
    for bad in (50, 99, -1):
        with pytest.raises(ValueError, match=r"vocab_size=50"):
            model(torch.tensor([[1, bad, 2]]))
