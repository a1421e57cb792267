"""Decoding: turning a language model's next-token logits into text.

A causal LM gives, at each step, logits over the vocabulary; softmax turns them into
P(x_t | x_<t). The strategies of the course:

- greedy: x_t = argmax_x P(x | x_<t);
- sampling with temperature T: P_T(x_i) = exp(logit_i / T) / Σ_j exp(logit_j / T)
  (T < 1 sharper, more deterministic; T > 1 flatter, more random), optionally restricted to
  the k most probable tokens (top-k) or to the smallest set of tokens whose total probability
  reaches p (top-p, "nucleus");
- beam search: keep the ``num_beams`` best partial sequences; a finished sequence x (it
  produced ``eos`` or reached ``max_new_tokens``) is ranked with the length penalty α
  (``length_penalty``):

      score(x) = (1 / |x|^α) · Σ_{t=1}^{|x|} log P(x_t | x_<t),

  |x| = number of generated tokens, ``eos`` included (as Hugging Face ≥ 4.5x). α = 0 ranks by
  the raw log-probability (short sequences win), α = 1 by the mean log-probability per token.
- the entropy H(p) = −Σ_i p_i log p_i (natural log) measures how spread a distribution is.

- the repetition penalty θ (Keskar et al., 2019, as Hugging Face's ``repetition_penalty``): the
  logit z of a token already in the sequence becomes z / θ if z > 0, z · θ otherwise.

``model`` is any callable mapping a LongTensor of ids (B, T) to logits (B, T, V), or to an
object with ``.logits`` (a Hugging Face causal LM). **KV cache**: when the model's ``forward``
takes a cache (our ``GPT`` and Hugging Face causal LMs: ``past_key_values``, or ``cache`` in
transformers ≥ 5.24), the prompt is read once and each step feeds only the new token, the keys
and values of the past being kept; beam search reorders the cache by beam
(``reorder_cache``). A plain callable gets the whole sequence at every step.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import torch

from llmcours._checks import check_int, check_number, check_sequence, check_tensor

__all__ = [
    "apply_temperature",
    "top_k_filter",
    "top_p_filter",
    "entropy",
    "apply_repetition_penalty",
    "generate",
    "greedy",
    "sample",
    "beam_search",
]


# ---------------------------------------------------------------------------------------------
# Operations on logits
# ---------------------------------------------------------------------------------------------
def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """logits / T, so that softmax gives P_T. T must be > 0 (T → 0 tends to greedy)."""
    check_number(temperature, "temperature", minimum=0, strict=True)
    return check_tensor(logits, "logits") / temperature


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits (last dim), set the others to −inf.

    Tokens tied with the k-th largest logit are all kept (as Hugging Face's ``TopKLogitsWarper``),
    so a tie can keep more than k tokens. k ≥ V keeps everything.
    """
    k = check_int(k, "k", 1)
    if k >= check_tensor(logits, "logits").shape[-1]:
        return logits.clone()
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth_largest, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filter: keep the smallest set of most probable tokens whose probability reaches p.

    Precisely, token i is kept iff the probability of the tokens strictly more probable than
    it is < p. So the most probable token is always kept, tokens tied at the border are all
    kept (the kept set does not depend on how ties are ordered), and p = 1 keeps everything.
    Probabilities are computed in float64 to decide the border.
    """
    check_number(p, "p", minimum=0, maximum=1, strict=True)  # p in (0, 1]
    if p == 1:
        return logits.clone()
    probs = torch.softmax(logits.double(), dim=-1)
    sorted_probs = torch.sort(probs, dim=-1, descending=True).values
    mass_before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of the tokens above
    n_kept = (mass_before < p).sum(dim=-1, keepdim=True)  # >= 1: mass_before[0] = 0 < p
    smallest_kept = torch.gather(sorted_probs, -1, n_kept - 1)
    return logits.masked_fill(probs < smallest_kept, float("-inf"))


def entropy(probs: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """H(p) = −Σ_i p_i log p_i in nats, over ``dim``, with 0·log 0 = 0."""
    if (check_tensor(probs, "probs", floating=True) < 0).any():
        raise ValueError("probs must be non-negative (a probability distribution)")
    return -torch.special.xlogy(probs, probs).sum(dim=dim)



def apply_repetition_penalty(logits: torch.Tensor, ids: torch.Tensor, penalty: float) -> torch.Tensor:
    """Penalise the tokens already in ``ids (B, T)``: z / θ if z > 0, z · θ otherwise (θ = penalty).

    θ > 1 makes a repeated token less likely, whatever the sign of its logit; θ = 1 changes
    nothing. Each token counts once, however often it occurred (as Hugging Face's processor).
    """
    check_number(penalty, "penalty", minimum=0, strict=True)
    seen = torch.gather(logits, -1, ids)
    penalised = torch.where(seen > 0, seen / penalty, seen * penalty)
    return logits.scatter(-1, ids, penalised)


# ---------------------------------------------------------------------------------------------
# Generation loops
# ---------------------------------------------------------------------------------------------
Model = Callable[[torch.Tensor], object]
Chooser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class _LanguageModel:
    """A model seen as "next-token logits of these ids", with a KV cache when it offers one.

    The cache argument is ``past_key_values`` (our ``GPT``, transformers < 5.24) or ``cache``
    (transformers ≥ 5.24); the output gives the updated cache under the same name.
    """

    def __init__(self, model: Model, use_cache: bool) -> None:
        self.model, self.cache, self.cache_name = model, None, None
        forward = getattr(model, "forward", None)
        params = inspect.signature(forward).parameters if callable(forward) else {}
        if use_cache and "use_cache" in params:
            self.cache_name = next((n for n in ("cache", "past_key_values") if n in params), None)
        # Hugging Face: compute the output layer for the last position only, as generate does.
        self.extra = {"logits_to_keep": 1} if "logits_to_keep" in params else {}

    @torch.no_grad()
    def next_logits(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits of the token after ``ids (B, t)``: ``(B, V)`` in float32."""
        if self.cache_name is None:  # no cache: the whole sequence, every step
            out = self.model(ids)
        else:  # only the positions not in the cache yet (the whole prompt at the first step)
            seen = 0 if self.cache is None else self.cache.get_seq_length()
            kwargs = {self.cache_name: self.cache, "use_cache": True, **self.extra}
            out = self.model(ids[:, seen:], **kwargs)
            self.cache = getattr(out, self.cache_name)
        logits = out.logits if hasattr(out, "logits") else out
        return logits[:, -1, :].float()

    def reorder(self, beam_idx: list[int]) -> None:
        """Row i of the cache becomes the old row beam_idx[i] (beam search)."""
        if self.cache is not None:
            self.cache.reorder_cache(torch.tensor(beam_idx))


def _check_ids(input_ids: torch.Tensor | Sequence[int], model: Model) -> torch.Tensor:
    """``input_ids`` as a LongTensor (B, T) on the model's device; float ids are refused."""
    if not isinstance(input_ids, torch.Tensor):
        check_sequence(input_ids, "input_ids (token ids)")
    ids = torch.as_tensor(input_ids)
    if ids.dtype == torch.bool or ids.is_floating_point() or ids.is_complex():
        raise ValueError(f"input_ids must hold integer token ids, got dtype {ids.dtype}")
    ids = ids.long()
    if ids.dim() == 1:
        ids = ids.unsqueeze(0)
    if ids.dim() != 2 or ids.shape[1] == 0:
        raise ValueError(f"input_ids (shape {tuple(ids.shape)}) must be (T,) or (B, T), T >= 1")
    parameters = getattr(model, "parameters", None)
    if callable(parameters):  # follow the model's device (cpu or cuda)
        first = next(iter(parameters()), None)
        if first is not None:
            ids = ids.to(first.device)
    return ids


def _check_eos(eos_token_id: int | Sequence[int] | None) -> list[int]:
    """The end-of-sequence ids as a list (empty: never stop before max_new_tokens)."""
    if eos_token_id is None:
        return []
    if isinstance(eos_token_id, Sequence | torch.Tensor) and not isinstance(eos_token_id, str):
        return [check_int(e, "eos_token_id", 0) for e in eos_token_id]
    return [check_int(eos_token_id, "eos_token_id", 0)]


def _check_sampling(
    temperature: float, top_k: int | None, top_p: float | None, penalty: float
) -> None:
    """Validate the sampling arguments before any model call (same errors as the filters)."""
    apply_temperature(torch.zeros(1), temperature)
    if top_k is not None:
        top_k_filter(torch.zeros(1), top_k)
    if top_p is not None:
        top_p_filter(torch.zeros(1), top_p)
    apply_repetition_penalty(torch.zeros(1, 1), torch.zeros(1, 1, dtype=torch.long), penalty)


def generate(
    model: Model,
    input_ids: torch.Tensor | Sequence[int],
    max_new_tokens: int,
    choose: Chooser,
    eos_token_id: int | Sequence[int] | None = None,
    use_cache: bool = True,
) -> torch.Tensor:
    """The autoregressive loop: z = logits of P(· | x_<t), x_t = choose(z, x_<t), append, repeat.

    ``choose(logits (B, V), ids (B, t)) -> (B,)`` picks the next tokens (``greedy`` and
    ``sample`` are this loop with their rule). Stops after ``max_new_tokens`` or when every row
    has produced an id of ``eos_token_id`` (an int or a list); a finished row is padded with
    its eos. Returns ``(B, T + new)`` ids, prompt included. ``use_cache=False`` recomputes the
    whole sequence at each step, even for a model with a KV cache.
    """
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", 0)
    eos = torch.tensor(_check_eos(eos_token_id), dtype=torch.long)
    ids = _check_ids(input_ids, model)
    lm = _LanguageModel(model, use_cache)
    finished = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
    last = ids[:, -1]  # the token a finished row repeats (its eos)
    for _ in range(max_new_tokens):
        next_ids = choose(lm.next_logits(ids), ids)  # x_t, (B,)
        next_ids = torch.where(finished, last, next_ids)
        finished |= torch.isin(next_ids, eos.to(ids.device))
        ids, last = torch.cat([ids, next_ids[:, None]], dim=1), next_ids
        if finished.all():
            break
    return ids


def greedy(
    model: Model,
    input_ids: torch.Tensor | Sequence[int],
    max_new_tokens: int,
    eos_token_id: int | Sequence[int] | None = None,
    repetition_penalty: float = 1.0,
    use_cache: bool = True,
) -> torch.Tensor:
    """Greedy decoding, x_t = argmax_x P(x | x_<t). Returns (B, T + new) ids, prompt included."""
    _check_sampling(1.0, None, None, repetition_penalty)

    def argmax(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        if repetition_penalty != 1.0:
            logits = apply_repetition_penalty(logits, ids, repetition_penalty)
        return logits.argmax(dim=-1)

    return generate(model, input_ids, max_new_tokens, argmax, eos_token_id, use_cache)


def sample(
    model: Model,
    input_ids: torch.Tensor | Sequence[int],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    seed: int | None = None,
    eos_token_id: int | Sequence[int] | None = None,
    repetition_penalty: float = 1.0,
    use_cache: bool = True,
) -> torch.Tensor:
    """Sampling: repetition penalty, temperature, top-k, top-p (Hugging Face's order), then a draw.

    Pass a ``torch.Generator`` or a ``seed`` for reproducible draws (with neither, torch's
    global generator, as ``model.generate``). Returns (B, T + new) ids.
    """
    _check_sampling(temperature, top_k, top_p, repetition_penalty)
    if generator is None and seed is not None:
        device = _check_ids(input_ids, model).device
        generator = torch.Generator(device=device).manual_seed(check_int(seed, "seed", 0))

    def draw(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        if repetition_penalty != 1.0:
            logits = apply_repetition_penalty(logits, ids, repetition_penalty)
        logits = apply_temperature(logits, temperature)  # z / T
        if top_k is not None:
            logits = top_k_filter(logits, top_k)  # −inf outside the k best
        if top_p is not None:
            logits = top_p_filter(logits, top_p)  # −inf outside the nucleus
        probs = torch.softmax(logits, dim=-1)  # P_T restricted to the kept tokens
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)

    return generate(model, input_ids, max_new_tokens, draw, eos_token_id, use_cache)



def beam_search(
    model: Model,
    input_ids: torch.Tensor | Sequence[int],
    max_new_tokens: int,
    num_beams: int,
    length_penalty: float = 1.0,
    eos_token_id: int | Sequence[int] | None = None,
    use_cache: bool = True,
) -> torch.Tensor:
    """Beam search for one prompt; returns the best sequence (1, T + new) by the course's score.

    Each step extends every running beam, keeps the 2·num_beams best candidates by summed
    log-probability; candidates ending in ``eos`` (among the best num_beams) are finished and
    scored with the length penalty, the best num_beams others keep running. Like Hugging Face's
    default (``early_stopping=False``), the search stops once num_beams sequences are finished
    and the best running beam, scored as if it ended at its current length, does not beat the
    worst of them: a heuristic, not a guarantee (with α > 0 a longer continuation divides by a
    larger |y|^α and might still have won).
    With a KV cache, the cache's rows follow the beams they belong to.
    """
    max_new_tokens, num_beams, eos, ids = _check_beam_args(
        model, input_ids, max_new_tokens, num_beams, eos_token_id
    )
    lm = _LanguageModel(model, use_cache)
    running = ids  # (n_running, T + step)
    running_scores = torch.zeros(1, device=ids.device)  # summed log-probabilities
    finished: list[tuple[float, torch.Tensor]] = []  # (score / |y|^α, sequence)
    for step in range(max_new_tokens):
        length = step + 1  # |y|: generated tokens once this step's token is appended
        log_probs = torch.log_softmax(lm.next_logits(running), dim=-1)
        vocab_size = log_probs.shape[-1]
        candidates = (running_scores[:, None] + log_probs).flatten()  # log P(y) of each extension
        top_scores, top_idx = torch.topk(candidates, min(2 * num_beams, candidates.numel()))
        next_running, next_scores, parents = [], [], []
        for rank, (score, idx) in enumerate(zip(top_scores.tolist(), top_idx.tolist(), strict=True)):
            beam, token = divmod(idx, vocab_size)
            seq = torch.cat([running[beam], running.new_tensor([token])])
            if token in eos or step == max_new_tokens - 1:
                if rank < num_beams:  # only the best num_beams candidates may finish
                    finished.append((score / length**length_penalty, seq))
            elif len(next_running) < num_beams:
                next_running.append(seq)
                next_scores.append(score)
                parents.append(beam)
        finished = sorted(finished, key=lambda f: f[0], reverse=True)[:num_beams]
        if not next_running:
            break
        running, running_scores = torch.stack(next_running), running_scores.new_tensor(next_scores)
        lm.reorder(parents)  # row i of the cache now holds the past of beam i
        best_running = next_scores[0] / length**length_penalty
        if len(finished) == num_beams and best_running <= finished[-1][0]:
            break  # heuristic stop: the best running beam, ended now, would not win
    if not finished:  # max_new_tokens == 0
        return ids
    return finished[0][1][None, :]


def _check_beam_args(model, input_ids, max_new_tokens, num_beams, eos_token_id):
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", 0)
    num_beams = check_int(num_beams, "num_beams", 1)
    eos = _check_eos(eos_token_id)
    ids = _check_ids(input_ids, model)
    if ids.shape[0] != 1:
        raise ValueError(f"input_ids (batch of {ids.shape[0]}) must hold one prompt")
    return max_new_tokens, num_beams, eos, ids
