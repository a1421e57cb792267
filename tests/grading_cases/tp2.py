"""TP2 submissions for tests/test_grading.py: ``{cell id: source}`` replacing a solution cell.

``WRONG`` passes every visible test but not the hidden ones, which must take ``LOSES`` away.
``appliquer_temperature``, ``distinct_2`` and ``entropie_moyenne`` stay right: their hidden
cells must keep their points.
"""

WRONG = {
    # Keeps exactly k tokens (scatter of torch.topk's indices): right without ties, wrong when
    # tokens tie with the k-th largest logit (they must all be kept).
    "top-k": '''
def filtre_top_k(logits, k):
    if k < 1:
        raise ValueError(f"k doit être >= 1, reçu {k}")
    if k >= logits.shape[-1]:
        return logits.clone()
    indices = torch.topk(logits, k, dim=-1).indices
    garde = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, indices, True)
    return logits.masked_fill(~garde, float("-inf"))
''',
    # The usual sort-and-scatter nucleus: right on distinct probabilities, but tokens tied at
    # the border are cut by their order in the sort.
    "top-p": '''
def filtre_top_p(logits, p):
    if not 0 < p <= 1:
        raise ValueError(f"p doit être dans ]0, 1], reçu {p}")
    if p == 1:
        return logits.clone()
    tries, ordre = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(tries.double(), dim=-1)
    masse_avant = torch.cumsum(probs, dim=-1) - probs
    garde = torch.zeros_like(masse_avant, dtype=torch.bool).scatter(-1, ordre, masse_avant < p)
    return logits.masked_fill(~garde, float("-inf"))
''',
    # Filters before the temperature: the nucleus is computed on the wrong distribution.
    "echantillonner": '''
def echantillonner(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    if top_k is not None:
        logits = filtre_top_k(logits, top_k)
    if top_p is not None:
        logits = filtre_top_p(logits, top_p)
    probs = torch.softmax(appliquer_temperature(logits, temperature), dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
''',
    # Forgets set_seed(seed): greedy rows are right, sampled ones are not reproducible (this
    # also breaks the sampled row of the table).
    "generer-ids": '''
def generer_ids(prompt, options, max_new_tokens=MAX_NEW_TOKENS, seed=0):
    entrees = tokenizer(prompt, return_tensors="pt").to(model.device)
    with torch.no_grad():
        sortie = model.generate(**entrees, max_new_tokens=max_new_tokens, **options)
    return sortie[0, entrees["input_ids"].shape[1]:].tolist()
''',
}
LOSES = {
    "test-top-k-cache",
    "test-top-p-cache",
    "test-echantillonner-cache",
    "test-generer-ids-cache",
    "test-tableau-cache",
}

# Each passes the visible tests; tests/test_grading_cases.py checks what each one loses.
# (WRONG's four mistakes go through the whole pipeline in test_grading.py; these are others.)
CASES = {
    # Ignores the generator: reseeds the global state with its seed. Two generators of the same
    # seed still agree (the visible test), but the stream does not advance from call to call
    # and the global state is overwritten.
    "reprend la graine du générateur": {"patches": {"echantillonner": '''
def echantillonner(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    if generator is not None:
        torch.manual_seed(generator.initial_seed())
    logits = appliquer_temperature(logits, temperature)
    if top_k is not None:
        logits = filtre_top_k(logits, top_k)
    if top_p is not None:
        logits = filtre_top_p(logits, top_p)
    return torch.multinomial(torch.softmax(logits, dim=-1), 1).squeeze(-1)
'''}, "loses": {"test-echantillonner-cache"}},
    # squeeze() without a dimension: (B, V) -> (B,) and (V,) -> () are right, but a batch of
    # one row, (1, V), loses its batch dimension.
    "squeeze sans dimension": {"patches": {"echantillonner": '''
def echantillonner(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    logits = appliquer_temperature(logits, temperature)
    if top_k is not None:
        logits = filtre_top_k(logits, top_k)
    if top_p is not None:
        logits = filtre_top_p(logits, top_p)
    return torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze()
'''}, "loses": {"test-echantillonner-cache"}},
    # Drops its seed: right for comparer(PROMPT), the table of the notebook.
    "comparer oublie la graine": {"patches": {"comparer": '''
def comparer(prompt, max_new_tokens=MAX_NEW_TOKENS, seed=0):
    lignes = []
    for strategie, parametres, options in STRATEGIES:
        ids = generer_ids(prompt, options, max_new_tokens)
        lignes.append([strategie, parametres, tokenizer.decode(ids, skip_special_tokens=True),
                       len(ids), distinct_2(ids), entropie_moyenne(prompt, ids)])
    return pd.DataFrame(lignes, columns=COLONNES)
'''}, "loses": {"test-tableau-cache"}},
    # Drops max_new_tokens: the default budget whatever it is asked.
    "comparer oublie le budget": {"patches": {"comparer": '''
def comparer(prompt, max_new_tokens=MAX_NEW_TOKENS, seed=0):
    lignes = []
    for strategie, parametres, options in STRATEGIES:
        ids = generer_ids(prompt, options, seed=seed)
        lignes.append([strategie, parametres, tokenizer.decode(ids, skip_special_tokens=True),
                       len(ids), distinct_2(ids), entropie_moyenne(prompt, ids)])
    return pd.DataFrame(lignes, columns=COLONNES)
'''}, "loses": {"test-tableau-cache"}},
}

# Right, written otherwise: a flat view for multinomial, model.generate with an explicit
# attention mask and torch.manual_seed, a table built column by column.
ALTERNATIVE = {
    "echantillonner": '''
def echantillonner(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    z = appliquer_temperature(logits, temperature)
    z = z if top_k is None else filtre_top_k(z, top_k)
    z = z if top_p is None else filtre_top_p(z, top_p)
    lignes = torch.softmax(z, dim=-1).reshape(-1, z.shape[-1])
    return torch.multinomial(lignes, 1, generator=generator).reshape(z.shape[:-1])
''',
    "generer-ids": '''
def generer_ids(prompt, options, max_new_tokens=MAX_NEW_TOKENS, seed=0):
    torch.manual_seed(seed)
    ids = tokenizer(prompt, return_tensors="pt").input_ids.to(model.device)
    with torch.inference_mode():
        sortie = model.generate(ids, attention_mask=torch.ones_like(ids),
                                max_new_tokens=max_new_tokens, **options)
    return [int(i) for i in sortie[0, ids.shape[1]:]]
''',
    "comparer": '''
def comparer(prompt, max_new_tokens=MAX_NEW_TOKENS, seed=0):
    suites = [generer_ids(prompt, o, max_new_tokens=max_new_tokens, seed=seed)
              for _, _, o in STRATEGIES]
    return pd.DataFrame({
        "strategie": [s for s, _, _ in STRATEGIES],
        "parametres": [p for _, p, _ in STRATEGIES],
        "texte": tokenizer.batch_decode(suites, skip_special_tokens=True),
        "n_tokens": [len(ids) for ids in suites],
        "distinct_2": [distinct_2(ids) for ids in suites],
        "entropie_moyenne": [entropie_moyenne(prompt, ids) for ids in suites],
    })
''',
}
