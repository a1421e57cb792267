"""Tests of llmcours.decoding: filters against brute-force definitions and Hugging Face's
warpers, generation loops against each other, the length penalty on a hand-built model, and
greedy / sampling / beam search against ``model.generate`` of SmolLM2 (the same tokens), the KV
cache (the same tokens with and without it), bad input."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from transformers.generation.logits_process import TopKLogitsWarper, TopPLogitsWarper

from llmcours.decoding import (
    apply_repetition_penalty,
    apply_temperature,
    beam_search,
    entropy,
    greedy,
    sample,
    top_k_filter,
    top_p_filter,
)

LOGITS = arrays(
    np.float64,
    st.integers(1, 12),
    elements=st.floats(-8, 8, allow_nan=False).map(lambda x: round(x, 1)),  # ties are frequent
)


# -- filters ----------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(LOGITS, st.integers(1, 15))
def test_top_k_support_is_brute_force_definition(logits, k):
    kept = torch.isfinite(top_k_filter(torch.tensor(logits), k)).numpy()
    # kept iff fewer than k tokens have a strictly larger logit
    expected = np.array([(logits > x).sum() < k for x in logits])
    assert (kept == expected).all(), f"k={k}: kept {kept}, expected {expected}"


@settings(max_examples=300, deadline=None)
@given(LOGITS, st.floats(0.001, 1.0))
def test_top_p_support_is_brute_force_definition(logits, p):
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    mass_above = np.array([probs[probs > q].sum() for q in probs])
    if p < 1:  # skip borders closer than the rounding error of the two summation orders
        assume(np.abs(mass_above - p).min() > 1e-9)
    kept = torch.isfinite(top_p_filter(torch.tensor(logits), p)).numpy()
    expected = mass_above < p  # kept iff the tokens strictly more probable weigh < p
    assert (kept == expected).all(), f"p={p}: kept {kept}, expected {expected}"
    assert kept[np.argmax(logits)], "the most probable token must always be kept"


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float32, st.integers(2, 30), elements=st.floats(-6, 6, width=32), unique=True),
    st.floats(0.05, 0.99),
    st.integers(1, 40),
)
def test_filters_match_hugging_face_warpers(logits, p, k):
    x = torch.tensor(logits)[None, :]
    probs = torch.softmax(x.double(), -1)[0]
    # distinct probabilities: with ties, HF's kept set depends on its sort order
    gaps = probs.sort().values.diff()
    assume(len(gaps) == 0 or gaps.min() > 1e-6)
    mass_above = torch.stack([probs[probs > q].sum() for q in probs])
    assume((mass_above - p).abs().min() > 1e-5)  # HF decides in float32
    hf_p = TopPLogitsWarper(p)(None, x.clone())
    hf_k = TopKLogitsWarper(k)(None, x.clone())
    assert torch.equal(torch.isfinite(top_p_filter(x, p)), torch.isfinite(hf_p))
    assert torch.equal(torch.isfinite(top_k_filter(x, k)), torch.isfinite(hf_k))


def test_filters_keep_everything_at_the_limits():
    x = torch.randn(3, 10, generator=torch.Generator().manual_seed(0))
    assert torch.equal(top_k_filter(x, 10), x) and torch.equal(top_k_filter(x, 99), x)
    assert torch.equal(top_p_filter(x, 1.0), x)
    assert torch.isfinite(top_p_filter(x, 1e-6)).sum(-1).tolist() == [1, 1, 1]
    kept = top_k_filter(x, 3)
    assert torch.equal(kept.topk(3).values, x.topk(3).values)  # kept values unchanged


def test_temperature_and_entropy():
    x = torch.tensor([2.0, 1.0, 0.0, -1.0])
    for t in (0.1, 0.5, 1.0, 1.5):
        expected = torch.exp(x / t) / torch.exp(x / t).sum()  # P_T of the course
        assert torch.allclose(torch.softmax(apply_temperature(x, t), -1), expected, atol=1e-7)
    # Entropy grows with T (Expérience 9) between 0 (T -> 0) and log V (T -> ∞).
    h = [entropy(torch.softmax(apply_temperature(x, t), -1)).item() for t in (0.1, 0.5, 1, 1.5)]
    assert h == sorted(h) and h[0] < 0.01 and h[-1] < math.log(4)
    assert entropy(torch.full((8,), 1 / 8)).item() == pytest.approx(math.log(8))
    assert entropy(torch.tensor([1.0, 0.0, 0.0])).item() == 0.0  # 0·log 0 = 0
    probs = torch.softmax(torch.randn(5, 7), -1)
    reference = torch.distributions.Categorical(probs=probs).entropy()
    assert torch.allclose(entropy(probs), reference, atol=1e-6)


# -- generation loops on a toy model ------------------------------------------------------------
class BigramToy:
    """logits(next | ids) = table[last id]: a callable returning (B, T, V) logits."""

    def __init__(self, vocab_size: int = 12, seed: int = 0) -> None:
        self.table = torch.randn(
            vocab_size, vocab_size, generator=torch.Generator().manual_seed(seed)
        )

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        return 3 * self.table[ids]


def test_sampling_at_tiny_temperature_equals_greedy():
    for seed in range(5):
        toy = BigramToy(seed=seed)
        expected = greedy(toy, [1, 2], 15)
        got = sample(toy, [1, 2], 15, temperature=1e-4, seed=seed)
        assert torch.equal(got, expected), f"seed {seed}: {got} != {expected}"
        assert torch.equal(sample(toy, [1, 2], 15, top_k=1, seed=seed), expected)


def test_sampling_is_reproducible_and_respects_top_k():
    toy = BigramToy()
    a = sample(toy, [[3], [4]], 20, top_k=3, seed=7)
    b = sample(toy, [[3], [4]], 20, top_k=3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and a.shape == (2, 21)
    for row in a:
        for prev, nxt in pairwise(row.tolist()):
            top3 = toy.table[prev].topk(3).indices
            assert nxt in top3, "a token outside the top 3 was sampled"


def test_beam_search_with_one_beam_equals_greedy():
    for seed in range(5):
        toy = BigramToy(seed=seed)
        assert torch.equal(beam_search(toy, [5], 12, num_beams=1), greedy(toy, [5], 12))
        eos = 0
        expected = greedy(toy, [5], 12, eos_token_id=eos)
        assert torch.equal(beam_search(toy, [5], 12, num_beams=1, eos_token_id=eos), expected)


def test_greedy_stops_at_eos_and_pads_finished_rows():
    toy = BigramToy(seed=1)
    first = greedy(toy, [[1], [2]], 1)[:, 1]
    out = greedy(toy, [[1], [2]], 8, eos_token_id=int(first[0]))
    assert (out[0, 1:] == first[0]).all()  # row 0 finished at once, then padded with eos


class PenaltyToy:
    """Hand-built model, tokens {0: eos, 1: A, 2: B}. After the prompt: P(eos) = 0.4,
    P(A) = 0.6; after A: P(eos) = 0.5, P(B) = 0.5; after B: P(eos) = 1."""

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        table = {9: [0.4, 0.6, 1e-12], 1: [0.5, 1e-12, 0.5], 2: [1.0, 1e-12, 1e-12]}
        rows = [[table.get(int(t), [1.0, 1e-12, 1e-12]) for t in seq] for seq in ids]
        return torch.log(torch.tensor(rows))


def test_length_penalty_changes_the_winner():
    # score(x) = Σ log P / |x|^α, |x| counting eos:
    #   [eos]: log 0.4 / 1^α;  [A, eos] and [A, B, eos]: log 0.3 / 2^α and log 0.3 / 3^α
    scores = {
        alpha: {
            (0,): math.log(0.4),
            (1, 0): math.log(0.3) / 2**alpha,
            (1, 2, 0): math.log(0.3) / 3**alpha,
        }
        for alpha in (0.0, 1.0, 2.0)
    }
    for alpha, by_seq in scores.items():
        best = max(by_seq, key=by_seq.get)
        out = beam_search(PenaltyToy(), [9], 5, num_beams=2, length_penalty=alpha, eos_token_id=0)
        assert tuple(out[0, 1:].tolist()) == best, f"alpha={alpha}: got {out[0, 1:].tolist()}"
    assert scores[0.0][(0,)] > scores[0.0][(1, 0)] and scores[2.0][(1, 2, 0)] > scores[2.0][(0,)]


# -- against Hugging Face generate on SmolLM2 --------------------------------------------------
@pytest.fixture(scope="module")
def smollm2():
    from llmcours.models import load_causal_lm

    return load_causal_lm()


def test_greedy_equals_hf_generate_on_smollm2(smollm2):
    model, tok = smollm2
    ids = tok("La tour Eiffel se trouve à", return_tensors="pt").input_ids
    ref = model.generate(ids, do_sample=False, max_new_tokens=8)
    ours = greedy(model, ids, 8, eos_token_id=tok.eos_token_id)
    assert torch.equal(ours, ref), f"{tok.decode(ours[0])!r} != {tok.decode(ref[0])!r}"


def test_beam_search_equals_hf_generate_on_smollm2(smollm2):
    model, tok = smollm2
    ids = tok("La capitale de la France est", return_tensors="pt").input_ids
    ref = model.generate(ids, do_sample=False, num_beams=3, length_penalty=1.0, max_new_tokens=5)
    ours = beam_search(model, ids, 5, num_beams=3, eos_token_id=tok.eos_token_id)
    assert torch.equal(ours, ref), f"{tok.decode(ours[0])!r} != {tok.decode(ref[0])!r}"


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input():
    x = torch.zeros(5)
    for k in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="k"):
            top_k_filter(x, k)
    for p in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="p"):
            top_p_filter(x, p)
    for t in (0, -1.0):
        with pytest.raises(ValueError, match="temperature"):
            apply_temperature(x, t)
        with pytest.raises(ValueError, match="temperature"):
            sample(BigramToy(), [1], 3, temperature=t)
    with pytest.raises(ValueError, match="num_beams"):
        beam_search(BigramToy(), [1], 3, num_beams=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        greedy(BigramToy(), [1], -1)
    with pytest.raises(ValueError, match="input_ids"):
        greedy(BigramToy(), [], 3)
    with pytest.raises(ValueError, match="probs"):
        entropy(torch.tensor([-0.1, 1.1]))


# -- KV cache: the same tokens with and without it ----------------------------------------------
def tiny_gpt(seed=0):
    from llmcours.transformer import GPT, GPTConfig

    torch.manual_seed(seed)
    config = GPTConfig(vocab_size=40, context_length=48, d_model=32, n_heads=4, n_layers=2)
    return GPT(config).eval()


def test_cached_generation_equals_uncached_on_our_gpt():
    for seed in range(3):
        model = tiny_gpt(seed)
        prompt = torch.randint(0, 40, (2, 5), generator=torch.Generator().manual_seed(seed))
        for cached, plain in [
            (greedy(model, prompt, 30), greedy(model, prompt, 30, use_cache=False)),
            (sample(model, prompt, 30, top_k=10, seed=seed),
             sample(model, prompt, 30, top_k=10, seed=seed, use_cache=False)),
            (beam_search(model, prompt[:1], 20, num_beams=3, eos_token_id=0),
             beam_search(model, prompt[:1], 20, num_beams=3, eos_token_id=0, use_cache=False)),
        ]:
            assert torch.equal(cached, plain), f"seed {seed}: {cached} != {plain}"


class CountingGPT:
    """Wraps our GPT and records how many positions each call feeds."""

    def __init__(self, model):
        self.model, self.fed = model, []

    def forward(self, ids, past_key_values=None, use_cache=False):
        self.fed.append(ids.shape[1])
        return self.model(ids, past_key_values=past_key_values, use_cache=use_cache)

    __call__ = forward

    def parameters(self):
        return self.model.parameters()


def test_the_cache_feeds_the_prompt_once_then_one_token_per_step():
    model = CountingGPT(tiny_gpt())
    greedy(model, [1, 2, 3, 4], 6)
    assert model.fed == [4, 1, 1, 1, 1, 1]
    model.fed = []
    greedy(model, [1, 2, 3, 4], 6, use_cache=False)
    assert model.fed == [4, 5, 6, 7, 8, 9]


# -- repetition penalty and stopping ---------------------------------------------------------------
def test_repetition_penalty_matches_hugging_face():
    from transformers.generation.logits_process import RepetitionPenaltyLogitsProcessor

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 20, generator=g)
    ids = torch.randint(0, 20, (3, 7), generator=g)
    for theta in (0.5, 1.0, 1.3, 2.0):
        expected = RepetitionPenaltyLogitsProcessor(theta)(ids, logits.clone())
        assert torch.allclose(apply_repetition_penalty(logits, ids, theta), expected)
    out = apply_repetition_penalty(torch.tensor([[2.0, -2.0, 1.0]]), torch.tensor([[0, 1, 1]]), 2.0)
    assert out.tolist() == [[1.0, -4.0, 1.0]]  # z/θ if z > 0, z·θ if not; token 2 unseen


def test_greedy_stops_at_any_of_several_eos_ids():
    def next_plus_one(ids):  # the next token is (last + 1) mod 12
        return torch.nn.functional.one_hot((ids + 1) % 12, 12).float()

    assert greedy(next_plus_one, [1], 6)[0].tolist() == [1, 2, 3, 4, 5, 6, 7]
    out = greedy(next_plus_one, [[1], [5]], 8, eos_token_id=[99, 4, 7])
    # row 1 stops at 7 and then repeats it; the loop ends when row 0 reaches 4
    assert out.tolist() == [[1, 2, 3, 4], [5, 6, 7, 7]], out.tolist()


# -- bad input (issue 8) ------------------------------------------------------------------------
def test_float_ids_are_refused_and_numpy_integers_accepted():
    toy = BigramToy()
    for bad in ([1.7, 2.0], torch.tensor([1.0, 2.0]), np.array([1.5])):
        with pytest.raises(ValueError, match="input_ids"):
            greedy(toy, bad, 3)
    expected = greedy(toy, [1, 2], 4)
    assert torch.equal(greedy(toy, np.array([1, 2]), np.int64(4)), expected)
    assert torch.equal(beam_search(toy, [5], np.int32(6), num_beams=np.int64(1)),
                       greedy(toy, [5], 6))
    assert torch.equal(top_k_filter(torch.arange(5.0), np.int64(2)), top_k_filter(torch.arange(5.0), 2))
    for bad in (2.0, True, "3"):
        with pytest.raises(ValueError, match="max_new_tokens"):
            greedy(toy, [1], bad)
        with pytest.raises(ValueError, match="num_beams"):
            beam_search(toy, [1], 3, num_beams=bad)
    with pytest.raises(ValueError, match="eos_token_id"):
        greedy(toy, [1], 3, eos_token_id=1.5)
    with pytest.raises(ValueError, match="penalty"):
        sample(toy, [1], 3, repetition_penalty=0)
    with pytest.raises(ValueError, match="one prompt"):
        beam_search(toy, [[1], [2]], 3, num_beams=2)


# -- against Hugging Face generate: more prompts, sampling, length penalty, repetition penalty ----
PROMPTS = ["Artificial intelligence is", "Le chat dort sur", "The capital of Australia is"]


def test_library_decoding_equals_hf_generate_on_several_prompts(smollm2):
    model, tok = smollm2
    eos = tok.eos_token_id
    runs = {  # name: (our call, generate's arguments)
        "greedy": (lambda ids, s: greedy(model, ids, 6, eos), dict(do_sample=False)),
        "greedy, repetition 1.3": (
            lambda ids, s: greedy(model, ids, 6, eos, repetition_penalty=1.3),
            dict(do_sample=False, repetition_penalty=1.3),
        ),
        "sample": (
            lambda ids, s: sample(model, ids, 6, 0.8, top_k=40, top_p=0.9, seed=s, eos_token_id=eos),
            dict(do_sample=True, temperature=0.8, top_k=40, top_p=0.9),
        ),
        "beam 2, alpha 0": (
            lambda ids, s: beam_search(model, ids, 6, 2, length_penalty=0.0, eos_token_id=eos),
            dict(do_sample=False, num_beams=2, length_penalty=0.0),
        ),
        "beam 3, alpha 2": (
            lambda ids, s: beam_search(model, ids, 6, 3, length_penalty=2.0, eos_token_id=eos),
            dict(do_sample=False, num_beams=3, length_penalty=2.0),
        ),
    }
    for seed, text in enumerate(PROMPTS):
        ids = tok(text, return_tensors="pt").input_ids
        for name, (ours, kwargs) in runs.items():
            got = ours(ids, seed)
            torch.manual_seed(seed)  # generate samples with torch's global generator
            ref = model.generate(ids, max_new_tokens=6, **kwargs)
            assert torch.equal(got, ref), f"{text!r}, {name}: {tok.decode(got[0])!r} != {tok.decode(ref[0])!r}"


def test_hf_cached_equals_uncached(smollm2):
    model, tok = smollm2
    ids = tok("Once upon a time", return_tensors="pt").input_ids
    assert torch.equal(greedy(model, ids, 5), greedy(model, ids, 5, use_cache=False))
