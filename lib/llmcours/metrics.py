"""Evaluation metrics of the course: language modelling, classification, QA and generation.

- perplexity: PPL = exp(−(1/N) Σ_i log P(x_i | x_<i)) (natural logs), the "average number of
  equally likely choices"; lower is better;
- bits per character: BPC = −(1/(N_chars · ln 2)) Σ log P, the total negative log-likelihood
  of a text in bits divided by its number of characters (comparable across tokenizers);
- accuracy = correct / total; precision = TP / (TP + FP), recall = TP / (TP + FN),
  F1 = 2·precision·recall / (precision + recall), and the confusion matrix (as scikit-learn);
- exact match and token F1 for question answering (SQuAD-style normalisation, English or French);
- BLEU = BP · exp(Σ_n w_n log p_n) with w_n = 1/4, n = 1..4, clipped n-gram precisions p_n and
  the brevity penalty BP = min(1, exp(1 − r/c)), computed over the corpus exactly as
  ``sacrebleu.corpus_bleu`` by default (tokenizer "13a", "exp" smoothing), on a 0–100 scale;
- ROUGE-1/2 (n-gram overlap) and ROUGE-L (longest common subsequence) F1, as ``rouge_score``
  without stemming;
- BERTScore's greedy matching (Zhang et al., 2020): each token embedding is matched to its most
  cosine-similar token of the other text, P = mean over the candidate's tokens, R = mean over the
  reference's tokens, F1 = 2PR/(P+R) (no idf weighting, no baseline rescaling);
- scoring with a causal LM: the log-likelihood of each choice of a multiple-choice item (as
  MMLU and HellaSwag harnesses do), a pairwise judge (P("A") against P("B")), and how often its
  verdict survives swapping the two answers (position bias);
- contamination: the fraction of a test item's word n-grams found in a corpus (GPT-3's 13-gram
  overlap test).
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

import torch

from ._checks import check_int, check_number, check_sequence, check_str, check_strs

__all__ = [
    "perplexity",
    "bits_per_char",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "confusion_matrix",
    "normalize_answer",
    "exact_match",
    "token_f1",
    "bleu",
    "rouge",
    "rouge_tokens",
    "greedy_match",
    "bertscore",
    "position_consistency",
    "word_ngrams",
    "ngram_overlap",
    "choice_log_likelihoods",
    "judge_pair",
]


# ---------------------------------------------------------------------------------------------
# Language modelling
# ---------------------------------------------------------------------------------------------
def perplexity(log_probs: Sequence[float] | torch.Tensor) -> float:
    """exp of the mean negative log-likelihood of per-token *natural* log-probabilities (≤ 0)."""
    lp = _check_log_probs(log_probs)
    return math.exp(-lp.mean().item())


def _check_log_probs(log_probs: Sequence[float] | torch.Tensor) -> torch.Tensor:
    if not isinstance(log_probs, torch.Tensor):
        check_sequence(log_probs, "log_probs")
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
    if not check_number(total_nll, "total_nll") >= 0:  # also catches NaN
        raise ValueError(f"total_nll ({total_nll}) must be >= 0 (a sum of −log P in nats)")
    return total_nll / (n_chars * math.log(2))


# ---------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------
def _check_pair(y_true: Sequence, y_pred: Sequence) -> tuple[list, list]:
    y_true, y_pred = check_sequence(y_true, "y_true"), check_sequence(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true ({len(y_true)}) and y_pred ({len(y_pred)}) lengths differ")
    if not y_true:
        raise ValueError("y_true is empty")
    return y_true, y_pred


def accuracy(y_true: Sequence, y_pred: Sequence) -> float:
    """Fraction of predictions equal to the label."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    return sum(t == p for t, p in zip(y_true, y_pred, strict=True)) / len(y_true)


