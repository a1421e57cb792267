"""Tests of llmcours.ngram: the course's bigram example, add-k closed forms, normalisation."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcours.data import load_sentences
from llmcours.ngram import BOS, EOS, NGramLM

COURSE = [["je", "suis", "content"], ["je", "suis"]]


def test_course_bigram_example():
    lm = NGramLM(2, k=0).fit(COURSE)
    # counts of the course: c(je suis) = 2, c(suis content) = 1, c(je) = c(suis) = 2
    assert lm.counts[("je", "suis")] == 2 and lm.counts[("suis", "content")] == 1
    assert lm.context_counts[("je",)] == 2 and lm.context_counts[("suis",)] == 2
    assert lm.prob("suis", ("je",)) == 1.0
    assert lm.prob("content", ("suis",)) == 0.5
    assert lm.prob(EOS, ("suis",)) == 0.5  # the second sentence stops after « suis »
    assert lm.prob("je", (BOS,)) == 1.0
    assert lm.vocab == sorted(["je", "suis", "content", EOS])


def test_course_example_sentence_probability_and_perplexity():
    lm = NGramLM(2, k=0).fit(COURSE)
    # P(je suis content) = 1 · 1 · 1/2 · P(</s> | content) = 1/2
    assert lm.logprob_sentence(["je", "suis", "content"]) == pytest.approx(math.log(0.5))
    # Two sentences: log P = 2 log(1/2) over N = 4 + 3 predicted tokens (with </s>).
    assert lm.perplexity(COURSE) == pytest.approx(2 ** (2 / 7), rel=1e-12)


def test_laplace_closed_form():
    lm = NGramLM(2, k=1).fit(COURSE)  # |V| = 4: je, suis, content, </s>
    assert lm.prob("content", ("suis",)) == pytest.approx((1 + 1) / (2 + 4))
    assert lm.prob("je", ("content",)) == pytest.approx((0 + 1) / (1 + 4))
    assert lm.prob("chat", ("inconnu",)) == pytest.approx(1 / 4)  # unseen context: uniform
    lm = NGramLM(2, k=0.5).fit(COURSE)
    assert lm.prob("suis", ("je",)) == pytest.approx((2 + 0.5) / (2 + 0.5 * 4))


def test_unseen_with_k0_gives_zero_and_infinite_perplexity():
    lm = NGramLM(2, k=0).fit(COURSE)
    assert lm.prob("content", ("je",)) == 0.0
    assert lm.prob("je", ("inconnu",)) == 0.0  # unseen context
    assert lm.logprob_sentence(["je", "content"]) == -math.inf
    assert lm.perplexity([["je", "content"]]) == math.inf
    assert math.isfinite(NGramLM(2, k=1).fit(COURSE).perplexity([["je", "content"]]))


def test_unigram_and_trigram():
    uni = NGramLM(1, k=0).fit(COURSE)  # 7 predicted tokens: je×2, suis×2, content, </s>×2
    assert uni.prob("suis") == pytest.approx(2 / 7)
    tri = NGramLM(3, k=0).fit([["a", "b", "c"], ["a", "b", "d"], ["x", "b", "c"]])
    assert tri.prob("c", ("a", "b")) == 0.5
    assert tri.prob("a", (BOS, BOS)) == pytest.approx(2 / 3)
    assert tri.prob("b", (BOS, "x")) == 1.0


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 4),
    k=st.floats(0.01, 3.0),
    corpus=st.lists(st.lists(st.sampled_from("abcde"), max_size=6), min_size=1, max_size=8),
    context=st.lists(st.sampled_from(["a", "b", "z", BOS]), min_size=3, max_size=3),
)
def test_add_k_probabilities_sum_to_one(n, k, corpus, context):
    lm = NGramLM(n, k=k).fit(corpus)
    h = tuple(context[: n - 1])
    total = sum(lm.prob(w, h) for w in lm.vocab)
    assert total == pytest.approx(1.0, abs=1e-12), f"Σ_w P(w | {h}) = {total}"


def test_mle_sums_to_one_on_seen_contexts():
    sentences = [s.lower().split() for s in load_sentences()[:80]]
    lm = NGramLM(2, k=0).fit(sentences)
    for h in list(lm.context_counts)[:50]:
        assert sum(lm.prob(w, h) for w in lm.vocab) == pytest.approx(1.0, abs=1e-12)


def test_generate_is_reproducible_and_follows_the_counts():
    sentences = [s.lower().split() for s in load_sentences()[:80]]
    lm = NGramLM(2, k=0).fit(sentences)
    a, b = lm.generate(max_len=15, seed=3), lm.generate(max_len=15, seed=3)
    assert a == b and 0 < len(a) <= 15
    # With k = 0 every generated bigram was seen in training.
    tokens = [BOS, *a]
    assert all(lm.counts[(x, y)] > 0 for x, y in pairwise(tokens))
    assert NGramLM(2, k=0).fit(COURSE).generate(seed=0, context=["je"]) in (
        ["suis"],
        ["suis", "content"],
    )


def test_bad_input():
    with pytest.raises(ValueError, match="n"):
        NGramLM(0)
    with pytest.raises(ValueError, match="k"):
        NGramLM(2, k=-1)
    lm = NGramLM(2).fit(COURSE)
    with pytest.raises(ValueError, match="context"):
        lm.prob("suis", ("<s>", "je"))
    with pytest.raises(ValueError, match="sentences"):
        NGramLM(2).fit("je suis content")
    with pytest.raises(ValueError, match="fit"):
        NGramLM(2).prob("je", ("<s>",))


def test_token_logprobs_is_consistent_with_logprob_sentence_and_perplexity():
    lm = NGramLM(2, k=0).fit(COURSE)
    lps = lm.token_logprobs(["je", "suis", "content"])  # P(je|<s>), P(suis|je), ... P(</s>|content)
    assert lps == pytest.approx([0.0, 0.0, math.log(0.5), 0.0], abs=1e-15)
    assert sum(lps) == lm.logprob_sentence(["je", "suis", "content"])
    assert lm.token_logprobs(["je", "content"])[1] == -math.inf  # P(content | je) = 0
    smoothed = NGramLM(3, k=0.5).fit([s.lower().split() for s in load_sentences()[:80]])
    test = [s.lower().split() for s in load_sentences()[80:90]]
    all_lps = [lp for s in test for lp in smoothed.token_logprobs(s)]
    assert len(all_lps) == sum(len(s) + 1 for s in test)
    assert math.exp(-sum(all_lps) / len(all_lps)) == pytest.approx(
        smoothed.perplexity(test), rel=1e-12
    )


def test_a_plain_string_is_rejected_everywhere():
    # A string is a sequence of characters: scoring it would score letters, not words.
    lm = NGramLM(2).fit(COURSE)
    for method in (lm.logprob_sentence, lm.token_logprobs):
        with pytest.raises(ValueError, match="sentence must be a list of tokens"):
            method("je suis content")
    with pytest.raises(ValueError, match="sentences must be a non-empty list"):
        lm.perplexity("je suis content")
    with pytest.raises(ValueError, match="sentences must hold lists of tokens"):
        lm.perplexity(["je suis content", "je suis"])


def test_numpy_integer_orders_are_accepted():
    import numpy as np

    assert NGramLM(np.int64(2)).fit(COURSE).n == 2
    for bad in (2.0, True, "2"):
        with pytest.raises(ValueError, match="n"):
            NGramLM(bad)
