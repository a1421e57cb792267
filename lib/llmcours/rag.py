"""RAG, Retrieval-Augmented Generation: answer a question from retrieved documents.

The pipeline of the course, in four steps:

1. cut the documents into overlapping chunks (:func:`chunk_text`);
2. embed every chunk once (all-MiniLM-L6-v2 by default: mean of the token vectors, then L2
   normalisation, exactly as ``sentence-transformers``) and store the vectors (:class:`Retriever`);
3. embed the question q and return the k chunks d with the highest cosine similarity

       sim(q, d) = q · d / (‖q‖ ‖d‖)      (a dot product, since the vectors are normalised),

   by exact search (:func:`top_k_cosine`, every vector is scored) or with a faiss index
   (:class:`VectorIndex`: ``"flat"`` is exact, ``"ivf"`` and ``"hnsw"`` are approximate);
4. put them in a prompt with numbered sources (:func:`build_prompt`) and let a language model
   answer, citing them (:func:`answer`).

Evaluation: :func:`recall_at_k` for the retrieval (share of questions with a relevant chunk in
the top k); for the answer, two crude automatic proxies of faithfulness, :func:`support_score`
(share of the answer's content words found in the retrieved passages) and
:func:`cited_sources` (the [n] the answer cites).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._checks import check_int, check_sequence, check_str

__all__ = [
    "chunk_text",
    "MeanPoolingEncoder",
    "Retriever",
    "top_k_cosine",
    "VectorIndex",
    "build_prompt",
    "answer",
    "hf_generate_fn",
    "recall_at_k",
    "content_words",
    "support_score",
    "cited_sources",
]


def chunk_text(text: str, chunk_size: int = 100, overlap: int = 20) -> list[str]:
    """Split ``text`` into chunks of ``chunk_size`` *words* (whitespace-separated), each sharing
    its first ``overlap`` words with the end of the previous chunk.

    Chunks start every ``chunk_size − overlap`` words; the last one stops at the end of the
    text (it may be shorter). Words are re-joined with single spaces. Empty text → [].
    """
    check_str(text, "text")
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
    (``llmcours.models.load_encoder()``, loaded on first use) with mean pooling. Encoders
    trained with asymmetric prefixes, like E5 (``"query: "`` / ``"passage: "``), get them from
    ``query_prefix`` and ``passage_prefix``: the stored documents stay without prefix.
    """

    def __init__(self, encoder: Callable[[Sequence[str]], torch.Tensor] | None = None,
                 query_prefix: str = "", passage_prefix: str = "") -> None:
        if not isinstance(query_prefix, str) or not isinstance(passage_prefix, str):
            raise ValueError("query_prefix and passage_prefix must be texts (str)")
        self.encoder = encoder
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        self.documents: list[str] = []
        self.embeddings = torch.empty(0, 0)

    def embed(self, texts: Sequence[str]) -> torch.Tensor:
        """L2-normalised embeddings (N, d) of ``texts``, as given (no prefix added)."""
        if self.encoder is None:
            from llmcours.models import load_encoder

            self.encoder = MeanPoolingEncoder(*load_encoder("minilm"))
        vectors = torch.as_tensor(self.encoder(list(texts)), dtype=torch.float32)
        return F.normalize(vectors, p=2, dim=-1)

    def embed_queries(self, queries: Sequence[str]) -> torch.Tensor:
        """L2-normalised embeddings (N, d) of questions, with ``query_prefix``."""
        return self.embed([self.query_prefix + q for q in queries])

    def add(self, documents: str | Iterable[str]) -> None:
        """Embed (with ``passage_prefix``) and store ``documents`` (a text, or any iterable of
        texts, generators included). Call it several times to add more.
        """
        # A generator is consumed once: make it a list before embedding *and* storing it.
        documents = [documents] if isinstance(documents, str) else documents
        documents = check_sequence(documents, "documents")
        if not all(isinstance(d, str) for d in documents):
            raise ValueError("documents must be a text or an iterable of texts (str)")
        if not documents:
            raise ValueError("documents is empty: add at least one text")
        vectors = self.embed([self.passage_prefix + d for d in documents])
        self.embeddings = vectors if not self.documents else torch.cat([self.embeddings, vectors])
        self.documents.extend(documents)

    def search(self, query: str, k: int = 3) -> list[tuple[float, str]]:
        """The ``k`` stored documents most similar to ``query``: [(cosine, text)], best first."""
        k = check_int(k, "k", minimum=1)
        if not self.documents:
            raise ValueError("the retriever is empty: call add(documents) first")
        scores, ids = top_k_cosine(self.embeddings, self.embed_queries([query]), k)
        return [
            (s, self.documents[i]) for s, i in zip(scores[0].tolist(), ids[0].tolist(), strict=True)
        ]


