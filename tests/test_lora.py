"""Tests of llmcours.lora: identity at initialisation, merge, freezing, parity with peft."""

from __future__ import annotations

import copy

import pytest
import torch
from peft import LoraConfig, get_peft_model
from torch import nn

from llmcours.lora import LoRALinear, apply_lora, count_trainable


class TinyBlock(nn.Module):
    """Named Linear layers, as in an attention block."""

    def __init__(self, d: int = 16) -> None:
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(d, 8, bias=False))
        self.norm = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.q_proj(x) * torch.sigmoid(self.k_proj(x)) + self.v_proj(x))
        return self.out(h)


def randomize_b(model: nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, LoRALinear):
                m.lora_B.copy_(torch.randn(m.lora_B.shape, generator=g))


def test_equals_base_layer_at_init():
    torch.manual_seed(0)
    base = nn.Linear(10, 6)
    lora = LoRALinear(base, r=4, alpha=8)
    x = torch.randn(3, 5, 10)
    assert torch.equal(lora(x), base(x))  # B = 0 exactly
    assert lora.lora_A.shape == (4, 10) and lora.lora_B.shape == (6, 4)
    assert (lora.lora_B == 0).all() and lora.lora_A.abs().sum() > 0


def test_forward_is_w_plus_scaled_ba():
    torch.manual_seed(1)
    lora = LoRALinear(nn.Linear(10, 6), r=2, alpha=6)
    randomize_b(lora)
    x = torch.randn(4, 10)
    w = lora.base.weight + (6 / 2) * lora.lora_B @ lora.lora_A  # W' = W + (α/r)·B A
    expected = x @ w.T + lora.base.bias
    assert torch.allclose(lora(x), expected, atol=1e-6)


def test_merge_equals_unmerged_forward():
    torch.manual_seed(2)
    for bias in (True, False):
        lora = LoRALinear(nn.Linear(12, 7, bias=bias), r=3, alpha=5)
        randomize_b(lora)
        merged = lora.merge()
        assert isinstance(merged, nn.Linear)
        x = torch.randn(6, 12)
        assert torch.allclose(merged(x), lora(x), atol=1e-6)


def test_only_a_and_b_train():
    torch.manual_seed(3)
    model = apply_lora(TinyBlock(), ["q_proj", "v_proj"], r=4, alpha=8)
    randomize_b(model)
    model(torch.randn(5, 16)).sum().backward()
    for name, p in model.named_parameters():
        is_lora = "lora_" in name
        assert p.requires_grad == is_lora, name
        assert (p.grad is not None) == is_lora, name
    # 2 layers × r·(d_in + d_out) = 2 × 4 × (16 + 16)
    assert count_trainable(model) == 2 * 4 * (16 + 16)


def test_parity_with_peft():
    torch.manual_seed(4)
    base = TinyBlock()
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)
    ref = get_peft_model(copy.deepcopy(base), config)
    ours = apply_lora(copy.deepcopy(base), ["q_proj", "v_proj"], r=4, alpha=8)
    trainable_ref, _ = ref.get_nb_trainable_parameters()
    assert count_trainable(ours) == trainable_ref
    with torch.no_grad():  # same A (peft's init), and a non-zero B on both sides
        g = torch.Generator().manual_seed(0)
        for name in ("q_proj", "v_proj"):
            theirs = getattr(ref.base_model.model, name)
            mine = getattr(ours, name)
            mine.lora_A.copy_(theirs.lora_A["default"].weight)
            b = torch.randn(mine.lora_B.shape, generator=g)
            mine.lora_B.copy_(b)
            theirs.lora_B["default"].weight.copy_(b)
    x = torch.randn(7, 16)
    assert torch.allclose(ours(x), ref(x), atol=1e-6), (ours(x) - ref(x)).abs().max()
    theirs_q = ref.base_model.model.q_proj
    assert torch.allclose(
        ours.q_proj.delta_weight(), theirs_q.get_delta_weight("default"), atol=1e-6
    )


def test_init_distribution_is_peft_like():
    # A ~ Kaiming-uniform(a=√5) = U(−1/√d_in, 1/√d_in), as nn.Linear and peft.
    torch.manual_seed(5)
    lora = LoRALinear(nn.Linear(400, 10), r=64, alpha=16)
    bound = 1 / 400**0.5
    assert lora.lora_A.abs().max() <= bound
    assert lora.lora_A.abs().max() > 0.95 * bound


def test_suffix_matching():
    model = apply_lora(nn.Sequential(TinyBlock(), TinyBlock()), "q_proj", r=2, alpha=2)
    wrapped = [n for n, m in model.named_modules() if isinstance(m, LoRALinear)]
    assert wrapped == ["0.q_proj", "1.q_proj"]


