"""The anti-tampering guard (llmcours.grading.guard) on its own, without the sandbox: each case
is a notebook with one cell of student code and one graded test cell that compares plain values,
as the labs' hidden tests do. The test cell must fail for every attack and pass for honest code;
the flags name the attack, and honest code is never flagged."""

from __future__ import annotations

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
