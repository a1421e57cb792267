"""Tests of llmcours.metrics against sacrebleu, rouge_score and scikit-learn."""

from __future__ import annotations

import math
import random

import pytest
import sacrebleu
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from llmcours.data import load_sentences
from llmcours.metrics import (
    JUDGE_PROMPT,
    accuracy,
    bertscore,
    bits_per_char,
    bleu,
    choice_log_likelihoods,
    confusion_matrix,
    exact_match,
    f1,
    greedy_match,
    judge_pair,
    ngram_overlap,
    normalize_answer,
    perplexity,
    position_consistency,
    precision,
    recall,
    rouge,
    rouge_tokens,
    token_f1,
    word_ngrams,
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


@settings(max_examples=100, deadline=None)
@given(st.data())
@pytest.mark.filterwarnings("ignore:A single label:UserWarning")
def test_precision_recall_confusion_matrix_equal_sklearn(data):
    y_true = data.draw(LABELS)
    y_pred = data.draw(st.lists(st.integers(0, 3), min_size=len(y_true), max_size=len(y_true)))
    for ours, theirs in ((precision, precision_score), (recall, recall_score)):
        expected = theirs(y_true, y_pred, average="macro", zero_division=0)
        assert ours(y_true, y_pred, average="macro") == pytest.approx(expected, abs=1e-12)
        bt, bp = [int(y > 1) for y in y_true], [int(y > 1) for y in y_pred]
        assert ours(bt, bp) == pytest.approx(theirs(bt, bp, zero_division=0), abs=1e-12)
    assert confusion_matrix(y_true, y_pred) == sk_confusion_matrix(y_true, y_pred).tolist()
    labels = [3, 0, 2]  # a chosen order, one label left out
    if set(labels) & set(y_true):  # sklearn refuses labels that miss y_true entirely
        expected = sk_confusion_matrix(y_true, y_pred, labels=labels).tolist()
        assert confusion_matrix(y_true, y_pred, labels=labels) == expected


def test_confusion_matrix_by_hand_and_bad_labels():
    y_true = ["pos", "pos", "neg", "neg", "neg"]
    y_pred = ["pos", "neg", "neg", "pos", "neg"]
    assert confusion_matrix(y_true, y_pred) == [[2, 1], [1, 1]]  # rows: neg, pos (sorted)
    assert precision(y_true, y_pred, pos_label="pos") == 0.5
    assert recall(y_true, y_pred, pos_label="pos") == 0.5
    with pytest.raises(ValueError, match="labels"):
        confusion_matrix(y_true, y_pred, labels=["pos", "pos"])
    with pytest.raises(ValueError, match="average"):
        precision([1], [1], average="weighted")


def squad_official_normalize(s):
    """normalize_answer of the official SQuAD v1.1 evaluation script, verbatim."""
    import re
    import string

    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["The", "a", "an", "Eiffel", "l'eau", "«", "»", ",", "Tower",
                                 "the.", "ANd", "x-y", "  ", "Noël", "’"]), max_size=10))
def test_normalize_answer_en_is_squad_official(words):
    text = " ".join(words)
    assert normalize_answer(text, language="en") == squad_official_normalize(text)


def test_french_normalisation_and_what_english_misses():
    assert normalize_answer("La Tour Eiffel !", language="en") == "la tour eiffel"
    assert normalize_answer("La Tour Eiffel !") == "tour eiffel"
    assert normalize_answer("l'eau", language="en") == "leau"  # the apostrophe is deleted
    assert normalize_answer("l’eau") == "eau"  # typographic apostrophe too
    assert exact_match("la tour Eiffel", "Tour Eiffel", language="en") == 0.0
    assert exact_match("la tour Eiffel", "Tour Eiffel") == 1.0
    assert exact_match("Eleonore", "Éléonore") == 0.0  # accents are not removed
    assert token_f1("en 1789", "1789") == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="language"):
        normalize_answer("x", language="de")


def test_greedy_match_by_hand():
    # candidate: e1, e2 ; reference: e1, (e1 + e2)/√2 ; cosines: [[1, 1/√2], [0, 1/√2]]
    cand = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    ref = torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    s = 1 / math.sqrt(2)
    p, r, f = greedy_match(cand, ref)
    assert p == pytest.approx((1 + s) / 2)  # e1 -> 1, e2 -> 1/√2
    assert r == pytest.approx((1 + s) / 2)  # ref e1 -> 1, ref diagonal -> 1/√2
    assert f == pytest.approx(p)
    assert greedy_match(cand, cand)[2] == pytest.approx(1.0)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 10_000))
def test_greedy_match_equals_a_loop(m, n, seed):
    g = torch.Generator().manual_seed(seed)
    cand, ref = torch.randn(m, 5, generator=g), torch.randn(n, 5, generator=g)

    def cos(a, b):
        return float(a @ b / (a.norm() * b.norm()))

    p = sum(max(cos(c, r) for r in ref) for c in cand) / m
    r = sum(max(cos(c, r) for c in cand) for r in ref) / n
    got = greedy_match(cand, ref)
    assert got[0] == pytest.approx(p, abs=1e-6) and got[1] == pytest.approx(r, abs=1e-6)
    if got[0] + got[1] > 0:  # F1 from P and R (near P + R = 0 it is ill-conditioned)
        assert got[2] == pytest.approx(2 * got[0] * got[1] / (got[0] + got[1]), rel=1e-9)


