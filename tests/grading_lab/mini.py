"""A tiny nbgrader lab (``mini``) for the hostile-submission suite: fast cells, no model.

``make_course(root)`` writes a course root with ``nbgrader_config.py`` (the repository's),
``solutions/mini/mini.ipynb`` and its released version ``labs/mini/``. Two answers
(``carre``, ``racine``), a test with a visible assert (1 point) and two tests with hidden parts (2 points
each). Every test cell is judged outside the student's kernel (:mod:`llmcours.grading.judge`):
the kernel only answers calls; ``test-racine`` gives partial credit (the share of right
answers). ``SECRETS`` are strings that appear only in hidden tests or solutions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[2]
SECRETS = ("secret_cache_7391", "secret_racine_5521", "solution_secrete_8812")
POINTS = {"test-carre": 1.0, "test-carre-cache": 2.0, "test-racine": 2.0}


def _meta(gid: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: float = 0) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": gid,
            "schema_version": 3}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


JUDGE = "from llmcours.grading.judge import judgement\n\n\n@judgement\n"


def source_notebook() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# Mini-TP\n\nDeux fonctions à écrire.", metadata=_meta("intro",
                                                                                 locked=True)),
        new_code_cell("import math", metadata=_meta("setup", locked=True)),
        new_code_cell("def carre(x):\n    ### BEGIN SOLUTION\n"
                      f"    resultat = x * x  # {SECRETS[2]}\n    return resultat\n"
                      "    ### END SOLUTION", metadata=_meta("carre", solution=True)),
        # every test is judged outside the kernel (llmcours.grading.judge), the visible
        # asserts included: a trick in the kernel can pass a visible assert, not a judgement
        new_code_cell("assert carre(3) == 9, 'carre(3) doit valoir 9'\n"
                      f"### BEGIN HIDDEN TESTS\n{JUDGE}"
                      "def juger_carre(appels):\n"
                      "    assert appels.fn('carre', 3, returns=int) == 9, "
                      "'carre(3) doit valoir 9'\n"
                      "### END HIDDEN TESTS",
                      metadata=_meta("test-carre", grade=True, locked=True, points=1)),
        new_code_cell(f"assert carre(0) == 0\n### BEGIN HIDDEN TESTS\n{JUDGE}"
                      "def juger_carre_cache(appels):\n"
                      f"    valeur = appels.fn('carre', 7, returns=int)  # {SECRETS[0]}\n"
                      "    assert valeur == 49, 'carre(7) doit valoir 49'\n"
                      "### END HIDDEN TESTS",
                      metadata=_meta("test-carre-cache", grade=True, locked=True, points=2)),
        new_code_cell("def racine(x):\n    ### BEGIN SOLUTION\n    return math.sqrt(x)\n"
                      "    ### END SOLUTION", metadata=_meta("racine", solution=True)),
        # partial credit: the share of the inputs where racine is right (computed here)
        new_code_cell(f"### BEGIN HIDDEN TESTS\n{JUDGE}"
                      "def juger_racine(appels):\n"
                      "    import math\n\n"
                      f"    attendu = 1.4142135623730951  # {SECRETS[1]}\n"
                      "    assert math.isclose(appels.fn('racine', 2.0, returns=float), attendu), "
                      "'racine(2.0) est fausse'\n"
                      "    justes = [math.isclose(appels.fn('racine', x, returns=float), "
                      "math.sqrt(x))\n"
                      "              for x in (9.0, 0.25, 0.01)]\n"
                      "    return (1 + sum(justes)) / 4\n"
                      "### END HIDDEN TESTS",
                      metadata=_meta("test-racine", grade=True, locked=True, points=2)),
    ]
    for cell in cells:  # cell id = nbgrader id, as in the course's labs (student_version)
        cell.id = cell.metadata["nbgrader"]["grade_id"]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def make_course(root: Path) -> Path:
    """A course root with the mini lab released; returns ``root``."""
    from llmcours import grading

    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    (root / "solutions" / "mini").mkdir(parents=True)
    nbformat.write(source_notebook(), root / "solutions" / "mini" / "mini.ipynb")
    (root / "solutions" / "mini" / "donnees.txt").write_text("des données du TP\n")
    grading.release(root, ["mini"])
    return root
