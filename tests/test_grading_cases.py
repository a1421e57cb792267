"""Hidden tests that decide: each lab's wrong-but-plausible answers lose exactly what they name.

``tests/grading_cases/<lab>.py`` may define, besides the ``WRONG``/``LOSES`` pair that
test_grading.py sends through the whole grading pipeline:

- ``CASES = {name: {"patches": {cell id: source}, "loses": {test cell id, ...}}, ...}``: answers
  a student could plausibly write. Each passes every *visible* test (the released test cells)
  and fails exactly the test cells in ``loses`` once the hidden tests run;
- ``ALTERNATIVE = {cell id: source}``: a correct answer written differently from the solution,
  which must fail no test cell.

All cases of a lab run in ONE kernel: the solution notebook runs once from the top (it must pass
every test cell), then each case re-runs the notebook from its first patched cell with the
patched sources. The cases run from the latest first patched cell to the earliest: each one
re-runs, with the solution's sources, every cell that the previous case touched, so no case
sees another's answer and no restoring pass is needed. A test cell "fails" as nbgrader scores
it: it raises; when it fails, its visible part alone (the released test cell) is run too, and
must pass. This is much cheaper than grading each case as a submission, and it checks the same
thing: which hidden test cells a given answer loses.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CASES_DIR = Path(__file__).parent / "grading_cases"
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                    re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"^[ \t]*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)[^\n]*\n?", re.MULTILINE)


def _case_module(lab: str):
    spec = importlib.util.spec_from_file_location(f"cases_{lab}", CASES_DIR / f"{lab}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _labs_with_cases() -> list[str]:
    return sorted(p.stem for p in CASES_DIR.glob("*.py")
                  if getattr(_case_module(p.stem), "CASES", None) is not None)


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def _error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            return f"{out.ename}: {out.evalue}"
    return None


class _Lab:
    """The solution notebook of one lab, executed cell by cell in one kernel."""

    def __init__(self, lab: str, tmp: Path):
        folder = tmp / lab
        shutil.copytree(ROOT / "solutions" / lab, folder)
        self.nb = nbformat.read(folder / f"{lab}.ipynb", as_version=4)
        self.code = [c for c in self.nb.cells if c.cell_type == "code"]
        self.original = {c.id: c.source for c in self.code}
        self.client = NotebookClient(self.nb, timeout=300, allow_errors=True, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})

    def run(self, source: str) -> str | None:
        """Run ``source`` as a cell; the error it raised (``None`` when it passed)."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.execute_cell(cell, 0)
        return _error(cell)

    def run_from(self, start: int, sources: dict[str, str]) -> tuple[dict, dict]:
        """Run the code cells from index ``start`` with ``sources`` (cell id -> source) in place
        of the solution's; returns the test cells that fail their visible part, and in full."""
        visible_fail, full_fail = {}, {}
        for cell in self.code[start:]:
            source = MARKER.sub("", sources.get(cell.id, self.original[cell.id]))
            if (err := self.run(source)) is not None and _is_test(cell):
                full_fail[cell.id] = err
                visible = MARKER.sub("", HIDDEN.sub("", self.original[cell.id]))
                if (err := self.run(visible)) is not None:
                    visible_fail[cell.id] = err
        return visible_fail, full_fail

    def index(self, cell_id: str) -> int:
        ids = [c.id for c in self.code]
        assert cell_id in ids, f"no code cell {cell_id!r} in the solution notebook"
        return ids.index(cell_id)


@pytest.mark.parametrize("lab", _labs_with_cases())
def test_wrong_answers_lose_exactly_their_points(lab, tmp_path, monkeypatch):
    # Hidden tests written as a judgement (llmcours.grading.judge) run at once in this
    # trusted kernel, with the same calls and checks as the grader's
    monkeypatch.setenv("LLMCOURS_JUDGE", "local")
    module = _case_module(lab)
    cases = dict(module.CASES)
    assert len(cases) >= 3, f"{lab}: at least three wrong-but-plausible answers in CASES"
    alternative = getattr(module, "ALTERNATIVE", None)
    assert alternative, f"{lab}: ALTERNATIVE (a correct answer written differently) is missing"
    cases["ALTERNATIVE"] = {"patches": alternative, "loses": set()}

    lab_nb = _Lab(lab, tmp_path)
    problems = []
    with lab_nb.client.setup_kernel():
        _, failing = lab_nb.run_from(0, {})
        assert not failing, f"{lab}: the solution fails its own tests: {failing}"
        runs = []
        for name, case in cases.items():
            patches = {k: textwrap.dedent(v).strip() for k, v in case["patches"].items()}
            runs.append((min(lab_nb.index(cell_id) for cell_id in patches), name, patches))
        # Latest start first: each run re-executes (with the solution's sources where it does
        # not patch) every cell the previous run touched, which restores the solution's state.
        for start, name, patches in sorted(runs, key=lambda run: -run[0]):
            visible, full = lab_nb.run_from(start, patches)
            if visible:
                problems.append(f"{name}: fails visible tests {visible} (a student would see it)")
            if set(full) != set(cases[name]["loses"]):
                problems.append(f"{name}: loses {sorted(full)}, expected "
                                f"{sorted(cases[name]['loses'])} ({full})")
    assert not problems, f"{lab}:\n" + "\n".join(problems)
