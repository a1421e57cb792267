"""Benchmark: training our byte-level BPE vs Hugging Face ``tokenizers`` vs the naive algorithm.

Text: the course's French data (``load_corpus()``, then ``load_sentences()`` and the texts of
``load_sentiment()``), concatenated and repeated until it reaches 1,000,000 characters (the
repetition multiplies the word counts, it adds no new word). All three trainers pre-tokenize
with GPT-2's regular expression and merge bytes.

1. Full training, vocab 5,000 (4,744 merges): ``BPETokenizer.train`` vs ``tokenizers``
   (``models.BPE`` + ``pre_tokenizers.ByteLevel(add_prefix_space=False)``, ``BpeTrainer`` with
   the 256-byte initial alphabet), run single-threaded (``RAYON_NUM_THREADS=1``, set before
   importing ``tokenizers``); median of ``--repeats`` alternated runs. Target: ours ≤ 10×.
2. The same ``--merges`` (default 100) merges with ours and with the naive trainer
   ``llmcours.bpe.train_naive`` (minbpe-style: it recounts every pair of the whole text at
   every merge). Both learn the same merges (checked). Both timings include pre-tokenization
   (about 0.15 s of CPU here), so this ratio understates the speed-up of the merge loop
   itself. Target: ours ≥ 30× faster. The naive time for 4,744 merges is also *extrapolated*
   linearly from its per-merge time, and labelled as such.

Times are CPU seconds of the process (``time.process_time``, see ``timed``).

Run: ``.venv/bin/python benchmarks/bench_bpe.py [--repeats R] [--merges N]``
"""

from __future__ import annotations

import argparse
import os

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers starts its thread pool
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import statistics  # noqa: E402
import time  # noqa: E402

from tokenizers import Tokenizer, models, pre_tokenizers, trainers  # noqa: E402

from llmcours.bpe import BPETokenizer, train_naive  # noqa: E402
from llmcours.data import load_corpus, load_sentences, load_sentiment  # noqa: E402

N_CHARS = 1_000_000
VOCAB_SIZE = 5000


def french_text(n_chars: int = N_CHARS) -> str:
    sentiment = load_sentiment()
    parts = [load_corpus(), "\n".join(load_sentences())]
    parts += ["\n".join(sentiment[split]["text"]) for split in ("train", "test")]
    base = "\n\n".join(parts)
    return (base * (n_chars // len(base) + 1))[:n_chars]


def train_ours(text: str, vocab_size: int) -> BPETokenizer:
    tok = BPETokenizer()
    tok.train(text, vocab_size)
    return tok


def train_tokenizers(text: str, vocab_size: int) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(text.split("\n"), trainer)  # one line at a time
    return tok


def timed(fn, *args):
    """CPU time of the process (all its threads) for ``fn(*args)``, and its result.

    CPU time rather than wall time: on a shared, busy machine the wall time of the same run
    varies by 3x or more, its CPU time much less. Both trainers run on one thread.
    """
    start = time.process_time()
    out = fn(*args)
    return time.process_time() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--merges", type=int, default=100)
    args = parser.parse_args()
    text = french_text()
    n_bytes = len(text.encode("utf-8"))
    print(f"text: {len(text):,} characters, {n_bytes:,} UTF-8 bytes of the course's French data")

    # 1. full training against tokenizers
    t_ours, t_ref = [], []
    for _ in range(args.repeats):  # alternate, so that a busy machine slows both alike
        t, ours = timed(train_ours, text, VOCAB_SIZE)
        t_ours.append(t)
        t, ref = timed(train_tokenizers, text, VOCAB_SIZE)
        t_ref.append(t)
    m_ours, m_ref = statistics.median(t_ours), statistics.median(t_ref)
    sample = text[:200_000]
    bpt_ours = len(sample.encode()) / len(ours.encode(sample))
    bpt_ref = len(sample.encode()) / len(ref.encode(sample).ids)
    print(
        f"full training, vocab {VOCAB_SIZE} ({len(ours.merges)} merges), median of "
        f"{args.repeats}, CPU time: ours {m_ours:.2f} s, tokenizers (1 thread) {m_ref:.2f} s "
        f"-> ours/"
        f"tokenizers = {m_ours / m_ref:.1f}x (target <= 10x); bytes/token on 200 KB: "
        f"ours {bpt_ours:.3f}, tokenizers {bpt_ref:.3f}"
    )

    # 2. the same number of merges against the naive algorithm
    runs = [timed(train_ours, text, 256 + args.merges) for _ in range(args.repeats)]
    t_fast, fast = statistics.median(t for t, _ in runs), runs[0][1]
    t_naive, naive = timed(train_naive, text, 256 + args.merges)  # once: it is slow
    same = sum(a == b for a, b in zip(fast.merges, naive, strict=True))
    print(
        f"{args.merges} merges, CPU time: naive recount {t_naive:.2f} s (1 run), "
        f"ours {t_fast:.2f} s "
        f"(median of {args.repeats}) -> naive/"
        f"ours = {t_naive / t_fast:.0f}x faster (target >= 30x); identical merges: "
        f"{same}/{args.merges}"
    )
    per_merge = t_naive / args.merges
    print(
        f"extrapolated (linear in merges, not measured): naive for {len(ours.merges)} merges "
        f"~ {per_merge * len(ours.merges):.0f} s vs ours {m_ours:.2f} s measured"
    )


if __name__ == "__main__":
    main()
