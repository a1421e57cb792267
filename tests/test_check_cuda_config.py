"""tools/check_cuda_config.py: the CUDA dry run catches what a GPU run would hit first.

A tiny notebook in a temporary folder goes through the same runner as the chapters: a key
error fails it, a demonstration's ``AssertionError`` is listed without failing it, a precision
typed in the code fails it, the card seen by the kernel has no bfloat16, and a model too large
for the card fails it while a small one fits.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_cuda_config",
                                              REPO / "tools" / "check_cuda_config.py")
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


@pytest.mark.parametrize("source, hard", [
    ('CONFIG = dict(mixed_precision="bf16")', True),
    ("model.to(dtype=torch.bfloat16)", True),
    ("CONFIG = dict(mixed_precision=mixed_precision_for(device))", False),
    ('bits = {"bf16": 16}  # a table, not a dtype path', False),
])
def test_typed_precisions_are_caught(source, hard):
    assert bool(check.HARD_BF16.search(source)) is hard


def _notebook(tmp_path: Path, cells: list[str]) -> str:
    path = tmp_path / "99_essai.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]),
                   path)
    return str(path)


@pytest.mark.slow
def test_dry_run_of_a_small_notebook(tmp_path, monkeypatch):
    monkeypatch.setattr(check, "OUT", tmp_path / "out")
    path = _notebook(tmp_path, [
        "import torch\nfrom llmcours.train import mixed_precision_for\n"
        "from llmcours.transformer import GPT, GPTConfig\n"
        "CONFIG = dict(batch_size=64, context_length=512, mixed_precision='fp16')",
        "assert not torch.cuda.is_bf16_supported()\n"
        "assert mixed_precision_for('cuda') == 'fp16'",  # the simulated T4
        "small = GPT(GPTConfig(vocab_size=64, context_length=512, d_model=32, n_heads=2, "
        "n_layers=1))\n"
        "big = GPT(GPTConfig(vocab_size=50_000, context_length=512, d_model=1024, n_heads=16, "
        "n_layers=24))\n"
        "for m in (small, big):\n"
        "    m(torch.zeros(1, 2, dtype=torch.long)).sum().backward()  # trained: gradients",
        "assert False, 'la démonstration a besoin de tous ses pas'",
        "{}['steps']",
    ])
    result = check._run(path, card_gb=15.0, timeout=600)
    assert not result["ok"]
    assert result["asserts"] == ["cell 3: AssertionError: la démonstration a besoin de tous ses pas"]
    errors = "\n".join(result["errors"])
    assert "cell 4: KeyError" in errors and "cell 1" not in errors, errors
    fits = {row["name"]: row["fits"] for row in result["memory"]}
    assert fits == {"small": True, "big": False}, result["memory"]
    assert "big: mémoire estimée" in errors and "NE TIENT PAS" in errors
    assert (tmp_path / "out" / "99_essai.ipynb").is_file()
