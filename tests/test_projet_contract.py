"""The mini-projet's contract and autograded cells, run against mock systems of all five subjects.

The grading batch (test_grading.py) only grades the reference project, a classification; these
mocks exercise the other subjects' branches of the locked ``contrat`` cell and of the six test
cells (hidden parts included), with no model: a correct system of each subject passes every
cell, and each broken one fails exactly the cells named in its case (``?cell``: may fail). An
``evaluer`` that never calls ``run`` on its list fails test-critere-minimal.
"""

from __future__ import annotations

import json
import math
import numbers
import re
import time
from pathlib import Path

import nbformat
import pytest

from llmcours import metrics
from llmcours.data import load_corpus
from llmcours.grading import without_region_markers

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "projet" / "projet.ipynb"
TESTS = ["test-declaration", "test-run", "test-robustesse", "test-determinisme", "test-evaluation",
         "test-critere-minimal"]


def _sources() -> dict[str, str]:
    nb = nbformat.read(SOLUTION, as_version=4)
    return {c.id: without_region_markers(c.source) for c in nb.cells}


def grade(setup: str, budget: float | None = None) -> dict[str, str]:
    """Run the contract, a mock system (``setup``) and every test cell; failed cell -> error."""
    src = _sources()
    ns = dict(json=json, math=math, numbers=numbers, re=re, time=time, metrics=metrics,
              load_corpus=load_corpus)
    exec(src["contrat"], ns)
    exec(setup, ns)
    if budget:
        ns["BUDGET_PAR_ENTREE"] = budget
    ns["RESULTATS"] = ns["evaluer"](ns["JEU_TEST"])
    failed = {}
    for cell in TESTS:
        try:
            exec(src[cell], ns)
        except Exception as err:  # noqa: BLE001 - a failing test cell, whatever it raised
            failed[cell] = f"{type(err).__name__}: {err}"[:200]
    return failed