def top_k_cosine(
    embeddings: torch.Tensor, queries: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact search: the ``k`` rows of ``embeddings`` (N, d) most cosine-similar to each query.

    Every one of the N vectors is scored (a (Q, d) × (d, N) product, O(N·d) per query).
    Returns ``(scores, ids)``, both (Q, min(k, N)), best first.
    """
    k = check_int(k, "k", minimum=1)
    queries = torch.as_tensor(queries, dtype=torch.float32)
    embeddings = torch.as_tensor(embeddings, dtype=torch.float32)
    queries = queries.unsqueeze(0) if queries.ndim == 1 else queries
    if embeddings.ndim != 2 or queries.shape[-1] != embeddings.shape[-1]:
        raise ValueError(
            f"embeddings {tuple(embeddings.shape)} and queries {tuple(queries.shape)}: "
            "expected (N, d) and (Q, d) with the same d"
        )
    scores = F.normalize(queries, dim=-1) @ F.normalize(embeddings, dim=-1).T  # (Q, N)
    top = torch.topk(scores, min(k, embeddings.shape[0]), dim=-1)
    return top.values, top.indices


class VectorIndex:
    """Cosine top-k search with a faiss index (Johnson et al., 2019) over normalised vectors.

    ``kind``: ``"flat"`` compares the query with every vector, like :func:`top_k_cosine`
    (``IndexFlatIP``); ``"ivf"`` first clusters the vectors into ``nlist`` cells (k-means) and
    searches only the ``nprobe`` cells whose centroids are closest to the query
    (``IndexIVFFlat``); ``"hnsw"`` walks a graph of near neighbours (``IndexHNSWFlat``,
    ``m`` links per vector, ``ef_search`` candidates kept). The last two are approximate: they
    may miss a true neighbour (measure it with :func:`recall_at_k`).
    """

    KINDS = ("flat", "ivf", "hnsw")

    def __init__(self, dim: int, kind: str = "flat", nlist: int = 100, nprobe: int = 8,
                 m: int = 32, ef_search: int = 64, train_size: int | None = None) -> None:
        import faiss  # only needed here: the rest of the module works without it

        self.dim = check_int(dim, "dim", minimum=1)
        if kind not in self.KINDS:
            raise ValueError(f"kind ({kind!r}) must be one of {self.KINDS}")
        self.kind, self.train_size = kind, train_size
        metric = faiss.METRIC_INNER_PRODUCT  # inner product of unit vectors = cosine
        if kind == "flat":
            self.index = faiss.IndexFlatIP(self.dim)
        elif kind == "ivf":
            self._quantizer = faiss.IndexFlatIP(self.dim)  # keep it alive: faiss does not own it
            self.index = faiss.IndexIVFFlat(
                self._quantizer, self.dim, check_int(nlist, "nlist", minimum=1), metric
            )
            self.index.nprobe = min(check_int(nprobe, "nprobe", minimum=1), nlist)
        else:
            self.index = faiss.IndexHNSWFlat(self.dim, check_int(m, "m", minimum=2), metric)
            self.index.hnsw.efSearch = check_int(ef_search, "ef_search", minimum=1)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def _as_array(self, vectors: Any, name: str):
        x = torch.as_tensor(vectors, dtype=torch.float32)
        x = x.unsqueeze(0) if x.ndim == 1 else x
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{name} has shape {tuple(x.shape)}: expected (n, {self.dim})")
        return F.normalize(x, dim=-1).contiguous().numpy()

    def add(self, vectors: Any) -> None:
        """Add (n, dim) vectors (normalised here); an ``"ivf"`` index is trained on the first
        call, on the vectors themselves (or on ``train_size`` of them, drawn without
        replacement with a fixed seed)."""
        x = self._as_array(vectors, "vectors")
        if not self.index.is_trained:
            sample = x
            if self.train_size is not None and self.train_size < len(x):
                g = torch.Generator().manual_seed(0)
                sample = x[torch.randperm(len(x), generator=g)[: self.train_size].numpy()]
            if len(sample) < self.index.nlist:
                raise ValueError(
                    f"{len(sample)} training vectors for nlist={self.index.nlist} cells: "
                    "give at least nlist vectors"
                )
            self.index.train(sample)
        self.index.add(x)

    def search(self, queries: Any, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(scores, ids)``, both (Q, k), best first, as :func:`top_k_cosine`."""
        k = check_int(k, "k", minimum=1)
        if len(self) == 0:
            raise ValueError("the index is empty: call add(vectors) first")
        scores, ids = self.index.search(self._as_array(queries, "queries"), min(k, len(self)))
        return torch.from_numpy(scores), torch.from_numpy(ids)


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
        "Réponds à la question en t'appuyant uniquement sur les documents ci-dessous, et cite "
        "entre crochets le numéro du document utilisé, par exemple [1]. "
        "Si la réponse n'y figure pas, réponds : « Je ne sais pas. »\n\n"
        f"Documents :\n{context}\n\n"
        f"Question : {question}\n"
        "Réponse :"
    )


