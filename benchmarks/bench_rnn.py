"""Benchmark: our ``LSTM`` forward vs ``torch.nn.LSTM``.

Configuration: batch 32, T = 100, input 128, hidden 128, one layer, float32, CPU,
``torch.no_grad()``, the same number of threads for both. Ours projects the inputs of all time
steps in one product, then runs a Python loop of one fused 4-gate product per step; torch runs
its whole loop in C++. The two are timed alternately and we report medians after a warm-up.

Threads: 1 by default. On a 2-core machine shared with other jobs, 2 OpenMP threads per
process made both implementations 3-15x slower and the ratio noise; on an idle machine pass
``--threads N`` (the same N is used for both).

Run: ``.venv/bin/python benchmarks/bench_rnn.py [--threads N] [--repeats R]``
"""

from __future__ import annotations

import argparse

import torch
from bench_attention import median_ms_alternating
from torch import nn

from llmcours.rnn import LSTM

TARGET = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, T, input_size, hidden = 32, 100, 128, 128
    ref = nn.LSTM(input_size, hidden, batch_first=True)
    ours = LSTM.from_torch(ref)
    x = torch.randn(B, T, input_size)
    with torch.no_grad():
        err = (ours(x)[0] - ref(x)[0]).abs().max().item()
        t_ours, t_ref = median_ms_alternating([lambda: ours(x), lambda: ref(x)], args.repeats)
    print(
        f"LSTM forward (B={B}, T={T}, input={input_size}, hidden={hidden}, float32, CPU, "
        f"{args.threads} threads, no_grad, median of {args.repeats}): ours {t_ours:.1f} ms, "
        f"torch {t_ref:.1f} ms, ratio {t_ours / t_ref:.2f}x (target <= {TARGET}x); "
        f"max |diff| {err:.1e}"
    )


if __name__ == "__main__":
    main()