def test_bad_input():
    with pytest.raises(ValueError, match="r "):
        LoRALinear(nn.Linear(4, 4), r=0, alpha=1)
    with pytest.raises(ValueError, match="alpha"):
        LoRALinear(nn.Linear(4, 4), r=2, alpha=0)
    with pytest.raises(ValueError, match="dropout"):
        LoRALinear(nn.Linear(4, 4), r=2, alpha=1, dropout=1.0)
    with pytest.raises(ValueError, match="base"):
        LoRALinear(nn.Conv1d(4, 4, 1), r=2, alpha=1)
    with pytest.raises(ValueError, match="target_modules"):
        apply_lora(TinyBlock(), ["attn"], r=2, alpha=2)
    with pytest.raises(ValueError, match="r "):
        apply_lora(TinyBlock(), ["q_proj"], r=-1, alpha=2)


def test_bad_hyperparameters_name_the_argument():
    base = nn.Linear(4, 4)
    for alpha in (float("nan"), float("inf"), -1.0, "8", True):
        with pytest.raises(ValueError, match="alpha"):
            LoRALinear(base, r=2, alpha=alpha)
    for r in (2.0, "2", True, None):
        with pytest.raises(ValueError, match="r "):
            LoRALinear(base, r=r, alpha=4)
    for dropout in (-0.1, 1.5, "0.1", float("nan")):
        with pytest.raises(ValueError, match="dropout"):
            LoRALinear(base, r=2, alpha=4, dropout=dropout)
    for targets in ([], [""], [1], None, 3):
        with pytest.raises(ValueError, match="target_modules"):
            apply_lora(TinyBlock(), targets, r=2, alpha=2)


def test_numpy_hyperparameters_are_accepted():
    np = pytest.importorskip("numpy")
    lora = LoRALinear(nn.Linear(6, 3), r=np.int64(2), alpha=np.float32(4.0))
    assert lora.r == 2 and isinstance(lora.r, int) and lora.scaling == 2.0


def test_dropout_only_in_training():
    torch.manual_seed(6)
    lora = LoRALinear(nn.Linear(32, 8), r=4, alpha=8, dropout=0.5)
    randomize_b(lora)
    x = torch.randn(16, 32)
    lora.eval()
    w = lora.base.weight + lora.delta_weight()
    assert torch.allclose(lora(x), x @ w.T + lora.base.bias, atol=1e-5)
    lora.train()
    assert not torch.allclose(lora(x), x @ w.T + lora.base.bias, atol=1e-3)


def test_whole_model_parity_with_peft_on_a_tiny_llama():
    """The same tiny Llama (SmolLM2's architecture, random weights): same trainable count and
    the same logits as peft once both adapters hold the same A and B (atol 1e-5)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(7)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
    base = LlamaForCausalLM(config).eval()
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    ref = get_peft_model(copy.deepcopy(base), LoraConfig(r=4, lora_alpha=8,
                                                         target_modules=targets))
    ours = apply_lora(copy.deepcopy(base), targets, r=4, alpha=8)
    assert count_trainable(ours) == ref.get_nb_trainable_parameters()[0]
    theirs = dict(ref.named_modules())
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, mine in ours.named_modules():
            if isinstance(mine, LoRALinear):
                layer = theirs[f"base_model.model.{name}"]
                mine.lora_A.copy_(layer.lora_A["default"].weight)
                b = 0.1 * torch.randn(mine.lora_B.shape, generator=g)
                mine.lora_B.copy_(b)
                layer.lora_B["default"].weight.copy_(b)
        ids = torch.randint(0, 64, (2, 9), generator=g)
        diff = (ours(ids).logits - ref(input_ids=ids).logits).abs().max().item()
        moved = (ours(ids).logits - base(ids).logits).abs().max().item()
    assert diff < 1e-5, f"logits differ from peft's by {diff}"
    assert moved > 1e-3, "the adapters should change the logits"


def test_merge_inside_a_model():
    torch.manual_seed(8)
    model = apply_lora(TinyBlock(), ["q_proj", "v_proj"], r=2, alpha=4)
    randomize_b(model)
    x = torch.randn(3, 16)
    expected = model(x)
    model.q_proj, model.v_proj = model.q_proj.merge(), model.v_proj.merge()
    assert torch.allclose(model(x), expected, atol=1e-5)
    assert count_trainable(model) == 2 * 16 * 16 + 2 * 16  # merged layers are plain Linear again
