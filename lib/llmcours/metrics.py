"""Evaluation metrics of the course: language modelling, classification, QA and generation.

- perplexity: PPL = exp(−(1/N) Σ_i log P(x_i | x_<i)) (natural logs), the "average number of
  equally likely choices"; lower is better;
- bits per character: BPC = −(1/(N_chars · ln 2)) Σ log P, the total negative log-likelihood
  of a text in bits divided by its number of characters (comparable across tokenizers);
- accuracy = correct / total; F1 = 2·precision·recall / (precision + recall);
- exact match and token F1 for question answering (SQuAD-style normalisation);
- BLEU = BP · exp(Σ_n w_n log p_n) with w_n = 1/4, n = 1..4, clipped n-gram precisions p_n and
  the brevity penalty BP = min(1, exp(1 − r/c)), computed over the corpus exactly as
  ``sacrebleu.corpus_bleu`` by default (tokenizer "13a", "exp" smoothing), on a 0–100 scale;
- ROUGE-1/2 (n-gram overlap) and ROUGE-L (longest common subsequence) F1, as ``rouge_score``
  without stemming.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

import torch

from ._checks import check_int

__all__ = [
    "perplexity",
    "bits_per_char",
    "accuracy",
    "f1",
    "exact_match",
    "token_f1",
    "bleu",
    "rouge",
]


# ---------------------------------------------------------------------------------------------
# Language modelling
# ---------------------------------------------------------------------------------------------
def perplexity(log_probs: Sequence[float] | torch.Tensor) -> float:
    """exp of the mean negative log-likelihood of per-token *natural* log-probabilities (≤ 0)."""
    lp = _check_log_probs(log_probs)
    return math.exp(-lp.mean().item())


def _check_log_probs(log_probs: Sequence[float] | torch.Tensor) -> torch.Tensor:
    lp = torch.as_tensor(log_probs, dtype=torch.float64).flatten()
    if lp.numel() == 0:
        raise ValueError("log_probs is empty: give one log-probability per token")
    if lp.isnan().any():
        first = int(lp.isnan().nonzero()[0])
        raise ValueError(
            f"log_probs contains NaN (first at index {first}): check the model's outputs"
        )
    if (lp > 0).any():
        raise ValueError("log_probs must be <= 0 (log-probabilities, not negative log-likelihoods)")
    return lp


def bits_per_char(total_nll: float, n_chars: int) -> float:
    """BPC from the total negative log-likelihood of a text in *nats* and its character count.

    With a tokenizer, ``total_nll`` is the sum of the token NLLs of the whole text, and
    ``n_chars = len(text)``: BPC = total_nll / (n_chars · ln 2).
    """
    n_chars = check_int(n_chars, "n_chars (the number of characters of the text)", minimum=1)
    if not total_nll >= 0:  # also catches NaN
        raise ValueError(f"total_nll ({total_nll}) must be >= 0 (a sum of −log P in nats)")
    return total_nll / (n_chars * math.log(2))


# ---------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------
def _check_pair(y_true: Sequence, y_pred: Sequence) -> tuple[list, list]:
    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true ({len(y_true)}) and y_pred ({len(y_pred)}) lengths differ")
    if not y_true:
        raise ValueError("y_true is empty")
    return y_true, y_pred


def accuracy(y_true: Sequence, y_pred: Sequence) -> float:
    """Fraction of predictions equal to the label."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    return sum(t == p for t, p in zip(y_true, y_pred, strict=True)) / len(y_true)