def _counts(label, y_true: list, y_pred: list) -> tuple[int, int, int]:
    """(TP, FP, FN) of the class ``label``."""
    pairs = list(zip(y_true, y_pred, strict=True))
    tp = sum(t == label and p == label for t, p in pairs)
    fp = sum(t != label and p == label for t, p in pairs)
    fn = sum(t == label and p != label for t, p in pairs)
    return tp, fp, fn


def _averaged(score, y_true: Sequence, y_pred: Sequence, average: str, pos_label) -> float:
    y_true, y_pred = _check_pair(y_true, y_pred)
    if average == "binary":
        return score(*_counts(pos_label, y_true, y_pred))
    if average == "macro":
        labels = set(y_true) | set(y_pred)
        return sum(score(*_counts(c, y_true, y_pred)) for c in labels) / len(labels)
    raise ValueError(f"average ({average!r}) must be 'binary' or 'macro'")


def precision(y_true: Sequence, y_pred: Sequence, average: str = "binary", pos_label=1) -> float:
    """TP / (TP + FP): among the items predicted ``pos_label``, the fraction that are.

    As ``sklearn.metrics.precision_score(..., zero_division=0)``; ``average`` as in :func:`f1`.
    """
    return _averaged(
        lambda tp, fp, fn: tp / (tp + fp) if tp + fp else 0.0, y_true, y_pred, average, pos_label
    )


def recall(y_true: Sequence, y_pred: Sequence, average: str = "binary", pos_label=1) -> float:
    """TP / (TP + FN): among the items that are ``pos_label``, the fraction found.

    As ``sklearn.metrics.recall_score(..., zero_division=0)``; ``average`` as in :func:`f1`.
    """
    return _averaged(
        lambda tp, fp, fn: tp / (tp + fn) if tp + fn else 0.0, y_true, y_pred, average, pos_label
    )


def confusion_matrix(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> list:
    """C[i][j] = number of items of true class ``labels[i]`` predicted ``labels[j]``.

    Rows are the truth, columns the prediction, as ``sklearn.metrics.confusion_matrix``;
    ``labels`` defaults to the sorted labels seen in ``y_true`` or ``y_pred``.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    labels = sorted(set(y_true) | set(y_pred)) if labels is None else list(labels)
    index = {label: i for i, label in enumerate(labels)}
    if len(index) != len(labels):
        raise ValueError(f"labels ({labels!r}) must not repeat a label")
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(y_true, y_pred, strict=True):
        if t in index and p in index:  # sklearn also ignores labels left out of ``labels``
            matrix[index[t]][index[p]] += 1
    return matrix


def f1(y_true: Sequence, y_pred: Sequence, average: str = "binary", pos_label=1) -> float:
    """F1 = 2PR/(P+R) = 2TP / (2TP + FP + FN), as ``sklearn.metrics.f1_score``.

    ``average="binary"``: F1 of the class ``pos_label``; ``"macro"``: unweighted mean of the
    per-class F1 over every label seen in ``y_true`` or ``y_pred``. An undefined F1 (no
    positive at all) is 0, as sklearn's default.
    """
    return _averaged(
        lambda tp, fp, fn: 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        y_true,
        y_pred,
        average,
        pos_label,
    )


# ---------------------------------------------------------------------------------------------
# Question answering
# ---------------------------------------------------------------------------------------------
_ARTICLES = {
    "en": re.compile(r"\b(a|an|the)\b"),  # SQuAD's official list
    "fr": re.compile(r"\b(a|an|the|le|la|les|l|un|une|des|du)\b"),
}
_PUNCTUATION = set(string.punctuation)
_PUNCTUATION_FR = _PUNCTUATION | set("«»’“”…")


def normalize_answer(text: str, language: str = "fr") -> str:
    """SQuAD's answer normalisation: lowercase, drop punctuation and articles, squeeze spaces.

    ``language="en"`` is the official SQuAD v1.1 script: punctuation is deleted (« l'eau »
    becomes « leau ») and only a/an/the are articles. ``"fr"`` (the default) replaces
    punctuation, French quotes and the typographic apostrophe by a space (« l'eau » gives
    « l eau ») and also drops le/la/les/l'/un/une/des/du.
    """
    if language not in _ARTICLES:
        raise ValueError(f"language ({language!r}) must be 'fr' or 'en'")
    text = check_str(text, "text").lower()
    if language == "en":
        text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    else:
        text = "".join(" " if ch in _PUNCTUATION_FR else ch for ch in text)
    return " ".join(_ARTICLES[language].sub(" ", text).split())


def exact_match(
    predictions: str | Sequence[str], references: str | Sequence[str], language: str = "fr"
) -> float:
    """Fraction of predictions equal to their reference after :func:`normalize_answer`."""
    if isinstance(predictions, str):
        predictions, references = [predictions], [references]
    predictions, references = _check_pair(predictions, references)
    pairs = zip(predictions, references, strict=True)
    return sum(
        normalize_answer(p, language) == normalize_answer(r, language) for p, r in pairs
    ) / len(predictions)


def token_f1(prediction: str, reference: str, language: str = "fr") -> float:
    """SQuAD's token-overlap F1 between a predicted and a reference answer (normalised)."""
    pred = normalize_answer(check_str(prediction, "prediction"), language).split()
    ref = normalize_answer(check_str(reference, "reference"), language).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())  # shared tokens, with multiplicity
    if common == 0:
        return 0.0
    p, r = common / len(pred), common / len(ref)
    return 2 * p * r / (p + r)


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
    check_strs(hypotheses, "hypotheses")
    if len(hypotheses) != len(references):
        raise ValueError(
            f"hypotheses ({len(hypotheses)}) and references ({len(references)}) counts differ"
        )
    correct, total = [0] * max_n, [0] * max_n
    sys_len = ref_len = 0
    for hyp, refs in zip(hypotheses, references, strict=True):
        refs = check_strs([refs] if isinstance(refs, str) else refs, f"references of {hyp!r}")
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


