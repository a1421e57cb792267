"""Tests of llmcours.pretraining: BERT's 15 % / 80-10-10 masking and T5's span corruption."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from llmcours.pretraining import bert_masking, random_segmentation, span_corruption


class FakeTokenizer:
    """What bert_masking needs from a Hugging Face tokenizer: special ids, [MASK], the size."""

    all_special_ids = [0, 100, 101, 102, 103]  # [PAD], [UNK], [CLS], [SEP], [MASK] as in BERT
    mask_token_id = 103

    def __len__(self) -> int:
        return 30_000


TOK = FakeTokenizer()


def draw(n_tokens: int = 200_000, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, 30_000, (n_tokens,), generator=g)
    ids[::10] = 101  # one [CLS] in ten
    ids[5::10] = 102  # one [SEP] in ten
    inputs, labels = bert_masking(ids, TOK, generator=torch.Generator().manual_seed(seed))
    return ids, inputs, labels


def test_proportions_15_then_80_10_10():
    # 160,000 ordinary tokens -> ~24,000 selected. The standard deviation of a proportion p on
    # n draws is sqrt(p(1-p)/n): 0.0009 for the 15 %, <= 0.0026 for the 80/10/10. Tolerance
    # 0.005 and 0.01: about 4 standard deviations.
    ids, inputs, labels = draw()
    ordinary = ~torch.isin(ids, torch.tensor(TOK.all_special_ids))
    selected = labels != -100
    assert selected.sum() / ordinary.sum() == pytest.approx(0.15, abs=0.005)
    masked = (inputs[selected] == TOK.mask_token_id).float().mean().item()
    unchanged = (inputs[selected] == ids[selected]).float().mean().item()
    random_ = 1 - masked - unchanged
    assert masked == pytest.approx(0.8, abs=0.01)
    assert unchanged == pytest.approx(0.1, abs=0.01)  # + the rare random draw of the same id
    assert random_ == pytest.approx(0.1, abs=0.01)


def test_special_tokens_never_selected_and_others_untouched():
    ids, inputs, labels = draw(50_000, seed=1)
    special = torch.isin(ids, torch.tensor(TOK.all_special_ids))
    assert (labels[special] == -100).all()
    assert torch.equal(inputs[special], ids[special])
    not_selected = labels == -100
    assert torch.equal(inputs[not_selected], ids[not_selected])  # only M is corrupted
    assert torch.equal(labels[~not_selected], ids[~not_selected])  # targets = original ids


def test_shape_seed_input_not_modified_and_extremes():
    ids = torch.randint(1000, 30_000, (4, 64), generator=torch.Generator().manual_seed(0))
    before = ids.clone()
    a = bert_masking(ids, TOK, generator=torch.Generator().manual_seed(3))
    b = bert_masking(ids, TOK, generator=torch.Generator().manual_seed(3))
    assert torch.equal(ids, before)
    assert a[0].shape == ids.shape and torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    inputs, labels = bert_masking(ids, TOK, mlm_prob=0.0)
    assert torch.equal(inputs, ids) and (labels == -100).all()
    _, labels = bert_masking(ids, TOK, mlm_prob=1.0)
    assert torch.equal(labels, ids)


def test_with_the_minilm_tokenizer():
    from llmcours.models import load_tokenizer

    tok = load_tokenizer("minilm")
    ids = tok(["Le modèle apprend à retrouver les mots cachés."] * 200, return_tensors="pt")
    ids = ids["input_ids"]
    inputs, labels = bert_masking(ids, tok, generator=torch.Generator().manual_seed(0))
    assert (labels[:, 0] == -100).all() and (labels[:, -1] == -100).all()  # [CLS], [SEP]
    assert (inputs[:, 0] == tok.cls_token_id).all() and (inputs[:, -1] == tok.sep_token_id).all()
    assert (inputs == tok.mask_token_id).any()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(input_ids=[1, 2, 3]), "input_ids must be an integer tensor"),
        (dict(input_ids=torch.tensor([1.0, 2.0])), "input_ids must be an integer tensor"),
        (dict(mlm_prob=1.5), r"mlm_prob \(1.5\) must be a probability"),
        (dict(tokenizer=object()), "tokenizer must have a mask_token_id"),
    ],
)
def test_masking_bad_input(kwargs, match):
    args = dict(input_ids=torch.tensor([5, 6, 7]), tokenizer=TOK) | kwargs
    with pytest.raises(ValueError, match=match):
        bert_masking(**args)


def reconstruct(inputs: str, targets: str) -> list[str]:
    """Put each erased span back in place of its sentinel."""
    spans, current = {}, None
    for w in targets.split():
        if w.startswith("<extra_id_"):
            current = spans.setdefault(w, [])
        else:
            current.append(w)
    return [x for w in inputs.split() for x in (spans[w] if w.startswith("<extra_id_") else [w])]


@pytest.mark.parametrize("n_words", [7, 20, 50, 333])
@pytest.mark.parametrize("seed", range(5))
def test_span_corruption_reconstructs_the_original(n_words, seed):
    words = [f"w{i}" for i in range(n_words)]
    inputs, targets = span_corruption(words, seed=seed)
    assert reconstruct(inputs, targets) == words
    n_noise = max(1, round(n_words * 0.15))
    n_spans = max(1, round(n_noise / 3.0))
    erased = [w for w in targets.split() if not w.startswith("<extra_id_")]
    assert len(erased) == n_noise
    sentinels = [f"<extra_id_{k}>" for k in range(n_spans + 1)]
    assert [w for w in targets.split() if w.startswith("<extra_id_")] == sentinels
    assert [w for w in inputs.split() if w.startswith("<extra_id_")] == sentinels[:-1]
    assert inputs.split()[0] == "w0" and targets.split()[-2] == words[-1]  # kept first, erased last


def test_span_corruption_averages_on_long_texts():
    # On 100 texts of 200 words: 30 erased words in round(30 / 3) = 10 spans each.
    n_noise = n_spans = 0
    for seed in range(100):
        _, targets = span_corruption([f"w{i}" for i in range(200)], seed=seed)
        n_noise += sum(not w.startswith("<extra_id_") for w in targets.split())
        n_spans += targets.count("<extra_id_") - 1
    assert n_noise / (100 * 200) == 0.15 and n_noise / n_spans == 3.0


def test_span_corruption_seeded():
    words = [f"w{i}" for i in range(40)]
    assert span_corruption(words, seed=1) == span_corruption(words, seed=1)
    assert span_corruption(words, seed=1) != span_corruption(words, seed=2)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("un texte en chaîne",), "words must be a list of words"),
        ((["a"],), r"words \(1 words\) is too short for 1 noise span"),
        (([f"w{i}" for i in range(20)], 0.0), r"noise_density \(0.0\) must be in \(0, 1\)"),
        (([f"w{i}" for i in range(20)], 0.15, 0.5), r"mean_span_length \(0.5\) must be >= 1"),
    ],
)
def test_span_corruption_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        span_corruption(*args)


def test_random_segmentation():
    rng = random.Random(0)
    for total, n_parts in [(1, 1), (10, 1), (10, 10), (30, 7), (np.int64(12), np.int64(4))]:
        parts = random_segmentation(total, n_parts, rng)
        assert len(parts) == n_parts and sum(parts) == total and min(parts) >= 1
    with pytest.raises(ValueError, match=r"total \(3\) must be an integer >= 4"):
        random_segmentation(3, 4, rng)
    with pytest.raises(ValueError, match=r"n_parts \(2.0\) must be an integer"):
        random_segmentation(10, 2.0, rng)
