"""Tests of llmcours.sft: prompt masking, padding, and the answer-only loss against transformers."""

from __future__ import annotations

import pytest
import torch

from llmcours.sft import (
    IGNORE_INDEX,
    CausalLMLogits,
    causal_lm_loss,
    chat_prompt,
    format_instruction,
    pad_batch,
    tokenize_pair,
)


@pytest.fixture(scope="module")
def tokenizer():
    from llmcours.models import load_tokenizer

    return load_tokenizer("smollm2")


@pytest.fixture(scope="module")
def tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
    return LlamaForCausalLM(config).eval()


def test_format_instruction():
    assert format_instruction("Traduis en français.", "Good morning.") == (
        "Traduis en français.\n\nGood morning."
    )
    assert format_instruction("Donne trois fruits rouges.") == "Donne trois fruits rouges."
    assert format_instruction("Donne trois fruits rouges.", "  ") == "Donne trois fruits rouges."


def test_prompt_is_masked_and_answer_ends_with_eos(tokenizer):
    prompt = chat_prompt(tokenizer, "Quelle est la capitale de l'Australie ?")
    assert prompt.endswith("<|im_start|>assistant\n")
    ex = tokenize_pair(tokenizer, prompt, "Canberra.")
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert len(ex["input_ids"]) == len(ex["labels"])
    assert ex["labels"][:n_prompt] == [IGNORE_INDEX] * n_prompt
    assert ex["labels"][n_prompt:] == ex["input_ids"][n_prompt:]
    assert ex["input_ids"][-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ex["input_ids"][n_prompt:-1]) == "Canberra."


def test_split_tokenization_equals_the_whole_text(tokenizer):
    """Tokenizing prompt and answer apart gives the ids of the whole text: the model is
    trained on exactly the tokens it reads at inference (every pair of the course's set)."""
    from llmcours.data import load_instructions

    for split in load_instructions().values():
        for row in split:
            prompt = chat_prompt(tokenizer, format_instruction(row["instruction"], row["input"]))
            ex = tokenize_pair(tokenizer, prompt, row["output"])
            whole = tokenizer(prompt + row["output"], add_special_tokens=False)["input_ids"]
            assert ex["input_ids"][:-1] == whole, row["instruction"]


def test_system_prompt(tokenizer):
    prompt = chat_prompt(tokenizer, "Bonjour", system="Réponds en français.")
    assert "Réponds en français." in prompt and "SmolLM" not in prompt


def test_truncation(tokenizer):
    prompt = chat_prompt(tokenizer, "Bonjour")
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    ex = tokenize_pair(tokenizer, prompt, "Une réponse un peu longue pour être coupée.",
                       max_length=n_prompt + 2)
    assert len(ex["input_ids"]) == n_prompt + 2
    assert sum(label != IGNORE_INDEX for label in ex["labels"]) == 2
    with pytest.raises(ValueError, match="max_length"):
        tokenize_pair(tokenizer, prompt, "Oui.", max_length=n_prompt)


def test_pad_batch_right_pads_with_ignored_labels():
    examples = [{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]},
                {"input_ids": [8], "labels": [8]}]
    ids, labels = pad_batch(examples, pad_token_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert labels.tolist() == [[-100, 6, 7], [8, -100, -100]]
    assert ids.dtype == labels.dtype == torch.long


def test_loss_equals_transformers_loss(tiny_llama):
    """causal_lm_loss = the `loss` transformers computes from the same labels (atol 1e-6)."""
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 50, (3, 12), generator=g)
    labels = ids.clone()
    labels[:, :5] = IGNORE_INDEX  # a prompt of 5 tokens
    labels[2, 9:] = IGNORE_INDEX  # padding
    with torch.no_grad():
        out = tiny_llama(input_ids=ids, labels=labels)
    assert torch.allclose(causal_lm_loss(out.logits, labels), out.loss, atol=1e-6)


def test_loss_is_mean_nll_of_answer_tokens(tiny_llama):
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 50, (1, 10), generator=g)
    labels = ids.clone()
    labels[:, :6] = IGNORE_INDEX
    with torch.no_grad():
        logits = tiny_llama(input_ids=ids).logits
    log_probs = torch.log_softmax(logits[0], dim=-1)
    nll = [-log_probs[t - 1, ids[0, t]] for t in range(6, 10)]  # answer tokens 6..9
    assert torch.allclose(causal_lm_loss(logits, labels), torch.stack(nll).mean(), atol=1e-6)


def test_right_padding_does_not_change_the_loss(tiny_llama):
    examples = [{"input_ids": [3, 4, 5, 6], "labels": [-100, -100, 5, 6]},
                {"input_ids": [7, 8, 9, 10, 11, 12], "labels": [-100, 8, 9, 10, 11, 12]}]
    ids, labels = pad_batch(examples, pad_token_id=0)
    wrapped = CausalLMLogits(tiny_llama)
    with torch.no_grad():
        alone = causal_lm_loss(wrapped(ids[:1, :4]), labels[:1, :4])
        padded = wrapped(ids)
        # mean over the 2 + 5 answer tokens, computed from each sequence alone
        second = causal_lm_loss(wrapped(ids[1:]), labels[1:])
        together = causal_lm_loss(padded, labels)
    assert torch.allclose(together, (2 * alone + 5 * second) / 7, atol=1e-6)


def test_bad_input(tokenizer):
    with pytest.raises(ValueError, match="instruction"):
        format_instruction("")
    with pytest.raises(ValueError, match="input"):
        format_instruction("Traduis.", None)
    with pytest.raises(ValueError, match="user_message"):
        chat_prompt(tokenizer, "  ")
    with pytest.raises(ValueError, match="answer"):
        tokenize_pair(tokenizer, "Question", "")
    with pytest.raises(ValueError, match="max_length"):
        tokenize_pair(tokenizer, "Question", "Oui.", max_length=1.5)
    with pytest.raises(ValueError, match="examples"):
        pad_batch([], 0)
    with pytest.raises(ValueError, match="examples\\[0\\]"):
        pad_batch([{"input_ids": [1, 2], "labels": [1]}], 0)
    with pytest.raises(ValueError, match="logits"):
        causal_lm_loss(torch.zeros(2, 5), torch.zeros(2, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="no position"):
        causal_lm_loss(torch.zeros(1, 3, 7), torch.full((1, 3), IGNORE_INDEX))