def rouge_tokens(text: str) -> list[str]:
    """Lowercase, then runs of Unicode letters and digits.

    On ASCII text this is exactly ``rouge_score``'s tokenizer ([a-z0-9]+). On French text it
    keeps accented letters (« été » stays one token), where ``rouge_score`` would drop them and
    cut « été » down to « t ».
    """
    return _WORD.findall(check_str(text, "text").lower())


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
    hyp = rouge_tokens(check_str(hypothesis, "hypothesis"))
    ref = rouge_tokens(check_str(reference, "reference"))
    scores = {}
    for n in (1, 2):
        hyp_ngrams = Counter(tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1))
        ref_ngrams = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
        overlap = sum((hyp_ngrams & ref_ngrams).values())
        scores[f"rouge{n}"] = _f(overlap, sum(hyp_ngrams.values()), sum(ref_ngrams.values()))
    lcs = _lcs_length(hyp, ref) if hyp and ref else 0
    scores["rougeL"] = _f(lcs, len(hyp), len(ref))
    return scores


# ---------------------------------------------------------------------------------------------
# BERTScore's idea: greedy matching of contextual token embeddings
# ---------------------------------------------------------------------------------------------
def greedy_match(candidate: torch.Tensor, reference: torch.Tensor) -> tuple[float, float, float]:
    """BERTScore's (P, R, F1) from token embeddings ``candidate`` (m, d) and ``reference`` (n, d).

    With unit vectors, sim[i, j] = cos(c_i, r_j); each candidate token is matched to its most
    similar reference token (precision) and each reference token to its most similar candidate
    token (recall): P = (1/m) Σ_i max_j sim[i, j], R = (1/n) Σ_j max_i sim[i, j], F1 = 2PR/(P+R).
    """
    c, r = torch.as_tensor(candidate), torch.as_tensor(reference)
    if c.dim() != 2 or r.dim() != 2 or c.shape[1] != r.shape[1] or not len(c) or not len(r):
        raise ValueError(
            f"candidate {tuple(c.shape)} and reference {tuple(r.shape)} must be non-empty "
            "(tokens, d) matrices with the same d"
        )
    c = torch.nn.functional.normalize(c.double(), dim=-1)
    r = torch.nn.functional.normalize(r.double(), dim=-1)
    sim = c @ r.T  # (m, n) cosine similarities
    p = sim.max(dim=1).values.mean().item()  # best reference match of each candidate token
    rec = sim.max(dim=0).values.mean().item()  # best candidate match of each reference token
    return p, rec, 2 * p * rec / (p + rec) if p + rec > 0 else 0.0


