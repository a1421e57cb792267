"""Tests for llmcours.data: the shipped French corpus, sentences and sentiment set."""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from llmcours.data import (
    LABELS,
    data_path,
    load_corpus,
    load_instructions,
    load_sentences,
    load_sentiment,
)

ROOT = Path(__file__).resolve().parents[1]
DATA_FILES = [
    "README.md",
    "corpus_fr.txt",
    "phrases_fr.txt",
    "sentiment_fr/train.jsonl",
    "sentiment_fr/test.jsonl",
    "instructions_fr.jsonl",
    "preferences_fr.jsonl",
]
WORD = re.compile(r"[^\W\d_]+")  # runs of letters: "l'été" -> "l", "été"


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _read_jsonl(split: str) -> list[dict]:
    lines = data_path(f"sentiment_fr/{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def corpus() -> str:
    return load_corpus()


def test_corpus_size(corpus: str) -> None:
    n_bytes = len(corpus.encode("utf-8"))
    assert n_bytes >= 200_000, f"corpus has {n_bytes} UTF-8 bytes, expected >= 200000"


def test_corpus_vocabulary(corpus: str) -> None:
    words = WORD.findall(corpus.lower())
    distinct = len(set(words))
    assert distinct >= 8_000, f"corpus has {distinct} distinct lowercase words, expected >= 8000"
    accented = sum(1 for w in set(words) if re.search(r"[àâäçéèêëîïôöûùüÿœæ]", w))
    assert accented >= 1_000, f"only {accented} distinct accented words: accents missing?"


def test_corpus_paragraphs_distinct(corpus: str) -> None:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", corpus) if p.strip()]
    assert len(paragraphs) >= 300, f"only {len(paragraphs)} paragraphs"
    repeated = [p[:60] for p, c in Counter(_norm(p) for p in paragraphs).items() if c > 1]
    assert not repeated, f"paragraphs appearing more than once: {repeated}"


def test_corpus_long_sentences_distinct(corpus: str) -> None:
    sentences = re.split(r"(?<=[.!?»])\s+", corpus)
    long_ones = [_norm(s) for s in sentences if len(s) >= 60]
    repeated = [s[:60] for s, c in Counter(long_ones).items() if c > 1]
    assert not repeated, f"sentences appearing more than once: {repeated}"


def test_sentences() -> None:
    sentences = load_sentences()
    assert len(sentences) >= 300, f"{len(sentences)} sentences, expected >= 300"
    repeated = [s for s, c in Counter(sentences).items() if c > 1]
    assert not repeated, f"duplicated sentences: {repeated}"
    assert all(s == s.strip() and "\n" not in s for s in sentences)
    # the course's coreference example (experiment 6) is there, once
    assert "Le médecin a vu sa patiente. Il lui a parlé longtemps." in sentences
    assert sum(s.endswith("?") for s in sentences) >= 10, "expected some questions"


@pytest.mark.parametrize("split", ["train", "test"])
def test_sentiment_files_balanced(split: str) -> None:
    rows = _read_jsonl(split)
    assert all(set(r) == {"text", "label"} for r in rows), "each line must be {text, label}"
    assert all(isinstance(r["text"], str) and r["text"].strip() for r in rows)
    labels = Counter(r["label"] for r in rows)
    assert set(labels) == {0, 1}, f"labels in {split}: {sorted(labels)}"
    assert labels[0] == labels[1], f"{split} is unbalanced: {dict(labels)}"
    texts = [_norm(r["text"]) for r in rows]
    repeated = [t for t, c in Counter(texts).items() if c > 1]
    assert not repeated, f"duplicated texts in {split}: {repeated}"


def test_sentiment_splits() -> None:
    train, test = _read_jsonl("train"), _read_jsonl("test")
    assert len(train) + len(test) >= 300, f"{len(train)} + {len(test)} examples, expected >= 300"
    overlap = {_norm(r["text"]) for r in train} & {_norm(r["text"]) for r in test}
    assert not overlap, f"texts in both splits: {sorted(overlap)}"


def test_load_sentiment() -> None:
    dsd = load_sentiment()
    assert sorted(dsd) == ["test", "train"]
    for split, ds in dsd.items():
        assert ds.column_names == ["text", "label"]
        assert ds.features["text"].dtype == "string"
        assert ds.features["label"].names == list(LABELS) == ["négatif", "positif"]
        rows = _read_jsonl(split)
        assert ds.num_rows == len(rows)
        assert ds[0] == rows[0], f"first {split} row differs: {ds[0]} vs {rows[0]}"
        assert isinstance(ds[0]["label"], int)
        assert ds.features["label"].int2str(1) == "positif"


def test_data_path_known_files() -> None:
    for name in DATA_FILES:
        path = data_path(name)
        assert path.is_file() and path.stat().st_size > 0, f"{name} missing or empty"


def test_data_path_unknown_name() -> None:
    with pytest.raises(FileNotFoundError, match="nope.txt") as info:
        data_path("nope.txt")
    message = str(info.value)
    assert "corpus_fr.txt" in message and "sentiment_fr/train.jsonl" in message
    assert "pip install -e ." in message and "\n" not in message
    with pytest.raises(ValueError, match="name"):
        data_path("")


def test_files_are_package_data() -> None:
    """The files are reachable as package resources and matched by pyproject's package-data."""
    package = resources.files("llmcours")
    for name in DATA_FILES:
        assert (package / "data" / name).is_file(), f"{name} not a resource of llmcours"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["llmcours"]
    pkg_dir = ROOT / "lib" / "llmcours"
    matched = {p for pattern in patterns for p in pkg_dir.glob(pattern) if p.is_file()}
    for name in DATA_FILES:
        assert pkg_dir / "data" / name in matched, f"{name} not matched by {patterns}"


def test_corpus_split_holds_out_every_tenth_paragraph():
    from llmcours.data import corpus_split, load_corpus

    train, heldout = corpus_split()
    paragraphs = [p for p in load_corpus().split("\n\n") if p.strip()]
    assert heldout.split("\n\n") == paragraphs[9::10]
    assert len(train.split("\n\n")) + len(heldout.split("\n\n")) == len(paragraphs)
    assert not set(train.split("\n\n")) & set(heldout.split("\n\n"))


def test_load_instructions():
    """The French instruction set: varied tasks, no repeat, every eighth pair held out."""
    from llmcours.data import load_instructions

    lines = data_path("instructions_fr.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    assert 40 <= len(rows) <= 80, f"{len(rows)} pairs, expected 40-80"
    assert all(set(r) == {"task", "instruction", "input", "output"} for r in rows)
    assert all(isinstance(r[k], str) for r in rows for k in r)
    assert all(r["instruction"].strip() and r["output"].strip() for r in rows)
    tasks = Counter(r["task"] for r in rows)
    assert len(tasks) >= 8, f"only {len(tasks)} kinds of task: {dict(tasks)}"
    pairs = [(_norm(r["instruction"]), _norm(r["input"])) for r in rows]
    repeated = [p for p, c in Counter(pairs).items() if c > 1]
    assert not repeated, f"instructions appearing twice: {repeated}"
    accented = sum(bool(re.search(r"[àâçéèêëîïôûùœ]", r["output"])) for r in rows)
    assert accented >= len(rows) // 3, "few accented answers: accents missing?"
    dsd = load_instructions()
    assert sorted(dsd) == ["test", "train"]
    assert dsd["train"].column_names == ["task", "instruction", "input", "output"]
    assert dsd["test"].num_rows == len(rows) // 8
    assert dsd["train"].num_rows + dsd["test"].num_rows == len(rows)
    assert dsd["test"][0] == rows[7] and dsd["train"][7] == rows[8]
    test_tasks = set(dsd["test"]["task"])
    assert test_tasks <= set(dsd["train"]["task"]), "a held-out task never seen in training"
    assert (resources.files("llmcours") / "data" / "instructions_fr.jsonl").is_file()


def test_loaders_show_no_progress_bar_and_leave_the_setting_as_it_was(monkeypatch):
    """A notebook would store the bars as empty widget views; the caller's setting is kept."""
    import datasets

    seen = []
    real = datasets.load_dataset

    def spy(*args, **kwargs):
        seen.append(datasets.are_progress_bars_disabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", spy)
    datasets.enable_progress_bars()
    load_sentiment()
    load_instructions()
    assert seen == [True, True], "the loaders must load with the progress bars off"
    assert not datasets.are_progress_bars_disabled(), "and turn them back on afterwards"
