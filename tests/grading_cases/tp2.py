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
