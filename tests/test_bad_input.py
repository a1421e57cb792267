"""Bad input gets a one-line error naming the argument (issue 21 §4).

One row per (function, bad call): the exception class (``TypeError`` for a wrong type,
``ValueError`` for a wrong value or an empty input) and a regular expression that the message
must match, which names the argument and what was wrong. Every message is one line. The rows
cover the held-out probes of the issue, then every teaching module's public functions.
"""

from __future__ import annotations

import random
from functools import cache

import numpy as np
import pytest
import torch

from llmcours import (
    alignment,
    attention,
    bpe,
    classification,
    datafilter,
    decoding,
    lora,
    memory,
    metrics,
    models,
    ngram,
    notebook,
    optim,
    pretraining,
    rag,
    rnn,
    scaling,
    sft,
    train,
    transformer,
    wordpiece,
)
from llmcours._checks import ArgumentTypeError, check_number, check_strs


@cache
def _bpe() -> bpe.BPETokenizer:
    tok = bpe.BPETokenizer()
    tok.train("hello world hello there", 260)
    return tok


@cache
def _wordpiece() -> wordpiece.WordPieceTokenizer:
    tok = wordpiece.WordPieceTokenizer()
    tok.train(["hello world", "hello there"], 60)
    return tok


@cache
def _gpt() -> transformer.GPT:
    torch.manual_seed(0)
    return transformer.GPT(transformer.GPTConfig(20, 8, 8, 2, 1))


def _fit_str_loss() -> None:
    x, y = torch.randn(4, 2), torch.tensor([0, 1, 0, 1])
    train.fit(torch.nn.Linear(2, 2), [(x, y)], loss_fn="cross_entropy", epochs=1, progress=False)


Z = np.zeros((1, 2, 4))
T3 = torch.zeros(1, 2, 4)

