"""Sequence classification with a pre-trained encoder: a linear head on a pooled vector.

BERT-style fine-tuning for classification (Devlin et al., 2019) adds one linear layer on a
vector h that summarises the sentence and trains with the cross-entropy,

    ŷ = softmax(W h + b),     L_cls = − Σ_i Σ_c y_ic log ŷ_ic,

where h is the final state of ``[CLS]`` (``pooling="cls"``) or, as sentence-transformers'
MiniLM, the mean of the final states of the real tokens (``pooling="mean"``, the padding
excluded). ``freeze_encoder=True`` trains the head alone (a *linear probe*); otherwise every
weight of the encoder is updated (full fine-tuning). :func:`collate_texts` turns
``(text, label)`` rows into the ``(inputs, labels)`` batches that :func:`llmcours.train.fit`
expects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from llmcours._checks import check_int, check_tensor

__all__ = ["EncoderClassifier", "collate_texts", "pool"]


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str = "mean") -> torch.Tensor:
    """One vector per sequence from the final states ``hidden`` (B, T, d): ``"cls"`` takes
    position 0, ``"mean"`` averages the positions where ``attention_mask`` is 1."""
    check_tensor(hidden, "hidden", floating=True), check_tensor(attention_mask, "attention_mask")
    if pooling == "cls":
        return hidden[:, 0]
    if pooling != "mean":
        raise ValueError(f"pooling ({pooling!r}) must be 'mean' or 'cls'")
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # the padding does not count
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class EncoderClassifier(nn.Module):
    """A Hugging Face encoder (``AutoModel``) with a linear classification head."""

    def __init__(self, encoder: nn.Module, n_classes: int, pooling: str = "mean",
                 dropout: float = 0.1, freeze_encoder: bool = False) -> None:
        super().__init__()
        n_classes = check_int(n_classes, "n_classes", minimum=2)
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling ({pooling!r}) must be 'mean' or 'cls'")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout ({dropout!r}) must be in [0, 1)")
        self.encoder, self.pooling = encoder, pooling
        self.encoder.requires_grad_(not freeze_encoder)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_classes)  # W, b

    def forward(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits W h + b (B, n_classes) of a tokenised batch (``input_ids``, ``attention_mask``)."""
        hidden = self.encoder(**inputs).last_hidden_state
        h = pool(hidden, inputs["attention_mask"], self.pooling)
        return self.head(self.dropout(h))


def collate_texts(tokenizer: Any, max_length: int = 128) -> Callable[[Sequence[dict]], tuple]:
    """A ``collate_fn`` for a ``DataLoader`` over ``{"text", "label"}`` rows: returns
    ``(inputs, labels)`` with the texts tokenised, padded and truncated to ``max_length``."""
    max_length = check_int(max_length, "max_length", minimum=2)

    def collate(rows: Sequence[dict]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        texts = [row["text"] for row in rows]
        inputs = tokenizer(texts, padding=True, truncation=True, max_length=max_length,
                           return_tensors="pt")
        inputs = {k: inputs[k] for k in ("input_ids", "attention_mask", "token_type_ids")
                  if k in inputs}
        return inputs, torch.tensor([row["label"] for row in rows])

    return collate
