"""The anti-tampering guard (llmcours.grading.guard) on its own, without the sandbox: each case
is a notebook with one cell of student code and one graded test cell that compares plain values,
as the labs' hidden tests do. The test cell must fail for every attack and pass for honest code;
the flags name the attack, and honest code is never flagged."""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from llmcours.grading.guard import GuardedExecute

TEST = "valeur = carre(7)\nassert type(valeur) is int and int(valeur) == 49\nprint('PASSE')"
TEST_META = {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "test",
                          "points": 1, "schema_version": 3}}

# name: (student code, the test passes, a flag that must appear — "" for none)
CASES = {
    "honnête": ("def carre(x):\n    return x * x\nsum = 0  # a variable, not a shadowing function\n",
                True, ""),
    "dataclass honnête": ("from dataclasses import dataclass\n\n@dataclass\nclass P:\n    a: int\n\n"
                          "def carre(x):\n    return P(x).a * x\n", True, ""),
    "int et type redéfinis": ("class T:\n    def __eq__(self, o):\n        return True\n\n"
                              "def int(x):\n    return T()\n\ndef type(x):\n    return int\n\n"
                              "def carre(x):\n    return T()\n", False,
                              "nom prédéfini redéfini : int"),
    "exec redéfini": ("import ast\nimport builtins\n_real = builtins.exec\n\n"
                      "def exec(source, ns=None, *a):\n    _real(source, ns, *a)\n"
                      "    if isinstance(ns, dict) and 'result' in ns:\n        ns['result'] = []\n\n"
                      "class S(ast.NodeTransformer):\n    def visit_Module(self, node):\n"
                      "        handler = ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])\n"
                      "        node.body = [ast.Try(body=[s], handlers=[handler], orelse=[],"
                      " finalbody=[]) for s in node.body]\n"
                      "        return ast.fix_missing_locations(node)\n\n"
                      "get_ipython().ast_transformers.append(S())\n\ndef carre(x):\n    return 0\n",
                      False, "ast_transformers"),
    "__builtins__ remplacé": ("__builtins__ = {'int': lambda x: 49, 'type': lambda x: 0}\n\n"
                              "def carre(x):\n    return 0\n", False, "__builtins__ remplacé"),
    "égalité truquée": ("class T:\n    def __eq__(self, o):\n        return True\n\n"
                        "def carre(x):\n    return T()\n", False, "comparaison redéfinie : T"),
    "égalité truquée dans la fonction": ("def carre(x):\n    class T(int):\n"
                                         "        def __eq__(self, o):\n            return True\n"
                                         "    return T(0)\n", False,
                                         "comparaison redéfinie : carre"),
    "égalité par type()": ("T = type('T', (), {'__eq__': lambda s, o: True})\n\n"
                           "def carre(x):\n    return T()\n", False, "comparaison redéfinie : T"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_guard(name):
    code, passes, flag = CASES[name]
    nb = new_notebook(cells=[new_code_cell(code), new_code_cell(TEST, metadata=TEST_META)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    guarded = GuardedExecute(allow_errors=True, timeout=60)
    guarded.preprocess(nb, {})
    outputs = nb.cells[1].outputs
    passed = any("PASSE" in o.get("text", "") for o in outputs)
    assert passed is passes, (name, outputs)
    if flag:
        assert any(flag in f for f in guarded.flags), guarded.flags
    else:
        assert guarded.flags == [], guarded.flags


# ---------------------------------------------------------------- hidden tests as a judgement
JUDGED = ("assert carre(0) == 0\n### BEGIN HIDDEN TESTS\n"
          "from llmcours.grading.judge import judgement\n\n\n@judgement\n"
          "def juger(appels):\n"
          "    valeur = appels.fn('carre', 7, returns=int)  # jugement_secret_4242\n"
          "    assert valeur == 49, 'carre(7) doit valoir 49'\n"
          "### END HIDDEN TESTS")
SPY_AFTER = ("import linecache, sys\n"
             "print('\\n'.join(In), *(''.join(v[2]) for v in linecache.cache.values()))")

# name: (student code, score out of 2, a word of the error message ("" when it passes))
JUDGED_CASES = {
    "honnête": ("def carre(x):\n    return x * x", 2, ""),
    "faux": ("def carre(x):\n    return 0", 0, "carre(7) doit valoir 49"),
    "mauvais type": ("def carre(x):\n    return str(x * x) if x == 7 else 0", 0,
                     "un int était attendu"),
    "trop gros": ("def carre(x):\n    return list(range(3_000_000)) if x == 7 else 0", 0,
                  "trop grosse"),
    "objet truqué": ("class T(int):\n    def __eq__(self, o):\n        return True\n\n"
                     "def carre(x):\n    return T(0)", 0, "type non transmis"),
    "exception": ("def carre(x):\n    if x == 7:\n        raise ValueError('non')\n    return 0",
                  0, "ValueError: non"),
    "crédit partiel planté": ("import ast\n\nclass Un(ast.NodeTransformer):\n"
                              "    def visit_Module(self, node):\n"
                              "        node.body = [ast.Expr(ast.Constant(2))]\n"
                              "        return ast.fix_missing_locations(node)\n\n"
                              "class Remet:\n    def __call__(self, *args):\n"
                              "        get_ipython().ast_transformers[:] = [Un()]\n\n"
                              "get_ipython().events.register('pre_run_cell', Remet())\n\n"
                              "def carre(x):\n    raise NotImplementedError()", 0, "carre(…) a levé"),
}


def _judged_run(code, tmp_path, *, metadata=None):
    from nbgrader.utils import determine_grade

    from llmcours.grading.guard import judgements_of

    meta = {**TEST_META, **(metadata or {})}
    meta["nbgrader"] = {**meta["nbgrader"], "points": 2}
    nb = new_notebook(cells=[new_code_cell(code), new_code_cell(JUDGED, metadata=meta),
                             new_code_cell(SPY_AFTER)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    judgements = tmp_path / "judgements.json"
    judgements.write_text(json.dumps(judgements_of(nb)), encoding="utf-8")
    GuardedExecute(allow_errors=True, timeout=60, judgements_file=str(judgements)).preprocess(nb, {})
    return determine_grade(nb.cells[1])[0], nb


@pytest.mark.parametrize("name", list(JUDGED_CASES))
def test_judgement_outside_the_kernel(name, tmp_path):
    code, points, message = JUDGED_CASES[name]
    planted = {"llmcours": {"partial_credit": True}} if "planté" in name else None
    score, nb = _judged_run(code, tmp_path, metadata=planted)
    errors = [f"{o.ename}: {o.evalue}" for o in nb.cells[1].outputs if o.output_type == "error"]
    assert score == points, (name, nb.cells[1].outputs)
    assert (message in " ".join(errors)) if message else errors == [], errors
    assert "llmcours" not in nb.cells[1].metadata
    # the hidden region never reached the kernel: not in `In`, not in linecache
    shown = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    if "planté" not in name:  # there, the student's transformer rewrites every cell
        assert "assert carre(0) == 0" in shown, shown
    assert "jugement_secret_4242" not in shown, shown


def test_judgement_split_and_load():
    from llmcours.grading.judge import load, split

    visible, hidden = split(JUDGED)
    assert visible == "assert carre(0) == 0" and "@judgement" in hidden
    assert split("assert True\n### BEGIN HIDDEN TESTS\nassert 1 == 1\n### END HIDDEN TESTS") \
        is None  # the old form: run in the kernel as before
    namespace: dict = {}
    assert [f.__name__ for f in load(hidden, namespace, "test")] == ["juger"]


def test_plain_kernel_refuses_a_judgement_in_one_line():
    """What plain `nbgrader autograde` does: the whole cell in the kernel → one French line."""
    from nbclient import NotebookClient

    from llmcours.grading.judge import NOT_HERE

    nb = new_notebook(cells=[new_code_cell("def carre(x):\n    return x * x"),
                             new_code_cell(JUDGED)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    NotebookClient(nb, timeout=60, allow_errors=True).execute()
    error = [o for o in nb.cells[1].outputs if o.output_type == "error"][0]
    assert error.ename == "RuntimeError" and error.evalue == NOT_HERE
    assert "llmcours grade" in NOT_HERE and "\n" not in NOT_HERE


def test_decode_refuses_malformed_data():
    from llmcours.grading.executor import Refused, decode, encode

    np = pytest.importorskip("numpy")
    array = np.arange(6, dtype="float32").reshape(2, 3)
    back = decode(json.loads(json.dumps(encode({"a": (1, [array])}))))
    assert back["a"][0] == 1 and back["a"][1][0].dtype == array.dtype
    assert (back["a"][1][0] == array).all()
    for bad in ({"array": {"kind": "numpy", "dtype": "float32", "shape": [2], "data": [1]}},
                {"array": {"kind": "numpy", "dtype": "object", "shape": [1], "data": [1]}},
                {"eval": "1"}, {"dict": [1]}, json.loads("[" * 30 + "]" * 30)):
        with pytest.raises(Refused):
            decode(bad)