# (id, bad call, expected exception, regex the message must match)
CASES = [
    # -- the probes of issue 21 §4 ------------------------------------------------------------
    (
        "fit/loss_fn-str",
        _fit_str_loss,
        TypeError,
        r"^loss_fn must be callable.*str 'cross_entropy'",
    ),
    (
        "sdpa/numpy",
        lambda: attention.scaled_dot_product_attention(Z, Z, Z),
        TypeError,
        r"^q must be a torch\.Tensor, got ndarray",
    ),
    (
        "mha/int-ids",
        lambda: attention.MultiHeadAttention(8, 2)(torch.tensor([[[1] * 8]])),
        TypeError,
        r"^query must be a floating-point tensor, got dtype torch\.int64",
    ),
    (
        "bpe.encode/bytes",
        lambda: _bpe().encode(b"abc"),
        TypeError,
        r"^text must be a str, got bytes",
    ),
    ("bpe.encode/int", lambda: _bpe().encode(3), TypeError, r"^text must be a str, got int 3"),
    (
        "wordpiece.tokenize/None",
        lambda: _wordpiece().tokenize(None),
        TypeError,
        r"^text must be a str, got NoneType",
    ),
    (
        "wordpiece.tokenize/list",
        lambda: _wordpiece().tokenize(["a"]),
        TypeError,
        r"^text must be a str, got list",
    ),
    (
        "greedy/str",
        lambda: decoding.greedy(_gpt(), "abc", 2),
        TypeError,
        r"^input_ids \(token ids\) must be a sequence.*str 'abc'",
    ),
    (
        "sample/temperature-str",
        lambda: decoding.sample(_gpt(), [1], 2, temperature="1"),
        TypeError,
        r"^temperature must be a number, got str '1'",
    ),
    ("NGramLM/k-str", lambda: ngram.NGramLM(2, k="1"), TypeError, r"^k must be a number, got str"),
    (
        "NGramLM.generate/max_len-negative",
        lambda: ngram.NGramLM(2).fit([["a", "b"]]).generate(max_len=-1),
        ValueError,
        r"^max_len \(-1\) must be an integer >= 0",
    ),
    (
        "warmup_cosine/step-str",
        lambda: optim.warmup_cosine("5", 10, 100, 1e-3),
        TypeError,
        r"^step must be a number, got str '5'",
    ),
    (
        "rouge/None",
        lambda: metrics.rouge(None, "a b"),
        TypeError,
        r"^hypothesis must be a str, got NoneType",
    ),
    (
        "rouge/reference-int",
        lambda: metrics.rouge("a b", 3),
        TypeError,
        r"^reference must be a str, got int",
    ),
    (
        "accuracy/ints",
        lambda: metrics.accuracy(3, 4),
        TypeError,
        r"^y_true must be a sequence.*int 3",
    ),
    (
        "bleu/None-reference",
        lambda: metrics.bleu(["a b c"], [None]),
        TypeError,
        r"^references of 'a b c' must be a sequence.*NoneType",
    ),
    (
        "bleu/None-hypothesis",
        lambda: metrics.bleu([None], ["a b c"]),
        TypeError,
        r"^hypotheses\[0\] must be a str, got NoneType",
    ),
    (
        "chunk_text/list",
        lambda: rag.chunk_text(["a b"]),
        TypeError,
        r"^text must be a str, got list",
    ),
    (
        "reward_pairwise_loss/lists",
        lambda: alignment.reward_pairwise_loss([1.0], [0.0]),
        TypeError,
        r"^r_chosen must be a torch\.Tensor, got list",
    ),
    # -- decoding -----------------------------------------------------------------------------
    (
        "apply_temperature/zero",
        lambda: decoding.apply_temperature(torch.zeros(3), 0),
        ValueError,
        r"^temperature \(0\) must be > 0",
    ),
    (
        "apply_temperature/list",
        lambda: decoding.apply_temperature([1.0], 1.0),
        TypeError,
        r"^logits must be a torch\.Tensor, got list",
    ),
    (
        "top_k_filter/k-str",
        lambda: decoding.top_k_filter(torch.zeros(3), "2"),
        TypeError,
        r"^k \('2'\) must be an integer",
    ),
    (
        "top_k_filter/list",
        lambda: decoding.top_k_filter([1.0, 2.0], 1),
        TypeError,
        r"^logits must be a torch\.Tensor, got list",
    ),
    (
        "top_p_filter/p-str",
        lambda: decoding.top_p_filter(torch.zeros(3), "0.9"),
        TypeError,
        r"^p must be a number, got str",
    ),
    (
        "top_p_filter/p-above-1",
        lambda: decoding.top_p_filter(torch.zeros(3), 1.5),
        ValueError,
        r"^p \(1\.5\) must be <= 1",
    ),
    (
        "entropy/list",
        lambda: decoding.entropy([0.5, 0.5]),
        TypeError,
        r"^probs must be a torch\.Tensor, got list",
    ),
    (
        "apply_repetition_penalty/str",
        lambda: decoding.apply_repetition_penalty(
            torch.zeros(1, 3), torch.zeros(1, 1, dtype=torch.long), "2"
        ),
        TypeError,
        r"^penalty must be a number, got str",
    ),
    (
        "generate/max_new_tokens-negative",
        lambda: decoding.generate(_gpt(), [1], -1, lambda z, ids: z.argmax(-1)),
        ValueError,
        r"^max_new_tokens \(-1\) must be an integer >= 0",
    ),
    (
        "beam_search/num_beams-str",
        lambda: decoding.beam_search(_gpt(), [1], 2, "2"),
        TypeError,
        r"^num_beams \('2'\) must be an integer",
    ),
    # -- attention, transformer, rnn, classification, lora -------------------------------------
    (
        "causal_mask/str",
        lambda: attention.causal_mask("4"),
        TypeError,
        r"^T \(the sequence length\)",
    ),
    (
        "padding_mask/str",
        lambda: attention.padding_mask("abc", 4),
        TypeError,
        r"^lengths must be a sequence.*str 'abc'",
    ),
    (
        "sinusoidal/str",
        lambda: attention.sinusoidal_positional_encoding("4", 8),
        TypeError,
        r"^max_len \('4'\) must be an integer",
    ),
    (
        "MultiHeadAttention/n_heads",
        lambda: attention.MultiHeadAttention(8, 3),
        ValueError,
        r"^n_heads \(3\) must divide d_model \(8\)",
    ),
    (
        "GPT.forward/list",
        lambda: _gpt()([[1, 2]]),
        TypeError,
        r"^idx must be a torch\.Tensor, got list",
    ),
    (
        "GPT.forward/float",
        lambda: _gpt()(torch.zeros(1, 3)),
        ValueError,
        r"^idx must be an integer tensor",
    ),
    (
        "GPTConfig/d_model-str",
        lambda: transformer.GPTConfig(20, 8, "8", 2, 1),
        TypeError,
        r"^d_model \('8'\) must be an integer",
    ),
    (
        "FeedForward/str",
        lambda: transformer.FeedForward("8"),
        TypeError,
        r"^d_model \('8'\) must be an integer",
    ),
    (
        "TransformerBlock/str",
        lambda: transformer.TransformerBlock("8", 2),
        TypeError,
        r"^d_model \('8'\) must be an integer",
    ),
    (
        "RNNCell/str",
        lambda: rnn.RNNCell("4", 8),
        TypeError,
        r"^input_size \('4'\) must be an integer",
    ),
    (
        "LSTM.forward/list",
        lambda: rnn.LSTM(4, 8)([[1.0] * 4]),
        TypeError,
        r"^x must be a torch\.Tensor, got list",
    ),
    (
        "GRU.forward/int-ids",
        lambda: rnn.GRU(4, 8)(torch.ones(1, 2, 4, dtype=torch.long)),
        TypeError,
        r"^x must be a floating-point tensor",
    ),
    (
        "pool/list",
        lambda: classification.pool([1.0], [1]),
        TypeError,
        r"^hidden must be a torch\.Tensor, got list",
    ),
    (
        "pool/pooling",
        lambda: classification.pool(torch.zeros(1, 2, 3), torch.ones(1, 2), "max"),
        ValueError,
        r"^pooling \('max'\) must be 'mean' or 'cls'",
    ),
    (
        "count_trainable/str",
        lambda: lora.count_trainable("model"),
        TypeError,
        r"^model must be a torch\.nn\.Module, got str",
    ),
    # -- tokenizers ---------------------------------------------------------------------------
    (
        "segment/None",
        lambda: bpe.segment(None, []),
        TypeError,
        r"^word must be a str, got NoneType",
    ),
    (
        "BPETokenizer.train/None",
        lambda: bpe.BPETokenizer().train(None, 300),
        ValueError,
        r"^text \(None\) must be a non-empty str",
    ),
    (
        "BPETokenizer.train/vocab_size-str",
        lambda: bpe.BPETokenizer().train("abc", "300"),
        TypeError,
        r"^vocab_size .* must be an integer",
    ),
    (
        "BPETokenizer.decode/str",
        lambda: _bpe().decode("abc"),
        ValueError,
        r"^ids must be a sequence of token ids",
    ),
    ("pair_counts/str", lambda: bpe.pair_counts("abc"), ValueError, r"^word_counts \('abc'\)"),
    (
        "basic_tokenize/None",
        lambda: wordpiece.basic_tokenize(None),
        TypeError,
        r"^text must be a str, got NoneType",
    ),
    (
        "WordPieceTokenizer.train/None",
        lambda: wordpiece.WordPieceTokenizer().train(None, 50),
        TypeError,
        r"^texts must be a sequence.*NoneType",
    ),
    (
        "WordPieceTokenizer.train/ints",
        lambda: wordpiece.WordPieceTokenizer().train([1, 2], 50),
        TypeError,
        r"^texts\[0\] must be a str, got int",
    ),
    (
        "WordPieceTokenizer.encode/None",
        lambda: _wordpiece().encode(None),
        TypeError,
        r"^text must be a str, got NoneType",
    ),
    # -- n-grams, optimisation, training ------------------------------------------------------
    ("NGramLM/n-zero", lambda: ngram.NGramLM(0), ValueError, r"^n \(1 = unigram.*\(0\) must be"),
    ("NGramLM/k-negative", lambda: ngram.NGramLM(2, k=-1), ValueError, r"^k \(-1\) must be >= 0"),
    (
        "NGramLM.generate/max_len-str",
        lambda: ngram.NGramLM(2).fit([["a"]]).generate(max_len="3"),
        TypeError,
        r"^max_len \('3'\) must be an integer",
    ),
    (
        "warmup_cosine/total_steps-str",
        lambda: optim.warmup_cosine(5, 10, "100", 1e-3),
        TypeError,
        r"^total_steps must be a number, got str",
    ),
    (
        "warmup_cosine/step-negative",
        lambda: optim.warmup_cosine(-1, 10, 100, 1e-3),
        ValueError,
        r"^step \(-1\) must be >= 0",
    ),
    (
        "warmup_inverse_sqrt/lr_max-None",
        lambda: optim.warmup_inverse_sqrt(5, 10, None),
        TypeError,
        r"^lr_max must be a number, got NoneType",
    ),
    (
        "warmup_exponential/gamma-str",
        lambda: optim.warmup_exponential(5, 10, 1e-3, "0.9"),
        TypeError,
        r"^gamma must be a number, got str",
    ),
    (
        "fit/model-str",
        lambda: train.fit("model", []),
        ValueError,
        r"^model \(str\) must be a torch\.nn\.Module",
    ),
    # -- metrics ------------------------------------------------------------------------------
    (
        "perplexity/str",
        lambda: metrics.perplexity("abc"),
        TypeError,
        r"^log_probs must be a sequence.*str 'abc'",
    ),
    ("perplexity/empty", lambda: metrics.perplexity([]), ValueError, r"^log_probs is empty"),
    (
        "bits_per_char/str",
        lambda: metrics.bits_per_char("1", 3),
        TypeError,
        r"^total_nll must be a number, got str",
    ),
    (
        "bits_per_char/n_chars-zero",
        lambda: metrics.bits_per_char(1.0, 0),
        ValueError,
        r"^n_chars .*\(0\) must be an integer >= 1",
    ),
    ("precision/ints", lambda: metrics.precision(3, 4), TypeError, r"^y_true must be a sequence"),
    (
        "recall/y_pred-None",
        lambda: metrics.recall([1], None),
        TypeError,
        r"^y_pred must be a sequence.*NoneType",
    ),
    (
        "f1/lengths",
        lambda: metrics.f1([1, 0], [1]),
        ValueError,
        r"^y_true \(2\) and y_pred \(1\) lengths differ",
    ),
    (
        "confusion_matrix/ints",
        lambda: metrics.confusion_matrix(3, 4),
        TypeError,
        r"^y_true must be a sequence",
    ),
    (
        "normalize_answer/None",
        lambda: metrics.normalize_answer(None),
        TypeError,
        r"^text must be a str, got NoneType",
    ),
    (
        "exact_match/language",
        lambda: metrics.exact_match(["a"], ["a"], language="de"),
        ValueError,
        r"^language \('de'\) must be 'fr' or 'en'",
    ),
    (
        "token_f1/None",
        lambda: metrics.token_f1(None, "a"),
        TypeError,
        r"^prediction must be a str, got NoneType",
    ),
    (
        "rouge_tokens/None",
        lambda: metrics.rouge_tokens(None),
        TypeError,
        r"^text must be a str, got NoneType",
    ),
    ("word_ngrams/None", lambda: metrics.word_ngrams(None), TypeError, r"^text must be a str"),
    (
        "ngram_overlap/None",
        lambda: metrics.ngram_overlap(None, "a b"),
        TypeError,
        r"^item must be a str, got NoneType",
    ),
    # -- RAG, alignment, SFT, pretraining, data filtering, scaling, notebook ------------------
    ("chunk_text/overlap", lambda: rag.chunk_text("a b c", 2, 2), ValueError, r"overlap \(2\)"),
    (
        "recall_at_k/str",
        lambda: rag.recall_at_k("abc", "abc", 1),
        TypeError,
        r"^retrieved must be a sequence.*str 'abc'",
    ),
    (
        "content_words/None",
        lambda: rag.content_words(None),
        TypeError,
        r"^text must be a str, got NoneType",
    ),
    (
        "support_score/None",
        lambda: rag.support_score(None, ["a"]),
        TypeError,
        r"^answer must be a str, got NoneType",
    ),
    (
        "cited_sources/None",
        lambda: rag.cited_sources(None),
        TypeError,
        r"^answer must be a str, got NoneType",
    ),
    (
        "ppo_clip_objective/lists",
        lambda: alignment.ppo_clip_objective([0.0], [0.0], [1.0]),
        TypeError,
        r"^logp_new must be a torch\.Tensor, got list",
    ),
    (
        "kl_penalty/estimator",
        lambda: alignment.kl_penalty(torch.zeros(2), torch.zeros(2), "k9"),
        ValueError,
        r"^estimator \('k9'\) must be 'k1' or 'k3'",
    ),
    (
        "dpo_loss/lists",
        lambda: alignment.dpo_loss([0.0], [0.0], [0.0], [0.0]),
        TypeError,
        r"^policy_chosen_logps must be a torch\.Tensor",
    ),
    (
        "categorical_kl/lists",
        lambda: alignment.categorical_kl([0.0], [0.0]),
        TypeError,
        r"^logp must be a torch\.Tensor",
    ),
    (
        "ranking_pairs/str",
        lambda: alignment.ranking_pairs("4"),
        ValueError,
        r"^n_answers \('4'\) must be an integer",
    ),
    (
        "causal_lm_loss/lists",
        lambda: sft.causal_lm_loss([1.0], [1]),
        TypeError,
        r"^logits must be a torch\.Tensor, got list",
    ),
    (
        "pad_batch/str",
        lambda: sft.pad_batch("abc", 0),
        TypeError,
        r"^examples must be a sequence.*str 'abc'",
    ),
    (
        "format_instruction/None",
        lambda: sft.format_instruction(None),
        ValueError,
        r"^instruction \(None\) must be a non-empty string",
    ),
    (
        "bert_masking/list",
        lambda: pretraining.bert_masking([1, 2, 3], 10, 3),
        ValueError,
        r"^input_ids must be an integer tensor",
    ),
    (
        "random_segmentation/str",
        lambda: pretraining.random_segmentation("5", 2, random.Random(0)),
        TypeError,
        r"^total \('5'\) must be an integer",
    ),
    (
        "span_corruption/str",
        lambda: pretraining.span_corruption("abc"),
        ValueError,
        r"^words must be a list of words",
    ),
    (
        "normalize/None",
        lambda: datafilter.normalize(None),
        TypeError,
        r"^text must be a str, got NoneType",
    ),
    (
        "exact_dedup/str",
        lambda: datafilter.exact_dedup("abc"),
        ValueError,
        r"^documents must be a list of strings",
    ),
    (
        "quality_problems/None",
        lambda: datafilter.quality_problems(None),
        ValueError,
        r"^text \(NoneType\) must be a string",
    ),
    (
        "training_flops/str",
        lambda: scaling.training_flops("1e6", 1e9),
        TypeError,
        r"^n_params must be a number, got str",
    ),
    (
        "training_flops/negative",
        lambda: scaling.training_flops(-1, 1e9),
        ValueError,
        r"^n_params \(-1\) must be > 0",
    ),
    (
        "chinchilla_optimal/str",
        lambda: scaling.chinchilla_optimal("1e20"),
        TypeError,
        r"^compute must be a number, got str",
    ),
    (
        "kaplan_loss/str",
        lambda: scaling.kaplan_loss("1e6"),
        TypeError,
        r"^n_params must be a number, got str",
    ),
    (
        "chinchilla_loss/None",
        lambda: scaling.chinchilla_loss(1e6, None),
        TypeError,
        r"^n_tokens must be a number, got NoneType",
    ),
    (
        "fit_power_law/str",
        lambda: scaling.fit_power_law("abc", [1, 2, 3]),
        TypeError,
        r"^x must be a sequence.*str 'abc'",
    ),
    (
        "fit_power_law/None-point",
        lambda: scaling.fit_power_law([1, None], [1, 2]),
        TypeError,
        r"^x\[1\] must be a number, got NoneType",
    ),
    (
        "attention_matrix_bytes/str",
        lambda: scaling.attention_matrix_bytes("1024"),
        ValueError,
        r"^context_length \('1024'\)",
    ),
    ("fr/str", lambda: notebook.fr("3.2"), TypeError, r"^x must be a number, got str"),
    (
        "fr/decimals-negative",
        lambda: notebook.fr(3.2, -1),
        ValueError,
        r"^decimals \(-1\) must be an integer >= 0",
    ),
    (
        "show_source/int",
        lambda: notebook.show_source(3),
        ValueError,
        r"^obj \(3\) has no Python source",
    ),
]


