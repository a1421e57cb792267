"""RAG, Retrieval-Augmented Generation: answer a question from retrieved documents.

The pipeline of the course, in four steps:

1. cut the documents into overlapping chunks (:func:`chunk_text`);
2. embed every chunk once (all-MiniLM-L6-v2 by default: mean of the token vectors, then L2
   normalisation, exactly as ``sentence-transformers``) and store the vectors (:class:`Retriever`);
3. embed the question q and return the k chunks d with the highest cosine similarity

       sim(q, d) = q · d / (‖q‖ ‖d‖)      (a dot product, since the vectors are normalised);

4. put them in a prompt (:func:`build_prompt`) and let a language model answer (:func:`answer`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._checks import check_int

__all__ = [
    "chunk_text",
    "MeanPoolingEncoder",
    "Retriever",
    "build_prompt",
    "answer",
    "hf_generate_fn",
]


def chunk_text(text: str, chunk_size: int = 100, overlap: int = 20) -> list[str]:
    """Split ``text`` into chunks of ``chunk_size`` *words* (whitespace-separated), each sharing
    its first ``overlap`` words with the end of the previous chunk.

    Chunks start every ``chunk_size − overlap`` words; the last one stops at the end of the
    text (it may be shorter). Words are re-joined with single spaces. Empty text → [].
    """
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    overlap = check_int(overlap, "overlap", minimum=0)
    if overlap >= chunk_size:
        raise ValueError(f"overlap ({overlap}) must be in [0, chunk_size={chunk_size})")
    words = text.split()
    chunks, start = [], 0
    while start < len(words):
        chunks.append(" ".join(words[start : start + chunk_size]))
        if start + chunk_size >= len(words):
            break
        start += chunk_size - overlap
    return chunks


class MeanPoolingEncoder:
    """Sentence embeddings from a Hugging Face encoder: masked mean of the last hidden states."""

    def __init__(self, model: Any, tokenizer: Any, max_length: int = 256, batch_size: int = 32):
        # max_length 256 = all-MiniLM-L6-v2's max_seq_length in sentence-transformers.
        self.model, self.tokenizer = model, tokenizer
        self.max_length, self.batch_size = max_length, batch_size

    @torch.no_grad()
    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        device = next(self.model.parameters()).device
        out = []
        for i in range(0, len(texts), self.batch_size):
            batch = self.tokenizer(
                list(texts[i : i + self.batch_size]),
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(device)
            hidden = self.model(**batch).last_hidden_state  # (B, T, d)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # padding does not count
            out.append((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9))
        return torch.cat(out).cpu()


class Retriever:
    """A tiny vector store: ``add`` documents, ``search`` the k most similar to a query.

    ``encoder`` maps a list of texts to a (N, d) tensor; by default all-MiniLM-L6-v2
    (``llmcours.models.load_encoder()``, loaded on first use) with mean pooling.
    """

    def __init__(self, encoder: Callable[[Sequence[str]], torch.Tensor] | None = None) -> None:
        self.encoder = encoder
        self.documents: list[str] = []
        self.embeddings = torch.empty(0, 0)

    def embed(self, texts: Sequence[str]) -> torch.Tensor:
        """L2-normalised embeddings (N, d) of ``texts``."""
        if self.encoder is None:
            from llmcours.models import load_encoder

            self.encoder = MeanPoolingEncoder(*load_encoder("minilm"))
        vectors = torch.as_tensor(self.encoder(list(texts)), dtype=torch.float32)
        return F.normalize(vectors, p=2, dim=-1)

    def add(self, documents: str | Iterable[str]) -> None:
        """Embed and store ``documents`` (a text, or any iterable of texts, generators included).

        Call it several times to add more.
        """
        # A generator is consumed once: make it a list before embedding *and* storing it.
        documents = [documents] if isinstance(documents, str) else list(documents)
        if not all(isinstance(d, str) for d in documents):
            raise ValueError("documents must be a text or an iterable of texts (str)")
        if not documents:
            raise ValueError("documents is empty: add at least one text")
        vectors = self.embed(documents)
        self.embeddings = vectors if not self.documents else torch.cat([self.embeddings, vectors])
        self.documents.extend(documents)

    def search(self, query: str, k: int = 3) -> list[tuple[float, str]]:
        """The ``k`` stored documents most similar to ``query``: [(cosine, text)], best first."""
        k = check_int(k, "k", minimum=1)
        if not self.documents:
            raise ValueError("the retriever is empty: call add(documents) first")
        scores = self.embeddings @ self.embed([query])[0]
        top = torch.topk(scores, min(k, len(self.documents)))
        return [
            (s, self.documents[i])
            for s, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
        ]


def build_prompt(question: str, passages: str | Sequence[str | tuple[float, str]]) -> str:
    """A French prompt asking to answer ``question`` from the numbered ``passages`` only.

    ``passages``: texts, or the ``(score, text)`` pairs of :meth:`Retriever.search`; a single
    string is one passage (numbered [1]), not a sequence of characters.
    """
    if isinstance(passages, str):
        passages = [passages]
    texts = [p[1] if isinstance(p, tuple) else p for p in passages]
    if not all(isinstance(t, str) for t in texts):
        raise ValueError("passages must be texts or (score, text) pairs from Retriever.search")
    context = "\n".join(f"[{i}] {t}" for i, t in enumerate(texts, start=1))
    return (
        "Réponds à la question en t'appuyant uniquement sur les documents ci-dessous. "
        "Si la réponse n'y figure pas, réponds : « Je ne sais pas. »\n\n"
        f"Documents :\n{context}\n\n"
        f"Question : {question}\n"
        "Réponse :"
    )


def hf_generate_fn(model: Any, tokenizer: Any, max_new_tokens: int = 100) -> Callable[[str], str]:
    """Wrap a Hugging Face causal LM into ``prompt -> answer`` (chat template, greedy)."""

    @torch.no_grad()
    def generate(prompt: str) -> str:
        if getattr(tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": prompt}]
            inputs = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        else:
            inputs = tokenizer(prompt, return_tensors="pt")
        inputs = inputs.to(next(model.parameters()).device)
        out = model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
        )
        new_tokens = out[0, inputs["input_ids"].shape[1] :]
        return tokenizer.decode(new_tokens, skip_special_tokens=True).strip()

    return generate


def answer(
    question: str,
    retriever: Retriever,
    generate_fn: Callable[[str], str] | None = None,
    k: int = 3,
    model: Any = None,
    tokenizer: Any = None,
) -> dict[str, Any]:
    """Retrieve k passages, build the prompt, generate. Give ``generate_fn(prompt) -> str`` or a
    Hugging Face ``model`` and ``tokenizer``. Returns {"answer", "passages", "prompt"}."""
    if generate_fn is None:
        if model is None or tokenizer is None:
            raise ValueError("generate_fn is None: pass generate_fn, or model and tokenizer")
        generate_fn = hf_generate_fn(model, tokenizer)
    passages = retriever.search(question, k)
    prompt = build_prompt(question, passages)
    return {"answer": generate_fn(prompt), "passages": passages, "prompt": prompt}