def _token_embeddings(text: str, model, tokenizer, layer: int) -> torch.Tensor:
    """Contextual embeddings of ``text``'s tokens at hidden layer ``layer``, without the
    special tokens ([CLS], [SEP]) that BERTScore leaves out."""
    batch = tokenizer(text, return_tensors="pt", truncation=True)
    device = next(model.parameters()).device
    with torch.no_grad():
        out = model(**{k: v.to(device) for k, v in batch.items()}, output_hidden_states=True)
    hidden = out.hidden_states[layer][0].float().cpu()
    special = torch.tensor(
        tokenizer.get_special_tokens_mask(
            batch["input_ids"][0].tolist(), already_has_special_tokens=True
        ),
        dtype=torch.bool,
    )
    return hidden[~special]


def bertscore(
    candidates: Sequence[str], references: Sequence[str], model, tokenizer, layer: int = -1
) -> list[dict[str, float]]:
    """BERTScore (without idf weights nor baseline rescaling) of each candidate against its
    reference, with the encoder ``model`` (e.g. MiniLM from ``load_encoder``) and its
    ``tokenizer``: ``[{'P': ..., 'R': ..., 'F1': ...}, ...]`` from :func:`greedy_match` on the
    hidden states of ``layer`` (the last by default)."""
    if isinstance(candidates, str) or isinstance(references, str):
        raise ValueError("candidates and references must be lists of strings, one per pair")
    candidates, references = _check_pair(candidates, references)
    scores = []
    for cand, ref in zip(candidates, references, strict=True):
        p, r, f = greedy_match(
            _token_embeddings(cand, model, tokenizer, layer),
            _token_embeddings(ref, model, tokenizer, layer),
        )
        scores.append({"P": p, "R": r, "F1": f})
    return scores


# ---------------------------------------------------------------------------------------------
# LLM-as-a-judge: position bias
# ---------------------------------------------------------------------------------------------
def position_consistency(verdicts: Sequence[str], swapped: Sequence[str]) -> dict[str, float]:
    """How a pairwise judge behaves when the two answers swap places.

    ``verdicts[i]`` is "A" or "B", the answer preferred when answer 1 is shown first (as A);
    ``swapped[i]`` the verdict on the same pair shown in the other order (answer 1 as B). A
    judge that looks at the content gives opposite letters. Returns ``consistency`` (fraction
    of pairs whose preferred *answer* survives the swap) and ``first_position_rate`` (fraction
    of all 2N verdicts that chose whichever answer was shown first: 0.5 for an unbiased judge
    on balanced pairs).
    """
    verdicts, swapped = _check_pair(verdicts, swapped)
    if not set(verdicts) | set(swapped) <= {"A", "B"}:
        raise ValueError("verdicts and swapped must contain only 'A' or 'B'")
    consistent = sum(v != s for v, s in zip(verdicts, swapped, strict=True))
    first = sum(v == "A" for v in verdicts) + sum(s == "A" for s in swapped)
    return {
        "consistency": consistent / len(verdicts),
        "first_position_rate": first / (2 * len(verdicts)),
    }


