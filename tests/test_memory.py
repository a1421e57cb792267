"""llmcours.memory: the training-memory estimate of a CUDA configuration against the card."""

import pytest
import torch
from torch import nn

from llmcours.memory import MemoryEstimate, card_memory, memory_report, training_memory
from llmcours.transformer import GPT, GPTConfig, estimate_gpt_params


def _gpt(d=64, layers=2, heads=4, vocab=100, context=32):
    return GPT(GPTConfig(vocab_size=vocab, context_length=context, d_model=d, n_heads=heads,
                         n_layers=layers))


def test_weights_gradients_adam_of_a_linear_layer():
    layer = nn.Linear(10, 5)  # 55 float32 parameters
    est = training_memory(layer)
    assert (est.weights, est.gradients, est.optimizer) == (220, 220, 440)
    assert not est.activations_known and est.activations == 0
    assert est.total == 880


def test_frozen_parameters_have_no_gradient_nor_adam_state():
    layer = nn.Linear(10, 5)
    layer.weight.requires_grad_(False)  # 50 frozen, 5 trainable (as LoRA's base)
    est = training_memory(layer)
    assert (est.weights, est.gradients, est.optimizer) == (220, 20, 40)
    assert training_memory(layer, optimizer="none").total == 220  # inference: weights only


def test_gpt_activations_follow_korthikanti():
    d, layers, heads, vocab, b, s = 64, 2, 4, 100, 8, 32
    model = _gpt(d, layers, heads, vocab, context=s)
    est = training_memory(model, batch_size=b, seq_len=s, precision="bf16")
    per_layer = s * b * d * (34 + 5 * heads * s / d)
    assert est.activations == int(layers * per_layer + 2 * b * s * vocab * 4)
    fp32 = training_memory(model, batch_size=b, seq_len=s)
    assert fp32.activations == int(2 * layers * per_layer + 2 * b * s * vocab * 4)
    n = sum(p.numel() for p in model.parameters())
    assert est.weights == 4 * n and est.optimizer == 8 * n
    assert n >= estimate_gpt_params(layers, d, vocab)  # 12·L·d² + V·d, plus norms and biases


def test_card_memory_from_the_environment(monkeypatch):
    monkeypatch.delenv("LLMCOURS_CARD_MEMORY_GB", raising=False)
    if not torch.cuda.is_available():
        assert card_memory() == 15 * 10**9  # a T4
    monkeypatch.setenv("LLMCOURS_CARD_MEMORY_GB", "40")
    assert card_memory("cpu") == 40 * 10**9
    for bad in ("beaucoup", "0"):
        monkeypatch.setenv("LLMCOURS_CARD_MEMORY_GB", bad)
        with pytest.raises(ValueError, match="LLMCOURS_CARD_MEMORY_GB"):
            card_memory("cpu")


def test_report_says_whether_it_fits_with_its_margin():
    est = MemoryEstimate(weights=4 * 10**9, gradients=4 * 10**9, optimizer=0, activations=0,
                         activations_known=True)
    fits, line = memory_report(est, 10 * 10**9)  # 8 GB · 1.2 = 9.6 GB
    assert fits and line.startswith("mémoire estimée 9,60 Go") and line.endswith("tient")
    fits, line = memory_report(est, 9 * 10**9)
    assert not fits and line.endswith("NE TIENT PAS")


@pytest.mark.parametrize("kwargs, name", [
    (dict(batch_size=0), "batch_size"), (dict(seq_len=1.5), "seq_len"),
    (dict(precision="fp8"), "precision"), (dict(optimizer="lion"), "optimizer"),
])
def test_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        training_memory(nn.Linear(2, 2), **kwargs)
    with pytest.raises(ValueError, match="model"):
        training_memory("gpt")
    with pytest.raises(ValueError, match="card"):
        memory_report(training_memory(nn.Linear(2, 2)), 0)
