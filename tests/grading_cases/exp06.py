"""Expérience 6 (têtes d'attention) for tests/test_grading.py and tests/test_grading_cases.py.

``WRONG`` passes every visible test but not the hidden ones, which must take ``LOSES`` away.
"""

WRONG = {
    # 0 · ln 0 computed as 0 · (−inf) = nan: fine while no weight is exactly zero (visible).
    "entropie": '''
def entropie_tetes(att):
    return (-(att * torch.log(att)).sum(dim=-1)).mean(dim=-1).float()
''',
}
LOSES = {"test-entropie-cache"}

# Each passes the visible tests; tests/test_grading_cases.py checks what each one loses.
CASES = {
    "nan sur les poids nuls": {"patches": WRONG, "loses": LOSES},
    # Takes the rows (queries) `positions` instead of the columns (keys): equal when uniform.
    "axe des requêtes": {"patches": {"masse": '''
def masse_sur(att, positions):
    return att[..., list(positions), :].sum(dim=-2).mean(dim=-1).float()
'''}, "loses": {"test-masse-cache"}},
    # Off by one: the loop stops before the last query; right when every a[i, i-1] is equal.
    "oublie la dernière requête": {"patches": {"precedent": '''
def masse_precedent(att):
    T = att.shape[-1]
    valeurs = [att[..., i, i - 1] for i in range(1, T - 1)]
    return torch.stack(valeurs, dim=-1).mean(dim=-1).float()
'''}, "loses": {"test-precedent-cache"}},
}

# Right, written otherwise: torch.where for 0 ln 0; index_select; an explicit loop.
ALTERNATIVE = {
    "entropie": '''
def entropie_tetes(att):
    termes = torch.where(att > 0, att * torch.log(att.clamp_min(1e-30)), torch.zeros_like(att))
    return -termes.sum(-1).mean(-1).to(torch.float32)
''',
    "masse": '''
def masse_sur(att, positions):
    index = torch.tensor(list(positions), dtype=torch.long)
    return torch.index_select(att, -1, index).sum(-1).mean(-1).to(torch.float32)
''',
    "precedent": '''
def masse_precedent(att):
    T = att.shape[-1]
    total = torch.zeros(att.shape[:2])
    for i in range(1, T):
        total += att[..., i, i - 1]
    return (total / (T - 1)).float()
''',
}
