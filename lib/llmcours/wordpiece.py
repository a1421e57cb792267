"""WordPiece: BERT's subword tokenizer (Schuster & Nakajima, 2012; Devlin et al., 2019).

Tokenizing (given a vocabulary) has two stages, as in BERT:

1. *basic tokenization*: remove control characters, put spaces around CJK ideographs, and (when
   ``lowercase=True``, BERT "uncased") strip accents (NFD, drop the combining marks) and
   lowercase; then split on whitespace and isolate every punctuation character;
2. *greedy longest-match-first*: each word is cut from the left into the longest piece found
   in the vocabulary; a piece that does not start the word carries the prefix ``##``
   (``tokenisation`` -> ``token ##isation``). A word with no possible cut becomes ``[UNK]``.

Training (as in the Hugging Face course) starts from the characters (``##c`` inside a word)
and repeatedly merges the pair (a, b) with the best likelihood score

    score(a, b) = freq(ab) / (freq(a) · freq(b)),

which, unlike BPE's raw count, favours pairs whose parts rarely appear apart. The counts
are kept up to date incrementally (only the words holding the merged pair are recounted),
but every score is recomputed at each merge, since merging (a, b) changes freq(a) and
freq(b): slower than BPE (a few seconds for 2,000 tokens on the course corpus).
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from pathlib import Path

from llmcours.bpe import merge_pair

from ._checks import check_ids, check_int, check_str, check_strs

__all__ = ["WordPieceTokenizer", "basic_tokenize"]

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

# Unicode "White_Space" characters (what BERT's Rust normalizer calls whitespace).
_WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)
_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)  # fmt: skip


def _is_control(ch: str) -> bool:
    # Cc, Cf, Co, Cs (not Cn, the unassigned code points), as the Rust normalizer.
    return ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    ascii_punct = 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126
    return ascii_punct or unicodedata.category(ch).startswith("P")


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def basic_tokenize(text: str, lowercase: bool = True) -> list[str]:
    """BERT's basic tokenization: clean, (lowercase + strip accents), split words/punctuation."""
    chars = []
    for ch in check_str(text, "text"):
        if ch in ("\x00", "\ufffd") or _is_control(ch):
            continue
        if _is_cjk(ch):
            chars.append(f" {ch} ")
        else:
            chars.append(" " if ch in _WHITESPACE else ch)
    text = "".join(chars)
    if lowercase:
        text = unicodedata.normalize("NFD", text)
        # Character by character, as the Rust normalizer (no final-sigma rule of str.lower).
        text = "".join(ch.lower() for ch in text if unicodedata.category(ch) != "Mn")
    words = []
    for chunk in text.split(" "):
        word = ""
        for ch in chunk:
            if _is_punctuation(ch):
                if word:
                    words.append(word)
                words.append(ch)
                word = ""
            else:
                word += ch
        if word:
            words.append(word)
    return words


