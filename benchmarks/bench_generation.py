"""Benchmark: our decoding loops (with the KV cache) vs ``model.generate`` on SmolLM2.

Greedy, sampling (T = 0.8, top-k 50, top-p 0.9, the same seed) and beam search (4 beams,
length penalty 1) on the same prompts with the same ``max_new_tokens`` and eos: the outputs are
checked to be the same tokens (so both did the same work), then each pair is timed alternately
(a busy machine slows both alike) and we report medians after a warm-up. float32, CPU, one
thread by default (``--threads N`` on an idle machine; the same N for both), ``no_grad``.

Run: ``.venv/bin/python benchmarks/bench_generation.py [--threads N] [--repeats R] [--new N]``
"""

from __future__ import annotations

import argparse

import torch

# the same alternating timer as the other benchmarks (run from benchmarks/, on sys.path)
from bench_attention import median_ms_alternating

from llmcours.decoding import beam_search, greedy, sample
from llmcours.models import load_causal_lm

TARGET = 1.3
PROMPTS = [
    "Artificial intelligence is",
    "La tour Eiffel se trouve à Paris, et",
    "Once upon a time, in a small village,",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--new", type=int, default=24, help="max_new_tokens")
    parser.add_argument("--only", choices=["greedy", "sampling", "beam"], help="one method only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, tok = load_causal_lm()
    model.eval()
    eos, n = tok.eos_token_id, args.new
    prompts = [tok(p, return_tensors="pt").input_ids for p in PROMPTS]
    sampling = dict(temperature=0.8, top_k=50, top_p=0.9)

    def hf_sample(ids, seed):
        torch.manual_seed(seed)  # generate draws from the global generator
        return model.generate(ids, do_sample=True, max_new_tokens=n, **sampling)

    methods = {
        "greedy": (lambda ids, s: greedy(model, ids, n, eos),
                   lambda ids, s: model.generate(ids, do_sample=False, max_new_tokens=n)),
        "sampling": (lambda ids, s: sample(model, ids, n, seed=s, eos_token_id=eos, **sampling),
                     hf_sample),
        "beam search (4 beams)": (
            lambda ids, s: beam_search(model, ids, n, num_beams=4, eos_token_id=eos),
            lambda ids, s: model.generate(ids, do_sample=False, num_beams=4, length_penalty=1.0,
                                          max_new_tokens=n)),
    }
    print(f"SmolLM2-135M-Instruct, {len(PROMPTS)} prompts, max_new_tokens={n}, float32, CPU, "
          f"{args.threads} thread(s), median of {args.repeats} (all prompts per run):")
    with torch.no_grad():
        for name, (ours, ref) in methods.items():
            if args.only and not name.startswith(args.only):
                continue
            outs = [(ours(ids, s), ref(ids, s)) for s, ids in enumerate(prompts)]
            same = all(torch.equal(a, b) for a, b in outs)
            new = sum(a.shape[1] - ids.shape[1] for (a, _), ids in zip(outs, prompts, strict=True))
            t_ours, t_ref = (t / 1e3 for t in median_ms_alternating(
                [lambda f=f: [f(ids, s) for s, ids in enumerate(prompts)] for f in (ours, ref)],
                args.repeats, warmup=1,
            ))
            print(f"  {name:22s} ours {t_ours:6.2f} s, generate {t_ref:6.2f} s, ratio "
                  f"{t_ours / t_ref:.2f}x (target <= {TARGET}x); {new} new tokens, "
                  f"same tokens: {same}")


if __name__ == "__main__":
    main()
