"""Tests of llmcours.metrics against sacrebleu, rouge_score and scikit-learn."""

from __future__ import annotations

import math
import random

import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer
from sklearn.metrics import accuracy_score, f1_score

from llmcours.data import load_sentences
from llmcours.metrics import (
    accuracy,
    bits_per_char,
    bleu,
    exact_match,
    f1,
    perplexity,
    rouge,
    token_f1,
)

# Words, numbers and punctuation that exercise the 13a tokenizer (dots and commas between
# digits, dashes after digits, quotes, HTML entities...).
VOCAB = ["le", "chat", "dort", "sur", "tapis", "Le", "un", "3,5", "1.5", "10-12", "2-", ".", ",",
         "!", "?", "'", "&amp;", "&quot;", "(", ")", "-", "l'été", "Noël", "«", "»", "a.b",
         "x,"]  # fmt: skip
SENTENCE = st.lists(st.sampled_from(VOCAB), max_size=14).map(" ".join)
SEPARATOR = st.sampled_from([" ", "", "  "])


def sacrebleu_score(hyps, refs_per_hyp):
    n_refs = max(len(r) for r in refs_per_hyp)
    streams = [[r[i] if i < len(r) else None for r in refs_per_hyp] for i in range(n_refs)]
    return sacrebleu.corpus_bleu(hyps, streams).score


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(SENTENCE, st.lists(SENTENCE, min_size=1, max_size=3)), min_size=1, max_size=6
    )
)
def test_bleu_equals_sacrebleu(pairs):
    hyps = [h for h, _ in pairs]
    refs = [r for _, r in pairs]
    expected = sacrebleu_score(hyps, refs)
    assert abs(bleu(hyps, refs) - expected) < 1e-6, f"{bleu(hyps, refs)} != sacrebleu {expected}"


def test_bleu_single_reference_strings_and_course_sentences():
    rng = random.Random(0)
    refs = load_sentences()[:60]
    hyps = []
    for ref in refs:  # drop, swap or duplicate a few words
        words = ref.split()
        for _ in range(rng.randint(0, 3)):
            i = rng.randrange(len(words))
            op = rng.choice(["drop", "swap", "dup"])
            if op == "drop" and len(words) > 1:
                words.pop(i)
            elif op == "swap":
                j = rng.randrange(len(words))
                words[i], words[j] = words[j], words[i]
            else:
                words.insert(i, words[i])
        hyps.append(" ".join(words))
    expected = sacrebleu.corpus_bleu(hyps, [refs]).score
    assert abs(bleu(hyps, refs) - expected) < 1e-6
    assert 0 < expected < 100
    assert bleu(refs, refs) == pytest.approx(100.0)


def test_bleu_edge_cases():
    assert bleu(["le chat"], ["un chien"]) == 0.0  # no match at all
    assert bleu([""], ["le chat dort"]) == 0.0  # empty hypothesis: BP = 0
    assert (
        abs(
            bleu(["le chat"], ["le chat"]) - sacrebleu.corpus_bleu(["le chat"], [["le chat"]]).score
        )
        < 1e-6
    )


ASCII_WORDS = st.lists(
    st.sampled_from(
        [
            "the",
            "cat",
            "sat",
            "on",
            "mat",
            "The",
            "a",
            "dog",
            "2024",
            "x_y",
            "don't",
            "e-mail",
            "U.S.",
            "...",
            "!",
        ]
    ),  # fmt: skip
    max_size=15,
)


@settings(max_examples=300, deadline=None)
@given(ASCII_WORDS, ASCII_WORDS, SEPARATOR)
def test_rouge_equals_rouge_score_on_ascii(hyp_words, ref_words, sep):
    hyp, ref = sep.join(hyp_words), " ".join(ref_words)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    expected = {k: v.fmeasure for k, v in scorer.score(ref, hyp).items()}  # (target, prediction)
    got = rouge(hyp, ref)
    for key in ("rouge1", "rouge2", "rougeL"):
        assert abs(got[key] - expected[key]) < 1e-9, f"{key}: {got[key]} != {expected[key]}"


