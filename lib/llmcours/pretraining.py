"""Pre-training objectives: BERT's masked language modelling and T5's span corruption.

**MLM masking** (Devlin et al., 2019). Each token that is not a special token is *selected*
with probability ``mlm_prob`` (15 %); the loss only looks at the selected set M,

    L_MLM = − Σ_{i ∈ M} log P(x_i | x̃),

where x̃ is the corrupted input: a selected token becomes ``[MASK]`` with probability 0.8, a
token drawn uniformly from the vocabulary with probability 0.1, and stays unchanged with
probability 0.1. The targets are the original ids at the selected positions and −100 elsewhere
(the ``ignore_index`` of ``torch.nn.functional.cross_entropy``), as in ``transformers``'
``DataCollatorForLanguageModeling``. A "random" token may happen to be the original one.

**Span corruption** (Raffel et al., 2020). T5 erases ``round(noise_density · n)`` tokens in
``round(n_noise / mean_span_length)`` contiguous spans; in the input each erased span becomes a
sentinel ``<extra_id_k>``, and the target lists the erased spans, each after its sentinel, then
a final sentinel. Like ``random_spans_noise_mask`` in T5's code, the lengths of the noise spans
and of the kept spans are both random segmentations, and the text starts with a kept span.
This teaching version works on words rather than on SentencePiece tokens.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch

from ._checks import check_int

__all__ = ["bert_masking", "random_segmentation", "span_corruption"]


def _check_probability(value: float, name: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} ({value!r}) must be a probability in [0, 1]")


def _check_masking_args(input_ids: Any, tokenizer: Any, mlm_prob: float) -> None:
    if not isinstance(input_ids, torch.Tensor) or input_ids.is_floating_point():
        raise ValueError(f"input_ids must be an integer tensor of token ids, got {input_ids!r}")
    if getattr(tokenizer, "mask_token_id", None) is None:
        raise ValueError(
            "tokenizer must have a mask_token_id (a BERT-style tokenizer with a [MASK] token)"
        )
    _check_probability(mlm_prob, "mlm_prob")


def bert_masking(
    input_ids: torch.Tensor,
    tokenizer: Any,
    mlm_prob: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's MLM corruption of ``input_ids`` (any shape): returns ``(inputs, labels)``.

    ``tokenizer`` gives ``all_special_ids`` (never selected), ``mask_token_id`` and its size
    ``len(tokenizer)`` (the range of the random tokens), as a Hugging Face tokenizer does.
    ``labels`` holds the original id at the selected positions and −100 elsewhere.
    ``input_ids`` is not modified.
    """
    _check_masking_args(input_ids, tokenizer, mlm_prob)
    ids, labels = input_ids.clone(), input_ids.clone()
    special = torch.isin(ids, torch.tensor(tokenizer.all_special_ids, dtype=ids.dtype))
    probs = torch.full(ids.shape, mlm_prob).masked_fill(special, 0.0)
    selected = torch.bernoulli(probs, generator=generator).bool()  # the 15 %: the set M
    labels[~selected] = -100  # ignored by the loss
    u = torch.rand(ids.shape, generator=generator)  # one draw per token
    to_mask = selected & (u < 0.8)  # 80 % -> [MASK]
    to_random = selected & (u >= 0.8) & (u < 0.9)  # 10 % -> a random token
    random_ids = torch.randint(len(tokenizer), ids.shape, generator=generator)
    ids[to_mask] = tokenizer.mask_token_id
    ids[to_random] = random_ids[to_random]
    return ids, labels  # the last 10 % are left unchanged


def random_segmentation(total: int, n_parts: int, rng: random.Random) -> list[int]:
    """Cut ``total`` items into ``n_parts`` non-empty segments of random lengths (sum = total).

    The ``n_parts − 1`` cut points are drawn without replacement among ``1 … total − 1``, so
    every segmentation is equally likely.
    """
    n_parts = check_int(n_parts, "n_parts", minimum=1)
    total = check_int(total, "total", minimum=n_parts)
    cuts = sorted(rng.sample(range(1, total), n_parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _check_span_args(words: Sequence[str], noise_density: float, mean_span_length: float) -> None:
    if isinstance(words, str):
        raise ValueError("words must be a list of words (e.g. text.split()), not a string")
    if not 0.0 < noise_density < 1.0:
        raise ValueError(f"noise_density ({noise_density!r}) must be in (0, 1)")
    if not mean_span_length >= 1.0:
        raise ValueError(f"mean_span_length ({mean_span_length!r}) must be >= 1")


def span_corruption(
    words: Sequence[str], noise_density: float = 0.15, mean_span_length: float = 3.0, seed: int = 0
) -> tuple[str, str]:
    """T5's span corruption of ``words``: returns ``(inputs, targets)`` as space-joined strings.

    Spans alternate kept, erased, kept, erased..., so the text starts with kept words and ends
    with an erased span. ``seed`` seeds a ``random.Random``. Example: the 40 words
    ``w0 … w39`` with ``seed=1`` give ``w0 … w4 <extra_id_0> w7 … w35 <extra_id_1>`` and
    ``<extra_id_0> w5 w6 <extra_id_1> w36 w37 w38 w39 <extra_id_2>``.
    """
    _check_span_args(words, noise_density, mean_span_length)
    words = list(words)
    rng = random.Random(seed)
    n_noise = max(1, round(len(words) * noise_density))
    n_spans = max(1, round(n_noise / mean_span_length))
    if len(words) - n_noise < n_spans:
        raise ValueError(
            f"words ({len(words)} words) is too short for {n_spans} noise span(s) of "
            f"{n_noise} word(s) separated by kept words"
        )
    noise_lengths = random_segmentation(n_noise, n_spans, rng)
    keep_lengths = random_segmentation(len(words) - n_noise, n_spans, rng)
    inputs, targets, pos = [], [], 0
    for k, (keep, noise) in enumerate(zip(keep_lengths, noise_lengths, strict=True)):
        # kept, erased, kept, erased, ...: the erased span goes to the target after <extra_id_k>
        inputs += words[pos : pos + keep] + [f"<extra_id_{k}>"]
        targets += [f"<extra_id_{k}>"] + words[pos + keep : pos + keep + noise]
        pos += keep + noise
    return " ".join(inputs), " ".join(targets + [f"<extra_id_{n_spans}>"])