def _f1_of(label, y_true: list, y_pred: list) -> float:
    tp = sum(t == label and p == label for t, p in zip(y_true, y_pred, strict=True))
    fp = sum(t != label and p == label for t, p in zip(y_true, y_pred, strict=True))
    fn = sum(t == label and p != label for t, p in zip(y_true, y_pred, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 0.0


def f1(y_true: Sequence, y_pred: Sequence, average: str = "binary", pos_label=1) -> float:
    """F1 = 2PR/(P+R) = 2TP / (2TP + FP + FN), as ``sklearn.metrics.f1_score``.

    ``average="binary"``: F1 of the class ``pos_label``; ``"macro"``: unweighted mean of the
    per-class F1 over every label seen in ``y_true`` or ``y_pred``. An undefined F1 (no
    positive at all) is 0, as sklearn's default.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    if average == "binary":
        return _f1_of(pos_label, y_true, y_pred)
    if average == "macro":
        labels = set(y_true) | set(y_pred)
        return sum(_f1_of(c, y_true, y_pred) for c in labels) / len(labels)
    raise ValueError(f"average ({average!r}) must be 'binary' or 'macro'")


# ---------------------------------------------------------------------------------------------
# Question answering
# ---------------------------------------------------------------------------------------------
_ARTICLES = re.compile(r"\b(a|an|the|le|la|les|l|un|une|des|du)\b")
_PUNCTUATION = set(string.punctuation) | set("«»’“”…")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation, extended to French: lowercase, drop punctuation (replaced by a
    space so that « l'eau » gives « l eau »), drop the articles a/an/the and
    le/la/les/l'/un/une/des/du, squeeze whitespace."""
    text = "".join(" " if ch in _PUNCTUATION else ch for ch in text.lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(predictions: str | Sequence[str], references: str | Sequence[str]) -> float:
    """Fraction of predictions equal to their reference after :func:`normalize_answer`."""
    if isinstance(predictions, str):
        predictions, references = [predictions], [references]
    predictions, references = _check_pair(predictions, references)
    pairs = zip(predictions, references, strict=True)
    return sum(normalize_answer(p) == normalize_answer(r) for p, r in pairs) / len(predictions)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD's token-overlap F1 between a predicted and a reference answer (normalised)."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


# ---------------------------------------------------------------------------------------------
# BLEU (sacrebleu's defaults)
# ---------------------------------------------------------------------------------------------
_13A_RULES = [  # mteval-v13a, as sacrebleu's "13a" tokenizer
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # symbols
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # period and comma unless after a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # period and comma unless before a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # dash after a digit
]


def tokenize_13a(line: str) -> list[str]:
    """The "13a" tokenization of sacrebleu (mteval-v13a), used by :func:`bleu`."""
    line = line.rstrip().replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        for entity, char in (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
            line = line.replace(entity, char)
    line = f" {line} "
    for pattern, replacement in _13A_RULES:
        line = pattern.sub(replacement, line)
    return line.split()


def _ngrams(tokens: list[str], max_n: int) -> Counter:
    return Counter(
        tuple(tokens[i : i + n]) for n in range(1, max_n + 1) for i in range(len(tokens) - n + 1)
    )


def bleu(
    hypotheses: Sequence[str], references: Sequence[str] | Sequence[Sequence[str]], max_n: int = 4
) -> float:
    """Corpus BLEU in 0–100, equal to ``sacrebleu.corpus_bleu(hypotheses, refs).score``.

    ``references[i]`` is the reference of ``hypotheses[i]`` (a string) or a list of its
    references. Statistics are summed over the corpus: clipped n-gram matches (a hypothesis
    n-gram counts at most as often as in its most generous reference), hypothesis length c and
    reference length r (per sentence, the reference length closest to the hypothesis, the
    shorter on a tie). "exp" smoothing: the m-th order with no match gets precision 1/(2^m·total).
    """
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise ValueError("hypotheses and references must be lists (one entry per sentence)")
    if len(hypotheses) != len(references):
        raise ValueError(
            f"hypotheses ({len(hypotheses)}) and references ({len(references)}) counts differ"
        )
    correct, total = [0] * max_n, [0] * max_n
    sys_len = ref_len = 0
    for hyp, refs in zip(hypotheses, references, strict=True):
        refs = [refs] if isinstance(refs, str) else list(refs)
        if not refs:
            raise ValueError(f"references of {hyp!r} is an empty list")
        hyp_tokens = tokenize_13a(hyp)
        ref_counts: Counter = Counter()
        ref_lens = []
        for ref in refs:
            tokens = tokenize_13a(ref)
            ref_lens.append(len(tokens))
            ref_counts |= _ngrams(tokens, max_n)  # | keeps the max count of each n-gram
        sys_len += len(hyp_tokens)
        ref_len += min(ref_lens, key=lambda r: (abs(r - len(hyp_tokens)), r))
        for ngram, count in _ngrams(hyp_tokens, max_n).items():
            total[len(ngram) - 1] += count
            correct[len(ngram) - 1] += min(count, ref_counts[ngram])
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    else:
        bp = 1.0
    if not any(correct):
        return 0.0
    precisions = [0.0] * max_n  # in percent, as sacrebleu (a 0 precision contributes log ≈ −1e10)
    smooth = 1.0
    for n in range(max_n):
        if total[n] == 0:
            break
        if correct[n] == 0:
            smooth *= 2
            precisions[n] = 100.0 / (smooth * total[n])
        else:
            precisions[n] = 100.0 * correct[n] / total[n]
    log_sum = sum(math.log(p) if p > 0 else -9999999999 for p in precisions)
    return bp * math.exp(log_sum / max_n)


# ---------------------------------------------------------------------------------------------
# ROUGE
# ---------------------------------------------------------------------------------------------
_WORD = re.compile(r"[^\W_]+")


def _rouge_tokens(text: str) -> list[str]:
    """Lowercase, then runs of Unicode letters and digits.

    On ASCII text this is exactly ``rouge_score``'s tokenizer ([a-z0-9]+). On French text it
    keeps accented letters (« été » stays one token), where ``rouge_score`` would drop them and
    cut « été » down to « t ».
    """
    return _WORD.findall(text.lower())


def _f(overlap: int, n_hyp: int, n_ref: int) -> float:
    precision, recall = overlap / max(n_hyp, 1), overlap / max(n_ref, 1)
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _lcs_length(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge(hypothesis: str, reference: str) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 of one hypothesis against one reference (0–1)."""
    hyp, ref = _rouge_tokens(hypothesis), _rouge_tokens(reference)
    scores = {}
    for n in (1, 2):
        hyp_ngrams = Counter(tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1))
        ref_ngrams = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
        overlap = sum((hyp_ngrams & ref_ngrams).values())
        scores[f"rouge{n}"] = _f(overlap, sum(hyp_ngrams.values()), sum(ref_ngrams.values()))
    lcs = _lcs_length(hyp, ref) if hyp and ref else 0
    scores["rougeL"] = _f(lcs, len(hyp), len(ref))
    return scores
