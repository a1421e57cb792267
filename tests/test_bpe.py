"""Tests of llmcours.bpe: round trips, the course's toy examples, the incremental trainer
against a recount-everything reference, and compression against Hugging Face `tokenizers`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcours.bpe import (
    BPETokenizer,
    merge_pair,
    pair_counts,
    segment,
    train_naive,
    train_on_words,
)
from llmcours.data import load_corpus


@pytest.fixture(scope="module")
def corpus() -> str:
    return load_corpus()


@pytest.fixture(scope="module")
def small_tok(corpus) -> BPETokenizer:
    tok = BPETokenizer()
    tok.train(corpus[:40_000], vocab_size=600)
    return tok


# -- round trips --------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text())
def test_decode_encode_round_trip_any_unicode(small_tok, text):
    ids = small_tok.encode(text)
    assert small_tok.decode(ids) == text, f"round trip changed {text!r} (ids {ids})"


def test_round_trip_on_the_course_corpus(small_tok, corpus):
    sample = corpus[50_000:60_000] + " 😀 你好 naïve Œuvre\t\n  fin"
    assert small_tok.decode(small_tok.encode(sample)) == sample


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 599), max_size=30))
def test_decode_of_arbitrary_ids_never_fails(small_tok, ids):
    # Cutting a UTF-8 character in two gives U+FFFD, never an exception.
    assert isinstance(small_tok.decode(ids), str)


def test_save_load_round_trip(small_tok, tmp_path, corpus):
    path = tmp_path / "bpe.json"
    small_tok.save(path)
    loaded = BPETokenizer.load(path)
    assert loaded.merges == small_tok.merges
    assert loaded.vocab == small_tok.vocab
    text = corpus[:5000]
    assert loaded.encode(text) == small_tok.encode(text)


def test_merges_never_cross_a_word_boundary(small_tok):
    # Pieces are " word", "word", digits, punctuation or spaces: a space never follows a
    # non-space byte inside a token.
    for token in small_tok.vocab.values():
        stripped = token.lstrip(b" ")
        assert stripped == b"" or b" " not in stripped, f"token {token!r} spans two words"


def test_vocab_layout(small_tok):
    assert len(small_tok) == 600 and len(small_tok.merges) == 600 - 256
    assert all(small_tok.vocab[i] == bytes([i]) for i in range(256))
    for t, (a, b) in enumerate(small_tok.merges):
        assert small_tok.vocab[256 + t] == small_tok.vocab[a] + small_tok.vocab[b]


# -- the incremental trainer equals the naive one (recount everything, minbpe-style) -----------
@pytest.mark.parametrize("start", [0, 20_000, 100_000])
def test_incremental_training_equals_the_naive_trainer(corpus, start):
    text = corpus[start : start + 3000]
    tok = BPETokenizer()
    tok.train(text, vocab_size=256 + 150)
    expected = train_naive(text, 256 + 150)
    first_diff = next(
        (i for i, (a, b) in enumerate(zip(tok.merges, expected, strict=False)) if a != b), None
    )
    assert tok.merges == expected, f"merges differ first at step {first_diff}"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab é\n1", min_size=1, max_size=60), st.integers(256, 300))
def test_naive_and_fast_trainers_agree_on_small_texts(text, vocab_size):
    # Small alphabets make many ties: both break them by the smallest pair of ids.
    tok = BPETokenizer()
    tok.train(text, vocab_size)
    assert tok.merges == train_naive(text, vocab_size)
    naive = BPETokenizer.from_merges(train_naive(text, vocab_size))
    assert naive.vocab == tok.vocab and naive.decode(naive.encode(text)) == text


def test_training_stops_when_no_pair_is_left():
    tok = BPETokenizer()
    tok.train("aaaa", vocab_size=1000)
    assert tok.decode(tok.encode("aaaa")) == "aaaa"
    assert len(tok.encode("aaaa")) == 1 and len(tok.merges) == 2  # aa, then aaaa


# -- compression against the reference implementation ----------------------------------------
def test_compression_within_2_percent_of_tokenizers(corpus):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    vocab_size = 2000
    ref = Tokenizer(models.BPE())
    ref.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    ref.train_from_iterator([corpus], trainer)
    ours = BPETokenizer()
    ours.train(corpus, vocab_size)
    n_bytes = len(corpus.encode("utf-8"))
    ours_bpt = n_bytes / len(ours.encode(corpus))
    ref_bpt = n_bytes / len(ref.encode(corpus).ids)
    assert abs(ours_bpt / ref_bpt - 1) < 0.02, (
        f"bytes/token: ours {ours_bpt:.3f}, ref {ref_bpt:.3f}"
    )


# -- the course's toy examples (characters, teaching version) ------------------------------------
def test_low_lower_lowest_first_merges_as_in_the_course():
    merges = train_on_words({"low": 1, "lower": 1, "lowest": 1}, 2)
    assert merges == [("l", "o"), ("lo", "w")]
    assert segment("lowest", merges) == ["low", "e", "s", "t"]


def test_low_lower_newest_widest():
    words = dict.fromkeys("low lower newest widest".split(), 1)
    merges = train_on_words(words, 4)
    # (l,o), (o,w), (e,s), (s,t)... all appear twice; the first met wins: l+o, then lo+w.
    assert merges[:2] == [("l", "o"), ("lo", "w")]
    assert segment("low", merges) == ["low"]
    # Sennrich's classic counts: est is learned first.
    merges = train_on_words({"low": 5, "lower": 2, "newest": 6, "widest": 3}, 2)
    assert merges == [("e", "s"), ("es", "t")]


UNBELIEVABLE_CORPUS = {
    "undo": 4, "unfair": 4, "unknown": 4, "unhappy": 4,
    "believe": 5, "believed": 5, "believer": 4, "believing": 3,
    "able": 6, "capable": 4, "readable": 4, "doable": 3,
}  # fmt: skip


def test_unbelievable_is_un_believ_able():
    """The course: unbelievable -> [un, believ, able], for an unseen word."""
    all_merges = train_on_words(UNBELIEVABLE_CORPUS, 1000)  # stops when nothing is left
    assert "unbelievable" not in UNBELIEVABLE_CORPUS
    assert segment("unbelievable", all_merges) == ["un", "believ", "able"]
    assert segment("unbelievable", []) == list("unbelievable")


def test_pair_counts_on_sennrich_corpus():
    words = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
    counts = pair_counts(words)
    assert counts[("e", "s")] == counts[("s", "t")] == 9 and counts[("l", "o")] == 7
    assert counts.most_common(1) == [(("e", "s"), 9)]  # first met on the tie with (s, t)
    after = pair_counts(words, [("e", "s"), ("es", "t")])
    assert ("e", "s") not in after and after[("w", "est")] == 6 and after[("d", "est")] == 3
    assert sum(pair_counts({"ab": 3, "c": 10}).values()) == 3  # a word of one symbol: no pair


def test_merge_pair_left_to_right():
    assert merge_pair(list("aaa"), ("a", "a")) == ["aa", "a"]
    assert merge_pair([1, 2, 1, 2], (1, 2), 7) == [7, 7]


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input():
    tok = BPETokenizer()
    with pytest.raises(ValueError, match="vocab_size"):
        tok.train("bonjour", 255)
    with pytest.raises(ValueError, match="text"):
        tok.train("", 300)
    with pytest.raises(ValueError, match="num_merges"):
        train_on_words({"a": 1}, -1)
    with pytest.raises(ValueError, match="word_counts"):
        train_on_words({}, 3)
    with pytest.raises(ValueError, match="ids"):
        tok.decode([256])
    with pytest.raises(ValueError, match="vocab_size"):
        train_naive("bonjour", 300.0)
    with pytest.raises(ValueError, match="text"):
        train_naive(["bonjour"], 300)
    with pytest.raises(ValueError, match=r"merges\[1\]"):
        BPETokenizer.from_merges([(97, 98), (97, 258)])


def test_decode_accepts_a_tensor_or_array_row(small_tok):
    ids = small_tok.encode("Le modèle génère un texte.")
    as_tensor = torch.tensor([ids])  # what greedy(...) returns: a batch of one
    assert small_tok.decode(as_tensor[0]) == "Le modèle génère un texte."
    assert small_tok.decode(np.array(ids)) == small_tok.decode([np.int64(i) for i in ids])
    with pytest.raises(ValueError, match=r"ids must be 1-D .*decode\(ids\[0\]\)"):
        small_tok.decode(as_tensor)
    with pytest.raises(ValueError, match=r"ids\[0\] \(72.0\) must be an integer"):
        small_tok.decode(torch.tensor([72.0, 101.0]))
    with pytest.raises(ValueError, match="got the string"):
        small_tok.decode("72 101")


def test_numpy_integer_sizes_are_accepted():
    tok = BPETokenizer()
    tok.train("aaaa bbbb", np.int64(258))
    assert len(tok.merges) == 2
    assert train_on_words({"low": 1}, np.int32(1)) == [("l", "o")]
