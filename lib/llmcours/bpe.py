"""Byte-Pair Encoding (BPE): the tokenizer of GPT-2/3 and most LLMs (Sennrich et al., 2016).

BPE starts from a vocabulary of single symbols and repeats one step: find the most frequent
pair of adjacent symbols in the corpus C^(t) and merge it into a new symbol,

    (a_t, b_t) = argmax_(a,b) count_{C^(t)}(a, b),        C^(t+1) = C^(t) with "a b" -> "ab",

until the vocabulary reaches the size |V| asked for. To tokenize a new word, the learned
merges are replayed in the order they were learned.

Three versions live here:

- ``train_on_words`` / ``segment`` / ``pair_counts``: the classic *teaching* version on
  characters (Sennrich's ``low lower newest widest``), written for clarity: it recounts every
  pair at every merge.
- ``train_naive``: the same naive algorithm on bytes, in the style of karpathy/minbpe: the
  text is first split by GPT-2's regular expression (so a merge never crosses a word
  boundary) and each piece is turned into its UTF-8 bytes (256 base tokens: no unknown token,
  ever). It recounts every pair of the whole text at every merge.
- ``BPETokenizer``: the byte-level tokenizer of GPT-2, whose training learns the same merges
  as ``train_naive`` with *incremental* pair counts: pairs are counted once over the unique
  pieces weighted by their frequency, and after each merge only the pieces that contain the
  merged pair are updated (an index pair -> pieces says which), with a max-heap of counts.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path

import regex  # the `regex` package (a dependency of transformers) knows \p{L} and \p{N}

from ._checks import check_ids, check_int, check_str

__all__ = [
    "GPT2_SPLIT_PATTERN",
    "BPETokenizer",
    "merge_pair",
    "pair_counts",
    "segment",
    "train_naive",
    "train_on_words",
]

# GPT-2's pre-tokenization pattern: contractions, letters, digits, other symbols, spaces.
# A space stays glued to the word that follows it (" chat"), as in GPT-2 and `tokenizers`.
GPT2_SPLIT_PATTERN = (
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)


# ---------------------------------------------------------------------------------------------
# The teaching version: characters, recount everything at each step.
# ---------------------------------------------------------------------------------------------
def _check_word_counts(word_counts: Mapping[str, int]) -> None:
    if not isinstance(word_counts, Mapping) or not word_counts:
        raise ValueError(f"word_counts ({word_counts!r}) must be a non-empty {{word: frequency}}")


def pair_counts(
    word_counts: Mapping[str, int], merges: Sequence[tuple[str, str]] = ()
) -> Counter[tuple[str, str]]:
    """Counts of adjacent symbol pairs in ``{word: frequency}`` once ``merges`` are applied.

    Each pair of a word counts ``frequency`` times; the Counter keeps the order in which pairs
    are met (words in the order given, left to right), which breaks ties in ``train_on_words``.
    """
    _check_word_counts(word_counts)
    counts: Counter[tuple[str, str]] = Counter()
    for word, freq in word_counts.items():
        for pair in pairwise(segment(word, merges)):
            counts[pair] += freq
    return counts


def train_on_words(word_counts: Mapping[str, int], num_merges: int) -> list[tuple[str, str]]:
    """Learn ``num_merges`` BPE merges on characters from ``{word: frequency}``.

    Each word starts as its list of characters. At every step all adjacent pairs are counted
    (weighted by the word's frequency) and the most frequent one is merged everywhere. On a
    tie, the pair met first (words in the order given, left to right) wins. Training stops
    early when no word has two symbols left. Returns the merges, in the order learned.
    """
    _check_word_counts(word_counts)
    num_merges = check_int(num_merges, "num_merges", minimum=0)
    merges: list[tuple[str, str]] = []
    for _ in range(num_merges):
        counts = pair_counts(word_counts, merges)  # C^(t): the words with the merges so far
        if not counts:
            break  # every word is a single symbol
        merges.append(max(counts, key=counts.get))  # argmax; first maximum met on a tie
    return merges


def segment(word: str, merges: Sequence[tuple[str, str]]) -> list[str]:
    """Split ``word`` into characters, then apply ``merges`` one after the other, in order."""
    symbols = list(check_str(word, "word"))
    for pair in merges:
        symbols = merge_pair(symbols, pair)
    return symbols


def merge_pair(symbols: list, pair: tuple, new=None) -> list:
    """Replace every adjacent occurrence of ``pair`` in ``symbols`` (left to right) by ``new``.

    ``new`` defaults to the concatenation ``pair[0] + pair[1]`` (strings in the teaching version).
    """
    if new is None:
        new = pair[0] + pair[1]
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(new)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def _merge_with_diff(word: str, pair: str, new: str) -> tuple[str, list[str], list[str]]:
    """Merge ``pair`` in ``word``; also return the pairs that disappear and those that appear.

    For speed, the trainer stores a word as a ``str`` whose characters are token ids
    (``chr(id)``), and a pair as a 2-character ``str``: merging is then ``str.replace``, run
    in C. Only the pairs touching a merged position change: with x a b y -> x X y, the pairs
    xa, ab, by disappear and xX, Xy appear. Updating just those makes training incremental.
    """
    starts, j = [], word.find(pair)
    while j >= 0:
        starts.append(j)
        j = word.find(pair, j + 2)
    if not starts:
        return word, [], []
    merged = word.replace(pair, new)  # left to right, as merge_pair
    # Pair k = word[k:k+2]. The t-th occurrence starts at j in word and at j - t in merged.
    # Sets: two neighbouring occurrences share a pair, which must be counted once.
    old_k = {k for j in starts for k in (j - 1, j, j + 1) if 0 <= k < len(word) - 1}
    new_k = {
        k for t, j in enumerate(starts) for k in (j - t - 1, j - t) if 0 <= k < len(merged) - 1
    }
    return merged, [word[k : k + 2] for k in old_k], [merged[k : k + 2] for k in new_k]


# ---------------------------------------------------------------------------------------------
# Byte-level BPE: the naive trainer, then the tokenizer with its incremental trainer.
# ---------------------------------------------------------------------------------------------
def _check_train_args(text: str, vocab_size: int) -> int:
    if not isinstance(text, str) or not text:
        raise ValueError(f"text ({text!r:.40}) must be a non-empty str: BPE needs a corpus")
    return check_int(vocab_size, "vocab_size (256 bytes + the merges)", minimum=256)


def train_naive(
    text: str, vocab_size: int, pattern: str = GPT2_SPLIT_PATTERN
) -> list[tuple[int, int]]:
    """Learn ``vocab_size − 256`` byte-level merges the simple way (as karpathy/minbpe).

    Returns the merges in order: ``merges[t]`` is the pair of ids that becomes id ``256 + t``.
    At every step all pairs of the whole text are recounted; ties go to the smallest pair of
    ids. ``BPETokenizer.train`` learns the same merges, much faster.
    """
    vocab_size = _check_train_args(text, vocab_size)
    chunks = [list(piece.encode("utf-8")) for piece in regex.findall(pattern, text)]
    merges: list[tuple[int, int]] = []
    for new_id in range(256, vocab_size):
        stats = Counter(pair for ids in chunks for pair in pairwise(ids))  # count every pair
        if not stats:
            break  # every piece is a single token
        pair = min(stats, key=lambda p: (-stats[p], p))  # the most frequent (smallest on a tie)
        chunks = [merge_pair(ids, pair, new_id) for ids in chunks]  # (a, b) -> new_id
        merges.append(pair)
    return merges


class BPETokenizer:
    """Byte-level BPE tokenizer: ids 0-255 are the bytes, id 256 + t is the t-th merge."""

    def __init__(self, pattern: str = GPT2_SPLIT_PATTERN) -> None:
        self.pattern = pattern
        self._compiled = regex.compile(pattern)
        self.merges: list[tuple[int, int]] = []  # ordered: merges[t] created id 256 + t
        self._ranks: dict[tuple[int, int], int] = {}  # pair -> new id
        self.vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}
        self._cache: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self.vocab)

    # -- training -------------------------------------------------------------------------------
    def train(self, text: str, vocab_size: int, verbose: bool = False) -> None:
        """Learn ``vocab_size - 256`` merges on ``text`` (fewer if the pieces run out of pairs).

        Pairs of equal count are broken by the smallest pair of ids, so training is
        deterministic and gives the merges of :func:`train_naive`.
        """
        vocab_size = _check_train_args(text, vocab_size)
        # Unique pieces (pre-tokenized "words") with their frequencies; each piece as the str
        # of its byte ids (latin-1 maps byte b to chr(b)), see _merge_with_diff.
        piece_counts = Counter(self._compiled.findall(text))
        words = [piece.encode("utf-8").decode("latin-1") for piece in piece_counts]
        freqs = list(piece_counts.values())
        # stats[pair] = weighted count; where[pair] = indices of the words that (may) hold it.
        stats: dict[str, int] = defaultdict(int)
        where: dict[str, set[int]] = defaultdict(set)
        for i, (word, freq) in enumerate(zip(words, freqs, strict=True)):
            for k in range(len(word) - 1):
                stats[word[k : k + 2]] += freq
                where[word[k : k + 2]].add(i)
        # Max-heap of (−count, pair): ties go to the smallest pair of ids.
        heap = [(-count, pair) for pair, count in stats.items()]
        heapq.heapify(heap)

        self.merges, self._ranks, self._cache = [], {}, {}
        self.vocab = {i: bytes([i]) for i in range(256)}
        for new_id in range(256, vocab_size):
            # Lazy heap: an entry whose count is out of date is popped, and pushed back with
            # the current count if the pair still occurs (counts can only have dropped).
            while heap and stats.get(heap[0][1], 0) != -heap[0][0]:
                _, stale = heapq.heappop(heap)
                if stats.get(stale, 0) > 0:
                    heapq.heappush(heap, (-stats[stale], stale))
            if not heap:
                break
            count, pair = -heap[0][0], heap[0][1]
            grown: set[str] = set()  # the new pairs xX and Xy
            for i in where.pop(pair):
                words[i], removed, added = _merge_with_diff(words[i], pair, chr(new_id))
                for p in removed:  # empty if the index was stale (the pair is gone)
                    stats[p] -= freqs[i]
                    if not stats[p]:
                        del stats[p]
                for p in added:
                    stats[p] += freqs[i]
                    where[p].add(i)
                grown.update(added)
            for p in grown:
                heapq.heappush(heap, (-stats[p], p))
            self._add_merge((ord(pair[0]), ord(pair[1])), new_id)
            if verbose:
                print(f"merge {new_id - 255}: {pair} -> {new_id} {self.vocab[new_id]!r} ({count})")

    def _add_merge(self, pair: tuple[int, int], new_id: int) -> None:
        self.merges.append(pair)
        self._ranks[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]

    # -- encoding and decoding ---------------------------------------------------------------
    def _encode_piece(self, piece: str) -> list[int]:
        ids = list(piece.encode("utf-8"))
        while len(ids) >= 2:
            # The pair learned earliest (lowest new id) is merged first, as in training.
            pair = min(pairwise(ids), key=lambda p: self._ranks.get(p, float("inf")))
            if pair not in self._ranks:
                break
            ids = merge_pair(ids, pair, self._ranks[pair])
        return ids

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (valid Unicode; a lone surrogate raises UnicodeEncodeError)."""
        ids: list[int] = []
        for piece in self._compiled.findall(check_str(text, "text")):
            if piece not in self._cache:
                self._cache[piece] = self._encode_piece(piece)
            ids.extend(self._cache[piece])
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids`` (a list, or a 1-D tensor or array, of ids).

        Byte-level BPE loses nothing: ``decode(encode(text)) == text``. Arbitrary ids may cut a
        UTF-8 character: those bytes become U+FFFD.
        """
        ids = check_ids(ids)
        for i in ids:
            if i not in self.vocab:
                raise ValueError(f"ids contains {i!r}, not in the vocabulary (0..{len(self) - 1})")
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the pattern and the ordered merges to a JSON file (the vocabulary follows)."""
        data = {"type": "llmcours-bpe", "pattern": self.pattern, "merges": self.merges}
        Path(path).write_text(json.dumps(data), encoding="utf-8")

    @classmethod
    def from_merges(
        cls, merges: Sequence[tuple[int, int]], pattern: str = GPT2_SPLIT_PATTERN
    ) -> BPETokenizer:
        """The tokenizer of ordered ``merges`` (``merges[t]`` created id 256 + t), e.g. from
        :func:`train_naive`."""
        tok = cls(pattern=pattern)
        for t, (a, b) in enumerate(merges):
            if not (0 <= a < 256 + t and 0 <= b < 256 + t):
                raise ValueError(f"merges[{t}] ({a}, {b}) must merge ids created before 256 + {t}")
            tok._add_merge((a, b), 256 + t)
        return tok

    @classmethod
    def load(cls, path: str | Path) -> BPETokenizer:
        """Rebuild a tokenizer written by :meth:`save`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("type") != "llmcours-bpe":
            raise ValueError(f"path ({path}) is not a file written by BPETokenizer.save")
        return cls.from_merges([tuple(pair) for pair in data["merges"]], pattern=data["pattern"])