def hf_generate_fn(model: Any, tokenizer: Any, max_new_tokens: int = 100,
                   cite: bool = False) -> Callable[[str], str]:
    """Wrap a Hugging Face causal LM into ``prompt -> answer`` (chat template, greedy).

    ``cite=True``: if the answer cites no ``[n]``, the model is asked for it by *prefilling*:
    its own answer followed by `` [`` is fed back as the start of its reply, and the model
    writes the number (a small model often answers without citing, yet picks the right
    source when the format forces it). The answer then ends with ``[n]``.
    """
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", minimum=1)

    def run(inputs: Any, new_tokens: int) -> torch.Tensor:
        out = model.generate(**inputs, max_new_tokens=new_tokens, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
        return out[0, inputs["input_ids"].shape[1]:]

    @torch.no_grad()
    def generate(prompt: str) -> str:
        device = next(model.parameters()).device
        chat = bool(getattr(tokenizer, "chat_template", None))
        if chat:
            messages = [{"role": "user", "content": prompt}]
            inputs = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        else:
            inputs = tokenizer(prompt, return_tensors="pt")
        inputs = inputs.to(device)
        text = tokenizer.decode(run(inputs, max_new_tokens), skip_special_tokens=True).strip()
        if not cite or cited_sources(text) or not text or text.startswith("Je ne sais pas"):
            return text
        head = text.rstrip(" .")
        ids = torch.cat([inputs["input_ids"][0], tokenizer(
            head + " [", add_special_tokens=False, return_tensors="pt")["input_ids"][0].to(device)])
        more = tokenizer.decode(run({"input_ids": ids[None],
                                     "attention_mask": torch.ones_like(ids)[None]}, 3),
                                skip_special_tokens=True)
        number = re.match(r"\s*(\d+)", more)
        return f"{head} [{number.group(1)}]." if number else text

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


def recall_at_k(
    retrieved: Sequence[Sequence[Hashable]], relevant: Sequence[Collection[Hashable]], k: int
) -> float:
    """Share of the questions for which at least one relevant id is among the first ``k``
    retrieved ids: (1/Q) Σ_q 1[ retrieved_q[:k] ∩ relevant_q ≠ ∅ ].

    ``retrieved[q]``: the ids returned for question q, best first; ``relevant[q]``: the ids that
    answer it (a question with no relevant id counts as a miss).
    """
    k = check_int(k, "k", minimum=1)
    retrieved = check_sequence(retrieved, "retrieved")
    relevant = check_sequence(relevant, "relevant")
    if len(retrieved) != len(relevant):
        raise ValueError(
            f"retrieved ({len(retrieved)} questions) and relevant ({len(relevant)}) must have "
            "the same length"
        )
    if not retrieved:
        raise ValueError("retrieved is empty: give the results of at least one question")
    hits = [bool(set(list(r)[:k]) & set(rel)) for r, rel in zip(retrieved, relevant, strict=True)]
    return sum(hits) / len(hits)


# Frequent French words that carry no content: the answer's "content words" are the others.
_STOPWORDS = frozenset(
    """alors aussi autre avec avoir cela celle celui cette ceux chaque comme dans donc elle elles
    encore entre être fait faire leur leurs mais même moins nous par parce pour plus quand que
    quel quelle quels qui sans selon sont sous tous tout toute toutes très une vous était
    document documents question réponse réponds""".split()
)
_WORD = re.compile(r"[^\W\d_]+")


def content_words(text: str, min_length: int = 4) -> set[str]:
    """The lower-cased words of ``text`` with at least ``min_length`` letters, minus a short
    list of French function words (and the prompt's own words « document », « question »…)."""
    min_length = check_int(min_length, "min_length", minimum=1)
    words = {w.lower() for w in _WORD.findall(check_str(text, "text"))}
    return {w for w in words if len(w) >= min_length and w not in _STOPWORDS}


def support_score(answer: str, passages: str | Sequence[str | tuple[float, str]]) -> float:
    """Share of the answer's content words that appear in the passages (a faithfulness proxy).

    1.0: every content word of the answer is in the sources; NaN: the answer has no content word
    (« 2 », « Je ne sais pas. »). A crude proxy: it rewards copying, ignores meaning, negation
    and paraphrase, and says nothing about whether the answer answers the question.
    """
    if isinstance(passages, str):
        passages = [passages]
    texts = [p[1] if isinstance(p, tuple) else p for p in passages]
    words = content_words(check_str(answer, "answer"))
    if not words:
        return math.nan
    source = content_words(" ".join(texts))
    return len(words & source) / len(words)


def cited_sources(answer: str) -> list[int]:
    """The source numbers the answer cites as ``[n]`` (or ``[1, 3]``), sorted, without repeats."""
    found = re.findall(r"\[(\d+(?:\s*,\s*\d+)*)\]", check_str(answer, "answer"))
    return sorted({int(n) for group in found for n in group.split(",")})
