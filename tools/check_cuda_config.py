"""Dry run of the book's CUDA configuration on a CPU: what a GPU run would hit first.

Every chapter is executed with ``LLMCOURS_CONFIG=cuda`` (``llmcours.notebook.select_config``
then returns the CUDA sizes with training steps and generated tokens capped), ``--jobs`` at a
time, into a scratch folder (``_build/cuda-check/``, never the site's execution cache). Per
chapter it reports:

* errors: any exception other than an ``AssertionError`` fails the chapter (a shape or key
  error, a dtype the CPU refuses...). An ``AssertionError`` is a demonstration whose
  phenomenon needs the full number of steps: listed, not failed (the capped run cannot show it);
* the dtype path: a card without bfloat16 is simulated (``torch.cuda.is_bf16_supported()``
  returns False, as on a Colab T4), and a CUDA ``CONFIG`` that types ``"bf16"`` or
  ``torch.bfloat16`` itself instead of asking the card fails the chapter;
* memory: each model left in the kernel is measured by ``llmcours.memory.training_memory``
  with the CONFIG's batch and context, against the card (``--card-gb``, default a T4's 15 GB);
  one that would not fit fails the chapter.

Usage: ``python tools/check_cuda_config.py [--jobs 2] [--card-gb 15] [chapters...]``
(``make check-cuda-config``). Exit status 1 if a chapter failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "cuda-check"
MARK = "LLMCOURS-CUDA-CHECK "
# A precision typed in a CONFIG instead of asked of the card (torch.cuda.is_bf16_supported()).
HARD_BF16 = re.compile(r"""mixed_precision\s*=\s*["']bf16["']|dtype\s*=\s*torch\.bfloat16""")

SIMULATE = """\
# llmcours check-cuda-config: a card without bfloat16 (a Colab T4)
import torch
torch.cuda.is_bf16_supported = lambda *args, **kwargs: False
import llmcours.train as _train
_train.mixed_precision_for = lambda device: "fp16"  # what fit gets on a T4: float16, loss scaling
"""

PROBE = """\
# llmcours check-cuda-config: every model left in the kernel, against the card
import json as _json
from torch import nn as _nn
from llmcours.memory import card_memory as _card, memory_report as _report, \\
    training_memory as _estimate
_config = globals().get("CONFIG", {})
_batch = next((v for k, v in _config.items() if isinstance(v, int)
               and k.endswith(("batch_size", "batch"))), 1)
_seq = next((v for k, v in _config.items() if isinstance(v, int)
             and k.endswith(("context_length", "seq_len", "max_length", "_len"))), None)
_modules = {}
for _k, _v in list(globals().items()):  # a model's first name (not a loop variable's, later)
    if isinstance(_v, _nn.Module) and not _k.startswith("_"):
        _modules.setdefault(id(_v), (_k, _v))
_inner = {id(m) for _, v in _modules.values() for m in v.modules() if m is not v}
_rows = []
for _name, _model in (_modules[i] for i in _modules if i not in _inner):
    # A model the chapter trained still holds its gradients (fit's last step leaves them);
    # one it only ran (SmolLM2 generating, an encoder embedding) needs its weights alone.
    _trained = any(p.grad is not None for p in _model.parameters())
    _s = _seq or getattr(getattr(_model, "config", None), "context_length", None) or 128
    _fits, _line = _report(_estimate(_model, batch_size=_batch or 1, seq_len=_s,
                                     precision=_config.get("mixed_precision", "no"),
                                     optimizer="adam" if _trained else "none"), _card())
    _rows.append(dict(name=_name, params=sum(p.numel() for p in _model.parameters()),
                      trained=_trained, fits=_fits, line=_line))
print("LLMCOURS-CUDA-CHECK " + _json.dumps(_rows))
"""


def _run(path: str, card_gb: float, timeout: int, simulate_t4: bool = True) -> dict:
    """Execute one chapter in the CUDA configuration (on a CPU: the dry run, a card without
    bf16 simulated unless ``simulate_t4`` is false); its time, errors, asserts, memory rows."""
    os.environ.update(LLMCOURS_CONFIG="cuda", LLMCOURS_PROGRESS="text",
                      LLMCOURS_CARD_MEMORY_GB=str(card_gb))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.pop("MPLBACKEND", None)
    nb = nbformat.read(path, as_version=4)
    hard = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and HARD_BF16.search(c.source)]
    nb.cells.insert(0, nbformat.v4.new_code_cell(SIMULATE if simulate_t4 else "# the real card"))
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    start = time.perf_counter()
    crash = None
    try:
        NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    except Exception as err:  # a dead kernel or a timeout: the chapter fails
        crash = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    seconds = time.perf_counter() - start
    errors, asserts, memory = [], [], []
    for index, cell in enumerate(nb.cells[1:-1], start=0):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                text = f"cell {index}: {out['ename']}: {out['evalue'][:200]}"
                (asserts if out["ename"] == "AssertionError" else errors).append(text)
    for out in nb.cells[-1].get("outputs", []):
        for line in out.get("text", "").splitlines():
            if line.startswith(MARK):
                memory = json.loads(line[len(MARK):])
    if crash:
        errors.append(crash)
    errors += [f"cell {i}: bf16 typed in the code, not asked of the card "
               "(torch.cuda.is_bf16_supported())" for i in hard]
    errors += [f"{row['name']}: {row['line']}" for row in memory if not row["fits"]]
    OUT.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, OUT / Path(path).name)
    return dict(chapter=Path(path).name, seconds=round(seconds, 1), errors=errors,
                asserts=asserts, memory=memory, ok=not errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="notebooks (default: chapters/*.ipynb)")
    parser.add_argument("--jobs", type=int, default=2, help="chapters executed at once")
    parser.add_argument("--card-gb", type=float, default=15.0, help="memory of the card (GB)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = [Path(p).resolve() for p in args.paths] or sorted(ROOT.glob("chapters/*.ipynb"))
    paths.sort(key=lambda p: p.stat().st_size, reverse=True)
    print(f"check-cuda-config: {len(paths)} chapter(s), CUDA sizes capped "
          f"(LLMCOURS_CONFIG=cuda), card without bf16, {args.card_gb:g} GB, "
          f"{args.jobs} at a time", flush=True)
    start = time.perf_counter()
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(_run, str(p), args.card_gb, args.timeout) for p in paths]
        for future in as_completed(futures):
            r = future.result()
            results.append(r)
            print(f"  {r['seconds']:7.1f} s  {'ok    ' if r['ok'] else 'FAILED'}  {r['chapter']}",
                  flush=True)
    wall = time.perf_counter() - start
    results.sort(key=lambda r: r["chapter"])
    print("\n| chapter | seconds | result | largest model (parameters) |\n|---|---:|---|---:|")
    for r in results:
        biggest = max((m["params"] for m in r["memory"]), default=0)
        print(f"| {r['chapter']} | {r['seconds']:.0f} | {'ok' if r['ok'] else 'FAILED'} "
              f"| {biggest:,} |".replace(",", " "))
    print(f"\ntotal {wall:.0f} s wall for {len(results)} chapters ({args.jobs} at a time)")
    for r in results:
        for m in r["memory"]:
            if m["params"] >= 1_000_000:  # the small heads and toy layers say nothing
                use = "entraîné" if m["trained"] else "inférence"
                print(f"  {r['chapter']} {m['name']} ({use}): {m['line']}")
        for a in r["asserts"]:
            print(f"  {r['chapter']} demonstration assert (capped steps): {a}")
        for e in r["errors"]:
            print(f"  {r['chapter']} ERROR {e}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "summary.json").write_text(json.dumps(dict(wall=wall, results=results), indent=1,
                                                 ensure_ascii=False), encoding="utf-8")
    failed = [r["chapter"] for r in results if not r["ok"]]
    if failed:
        print(f"check-cuda-config: {len(failed)} chapter(s) failed: {', '.join(failed)}",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