TEXTES = [f"Le {i} mars, la ville de Lyon{i} accueille un festival de musique qui durera trois jours ; l'entrée coûte {i*3} euros et les concerts commencent à 18 heures sur la place principale, près de la gare. Numéro {i}." for i in range(12)]
COMMON = 'BINOME = ("Ada Lovelace", "Alan Turing")\n'
EVAL_ROUGE = '''
def evaluer(jeu):
    s = run([e for e, _ in jeu])
    return {METRIQUE: sum(metrics.rouge(a, r)["rougeL"] for a, (_, r) in zip(s, jeu)) / len(jeu)}
'''
CASES = {
 "resume ok": (COMMON + 'SUJET="resume"; METRIQUE="rougeL"\n'
   'def run(inputs): return [t[: len(t) // 2] for t in inputs]\n'
   f'JEU_TEST = [(t, t[:60]) for t in {TEXTES!r}]\n' + EVAL_ROUGE, set()),
 "resume copie": (COMMON + 'SUJET="resume"; METRIQUE="rougeL"\n'
   'def run(inputs): return list(inputs)\n'
   f'JEU_TEST = [(t, t[:60]) for t in {TEXTES!r}]\n' + EVAL_ROUGE, {"test-run", "test-robustesse", "test-critere-minimal"}),
 "resume sans mots": (COMMON + 'SUJET="resume"; METRIQUE="rougeL"\n'
   'def run(inputs): return ["zzz" if len(t) >= 200 else "" for t in inputs]\n'
   f'JEU_TEST = [(t, t[:60]) for t in {TEXTES!r}]\n' + EVAL_ROUGE, {"test-critere-minimal"}),
 "extraction ok": (COMMON + 'SUJET="extraction"; CHAMPS=["date", "montant"]; METRIQUE="exact_match"\n'
   'def run(inputs):\n'
   '    out = []\n'
   '    for t in inputs:\n'
   '        d = re.search(r"\\d+ (janvier|mars|avril)", t); m = re.search(r"(\\d+) euros", t)\n'
   '        out.append({"date": d.group(0) if d else None, "montant": int(m.group(1)) if m else None})\n'
   '    return out\n'
   f'JEU_TEST = [(t, {{"date": f"{{i}} mars", "montant": i*3}}) for i, t in enumerate({TEXTES!r})]\n'
   'def evaluer(jeu):\n'
   '    s = run([e for e, _ in jeu])\n'
   '    return {"exact_match": metrics.exact_match([str(a["date"]) for a in s], [r["date"] for _, r in jeu])}\n', set()),
 "extraction vide": (COMMON + 'SUJET="extraction"; CHAMPS=["date", "montant"]; METRIQUE="exact_match"\n'
   'def run(inputs): return [{"date": None, "montant": ""} for t in inputs]\n'
   f'JEU_TEST = [(t, {{"date": "x"}}) for t in {TEXTES!r}]\n'
   'def evaluer(jeu): return {"exact_match": 0.0}\n', {"test-critere-minimal"}),
 "extraction mauvaises cles": (COMMON + 'SUJET="extraction"; CHAMPS=["date", "montant"]; METRIQUE="f1"\n'
   'def run(inputs): return [{"date": t[:5]} for t in inputs]\n'
   f'JEU_TEST = [(t, {{"date": "x"}}) for t in {TEXTES!r}]\n'
   'def evaluer(jeu): return {"f1": 0.5}\n', {"test-run", "test-robustesse", "test-determinisme", "test-critere-minimal"}),
 "classification 3 ok": (COMMON + 'SUJET="classification"; LABELS=("sport", "cuisine", "autre"); METRIQUE="accuracy"\n'
   'def run(inputs): return ["sport" if "match" in t else "cuisine" if "recette" in t else "autre" for t in inputs]\n'
   'JEU_TEST = [(f"match {i}", "sport") for i in range(5)] + [(f"recette {i}", "cuisine") for i in range(5)] + [("bof", "sport")]\n'
   'def evaluer(jeu):\n'
   '    return {"accuracy": metrics.accuracy([r for _, r in jeu], run([e for e, _ in jeu]))}\n', set()),
 "classification aleatoire": (COMMON + 'SUJET="classification"; LABELS=("sport", "cuisine", "autre"); METRIQUE="accuracy"\n'
   'import random\n_hasard = random.Random(0)\n'
   'def run(inputs): return [_hasard.choice(LABELS) for t in inputs]\n'
   'JEU_TEST = [(f"match {i}", "sport") for i in range(5)] + [(f"recette {i}", "cuisine") for i in range(5)]\n'
   'def evaluer(jeu):\n'
   '    return {"accuracy": metrics.accuracy([r for _, r in jeu], run([e for e, _ in jeu]))}\n', {"test-determinisme", "?test-critere-minimal"}),
 "classification lente": (COMMON + 'SUJET="classification"; LABELS=("sport", "cuisine", "autre"); METRIQUE="accuracy"\n'
   'import time as _t\n'
   'def run(inputs):\n'
   '    _t.sleep(0.02 * len(inputs))\n'
   '    return ["sport" if "match" in t else "cuisine" if "recette" in t else "autre" for t in inputs]\n'
   'JEU_TEST = [(f"match {i}", "sport") for i in range(5)] + [(f"recette {i}", "cuisine") for i in range(5)]\n'
   'def evaluer(jeu):\n'
   '    return {"accuracy": metrics.accuracy([r for _, r in jeu], run([e for e, _ in jeu]))}\n', {"test-robustesse"}),
 "assistant ok": (COMMON + 'SUJET="assistant"; METRIQUE="token_f1"\n'
   'def run(inputs): return [("Bonne question : " + t.strip()[:80]) if t.strip() else "Posez-moi une question." for t in inputs]\n'
   'JEU_TEST = [(f"Question {i} ?", f"Réponse {i}") for i in range(10)]\n'
   'def evaluer(jeu):\n'
   '    s = run([e for e, _ in jeu]); return {"token_f1": sum(metrics.token_f1(a, r) for a, (_, r) in zip(s, jeu)) / len(jeu)}\n', set()),
 "assistant vide": (COMMON + 'SUJET="assistant"; METRIQUE="token_f1"\n'
   'def run(inputs): return ["Bonne question : " + t.strip()[:80] if t.strip() else "" for t in inputs]\n'
   'JEU_TEST = [(f"Question {i} ?", f"Réponse {i}") for i in range(10)]\n'
   'def evaluer(jeu): return {"token_f1": len(run([e for e, _ in jeu])) / 100}\n', {"test-robustesse"}),
 "assistant constant": (COMMON + 'SUJET="assistant"; METRIQUE="token_f1"\n'
   'def run(inputs): return ["Je ne sais pas." for t in inputs]\n'
   'JEU_TEST = [(f"Question {i} ?", f"Réponse {i}") for i in range(10)]\n'
   'def evaluer(jeu): return {"token_f1": 0.1}\n', {"test-critere-minimal"}),
 "generation json ok": (COMMON + 'SUJET="generation"; FORMAT="json"; METRIQUE="format"\n'
   'def run(inputs): return [json.dumps({"consigne": t[:100]}, ensure_ascii=False) for t in inputs]\n'
   'JEU_TEST = [(f"Liste de courses n° {i}", None) for i in range(10)]\n'
   'def evaluer(jeu): return {"format": sum(map(format_valide, run([e for e, _ in jeu]))) / len(jeu)}\n', set()),
 "generation liste ok": (COMMON + 'SUJET="generation"; FORMAT="liste"; METRIQUE="format"\n'
   'def run(inputs): return ["- " + (" ".join(t.split()) or "rien") + "\\n2) fin" for t in inputs]\n'
   'JEU_TEST = [(f"Liste de courses n° {i}", None) for i in range(10)]\n'
   'def evaluer(jeu): return {"format": sum(map(format_valide, run([e for e, _ in jeu]))) / len(jeu)}\n', set()),
 "generation liste naive": (COMMON + 'SUJET="generation"; FORMAT="liste"; METRIQUE="format"\n'
   'def run(inputs): return ["- " + (t or "rien") for t in inputs]\n'
   'JEU_TEST = [(f"Liste de courses n° {i}", None) for i in range(10)]\n'
   'def evaluer(jeu): return {"format": sum(map(format_valide, run([e for e, _ in jeu]))) / len(jeu)}\n',
   {"test-robustesse"}),
 "generation pseudo ok": (COMMON + 'SUJET="generation"; FORMAT="pseudo-code"; METRIQUE="format"\n'
   'def run(inputs): return ["début\\n  afficher " + repr(t[:30]) + "\\nFin" for t in inputs]\n'
   'JEU_TEST = [(f"Trier la liste n° {i}", None) for i in range(10)]\n'
   'def evaluer(jeu): return {"format": sum(map(format_valide, run([e for e, _ in jeu]))) / len(jeu)}\n', set()),
 "generation pseudo sans fin": (COMMON + 'SUJET="generation"; FORMAT="pseudo-code"; METRIQUE="format"\n'
   'def run(inputs): return ["DEBUT\\n  afficher " + repr(t[:30]) for t in inputs]\n'
   'JEU_TEST = [(f"Trier la liste n° {i}", None) for i in range(10)]\n'
   'def evaluer(jeu): return {"format": 0.0}\n', {"test-run", "test-robustesse", "test-determinisme", "test-critere-minimal"}),
 "mauvaise declaration": ('BINOME = ("Ada Lovelace",)\nSUJET="résumé"; METRIQUE="rougeL"\n'
   'def run(inputs): return [t[: len(t) // 2] for t in inputs]\n'
   f'JEU_TEST = [(t, t[:60]) for t in {TEXTES!r}]\n' + EVAL_ROUGE, set(TESTS) - {"test-evaluation"}),
 "metrique absente": (COMMON + 'SUJET="assistant"; METRIQUE="bleu"\n'
   'def run(inputs): return [("Bonne question : " + t.strip()[:80]) if t.strip() else "?" for t in inputs]\n'
   'JEU_TEST = [(f"Question {i} ?", f"Réponse {i}") for i in range(10)]\n'
   'def evaluer(jeu): return {"token_f1": 0.5}\n', {"test-evaluation", "test-critere-minimal"}),
 "jeu trop petit": (COMMON + 'SUJET="assistant"; METRIQUE="f"\n'
   'def run(inputs): return [("Bonne question : " + t.strip()[:80]) if t.strip() else "?" for t in inputs]\n'
   'JEU_TEST = [(f"Question {i} ?", f"Réponse {i}") for i in range(9)]\n'
   'def evaluer(jeu): return {"f": True}\n', {"test-evaluation", "test-critere-minimal"}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_mock_system_fails_exactly_the_expected_cells(name):
    setup, expected = CASES[name]
    failed = grade(setup, budget=0.01 if "lente" in name else None)
    must = {e for e in expected if not e.startswith("?")}
    maybe = {e[1:] for e in expected if e.startswith("?")}
    assert must <= set(failed) <= must | maybe, (
        f"{name}: expected to fail {sorted(must)} (maybe {sorted(maybe)}), failed {failed}"
    )