def test_rouge_keeps_french_accents():
    # rouge_score reduces « élève » and « lève » to the same tokens "l", "ve"; we do not.
    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=False)
    assert scorer.score("élève", "lève")["rouge1"].fmeasure == 1.0
    assert rouge("lève", "élève")["rouge1"] == 0.0
    got = rouge("le petit chat dort", "le chat dort")
    assert got["rouge1"] == pytest.approx(2 * 0.75 * 1 / 1.75)  # P = 3/4, R = 3/3
    assert got["rouge2"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))  # chat dort
    assert got["rougeL"] == pytest.approx(got["rouge1"])


LABELS = st.lists(st.integers(0, 3), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_accuracy_and_f1_equal_sklearn(data):
    y_true = data.draw(LABELS)
    y_pred = data.draw(st.lists(st.integers(0, 3), min_size=len(y_true), max_size=len(y_true)))
    assert accuracy(y_true, y_pred) == pytest.approx(accuracy_score(y_true, y_pred), abs=1e-12)
    macro = f1_score(y_true, y_pred, average="macro", zero_division=0)
    assert f1(y_true, y_pred, average="macro") == pytest.approx(macro, abs=1e-12)
    bt, bp = [int(y > 1) for y in y_true], [int(y > 1) for y in y_pred]
    binary = f1_score(bt, bp, zero_division=0)
    assert f1(bt, bp) == pytest.approx(binary, abs=1e-12)


def test_perplexity_and_bits_per_char_closed_forms():
    assert perplexity([math.log(1 / 4)] * 10) == pytest.approx(4.0)  # 4 equally likely choices
    lp = [math.log(0.5), math.log(0.25), math.log(0.125)]
    assert perplexity(lp) == pytest.approx(math.exp((math.log(2) + math.log(4) + math.log(8)) / 3))
    # 10 characters costing 1 bit each = 10·ln 2 nats
    assert bits_per_char(10 * math.log(2), 10) == pytest.approx(1.0)
    assert bits_per_char(0.0, 3) == 0.0


def test_exact_match_and_token_f1():
    assert exact_match("La Tour Eiffel.", "tour eiffel") == 1.0
    assert exact_match(["Paris", "l'eau"], ["paris !", "eau"]) == 1.0
    assert exact_match(["Paris", "Lyon"], ["Paris", "Marseille"]) == 0.5
    assert token_f1("le grand chat noir", "un chat noir") == pytest.approx(
        2 * (2 / 3) * 1 / (2 / 3 + 1)
    )
    assert token_f1("", "") == 1.0 and token_f1("chat", "") == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match="hypotheses"):
        bleu(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="references"):
        bleu(["a"], [[]])
    with pytest.raises(ValueError, match="log_probs"):
        perplexity([])
    with pytest.raises(ValueError, match="log_probs"):
        perplexity([0.5, -1.0])  # NLLs passed instead of log-probabilities
    with pytest.raises(ValueError, match="n_chars"):
        bits_per_char(1.0, 0)
    with pytest.raises(ValueError, match="y_true"):
        accuracy([1, 0], [1])
    with pytest.raises(ValueError, match="average"):
        f1([1], [1], average="micro")


def test_nan_is_refused_and_minus_inf_is_an_infinite_perplexity():
    import numpy as np
    import torch

    with pytest.raises(ValueError, match=r"log_probs contains NaN \(first at index 1\)"):
        perplexity([-1.0, float("nan")])
    with pytest.raises(ValueError, match="NaN"):
        perplexity(torch.tensor([float("nan")]))
    assert perplexity([-1.0, float("-inf")]) == math.inf  # a zero probability is legitimate
    with pytest.raises(ValueError, match="total_nll"):
        bits_per_char(float("nan"), 10)
    with pytest.raises(ValueError, match=r"n_chars .* \(10.5\) must be an integer"):
        bits_per_char(1.0, 10.5)
    assert bits_per_char(math.log(2) * 10, np.int64(10)) == pytest.approx(1.0)
