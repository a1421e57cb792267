"""n-gram language model with add-k smoothing.

Under the Markov hypothesis of order n, a word only depends on the n−1 words before it,

    P(w_t | w_1, ..., w_{t-1}) ≈ P(w_t | h),   h = (w_{t-n+1}, ..., w_{t-1}),

and the counts of the training corpus give, with add-k (Laplace for k = 1) smoothing,

    P(w | h) = (c(h, w) + k) / (c(h) + k·|V|).

k = 0 is the maximum-likelihood estimate c(h, w) / c(h). Each sentence is padded with n−1
``<s>`` at the start and one ``</s>`` at the end, so the model also learns how sentences start
and end. The vocabulary V is every training word plus ``</s>`` (``<s>`` is never predicted).

Course example (bigrams, k = 0) on « je suis content » and « je suis »:
P(suis | je) = 2/2 = 1, P(content | suis) = 1/2 and P(</s> | suis) = 1/2.

With k = 0, a word never seen after h has probability 0, so a test sentence containing it has
log-probability −inf and the perplexity is ``inf``; an unseen context h (c(h) = 0) also gives
0 with k = 0. A word outside V is treated like any unseen word: (0 + k) / (c(h) + k·|V|).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

from ._checks import check_int, check_number

__all__ = ["NGramLM", "BOS", "EOS"]

BOS, EOS = "<s>", "</s>"


def _check_sentences(sentences: Sequence[Sequence[str]]) -> None:
    if isinstance(sentences, str) or not sentences:
        raise ValueError("sentences must be a non-empty list of token lists")
    for s in sentences:
        _check_sentence(s, "sentences must hold lists of tokens")


def _check_sentence(sentence: Sequence[str], what: str = "sentence must be a list of tokens"):
    if isinstance(sentence, str):
        raise ValueError(f"{what}, got the string {sentence!r} (split it into tokens first)")


class NGramLM:
    """Count-based n-gram model: ``fit`` on lists of tokens, then ``prob``, ``perplexity``..."""

    def __init__(self, n: int, k: float = 1.0) -> None:
        n = check_int(n, "n (1 = unigram, 2 = bigram...)", minimum=1)
        k = check_number(k, "k", minimum=0)  # 0 = no smoothing, 1 = Laplace
        self.n, self.k = n, k
        self.counts: Counter[tuple[str, ...]] = Counter()  # c(h, w), keys are n-tuples
        self.context_counts: Counter[tuple[str, ...]] = Counter()  # c(h), keys are (n−1)-tuples
        self.vocab: list[str] = []

    def _check_fitted(self) -> None:
        if not self.vocab:
            raise ValueError("the model is not fitted: call fit(sentences) first")

    def _check_context(self, context: Sequence[str]) -> tuple[str, ...]:
        self._check_fitted()
        if isinstance(context, str) or len(context) != self.n - 1:
            raise ValueError(f"context ({context!r}) must be a tuple of n−1 = {self.n - 1} tokens")
        return tuple(context)

    def _padded(self, sentence: Sequence[str]) -> list[str]:
        return [BOS] * (self.n - 1) + list(sentence) + [EOS]

    def fit(self, sentences: Sequence[Sequence[str]]) -> NGramLM:
        """Count the n-grams of ``sentences`` (each a list of tokens). Returns ``self``."""
        _check_sentences(sentences)
        self.counts.clear()
        self.context_counts.clear()
        words = set()
        for sentence in sentences:
            tokens = self._padded(sentence)
            words.update(tokens[self.n - 1 :])
            for i in range(self.n - 1, len(tokens)):
                h = tuple(tokens[i - self.n + 1 : i])
                self.counts[h + (tokens[i],)] += 1
                self.context_counts[h] += 1
        self.vocab = sorted(words)
        return self

    def prob(self, word: str, context: Sequence[str] = ()) -> float:
        """P(word | context), context = the n−1 previous tokens (``<s>`` at a sentence start)."""
        context = self._check_context(context)
        numerator = self.counts[context + (word,)] + self.k
        denominator = self.context_counts[context] + self.k * len(self.vocab)
        return numerator / denominator if denominator > 0 else 0.0

    def token_logprobs(self, sentence: Sequence[str]) -> list[float]:
        """log P(w_t | h_t) for each predicted token of ``sentence``, ``</s>`` included.

        ``len(sentence) + 1`` natural log-probabilities; −inf where P = 0 (k = 0, unseen).
        """
        _check_sentence(sentence)
        tokens = self._padded(sentence)
        log_probs = []
        for i in range(self.n - 1, len(tokens)):
            p = self.prob(tokens[i], tokens[i - self.n + 1 : i])  # P(w_i | h_i)
            log_probs.append(math.log(p) if p > 0 else -math.inf)
        return log_probs

    def logprob_sentence(self, sentence: Sequence[str]) -> float:
        """Natural log of P(sentence) = Σ_t log P(w_t | h_t), ``</s>`` included (−inf if 0)."""
        return sum(self.token_logprobs(sentence))

    def perplexity(self, sentences: Sequence[Sequence[str]]) -> float:
        """exp(−(1/N) Σ log P), N = number of predicted tokens (words and one ``</s>`` each)."""
        _check_sentences(sentences)
        n_tokens = sum(len(s) + 1 for s in sentences)
        total = sum(self.logprob_sentence(s) for s in sentences)
        return math.exp(-total / n_tokens) if total > -math.inf else math.inf

    def generate(
        self, max_len: int = 20, seed: int | None = None, context: Sequence[str] = ()
    ) -> list[str]:
        """Sample words after ``context`` until ``</s>`` or ``max_len`` new words (no ``</s>``)."""
        self._check_fitted()
        max_len = check_int(max_len, "max_len", minimum=0)
        rng = random.Random(seed)
        tokens = [BOS] * (self.n - 1) + list(context)
        generated: list[str] = []
        for _ in range(max_len):
            h = tuple(tokens[len(tokens) - self.n + 1 :]) if self.n > 1 else ()
            weights = [self.prob(w, h) for w in self.vocab]
            if sum(weights) == 0.0:  # k = 0 and a context never seen: nothing to sample
                break
            word = rng.choices(self.vocab, weights=weights)[0]
            if word == EOS:
                break
            generated.append(word)
            tokens.append(word)
        return generated