# ---------------------------------------------------------------------------------------------
# Contamination: n-gram overlap between a test item and a corpus
# ---------------------------------------------------------------------------------------------
def word_ngrams(text: str, n: int = 13) -> set[tuple[str, ...]]:
    """The set of word n-grams of ``text`` (lowercased runs of letters and digits)."""
    n = check_int(n, "n (the n-gram length in words)", minimum=1)
    words = _WORD.findall(check_str(text, "text").lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def ngram_overlap(item: str, corpus: str | set, n: int = 13) -> float:
    """Fraction of the word n-grams of a test ``item`` that also occur in ``corpus``.

    GPT-3 (Brown et al., 2020) flagged a benchmark item as contaminated when one of its
    13-grams appeared in the training data. ``corpus`` is a text or a set already built by
    :func:`word_ngrams` (build it once for many items). An item shorter than n words has no
    n-gram: its overlap is 0.
    """
    grams = word_ngrams(check_str(item, "item"), n)
    corpus_grams = corpus if isinstance(corpus, set) else word_ngrams(corpus, n)
    return len(grams & corpus_grams) / len(grams) if grams else 0.0


# ---------------------------------------------------------------------------------------------
# Scoring with a causal LM: multiple-choice benchmarks and a pairwise judge
# ---------------------------------------------------------------------------------------------
def choice_log_likelihoods(model, tokenizer, context: str, choices: Sequence[str]) -> list:
    """``[(log P(choice | context), n_tokens), ...]``: how MMLU- and HellaSwag-style harnesses
    score a multiple-choice item with a causal LM (the answer is the choice of highest total
    log-probability, or of highest mean per token to correct for length).

    Each choice is tokenized after the context (a choice usually begins with a space) and only
    its own tokens are summed.
    """
    from .models import token_log_probs

    if isinstance(choices, str) or not choices:
        raise ValueError("choices must be a non-empty list of strings")
    context_ids = tokenizer(context, add_special_tokens=False)["input_ids"]
    if not context_ids:
        raise ValueError("context is empty: the first choice token needs something to follow")
    rows, starts = [], []
    for choice in choices:
        ids = tokenizer(context + choice, add_special_tokens=False)["input_ids"]
        # the choice's tokens: those after the longest prefix shared with the context's tokens
        shared = 0
        while shared < min(len(context_ids), len(ids)) and context_ids[shared] == ids[shared]:
            shared += 1
        if shared == len(ids):
            raise ValueError(f"choice {choice!r} adds no token to the context")
        rows.append(ids)
        starts.append(max(shared, 1))  # the first token of the text is never scored
    # one batch, padded on the right: a causal model never looks at the padding that follows
    width = max(len(ids) for ids in rows)
    batch = torch.tensor([ids + [ids[-1]] * (width - len(ids)) for ids in rows])
    log_probs = token_log_probs(model, batch).cpu()  # entry t − 1 scores token t
    return [
        (log_probs[i, start - 1 : len(ids) - 1].sum().item(), len(ids) - start)
        for i, (ids, start) in enumerate(zip(rows, starts, strict=True))
    ]


JUDGE_PROMPT = (
    "Voici une question et deux réponses.\n\nQuestion : {question}\n\n"
    "Réponse A : {answer_a}\n\nRéponse B : {answer_b}\n\n"
    "Quelle réponse est la meilleure ? Réponds seulement par la lettre A ou B."
)


def judge_pair(
    model, tokenizer, question: str, answer_a: str, answer_b: str, template: str = JUDGE_PROMPT
) -> float:
    """An instruction-tuned causal LM as a pairwise judge: P(A) / (P(A) + P(B)), the
    probabilities of the letters "A" and "B" as the first token of its reply to ``template``
    (formatted with the question and the two answers, in the model's chat template)."""
    messages = [
        {
            "role": "user",
            "content": template.format(question=question, answer_a=answer_a, answer_b=answer_b),
        }
    ]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    letters = [tokenizer(letter, add_special_tokens=False)["input_ids"][0] for letter in "AB"]
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(input_ids=ids.to(device)).logits[0, -1].float()
    p_a, p_b = torch.softmax(logits, dim=-1)[letters].tolist()
    return p_a / (p_a + p_b)
