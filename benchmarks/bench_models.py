"""Model loading: the GGUF conversion (once) vs a load from the safetensors cache.

Run: `HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_models.py`
Uses a fresh temporary cache so that the first load really converts; target: cached load < 3 s.
"""

from __future__ import annotations

import os
import tempfile
import time


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LLMCOURS_CACHE"] = tmp
        from llmcours.models import load_causal_lm, load_encoder

        start = time.perf_counter()
        load_causal_lm()
        first = time.perf_counter() - start
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            load_causal_lm()
            timings.append(time.perf_counter() - start)
        cached = sorted(timings)[1]
        start = time.perf_counter()
        load_encoder()
        encoder = time.perf_counter() - start
    print(f"SmolLM2 first load (GGUF conversion): {first:.1f} s")
    print(f"SmolLM2 cached load (median of 3): {cached:.2f} s, ratio {first / cached:.0f}x faster "
          f"(target < 3 s)")
    print(f"MiniLM load: {encoder:.2f} s")


if __name__ == "__main__":
    main()