class WordPieceTokenizer:
    """WordPiece tokenizer with an existing vocabulary (list, dict or ``vocab.txt``) or trained."""

    def __init__(
        self,
        vocab: Sequence[str] | Mapping[str, int] | str | Path | None = None,
        unk_token: str = "[UNK]",
        max_input_chars_per_word: int = 100,
        lowercase: bool = True,
        prefix: str = "##",
    ) -> None:
        max_input_chars_per_word = check_int(
            max_input_chars_per_word, "max_input_chars_per_word", minimum=1
        )
        self.unk_token = unk_token
        self.max_input_chars_per_word = max_input_chars_per_word
        self.lowercase = lowercase
        self.prefix = prefix
        self.vocab: dict[str, int] = {}
        if vocab is not None:
            self._set_vocab(vocab)

    def _set_vocab(self, vocab: Sequence[str] | Mapping[str, int] | str | Path) -> None:
        if isinstance(vocab, (str, Path)):  # a BERT vocab.txt: one token per line, id = line
            vocab = Path(vocab).read_text(encoding="utf-8").splitlines()
        if isinstance(vocab, Mapping):
            self.vocab = dict(vocab)
        else:
            self.vocab = {token: i for i, token in enumerate(vocab)}
        if self.unk_token not in self.vocab:
            raise ValueError(f"vocab must contain unk_token ({self.unk_token!r})")
        self.ids_to_tokens = {i: token for token, i in self.vocab.items()}
        self._specials = [t for t in SPECIAL_TOKENS if t in self.vocab]

    # -- tokenizing ---------------------------------------------------------------------------
    def _wordpiece(self, word: str) -> list[str]:
        """Greedy longest-match-first split of one word (``[UNK]`` if some part cannot match)."""
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_token]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:  # try the longest piece first, then shorten it
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            if end == start:
                return [self.unk_token]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        """Tokens of ``text``; special tokens written in the text (``[MASK]``) are kept whole."""
        if not self.vocab:
            raise ValueError("this tokenizer has no vocabulary: pass vocab= or call train()")
        tokens: list[str] = []
        for part, is_special in self._split_specials(check_str(text, "text")):
            if is_special:
                tokens.append(part)
                continue
            for word in basic_tokenize(part, self.lowercase):
                tokens.extend(self._wordpiece(word))
        return tokens

    def _split_specials(self, text: str) -> list[tuple[str, bool]]:
        parts, start, i = [], 0, 0
        while i < len(text):
            special = next((s for s in self._specials if text.startswith(s, i)), None)
            if special is None:
                i += 1
                continue
            parts += [(text[start:i], False), (special, True)]
            i = start = i + len(special)
        parts.append((text[start:], False))
        return parts

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        """Ids of :meth:`tokenize`, framed as ``[CLS] ... [SEP]`` if ``add_special_tokens``."""
        tokens = self.tokenize(text)
        if add_special_tokens:
            tokens = ["[CLS]", *tokens, "[SEP]"]
        return [self.vocab[t] for t in tokens]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        """Glue ``##`` pieces to the previous token, separate words by spaces.

        ``ids``: a list, or a 1-D tensor or array, of ids. Lowercasing, accent stripping and
        ``[UNK]`` are lossy, so ``decode(encode(s))`` is a normalised ``s``. As the
        ``tokenizers`` WordPiece decoder, a space before ``. , ! ?`` is removed.
        """
        text = ""
        for i in check_ids(ids):
            if i not in self.ids_to_tokens:
                raise ValueError(f"ids contains {i!r}, which is not in the vocabulary")
            token = self.ids_to_tokens[i]
            if skip_special_tokens and token in self._specials:
                continue
            if token.startswith(self.prefix) and text:
                text += token[len(self.prefix) :]
            elif token in ".,!?" or not text:
                text += token
            else:
                text += " " + token
        return text

    # -- training -----------------------------------------------------------------------------
    def train(self, texts: str | Iterable[str], vocab_size: int) -> None:
        """Learn a vocabulary of ``vocab_size`` tokens (special tokens + characters + merges)."""
        texts = check_strs([texts] if isinstance(texts, str) else texts, "texts")
        vocab_size = check_int(vocab_size, "vocab_size")
        word_freqs = Counter(w for t in texts for w in basic_tokenize(t, self.lowercase))
        if not word_freqs:
            raise ValueError("texts is empty: WordPiece needs a training corpus")
        words = list(word_freqs)
        freqs = [word_freqs[w] for w in words]
        splits = [[c if i == 0 else self.prefix + c for i, c in enumerate(w)] for w in words]
        alphabet = sorted({piece for split in splits for piece in split})
        vocab = [s for s in SPECIAL_TOKENS if s not in alphabet] + alphabet
        if vocab_size < len(vocab):
            raise ValueError(
                f"vocab_size ({vocab_size}) must be >= {len(vocab)} "
                "(the special tokens and the characters of the corpus)"
            )
        # freq[token] and pair_freq[(a, b)], weighted by word frequency; where[pair] -> words.
        freq: dict[str, int] = defaultdict(int)
        pair_freq: dict[tuple[str, str], int] = defaultdict(int)
        where: dict[tuple[str, str], set[int]] = defaultdict(set)

        def count(i: int, sign: int) -> None:
            split, f = splits[i], sign * freqs[i]
            for piece in split:
                freq[piece] += f
            for pair in pairwise(split):
                pair_freq[pair] += f
                if sign > 0:
                    where[pair].add(i)
                elif not pair_freq[pair]:
                    del pair_freq[pair]  # keep only the pairs that still occur

        for i in range(len(words)):
            count(i, +1)
        while len(vocab) < vocab_size:
            scores = {p: c / (freq[p[0]] * freq[p[1]]) for p, c in pair_freq.items()}
            if not scores:
                break  # every word is a single token already
            best = max(scores.values())
            tied = {p for p, s in scores.items() if s == best}
            # On a tie, the pair met first reading the corpus (as the Hugging Face course).
            a, b = next(p for split in splits for p in pairwise(split) if p in tied)
            new = a + b[len(self.prefix) :] if b.startswith(self.prefix) else a + b
            for i in where.pop((a, b)):
                count(i, -1)
                splits[i] = merge_pair(splits[i], (a, b), new)
                count(i, +1)
            if new not in vocab:
                vocab.append(new)
        self._set_vocab(vocab)
