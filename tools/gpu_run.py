"""The real CUDA configuration on a CUDA machine: chapter times, tokens/s and MFU (``make gpu-run``).

Two measures, written to ``benchmarks/gpu_run.md`` (quoted by the README) and ``.json``:

* every chapter executed with its CUDA ``CONFIG`` (``select_config`` picks it on a GPU, no
  caps), through ``tools/check_cuda_config.py``'s runner: wall time per chapter, errors,
  demonstrations that fail, the memory estimate against the card;
* the training throughput of each chapter whose CUDA ``CONFIG`` describes a GPT
  (``d_model``, ``n_layers``, ``n_heads``, ``context_length``, ``batch_size``; chapter 13's
  largest width): ``--steps`` AdamW steps of ``llmcours.transformer.GPT`` at that size, in the
  precision ``train.mixed_precision_for`` picks for the card, after ``--warmup`` steps. Tokens/s
  is ``batch_size · context_length · steps / seconds``; the MFU (*model FLOPs utilisation*)
  is ``6 · N · tokens/s`` (``scaling.training_flops`` per second) over the card's dense peak
  in that precision (``--peak-tflops``, else the table ``PEAK_TFLOPS`` by card name).

Usage on the GPU machine: ``make gpu-run`` (= ``python tools/gpu_run.py``); ``--chapters 07 09``
to run a few; ``--no-chapters`` for the throughput table alone. Refuses to run without CUDA
unless ``--allow-cpu`` (a smoke test of the plumbing, figures meaningless).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import sys
import time
from pathlib import Path

import nbformat
import torch

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "gpu_run"
# Dense peak TFLOP/s of the cards the course meets (vendor data sheets; fp16/bf16 tensor cores
# without sparsity, fp32 without TF32).
PEAK_TFLOPS = {"T4": {"fp16": 65, "no": 8.1}, "L4": {"bf16": 121, "fp16": 121, "no": 30},
               "A100": {"bf16": 312, "fp16": 312, "no": 19.5},
               "H100": {"bf16": 989, "fp16": 989, "no": 67},
               "H200": {"bf16": 989, "fp16": 989, "no": 67}}
GPT_KEYS = ("n_layers", "n_heads", "context_length", "batch_size")


def cuda_configs(path: Path, device: str = "cuda") -> dict | None:
    """The CUDA ``CONFIG`` of a chapter, read from its ``select_config({...}, device)`` call
    (evaluated with ``dict``, ``device`` and ``train.mixed_precision_for`` only)."""
    from llmcours.train import mixed_precision_for

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or "select_config(" not in cell.source:
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "select_config"
                    and node.args):
                configs = eval(compile(ast.Expression(node.args[0]), str(path), "eval"),
                               {"__builtins__": {}, "dict": dict, "device": torch.device(device),
                                "mixed_precision_for": mixed_precision_for})
                return configs["cuda"]
    return None


def gpt_size(config: dict) -> dict | None:
    """The GPT a CUDA CONFIG trains (``widths``: its largest), or None."""
    if not all(k in config for k in GPT_KEYS):
        return None
    d_model = config.get("d_model") or max(config.get("widths") or [0])
    return dict(d_model=d_model, **{k: config[k] for k in GPT_KEYS}) if d_model else None


def throughput(size: dict, device: str, steps: int = 20, warmup: int = 5,
               vocab_size: int = 4096) -> dict:
    """Tokens/s of AdamW training steps of a GPT of ``size`` on ``device``, its precision."""
    from llmcours.train import mixed_precision_for
    from llmcours.transformer import GPT, GPTConfig

    precision = mixed_precision_for(device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    model = GPT(GPTConfig(vocab_size=vocab_size, context_length=size["context_length"],
                          d_model=size["d_model"], n_heads=size["n_heads"],
                          n_layers=size["n_layers"])).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler(device, enabled=precision == "fp16")
    x = torch.randint(vocab_size, (size["batch_size"], size["context_length"]), device=device)

    def step() -> None:
        with torch.autocast(device_type=torch.device(device).type, dtype=dtype,
                            enabled=dtype is not None):
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), x.flatten())
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    for _ in range(warmup):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    tokens = size["batch_size"] * size["context_length"] * steps / seconds
    n_params = sum(p.numel() for p in model.parameters())
    return dict(precision=precision, params=n_params, tokens_per_s=tokens,
                flops_per_s=6 * n_params * tokens)


def peak_flops(name: str, precision: str, override: float | None) -> float | None:
    if override:
        return override * 1e12
    for card, peaks in PEAK_TFLOPS.items():
        if card in name and precision in peaks:
            return peaks[precision] * 1e12
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", nargs="*", help="chapter numbers (default: all)")
    parser.add_argument("--no-chapters", action="store_true", help="throughput table only")
    parser.add_argument("--jobs", type=int, default=1, help="chapters at once (one GPU: 1)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--peak-tflops", type=float, help="the card's dense peak (TFLOP/s)")
    parser.add_argument("--allow-cpu", action="store_true", help="smoke test without a GPU")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available() and not args.allow_cpu:
        print("gpu_run: no CUDA device here (torch.cuda.is_available() is False); run it on "
              "a GPU machine, or `make check-cuda-config` for the dry run on CPU", file=sys.stderr)
        return 2
    device = "cuda" if torch.cuda.is_available() else "cpu"
    card = torch.cuda.get_device_name(0) if device == "cuda" else "CPU (smoke test)"
    paths = sorted(ROOT.glob("chapters/*.ipynb"))
    if args.chapters:
        paths = [p for p in paths if p.name[:2] in {c.zfill(2) for c in args.chapters}]
    rows = []
    for path in paths:
        size = gpt_size(cuda_configs(path, device) or {})
        if size is None:
            continue
        row = dict(chapter=path.name, **size, **throughput(size, device, args.steps, args.warmup))
        peak = peak_flops(card, row["precision"], args.peak_tflops)
        row["mfu"] = row["flops_per_s"] / peak if peak else None
        rows.append(row)
        print(f"  {path.name}: {row['tokens_per_s']:,.0f} tokens/s ({row['precision']}), MFU "
              + (f"{row['mfu']:.1%}" if row["mfu"] is not None else "? (give --peak-tflops)"),
              flush=True)
    chapters = []
    if not args.no_chapters:
        spec = importlib.util.spec_from_file_location("check", ROOT / "tools/check_cuda_config.py")
        check = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(check)
        card_gb = (torch.cuda.get_device_properties(0).total_memory / 1e9 if device == "cuda"
                   else 15.0)
        for path in paths:
            result = check._run(str(path), card_gb, 3600, simulate_t4=False)
            chapters.append(result)
            print(f"  {result['seconds']:7.1f} s  {'ok' if result['ok'] else 'FAILED'}  "
                  f"{path.name}", flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".json").write_text(json.dumps(dict(card=card, throughput=rows,
                                                        chapters=chapters), indent=1,
                                                   ensure_ascii=False), encoding="utf-8")
    lines = [f"# `make gpu-run` on {card} ({time.strftime('%Y-%m-%d')})", "",
             "| chapter | seconds | result |", "|---|---:|---|"]
    lines += [f"| {c['chapter']} | {c['seconds']:.0f} | {'ok' if c['ok'] else 'FAILED: ' + '; '.join(c['errors'])[:200]} |"
              for c in chapters]
    lines += ["", "| chapter (its CUDA GPT) | parameters | precision | tokens/s | MFU |",
              "|---|---:|---|---:|---:|"]
    lines += [f"| {r['chapter']} (d={r['d_model']}, L={r['n_layers']}, T={r['context_length']}, "
              f"B={r['batch_size']}) | {r['params']:,} | {r['precision']} | "
              f"{r['tokens_per_s']:,.0f} | "
              + (f"{r['mfu']:.1%}" if r["mfu"] is not None else "?") + " |" for r in rows]
    OUT.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"gpu_run: {OUT.with_suffix('.md')}")
    return 1 if any(not c["ok"] for c in chapters) else 0


if __name__ == "__main__":
    sys.exit(main())
