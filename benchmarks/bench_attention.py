"""Benchmark: our ``MultiHeadAttention`` forward vs ``torch.nn.MultiheadAttention``.

Configuration: batch 8, T = 256, d_model = 256, 8 heads, float32, CPU, ``torch.no_grad()``,
eval mode, self-attention, both returning head-averaged attention weights (torch's default
``need_weights=True``), the same number of threads for both. The two are timed alternately
(so that a busy machine slows both alike) and we report medians after a warm-up.

Threads: 1 by default. On a 2-core machine shared with other jobs, 2 OpenMP threads per
process made both implementations 3-15x slower and the ratio noise; on an idle machine pass
``--threads N`` (the same N is used for both).

Run: ``.venv/bin/python benchmarks/bench_attention.py [--threads N] [--repeats R]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from llmcours.attention import MultiHeadAttention

TARGET = 1.3


def median_ms_alternating(fns: list, repeats: int, warmup: int = 3) -> list[float]:
    """Run each function ``warmup`` times, then ``repeats`` rounds of one call each; medians in ms."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - start)
    return [1e3 * statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, T, d_model, n_heads = 8, 256, 256, 8
    ref = nn.MultiheadAttention(d_model, n_heads, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(ref).eval()
    x = torch.randn(B, T, d_model)
    with torch.no_grad():
        err = (ours(x)[0] - ref(x, x, x)[0]).abs().max().item()
        t_ours, t_ref = median_ms_alternating([lambda: ours(x), lambda: ref(x, x, x)], args.repeats)
    print(
        f"MHA forward (B={B}, T={T}, d_model={d_model}, n_heads={n_heads}, float32, CPU, "
        f"{args.threads} threads, no_grad, median of {args.repeats}): ours {t_ours:.1f} ms, "
        f"torch {t_ref:.1f} ms, ratio {t_ours / t_ref:.2f}x (target <= {TARGET}x); "
        f"max |diff| {err:.1e}"
    )


if __name__ == "__main__":
    main()