def test_greedy_match_bad_input():
    with pytest.raises(ValueError, match="candidate"):
        greedy_match(torch.zeros(0, 3), torch.ones(2, 3))
    with pytest.raises(ValueError, match="same d"):
        greedy_match(torch.ones(2, 3), torch.ones(2, 4))


@pytest.fixture(scope="module")
def minilm():
    from llmcours.models import load_encoder

    return load_encoder("minilm")


def test_bertscore_with_minilm(minilm):
    model, tokenizer = minilm
    cand, ref = "Le chat dort sur le tapis.", "Un chat somnole sur le tapis."
    got = bertscore([cand, ref], [ref, ref], model, tokenizer)
    assert got[1]["F1"] == pytest.approx(1.0, abs=1e-6)  # identical texts
    # reimplementation: last hidden state, [CLS] and [SEP] removed by position
    embs = []
    for text in (cand, ref):
        batch = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            embs.append(model(**batch).last_hidden_state[0, 1:-1])
    p, r, f = greedy_match(*embs)
    assert got[0] == pytest.approx({"P": p, "R": r, "F1": f}, abs=1e-5)
    assert 0.5 < got[0]["F1"] < 1.0
    with pytest.raises(ValueError, match="lists"):
        bertscore(cand, ref, model, tokenizer)


def test_position_consistency():
    got = position_consistency(["A", "A", "B", "A"], ["B", "A", "A", "A"])
    assert got["consistency"] == 0.5  # pairs 1 and 3 keep their answer, 2 and 4 flip
    assert got["first_position_rate"] == 6 / 8  # six of the eight verdicts say "A"
    assert position_consistency(["A"], ["B"]) == {"consistency": 1.0, "first_position_rate": 0.5}
    with pytest.raises(ValueError, match="'A' or 'B'"):
        position_consistency(["A"], ["C"])
    with pytest.raises(ValueError, match="lengths differ"):
        position_consistency(["A"], ["A", "B"])


def test_ngram_overlap():
    corpus = "Le petit chat dort sur le tapis rouge du salon depuis ce matin."
    assert word_ngrams("a b c", 2) == {("a", "b"), ("b", "c")}
    assert ngram_overlap("le petit chat dort sur le tapis", corpus, n=3) == 1.0
    assert ngram_overlap("un grand chien dort sur le tapis", corpus, n=3) == pytest.approx(2 / 5)
    assert ngram_overlap("trop court", corpus, n=3) == 0.0
    grams = word_ngrams(corpus, 3)
    assert ngram_overlap("LE PETIT CHAT, dort !", grams, n=3) == 1.0  # case and punctuation
    with pytest.raises(ValueError, match="n "):
        word_ngrams("a b", 0)


@pytest.fixture(scope="module")
def smollm2():
    from llmcours.models import load_causal_lm

    return load_causal_lm("smollm2")


def test_choice_log_likelihoods_equal_one_sequence_at_a_time(smollm2):
    from llmcours.models import token_log_probs

    model, tokenizer = smollm2
    context, choices = "La capitale de l'Italie est", [" Rome.", " Lisbonne la belle."]
    got = choice_log_likelihoods(model, tokenizer, context, choices)  # one padded batch
    n_context = len(tokenizer(context, add_special_tokens=False)["input_ids"])
    for (total, n_tokens), choice in zip(got, choices, strict=True):
        ids = tokenizer(context + choice, add_special_tokens=False)["input_ids"]
        expected = token_log_probs(model, torch.tensor(ids))[n_context - 1 :].sum().item()
        assert n_tokens == len(ids) - n_context
        assert total == pytest.approx(expected, abs=1e-3)  # float32, padded vs alone
    with pytest.raises(ValueError, match="choices"):
        choice_log_likelihoods(model, tokenizer, context, " Rome.")
    with pytest.raises(ValueError, match="context"):
        choice_log_likelihoods(model, tokenizer, "", [" Rome."])


def test_judge_pair_reads_the_letters_of_the_first_reply_token(smollm2):
    model, tokenizer = smollm2
    p = judge_pair(model, tokenizer, "Combien font 2 + 2 ?", "4.", "5.")
    assert 0.0 < p < 1.0
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": JUDGE_PROMPT.format(
            question="Combien font 2 + 2 ?", answer_a="4.", answer_b="5.")}],
        tokenize=False, add_generation_prompt=True)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, -1]
    a, b = (tokenizer.convert_tokens_to_ids(letter) for letter in "AB")
    assert p == pytest.approx(torch.softmax(logits[[a, b]], dim=-1)[0].item(), abs=1e-5)


def test_rouge_tokens_keep_accents_and_match_rouge_score_on_ascii():
    from rouge_score import tokenize

    assert rouge_tokens("L'élève a été reçu.") == ["l", "élève", "a", "été", "reçu"]
    text = "The U.S. e-mail, don't x_y 2024!"
    assert rouge_tokens(text) == tokenize.tokenize(text, None)
