"""Expérience 5 (longueur en tokens) for tests/test_grading.py and tests/test_grading_cases.py.

``WRONG`` passes every visible test but not the hidden ones, which must take ``LOSES`` away.
"""

WRONG = {
    # Mean of the per-sentence ratios: right when every sentence has the same ratio (visible).
    "tokens-par-mot": '''
def tokens_par_mot(df):
    return float((df["n_tokens"] / df["n_mots"]).mean())
''',
}
LOSES = {"test-tokens-par-mot-cache"}

# Each passes the visible tests; tests/test_grading_cases.py checks what each one loses.
CASES = {
    "moyenne des rapports": {"patches": WRONG, "loses": LOSES},
    # Words as \w+ runs: « l'école » counts 2 words and « ? » none; equal on « Le chat dort. ».
    "mots de l'expression régulière": {"patches": {"longueurs": '''
def longueurs(phrases, encodeur):
    return pd.DataFrame({"n_mots": [len(re.findall(r"\\w+", p)) for p in phrases],
                         "n_tokens": [len(encodeur(p)) for p in phrases]})
'''}, "loses": {"test-longueurs-cache"}},
    # The mean length instead of the median: equal on the symmetric visible examples.
    "moyenne au lieu de la médiane": {"patches": {"fenetre": '''
def phrases_par_fenetre(n_tokens, fenetre):
    return int(fenetre // float(np.mean(np.asarray(n_tokens, dtype=float))))
'''}, "loses": {"test-fenetre-cache"}},
    # The upper middle element as the median: right for an odd count, not for an even one.
    "médiane sans moyenne des deux du milieu": {"patches": {"fenetre": '''
def phrases_par_fenetre(n_tokens, fenetre):
    tries = sorted(n_tokens)
    return int(fenetre // tries[len(tries) // 2])
'''}, "loses": {"test-fenetre-cache"}},
}

# Right, written otherwise: a loop of records; plain sums; statistics.median and math.floor.
ALTERNATIVE = {
    "longueurs": '''
def longueurs(phrases, encodeur):
    lignes = []
    for phrase in phrases:
        lignes.append((len(phrase.split()), len(encodeur(phrase))))
    return pd.DataFrame(lignes, columns=["n_mots", "n_tokens"], dtype=int)
''',
    "tokens-par-mot": '''
def tokens_par_mot(df):
    return sum(int(t) for t in df["n_tokens"]) / sum(int(m) for m in df["n_mots"])
''',
    "fenetre": '''
def phrases_par_fenetre(n_tokens, fenetre):
    import statistics

    return math.floor(fenetre / statistics.median(list(n_tokens)))
''',
}
