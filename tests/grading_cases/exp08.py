"""Expérience 8 (LLM zero-shot contre supervisé) for tests/test_grading.py and test_grading_cases.py.

``WRONG`` passes every visible test but not the hidden ones, which must take ``LOSES`` away.
"""

WRONG = {
    # Accuracy over the readable answers only: the unreadable ones vanish instead of counting
    # as errors (the visible tests have no -1).
    "scores": '''
def scores(y_vrai, y_pred):
    lues = [(v, p) for v, p in zip(y_vrai, y_pred) if p != -1]
    exactitude = sum(v == p for v, p in lues) / len(lues) if lues else 0.0
    f1s = []
    for c in (0, 1):
        vp = sum(v == c and p == c for v, p in zip(y_vrai, y_pred))
        fp = sum(v != c and p == c for v, p in zip(y_vrai, y_pred))
        fn = sum(v == c and p != c for v, p in zip(y_vrai, y_pred))
        f1s.append(2 * vp / (2 * vp + fp + fn) if 2 * vp + fp + fn else 0.0)
    return {"accuracy": float(exactitude), "f1_macro": float(sum(f1s) / 2)}
''',
}
LOSES = {"test-scores-cache"}

_EXTRAIRE_SANS_ACCENTS = '''
def extraire_classe(reponse):
    texte = "".join(c for c in unicodedata.normalize("NFD", reponse.lower())
                    if unicodedata.category(c) != "Mn")
'''

# Each passes the visible tests; tests/test_grading_cases.py checks what each one loses.
CASES = {
    "exactitude sur les seules réponses lues": {"patches": WRONG, "loses": LOSES},
    # F1 averaged over every label present, -1 included: the same without unreadable answers.
    "F1 macro avec la classe -1": {"patches": {"scores": '''
def scores(y_vrai, y_pred):
    paires = list(zip(y_vrai, y_pred))
    classes = sorted(set(y_vrai) | set(y_pred))
    f1s = []
    for c in classes:
        vp = sum(v == c and p == c for v, p in paires)
        fp = sum(v != c and p == c for v, p in paires)
        fn = sum(v == c and p != c for v, p in paires)
        f1s.append(2 * vp / (2 * vp + fp + fn) if 2 * vp + fp + fn else 0.0)
    return {"accuracy": float(sum(v == p for v, p in paires) / len(paires)),
            "f1_macro": float(sum(f1s) / len(f1s))}
'''}, "loses": {"test-scores-cache"}},
    # Tests "positi" before "negati" instead of taking the first one in the answer.
    "positif d'abord": {"patches": {"extraire": _EXTRAIRE_SANS_ACCENTS + '''
    if re.search(r"\\bpositi", texte):
        return 1
    if re.search(r"\\bnegati", texte):
        return 0
    return -1
'''}, "loses": {"test-extraire-cache"}},
    # First occurrence, but as a substring: « dispositif » contains « positif ».
    "sans frontière de mot": {"patches": {"extraire": _EXTRAIRE_SANS_ACCENTS + '''
    positions = [(texte.find(m), c) for m, c in (("positi", 1), ("negati", 0)) if m in texte]
    return min(positions)[1] if positions else -1
'''}, "loses": {"test-extraire-cache"}},
    # Column 0 of predict_proba: P(négatif), still a probability of the right shape.
    "mauvaise colonne": {"patches": {"supervise": '''
def probas_supervise(textes_train, y_train, textes_test):
    modele = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=1000),
    ).fit(textes_train, y_train)
    return modele.predict_proba(textes_test)[:, 0]
'''}, "loses": {"test-supervise-cache"}},
    # Leak: the TF-IDF vocabulary and idf are fitted on the training AND test texts.
    "TF-IDF ajusté avec le test": {"patches": {"supervise": '''
def probas_supervise(textes_train, y_train, textes_test):
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    tfidf.fit(list(textes_train) + list(textes_test))
    regression = LogisticRegression(C=10.0, max_iter=1000).fit(tfidf.transform(textes_train), y_train)
    return regression.predict_proba(tfidf.transform(textes_test))[:, 1]
'''}, "loses": {"test-supervise-cache"}},
}

# Right, written otherwise: vectoriser and regression by hand; str.translate-free accent
# stripping with a scan of the words; numpy counts for the scores.
ALTERNATIVE = {
    "supervise": '''
def probas_supervise(textes_train, y_train, textes_test):
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    x_train = tfidf.fit_transform(textes_train)
    regression = LogisticRegression(C=10.0, max_iter=1000).fit(x_train, y_train)
    scores_lineaires = regression.decision_function(tfidf.transform(textes_test))
    return 1.0 / (1.0 + np.exp(-np.asarray(scores_lineaires, dtype=np.float64)))
''',
    "extraire": '''
def extraire_classe(reponse):
    texte = unicodedata.normalize("NFKD", reponse).encode("ascii", "ignore").decode().lower()
    for mot in re.findall(r"\\w+", texte):
        if mot.startswith("positi"):
            return 1
        if mot.startswith("negati"):
            return 0
    return -1
''',
    "scores": '''
def scores(y_vrai, y_pred):
    v, p = np.asarray(y_vrai), np.asarray(y_pred)
    f1s = [2 * np.sum((v == c) & (p == c))
           / max(1, 2 * np.sum((v == c) & (p == c)) + np.sum((v != c) & (p == c))
                 + np.sum((v == c) & (p != c))) for c in (0, 1)]
    return {"accuracy": float(np.mean(v == p)), "f1_macro": float(np.mean(f1s))}
''',
}
