"""Supervised fine-tuning (instruction tuning) on (instruction, answer) pairs.

Instruction tuning trains a causal LM on pairs (x, y) — a prompt x made from an instruction,
and the answer y a human wrote — by minimising the negative log-likelihood of the *answer*
given the prompt:

    L(θ) = − Σ_{t=1}^{|y|} log P_θ(y_t | x, y_<t).

It is the pre-training loss restricted to the answer tokens: the prompt is read but not
learnt. In practice the sequence x ‖ y goes through the model once and the prompt's positions
get the label ``IGNORE_INDEX`` (−100), which ``cross_entropy`` skips. This module builds those
examples (:func:`format_instruction`, :func:`chat_prompt`, :func:`tokenize_pair`), pads a batch
(:func:`pad_batch`) and computes the loss (:func:`causal_lm_loss`, equal to the ``loss`` of a
Hugging Face causal LM called with ``labels``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from llmcours._checks import check_sequence, check_tensor

__all__ = [
    "IGNORE_INDEX",
    "CausalLMLogits",
    "causal_lm_loss",
    "chat_prompt",
    "format_instruction",
    "pad_batch",
    "tokenize_pair",
]

IGNORE_INDEX = -100
"""Label of a position the loss ignores (the prompt, the padding): ``cross_entropy``'s default."""


def _check_text(name: str, value: Any, *, empty_ok: bool = False) -> None:
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        kind = "a string" if empty_ok else "a non-empty string"
        raise ValueError(f"{name} ({value!r}) must be {kind}")


def format_instruction(instruction: str, input: str = "") -> str:
    """The user's message: the instruction, then its input (if any) after a blank line."""
    _check_text("instruction", instruction)
    _check_text("input", input, empty_ok=True)
    return f"{instruction}\n\n{input}" if input.strip() else instruction


def chat_prompt(tokenizer: Any, user_message: str, system: str | None = None) -> str:
    """The prompt x as the model sees it: ``user_message`` in the tokenizer's chat template,
    ending with the assistant's header (``add_generation_prompt=True``), as text."""
    _check_text("user_message", user_message)
    messages = [{"role": "user", "content": user_message}]
    if system is not None:
        _check_text("system", system)
        messages.insert(0, {"role": "system", "content": system})
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def tokenize_pair(
    tokenizer: Any, prompt: str, answer: str, max_length: int | None = None
) -> dict[str, list[int]]:
    """Token ids of prompt ‖ answer ‖ EOS and their labels: −100 on the prompt, the ids after.

    The answer ends with the tokenizer's end-of-sequence token, so that the model also learns
    *when to stop*. ``max_length`` truncates the sequence (the end of the answer is cut first).
    Returns ``{"input_ids": [...], "labels": [...]}`` of equal lengths.
    """
    _check_text("prompt", prompt)
    _check_text("answer", answer)
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)
                                   or max_length < 2):
        raise ValueError(f"max_length ({max_length!r}) must be None or an integer >= 2")
    if tokenizer.eos_token is None:
        raise ValueError("tokenizer has no eos_token: the answer needs an end-of-sequence token")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    input_ids = prompt_ids + answer_ids
    labels = [IGNORE_INDEX] * len(prompt_ids) + answer_ids  # the prompt is read, not learnt
    if max_length is not None:
        input_ids, labels = input_ids[:max_length], labels[:max_length]
    if all(label == IGNORE_INDEX for label in labels):
        raise ValueError(f"max_length ({max_length}) leaves no answer token: the prompt alone "
                         f"has {len(prompt_ids)} tokens")
    return {"input_ids": input_ids, "labels": labels}


def pad_batch(
    examples: Sequence[dict[str, Sequence[int]]], pad_token_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad a list of :func:`tokenize_pair` examples into ``(input_ids, labels)`` tensors.

    Padding goes on the right, after the answer: a causal model never looks ahead, so the real
    tokens are computed exactly as without padding, and the padded labels are −100.
    """
    if not check_sequence(examples, "examples"):
        raise ValueError("examples is empty: give at least one {'input_ids', 'labels'} dict")
    for i, ex in enumerate(examples):
        if len(ex["input_ids"]) != len(ex["labels"]) or not ex["input_ids"]:
            raise ValueError(f"examples[{i}] must have non-empty input_ids and labels of equal "
                             f"lengths, got {len(ex['input_ids'])} and {len(ex['labels'])}")
    width = max(len(ex["input_ids"]) for ex in examples)
    ids = torch.full((len(examples), width), pad_token_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    for i, ex in enumerate(examples):
        ids[i, : len(ex["input_ids"])] = torch.as_tensor(ex["input_ids"])
        labels[i, : len(ex["labels"])] = torch.as_tensor(ex["labels"])
    return ids, labels


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean of −log P(y_t | x, y_<t) over the positions whose label is not −100.

    ``logits``: (B, T, V); ``labels``: (B, T), the input ids with −100 on ignored positions.
    Position t predicts token t + 1, hence the shift by one.
    """
    check_tensor(logits, "logits", floating=True), check_tensor(labels, "labels")
    if logits.dim() != 3 or labels.shape != logits.shape[:2]:
        raise ValueError(f"logits (shape {tuple(logits.shape)}) must be (B, T, V) and labels "
                         f"(shape {tuple(labels.shape)}) (B, T)")
    targets = labels[:, 1:]
    if not (targets != IGNORE_INDEX).any():
        raise ValueError("labels has no position to learn: every label after the first is -100")
    return F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), targets.flatten(),
                           ignore_index=IGNORE_INDEX)


class CausalLMLogits(nn.Module):
    """Wrap a Hugging Face causal LM so that ``module(input_ids)`` returns its logits.

    This is the ``model(x) -> logits`` interface of :func:`llmcours.train.fit`, which then
    trains it with ``loss_fn=causal_lm_loss`` on ``(input_ids, labels)`` batches.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The logits (B, T, V) of the wrapped model."""
        return self.model(input_ids=input_ids).logits
