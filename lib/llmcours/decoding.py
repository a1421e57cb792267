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

``model`` is any callable mapping a LongTensor of ids (B, T) to logits (B, T, V), or to an
object with ``.logits`` (a Hugging Face causal LM). Every step recomputes the whole sequence
(no KV cache): simple, and fast enough for the short generations of the course.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

__all__ = [
    "apply_temperature",
    "top_k_filter",
    "top_p_filter",
    "entropy",
    "greedy",
    "sample",
    "beam_search",
]


# ---------------------------------------------------------------------------------------------
# Operations on logits
# ---------------------------------------------------------------------------------------------
def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """logits / T, so that softmax gives P_T. T must be > 0 (T → 0 tends to greedy)."""
    if not temperature > 0:
        raise ValueError(f"temperature ({temperature}) must be > 0")
    return logits / temperature


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits (last dim), set the others to −inf.

    Tokens tied with the k-th largest logit are all kept (as Hugging Face's ``TopKLogitsWarper``),
    so a tie can keep more than k tokens. k ≥ V keeps everything.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k ({k!r}) must be an integer >= 1")
    if k >= logits.shape[-1]:
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
    if not 0 < p <= 1:
        raise ValueError(f"p ({p}) must be in (0, 1]")
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
    if (probs < 0).any():
        raise ValueError("probs must be non-negative (a probability distribution)")
    return -torch.special.xlogy(probs, probs).sum(dim=dim)


# ---------------------------------------------------------------------------------------------
# Generation loops
# ---------------------------------------------------------------------------------------------
Model = Callable[[torch.Tensor], object]


def _as_ids(input_ids: torch.Tensor | Sequence[int], model: Model) -> torch.Tensor:
    ids = torch.as_tensor(input_ids, dtype=torch.long)
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


@torch.no_grad()
def _next_logits(model: Model, ids: torch.Tensor) -> torch.Tensor:
    """Logits of the next token, (B, V) in float32, for a plain callable or a HF model."""
    out = model(ids)
    logits = out.logits if hasattr(out, "logits") else out
    return logits[:, -1, :].float()


def _check_common(max_new_tokens: int) -> None:
    if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens ({max_new_tokens!r}) must be an integer >= 0")


def _generate(model: Model, ids: torch.Tensor, max_new_tokens: int, eos_token_id, pick):
    """Shared loop of greedy and sample: ``pick(logits) -> (B,) ids``; finished rows get eos."""
    finished = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
    for _ in range(max_new_tokens):
        next_ids = pick(_next_logits(model, ids))
        if eos_token_id is not None:
            next_ids = next_ids.masked_fill(finished, eos_token_id)
            finished |= next_ids == eos_token_id
        ids = torch.cat([ids, next_ids[:, None]], dim=1)
        if finished.all():
            break
    return ids


def greedy(
    model: Model,
    input_ids: torch.Tensor | Sequence[int],
    max_new_tokens: int,
    eos_token_id: int | None = None,
) -> torch.Tensor:
    """Greedy decoding. Returns (B, T + new) ids, prompt included; stops when all rows hit eos."""
    _check_common(max_new_tokens)
    ids = _as_ids(input_ids, model)
    return _generate(model, ids, max_new_tokens, eos_token_id, lambda lg: lg.argmax(dim=-1))


def sample(
    model: Model,
    input_ids: torch.Tensor | Sequence[int],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    seed: int | None = None,
    eos_token_id: int | None = None,
) -> torch.Tensor:
    """Sampling with temperature, then top-k, then top-p (Hugging Face's order).

    Pass a ``torch.Generator`` or a ``seed`` for reproducible draws. Returns (B, T + new) ids.
    """
    _check_common(max_new_tokens)
    apply_temperature(torch.zeros(1), temperature)  # validate arguments before any model call
    if top_k is not None:
        top_k_filter(torch.zeros(1), top_k)
    if top_p is not None:
        top_p_filter(torch.zeros(1), top_p)
    ids = _as_ids(input_ids, model)
    if generator is None and seed is not None:
        generator = torch.Generator(device=ids.device).manual_seed(seed)

    def pick(logits: torch.Tensor) -> torch.Tensor:
        logits = apply_temperature(logits, temperature)
        if top_k is not None:
            logits = top_k_filter(logits, top_k)
        if top_p is not None:
            logits = top_p_filter(logits, top_p)
        probs = torch.softmax(logits, dim=-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)

    return _generate(model, ids, max_new_tokens, eos_token_id, pick)


def beam_search(
    model: Model,
    input_ids: torch.Tensor | Sequence[int],
    max_new_tokens: int,
    num_beams: int,
    length_penalty: float = 1.0,
    eos_token_id: int | None = None,
) -> torch.Tensor:
    """Beam search for one prompt; returns the best sequence (1, T + new) by the course's score.

    Each step extends every running beam, keeps the 2·num_beams best candidates by summed
    log-probability; candidates ending in ``eos`` (among the best num_beams) are finished and
    scored with the length penalty, the best num_beams others keep running. Like Hugging Face's
    default (``early_stopping=False``), the search stops once num_beams sequences are finished
    and the best running beam, scored at its current length, cannot beat the worst of them.
    """
    _check_common(max_new_tokens)
    if isinstance(num_beams, bool) or not isinstance(num_beams, int) or num_beams < 1:
        raise ValueError(f"num_beams ({num_beams!r}) must be an integer >= 1")
    ids = _as_ids(input_ids, model)
    if ids.shape[0] != 1:
        raise ValueError(f"input_ids (batch of {ids.shape[0]}) must hold one prompt")
    running = ids  # (n_running, T + step)
    running_scores = torch.zeros(1, device=ids.device)  # summed log-probabilities
    finished: list[tuple[float, torch.Tensor]] = []  # (penalised score, sequence)
    for step in range(max_new_tokens):
        length = step + 1  # generated tokens once this step's token is appended
        log_probs = torch.log_softmax(_next_logits(model, running), dim=-1)
        vocab_size = log_probs.shape[-1]
        candidates = (running_scores[:, None] + log_probs).flatten()
        top_scores, top_idx = torch.topk(candidates, min(2 * num_beams, candidates.numel()))
        next_running, next_scores = [], []
        for rank, (score, idx) in enumerate(
            zip(top_scores.tolist(), top_idx.tolist(), strict=True)
        ):
            beam, token = divmod(idx, vocab_size)
            seq = torch.cat([running[beam], running.new_tensor([token])])
            if token == eos_token_id or step == max_new_tokens - 1:
                if rank < num_beams:  # only the best num_beams candidates may finish
                    finished.append((score / length**length_penalty, seq))
            elif len(next_running) < num_beams:
                next_running.append(seq)
                next_scores.append(score)
        finished = sorted(finished, key=lambda f: f[0], reverse=True)[:num_beams]
        if not next_running:
            break
        running, running_scores = torch.stack(next_running), running_scores.new_tensor(next_scores)
        best_running = next_scores[0] / length**length_penalty
        if len(finished) == num_beams and best_running <= finished[-1][0]:
            break
    if not finished:  # max_new_tokens == 0
        return ids
    return finished[0][1][None, :]
