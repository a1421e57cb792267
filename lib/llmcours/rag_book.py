"""Chapter 14's test bed: the book itself as a RAG corpus, and 20 questions with their answers.

:func:`book_chunks` reads the markdown of chapters 1–10 (their « À retenir » box, or all their
text), strips the MyST syntax (:func:`clean_markdown`) and cuts it into chunks that remember
their chapter. :data:`QUESTIONS` holds 20 questions, each with its chapter and a key phrase of
the passage that answers it; :func:`relevant_chunks` finds, for each question, the chunks of
its chapter that contain that phrase (the ground truth of recall@k and of citations).
Chapter 14 and ``benchmarks/bench_models.py`` share them, so their figures are comparable.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .rag import chunk_text

__all__ = ["QUESTIONS", "book_chunks", "chapter_text", "clean_markdown", "normalise",
           "relevant_chunks"]

QUESTIONS = [  # (question, chapter, key phrase of the passage that answers it)
    ("Quelle fonction de perte utilise-t-on pour la régression ?", 1,
     "la MSE sert à la régression"),
    ("Comment repère-t-on le surapprentissage sur les courbes de perte ?", 1,
     "perte de validation qui remonte"),
    ("Comment éviter qu'un n-gramme donne une probabilité nulle à une suite jamais vue ?", 2,
     "lissage add-k"),
    ("Que vaut la perplexité d'un modèle uniforme sur m mots ?", 2, "facteur de branchement"),
    ("Combien de portes a une cellule LSTM ?", 3, "trois portes"),
    ("Pourquoi le gradient d'un RNN s'évanouit-il ou explose-t-il ?", 3,
     "produit de $T$ jacobiennes"),
    ("Quelle paire de symboles BPE fusionne-t-il à chaque étape ?", 4,
     "paire adjacente la plus fréquente"),
    ("Comment SentencePiece traite-t-il les espaces ?", 4, "l'espace comme un symbole"),
    ("Que dit l'hypothèse distributionnelle ?", 5, "un mot se caractérise par ses contextes"),
    ("Comment MiniLM produit-il un vecteur pour une phrase entière ?", 5,
     "par moyenne puis normalisation"),
    ("Pourquoi divise-t-on les scores d'attention par la racine de d_k ?", 6, "la softmax sature"),
    ("À quoi sert le masque causal ?", 6, "interdit le futur"),
    ("Quelle proportion des tokens BERT masque-t-il pendant le pré-entraînement ?", 7,
     "15 % de tokens"),
    ("Comment T5 est-il pré-entraîné ?", 7, "sentinelles"),
    ("Que garde en mémoire le cache clés-valeurs ?", 8, "garde $K$ et $V$"),
    ("Quelle différence entre l'échantillonnage top-k et top-p ?", 8,
     "plus petit ensemble de masse"),
    ("Combien de calcul coûte l'entraînement d'un modèle de N paramètres sur D tokens ?", 9, "6ND"),
    ("Qu'est-ce qui distingue AdamW d'Adam avec une pénalité L2 ?", 9, "découple la décroissance"),
    ("Combien d'octets par paramètre demande l'affinage complet avec Adam ?", 10,
     "16 octets par paramètre"),
    ("Que permet QLoRA ?", 10, "QLoRA entraîne des adaptateurs"),
]


def clean_markdown(text: str) -> str:
    """The text of a markdown cell of the book, without the MyST syntax."""
    text = re.sub(r"^\(sec-[^)]*\)=\s*$", "", text, flags=re.M)           # labels
    text = re.sub(r"````\{[^}]*\}.*?````", "", text, flags=re.S)           # solutions
    text = re.sub(r"```\{[^}]*\}.*?```", "", text, flags=re.S)             # figures
    text = re.sub(r"\{glue:text\}`[^`]*`", "…", text)                      # computed numbers
    text = re.sub(r"\{doc\}`([^`<]*?)\s*<[^`]*>`", r"\1", text)            # cross-references
    text = re.sub(r"\{(doc|ref|cite)\}`[^`]*`", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)                  # links
    return re.sub(r"[*`#]", "", text)


def chapter_text(path: str | Path, corpus: str = "résumés") -> str:
    """The markdown of a chapter: all its text (``corpus="livre entier"``) or only its
    « À retenir » box (``"résumés"``), up to its self-check."""
    if corpus not in ("résumés", "livre entier"):
        raise ValueError(f"corpus ({corpus!r}) must be 'résumés' or 'livre entier'")
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    if corpus == "résumés":
        if "## À retenir" not in text:
            raise ValueError(f"path ({str(path)!r}) has no « ## À retenir » section")
        text = text.split("## À retenir", 1)[1].split("\n## ", 1)[0]
    return clean_markdown(text.split("## Testez-vous")[0])


def book_chunks(chapters: str | Path, corpus: str = "résumés", chunk_size: int = 50,
                overlap: int = 10) -> tuple[list[str], list[int]]:
    """Chunks of chapters 1–10 found in the folder ``chapters``, and the chapter of each."""
    paths = [p for p in sorted(Path(chapters).glob("[01][0-9]_*.ipynb"))
             if 1 <= int(p.name[:2]) <= 10]
    if not paths:
        raise ValueError(f"chapters ({str(chapters)!r}) holds no chapter 01–10 notebook")
    chunks, chunk_chapter = [], []
    for path in paths:
        for chunk in chunk_text(chapter_text(path, corpus), chunk_size, overlap):
            chunks.append(chunk)
            chunk_chapter.append(int(path.name[:2]))
    return chunks, chunk_chapter


def normalise(text: str) -> str:
    """Lower case, whitespace collapsed: how key phrases are matched."""
    return " ".join(text.lower().split())


def relevant_chunks(chunks: list[str], chunk_chapter: list[int],
                    questions: list[tuple[str, int, str]] = QUESTIONS) -> list[set[int]]:
    """For each question, the ids of the chunks of its chapter that contain its key phrase;
    ``ValueError`` if a question has none (the book changed: fix the key phrase)."""
    relevant = []
    for question, chapter, key in questions:
        ids = {i for i, (c, ch) in enumerate(zip(chunks, chunk_chapter, strict=True))
               if ch == chapter and normalise(key) in normalise(c)}
        if not ids:
            raise ValueError(f"questions: no chunk of chapter {chapter} contains « {key} » "
                             f"(question « {question} »)")
        relevant.append(ids)
    return relevant
