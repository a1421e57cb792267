"""Mini-projet submissions for tests/test_grading.py: ``{cell id: source}`` replacing a solution cell.

``WRONG`` passes every visible test but not the hidden ones, which must take ``LOSES`` away.
"""

WRONG = {
    # A broken classifier that still answers the visible test: it drops empty inputs (one
    # output per input no longer holds), its label flips at each call (not deterministic), and
    # within one call it always gives the same label (the minimal criterion fails).
    "run": '''
_appels = [0]


def run(inputs: list[str]) -> list:
    _appels[0] += 1
    etiquette = LABELS[_appels[0] % len(LABELS)]
    return [etiquette for texte in inputs if texte.strip()]
''',
}
LOSES = {"test-robustesse", "test-determinisme", "test-critere-minimal"}

# Each passes the visible tests; tests/test_grading_cases.py checks what each one loses.
# (WRONG, the broken classifier, goes through the whole pipeline in test_grading.py.)
CASES = {
    # Sorts the inputs by length (less padding in a batch) and forgets to put the outputs back
    # in the order of the inputs: right format, same outputs at each call, wrong owners.
    "trie les entrées par longueur": {"patches": {"run": '''
def run(inputs):
    if not inputs:
        return []
    par_longueur = sorted(inputs, key=len)
    return [LABELS[k] for k in classifieur.predict(vecteurs(par_longueur))]
'''}, "loses": {"test-determinisme"}},
    # squeeze() on the embeddings: (n, 384) stays 2-D for n >= 2, but a single input becomes a
    # 1-D vector that the classifier rejects.
    "squeeze sur un lot d'un": {"patches": {"run": '''
def run(inputs):
    if not inputs:
        return []
    X = F.normalize(encodeur(list(inputs)), dim=-1).squeeze().numpy()
    return [LABELS[k] for k in classifieur.predict(X)]
'''}, "loses": {"test-robustesse"}},
    # Measures JEU_TEST whatever list it is given: RESULTATS is right, evaluer(jeu) is not.
    "evaluer ignore son argument": {"patches": {"evaluation": '''
def evaluer(jeu):
    predictions = run([entree for entree, _ in JEU_TEST])
    references = [reference for _, reference in JEU_TEST]
    return {"accuracy": metrics.accuracy(references, predictions),
            "f1_macro": metrics.f1(references, predictions, average="macro")}


RESULTATS = evaluer(JEU_TEST)
RESULTATS
'''}, "loses": {"test-critere-minimal"}},
}

# Right, written otherwise: one input at a time through predict_proba, and the accuracy
# counted by hand.
ALTERNATIVE = {
    "run": '''
def run(inputs):
    sorties = []
    for texte in inputs:
        probas = classifieur.predict_proba(vecteurs([texte]))[0]
        sorties.append(LABELS[int(np.argmax(probas))])
    return sorties
''',
    "evaluation": '''
def evaluer(jeu):
    paires = list(jeu)
    predictions = run([entree for entree, _ in paires])
    justes = sum(p == r for p, (_, r) in zip(predictions, paires))
    return {"accuracy": justes / len(paires),
            "f1_macro": metrics.f1([r for _, r in paires], predictions, average="macro")}


RESULTATS = evaluer(JEU_TEST)
RESULTATS
''',
}
