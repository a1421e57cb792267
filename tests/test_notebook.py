"""llmcours.notebook: show_source, progress, and the French number format of printed outputs."""

import pytest

from llmcours.notebook import fr, progress, show_source


def test_fr_thousands_and_decimal_comma():
    assert fr(28311552) == "28\u202f311\u202f552"
    assert fr(13.456, 1, "%") == "13,5\u00a0%"
    assert fr(-0.5, 2) == "-0,50"


@pytest.mark.parametrize("decimals", [-1, 1.5, True, "2"])
def test_fr_bad_decimals(decimals):
    with pytest.raises(ValueError, match="decimals"):
        fr(1.0, decimals)


def test_progress_iterates():
    assert list(progress(range(3), disable=True)) == [0, 1, 2]


def test_show_source_rejects_builtins():
    with pytest.raises(ValueError, match="no Python source"):
        show_source(len)


def test_progress_is_a_widget_unless_the_build_asks_for_text(monkeypatch):
    from tqdm.auto import tqdm as auto_tqdm

    monkeypatch.delenv("LLMCOURS_PROGRESS", raising=False)
    bar = progress(range(2), disable=True)
    assert type(bar) is auto_tqdm
    monkeypatch.setenv("LLMCOURS_PROGRESS", "text")
    assert type(progress(range(2), disable=True)) is not auto_tqdm


def test_text_progress_prints_only_its_final_line(monkeypatch, capsys):
    # What the static site shows: one plain line per bar, no carriage return, no widget.
    monkeypatch.setenv("LLMCOURS_PROGRESS", "text")
    bar = progress(total=40, desc="entraînement")
    for i in range(40):
        bar.update(1)
        bar.set_postfix(perte=f"{1 / (i + 1):.4f}")  # as fit does, at every step
    bar.close()
    assert list(progress(range(7))) == list(range(7))
    for _ in progress(range(5), leave=False):  # a bar that does not stay prints nothing
        pass
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("entraînement: 100%|") and "40/40" in lines[0]
    assert lines[0].endswith("perte=0.0250]")
    assert "7/7" in lines[1]


def test_the_site_build_asks_for_text_bars():
    # Without this export, every progress bar of the built book is an empty widget.
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text(encoding="utf-8")
    assert "site: export LLMCOURS_PROGRESS := text" in makefile.splitlines()


# ------------------------------------------------------------------ select_config (CONFIG cells)
CONFIGS = {
    "cpu": dict(steps=100, max_new_tokens=16, lr=1e-2),
    "cuda": dict(steps=800, lm_steps=4000, epochs=200, ft_epochs=5, ppo_iterations=150, max_new_tokens=60,
                 n_evals=1, full_finetune=True, lr=1e-3, sizes=[1_000, 200_000], n_compare=None,
                 kv_lengths=[64, 128, 256, 512, 1024]),
}


def test_select_config_follows_the_device(monkeypatch):
    from types import SimpleNamespace

    from llmcours.notebook import select_config

    monkeypatch.delenv("LLMCOURS_CONFIG", raising=False)
    assert select_config(CONFIGS, "cpu") == CONFIGS["cpu"]
    gpu = SimpleNamespace(type="cuda")  # a torch.device("cuda") without a GPU
    assert select_config(CONFIGS, gpu) == CONFIGS["cuda"]  # on a GPU: no cap at all
    monkeypatch.setenv("LLMCOURS_CONFIG", "cpu")
    assert select_config(CONFIGS, gpu) == CONFIGS["cpu"]


def test_forced_cuda_on_a_cpu_is_a_capped_dry_run(monkeypatch):
    from llmcours.notebook import DRY_RUN_CAPS, select_config

    monkeypatch.setenv("LLMCOURS_CONFIG", " CUDA ")
    config = select_config(CONFIGS, "cpu")
    assert config == dict(CONFIGS["cuda"], steps=3, lm_steps=3, epochs=10, ft_epochs=1,
                          ppo_iterations=3,
                          max_new_tokens=4, kv_lengths=[64, 128])
    assert config["n_evals"] == 1 and config["full_finetune"] is True  # never raised, bools kept
    assert config["sizes"] == [1_000, 200_000] and config["lr"] == 1e-3  # shapes stay CUDA's
    assert CONFIGS["cuda"]["steps"] == 800  # the chapter's dict is not modified
    assert len(CONFIGS["cuda"]["kv_lengths"]) == 5
    assert DRY_RUN_CAPS["steps"] == 3


@pytest.mark.parametrize("configs, env, message", [
    ({"cpu": {}}, "", "configs must have the keys"),
    ({"cpu": {}, "cuda": {}, "tpu": {}}, "", "configs must have the keys"),
    (CONFIGS, "gpu", "LLMCOURS_CONFIG ('gpu') must be 'cpu' or 'cuda'"),
])
def test_select_config_bad_input(monkeypatch, configs, env, message):
    from llmcours.notebook import select_config

    monkeypatch.setenv("LLMCOURS_CONFIG", env)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        select_config(configs, "cpu")
