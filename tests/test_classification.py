"""Tests of llmcours.classification: pooling, frozen vs trainable encoder, collate, bad input."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from llmcours.classification import EncoderClassifier, collate_texts, pool


@pytest.fixture(scope="module")
def minilm():
    from llmcours.models import load_encoder

    return load_encoder("minilm")


def test_mean_pool_equals_the_rag_sentence_embeddings(minilm):
    """Mean pooling = llmcours.rag.MeanPoolingEncoder (itself equal to sentence-transformers)."""
    from llmcours.rag import MeanPoolingEncoder

    model, tokenizer = minilm
    texts = ["Un film magnifique.", "Le service était lent et la soupe froide, hélas."]
    inputs = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**inputs).last_hidden_state
    expected = MeanPoolingEncoder(model, tokenizer)(texts)
    assert torch.allclose(pool(hidden, inputs["attention_mask"]), expected, atol=1e-5)
    assert torch.equal(pool(hidden, inputs["attention_mask"], "cls"), hidden[:, 0])


def test_padding_does_not_change_the_mean():
    hidden = torch.randn(1, 5, 4)
    padded = torch.cat([hidden, torch.randn(1, 3, 4)], dim=1)
    mask = torch.tensor([[1] * 5 + [0] * 3])
    assert torch.allclose(pool(padded, mask), hidden.mean(1), atol=1e-6)


def test_classifier_logits_and_frozen_encoder(minilm):
    model, tokenizer = minilm
    torch.manual_seed(0)
    probe = EncoderClassifier(model, n_classes=2, freeze_encoder=True).eval()
    rows = [{"text": "Très bon repas.", "label": 1}, {"text": "Une attente interminable.",
                                                     "label": 0}]
    inputs, labels = next(iter(DataLoader(rows, batch_size=2,
                                          collate_fn=collate_texts(tokenizer))))
    assert labels.tolist() == [1, 0] and set(inputs) >= {"input_ids", "attention_mask"}
    logits = probe(inputs)
    assert logits.shape == (2, 2)
    with torch.no_grad():
        h = pool(model(**inputs).last_hidden_state, inputs["attention_mask"])
    assert torch.allclose(logits, probe.head(h), atol=1e-5)  # eval mode: no dropout
    trainable = {n for n, p in probe.named_parameters() if p.requires_grad}
    assert trainable == {"head.weight", "head.bias"}
    torch.nn.functional.cross_entropy(logits, labels).backward()
    assert probe.head.weight.grad is not None
    full = EncoderClassifier(model, n_classes=3, pooling="cls")
    assert all(p.requires_grad for p in full.parameters())
    assert full(inputs).shape == (2, 3)
    model.requires_grad_(False)  # leave the shared fixture as it was


def test_bad_input(minilm):
    model, tokenizer = minilm
    with pytest.raises(ValueError, match="n_classes"):
        EncoderClassifier(model, n_classes=1)
    with pytest.raises(ValueError, match="pooling"):
        EncoderClassifier(model, n_classes=2, pooling="max")
    with pytest.raises(ValueError, match="dropout"):
        EncoderClassifier(model, n_classes=2, dropout=1.0)
    with pytest.raises(ValueError, match="pooling"):
        pool(torch.zeros(1, 2, 3), torch.ones(1, 2), pooling="max")
    with pytest.raises(ValueError, match="max_length"):
        collate_texts(tokenizer, max_length=0)
