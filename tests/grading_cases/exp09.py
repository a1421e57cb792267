"""Experiment 9 (temperature and entropy): wrong-but-plausible answers and a correct variant.

Each case passes every visible test; tests/test_grading_cases.py checks it loses exactly ``loses``.
"""

ENTROPIE_EN_NATS = '''
def entropie(p, base=math.e):
    if not base > 0 or base == 1:
        raise ValueError(f"base interdite : {base!r}")
    return -torch.where(p > 0, p * torch.log(torch.where(p > 0, p, 1.0)), 0.0).sum(dim=-1)
'''

WRONG = {"entropie": ENTROPIE_EN_NATS}
LOSES = {"test-entropie-base", "test-tableau-cache"}

CASES = {
    # Always answers in nats: the visible test only uses the default base.
    "ignore la base": {"patches": {"entropie": ENTROPIE_EN_NATS},
                       "loses": {"test-entropie-base", "test-tableau-cache"}},
    # Drops the zeros with a boolean index: right for one distribution, but a batch is flattened
    # into a single sum.
    "aplatit le lot": {"patches": {"entropie": '''
def entropie(p, base=math.e):
    if not base > 0 or base == 1:
        raise ValueError(f"base interdite : {base!r}")
    q = p[p > 0]
    return -(q * torch.log(q)).sum() / math.log(base)
'''}, "loses": {"test-entropie-lot"}},
    # Reads the logits at the first position (the token after the first one), not the last.
    "première position": {"patches": {"loi-suivante": '''
def loi_suivante(prompt, T):
    if T <= 0:
        raise ValueError(f"T doit être > 0, reçu {T}")
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"].to(device)
    with torch.no_grad():
        z = model(ids).logits[0, 0].float().cpu()
    return torch.softmax(z / T, dim=-1)
'''}, "loses": {"test-loi-cache", "test-tableau-cache"}},
    # Ignores its argument: always the experiment's temperatures.
    "ignore temperatures": {"patches": {"tableau-temperatures": '''
def tableau_temperatures(prompt, temperatures):
    lignes = []
    for T in TEMPERATURES:
        p = loi_suivante(prompt, T)
        h = float(entropie(p))
        lignes.append([T, h, float(entropie(p, base=2)), math.exp(h), float(p.max()),
                       tokenizer.decode([int(p.argmax())])])
    return pd.DataFrame(lignes, columns=COLONNES)
'''}, "loses": {"test-tableau-cache"}},
    # Greedy "sampling": reproducible and within the support, but always the top token.
    "tire toujours le maximum": {"patches": {"tirer-tokens": '''
def tirer_tokens(p, n, seed):
    torch.manual_seed(seed)
    return [int(p.argmax())] * n
'''}, "loses": {"test-tirer-cache"}},
}

# Right, written otherwise: nan_to_num for 0 log 0; p(T) ∝ p(1)^(1/T) in log space; columns built
# as lists; inverse-CDF sampling with a local generator.
ALTERNATIVE = {
    "entropie": '''
def entropie(p, base=math.e):
    if base <= 0 or base == 1:
        raise ValueError("base > 0 et != 1")
    termes = torch.nan_to_num(p * torch.log(p), nan=0.0)
    return -termes.sum(-1) / math.log(base)
''',
    "loi-suivante": '''
def loi_suivante(prompt, T):
    if T <= 0:
        raise ValueError("T > 0")
    entrees = tokenizer(prompt, return_tensors="pt").to(device)
    with torch.inference_mode():
        log_p1 = torch.log_softmax(model(**entrees).logits[0, -1].float(), dim=-1)
    return torch.softmax(log_p1 / T, dim=-1).cpu()
''',
    "tableau-temperatures": '''
def tableau_temperatures(prompt, temperatures):
    lois = [loi_suivante(prompt, T) for T in temperatures]
    nats = [entropie(p).item() for p in lois]
    return pd.DataFrame({
        "T": list(temperatures),
        "entropie_nats": nats,
        "entropie_bits": [h / math.log(2) for h in nats],
        "choix_effectifs": [math.exp(h) for h in nats],
        "prob_max": [p.max().item() for p in lois],
        "token_max": [tokenizer.decode(p.argmax().item()) for p in lois],
    })
''',
    "tirer-tokens": '''
def tirer_tokens(p, n, seed):
    g = torch.Generator()
    g.manual_seed(seed)
    u = torch.rand(n, generator=g, dtype=torch.float64)
    cumul = torch.cumsum(p.double(), dim=0)
    return torch.searchsorted(cumul, u, right=True).clamp(max=len(p) - 1).tolist()
''',
}