@pytest.mark.parametrize(
    ("call", "exception", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_gets_a_one_line_error_naming_the_argument(call, exception, pattern):
    with pytest.raises(exception, match=pattern) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, f"the message is not one line: {message!r}"
    assert len(message) <= 200, f"the message is too long ({len(message)} chars): {message!r}"


def test_a_type_error_is_also_a_value_error():
    """The checks raised ValueError for a wrong type before 21 §4: both clauses still catch it."""
    assert issubclass(ArgumentTypeError, TypeError) and issubclass(ArgumentTypeError, ValueError)
    with pytest.raises(ValueError, match=r"^step must be a number"):
        optim.warmup_cosine("5", 10, 100, 1e-3)


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [(np.float32(0.5), {}, 0.5), (torch.tensor(2), {"minimum": 2}, 2.0), (1, {"maximum": 1}, 1.0)],
)
def test_check_number_accepts_numbers_at_their_bounds(value, kwargs, expected):
    assert check_number(value, "x", **kwargs) == expected


@pytest.mark.parametrize(
    ("value", "kwargs", "pattern"),
    [
        (True, {}, r"^x must be a number, got bool"),
        (float("nan"), {}, r"^x must be a number, got NaN"),
        (0, {"minimum": 0, "strict": True}, r"^x \(0\) must be > 0"),
        ([1], {}, r"^x must be a number"),
    ],
)
def test_check_number_refuses(value, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        check_number(value, "x", **kwargs)


def test_check_strs_refuses_a_lone_string_and_keeps_a_list():
    assert check_strs(("a", "b"), "texts") == ["a", "b"]
    with pytest.raises(TypeError, match=r"^texts must be a list of strings, got the string 'ab'"):
        check_strs("ab", "texts")
    with pytest.raises(ValueError, match=r"^texts must not be empty"):
        check_strs([], "texts", non_empty=True)


MORE_CASES = [
    (
        "Retriever.add/None",
        lambda: rag.Retriever(lambda t: torch.ones(len(t), 2)).add(None),
        TypeError,
        r"^documents must be a sequence.*NoneType",
    ),
    (
        "hf_generate_fn/max_new_tokens-str",
        lambda: rag.hf_generate_fn(None, None, "100"),
        TypeError,
        r"^max_new_tokens \('100'\) must be an integer",
    ),
    (
        "QualityRules/min_words-str",
        lambda: datafilter.QualityRules(min_words="3"),
        TypeError,
        r"^min_words \('3'\) must be an integer",
    ),
    (
        "QualityRules/max_symbol_ratio-negative",
        lambda: datafilter.QualityRules(max_symbol_ratio=-1),
        ValueError,
        r"^max_symbol_ratio \(-1\) must be >= 0",
    ),
    (
        "token_log_probs/str",
        lambda: models.token_log_probs(None, "abc"),
        TypeError,
        r"^input_ids must be a sequence.*str 'abc'",
    ),
    (
        "load_causal_lm/int",
        lambda: models.load_causal_lm(3),
        ValueError,
        r"^name \(3\) must be a model name",
    ),
    (
        "training_memory/batch_size-str",
        lambda: memory.training_memory(torch.nn.Linear(2, 2), batch_size="4"),
        TypeError,
        r"^batch_size \('4'\) must be an integer",
    ),
    (
        "apply_lora/model-str",
        lambda: lora.apply_lora("model", ["q"], 2, 4),
        TypeError,
        r"^model must be a torch\.nn\.Module, got str",
    ),
    (
        "LoRALinear/r-str",
        lambda: lora.LoRALinear(torch.nn.Linear(4, 4), "2", 4),
        TypeError,
        r"^r \('2'\) must be an integer",
    ),
    (
        "LoRALinear/base-str",
        lambda: lora.LoRALinear("lin", 2, 4),
        ValueError,
        r"^base \(str\) must be an nn\.Linear",
    ),
    (
        "CandidatePolicy/str",
        lambda: alignment.CandidatePolicy("features"),
        TypeError,
        r"^features must be a torch\.Tensor, got str",
    ),
    (
        "train_reward_model/steps-str",
        lambda: alignment.train_reward_model(
            torch.nn.Linear(4, 1), torch.zeros(2, 4), torch.zeros(2, 4), steps="3"
        ),
        TypeError,
        r"^steps \('3'\) must be an integer",
    ),
    (
        "train_dpo/lists",
        lambda: alignment.train_dpo(None, [0], [0], [1]),
        TypeError,
        r"^prompts must be a torch\.Tensor, got list",
    ),
    (
        "as_lambda_lr/str",
        lambda: optim.as_lambda_lr("opt", optim.warmup_cosine),
        TypeError,
        r"^optimizer must be a torch\.optim\.Optimizer, got str",
    ),
    (
        "Adam/lr-str",
        lambda: optim.Adam(torch.nn.Linear(2, 2).parameters(), lr="1e-3"),
        ValueError,
        r"^lr \('1e-3'\) must be a finite number",
    ),
    (
        "weight_decay_groups/str",
        lambda: optim.weight_decay_groups("model", 0.1),
        ValueError,
        r"^model \(str\) must be a torch\.nn\.Module",
    ),
    (
        "fit/epochs-str",
        lambda: train.fit(torch.nn.Linear(2, 2), [(torch.zeros(1, 2), torch.zeros(1))], epochs="2"),
        ValueError,
        r"^epochs \('2'\) must be an integer >= 1",
    ),
    ("set_seed/str", lambda: train.set_seed("0"), ValueError, r"^seed \('0'\) must be"),
    (
        "mixed_precision_for/int",
        lambda: train.mixed_precision_for(3),
        ValueError,
        r"^device \(3\) must be a torch\.device or its name",
    ),
    (
        "quality_filter/None",
        lambda: datafilter.quality_filter(None),
        TypeError,
        r"^documents must be a sequence.*NoneType",
    ),
    (
        "EncoderClassifier/n_classes-str",
        lambda: classification.EncoderClassifier(None, "2"),
        TypeError,
        r"^n_classes \('2'\) must be an integer",
    ),
    (
        "collate_texts/max_length-str",
        lambda: classification.collate_texts(None, "128"),
        TypeError,
        r"^max_length \('128'\) must be an integer",
    ),
    (
        "top_k_cosine/k-str",
        lambda: rag.top_k_cosine(torch.ones(2, 2), torch.ones(1, 2), "1"),
        TypeError,
        r"^k \('1'\) must be an integer",
    ),
    (
        "VectorIndex/dim-str",
        lambda: rag.VectorIndex("2"),
        TypeError,
        r"^dim \('2'\) must be an integer",
    ),
    (
        "choice_log_likelihoods/None",
        lambda: metrics.choice_log_likelihoods(None, None, "c", None),
        ValueError,
        r"^choices must be a non-empty list of strings",
    ),
]


@pytest.mark.parametrize(
    ("call", "exception", "pattern"), [c[1:] for c in MORE_CASES], ids=[c[0] for c in MORE_CASES]
)
def test_more_bad_input_gets_a_one_line_error(call, exception, pattern):
    test_bad_input_gets_a_one_line_error_naming_the_argument(call, exception, pattern)
