"""Experiment 7 (cost of self-attention against an RNN): wrong-but-plausible answers and a correct
variant.

Each case passes every visible test; tests/test_grading_cases.py checks it loses exactly ``loses``.
The measured times never decide a grade: the hidden tests check the blocks against torch, the
timer against functions that sleep or count their calls, the slope against numpy.polyfit on
synthetic power laws, and the counts against their closed forms.
"""

DIVISE_PAR_DK = '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.transpose(-2, -1) / Q.shape[-1]
    if causal:
        T = X.shape[-2]
        futur = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        scores = scores.masked_fill(futur, float("-inf"))
    return torch.softmax(scores, dim=-1) @ V
'''

WRONG = {"self-attention": DIVISE_PAR_DK}
LOSES = {"test-attention-cache", "test-attention-causal"}

# The statement's input checks, shared by the two wrong slopes below.
PENTE_ENTREE = '''
def pente_loglog(longueurs, temps):
    u, v = np.asarray(longueurs, dtype=float), np.asarray(temps, dtype=float)
    if u.shape != v.shape or len(u) < 2:
        raise ValueError("deux séquences de même longueur >= 2")
    if (u <= 0).any() or (v <= 0).any():
        raise ValueError("valeurs > 0 attendues")
'''

CASES = {
    # Stores the state before the update: the outputs are h_0 … h_{T-1}, shifted by one step
    # (causal, bounded, depends on the past: every visible check still holds).
    "état avant la mise à jour": {"patches": {"rnn-block": '''
def rnn_block(X, W_x, W_h, b, h0=None):
    B, T, _ = X.shape
    h = X.new_zeros(B, W_h.shape[0]) if h0 is None else h0
    etats = []
    for t in range(T):
        etats.append(h)
        h = torch.tanh(X[:, t] @ W_x.T + h @ W_h.T + b)
    return torch.stack(etats, dim=1)
'''}, "loses": {"test-rnn-cache", "test-rnn-h0"}},
    # Always starts from a zero state: the argument h0 is ignored.
    "ignore h0": {"patches": {"rnn-block": '''
def rnn_block(X, W_x, W_h, b, h0=None):
    B, T, _ = X.shape
    h = torch.zeros(B, W_h.shape[0])
    etats = []
    for t in range(T):
        h = torch.tanh(X[:, t] @ W_x.T + h @ W_h.T + b)
        etats.append(h)
    return torch.stack(etats, dim=1)
'''}, "loses": {"test-rnn-h0"}},
    # Divides the scores by d_k instead of √d_k: identical positions still give x W_v.
    "divise par d_k": {"patches": {"self-attention": DIVISE_PAR_DK},
                       "loses": {"test-attention-cache", "test-attention-causal"}},
    # Causal mask off by one: the diagonal is masked too, so each position sees only the strict
    # past; the first row is all −∞, and its nan is hidden with nan_to_num (a row of zeros).
    "diagonale masquée": {"patches": {"self-attention": '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if causal:
        T = X.shape[-2]
        scores = scores.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool)), float("-inf"))
    return torch.nan_to_num(torch.softmax(scores, dim=-1)) @ V
'''}, "loses": {"test-attention-causal"}},
    # Starts the clock before the warm-up and averages over every call.
    "échauffement chronométré": {"patches": {"mesurer": '''
def mesurer(fonction, argument, n=REPETITIONS, echauffement=1):
    debut = time.perf_counter()
    for _ in range(echauffement + n):
        fonction(argument)
    return (time.perf_counter() - debut) / (echauffement + n)
'''}, "loses": {"test-mesurer-cache"}},
    # Ignores its argument n: always REPETITIONS timed calls (right with the default only).
    "ignore n": {"patches": {"mesurer": '''
def mesurer(fonction, argument, n=REPETITIONS, echauffement=1):
    for _ in range(echauffement):
        fonction(argument)
    debut = time.perf_counter()
    for _ in range(REPETITIONS):
        fonction(argument)
    return (time.perf_counter() - debut) / REPETITIONS
'''}, "loses": {"test-mesurer-cache"}},
    # The slope of the two end points: exact on a perfect power law, not the least-squares fit.
    "pente des extrémités": {"patches": {"pente-loglog": PENTE_ENTREE + '''
    return float((math.log(v[-1]) - math.log(v[0])) / (math.log(u[-1]) - math.log(u[0])))
'''}, "loses": {"test-pente-cache"}},
    # The mean of the local slopes between neighbours: exact on a perfect power law too.
    "moyenne des pentes locales": {"patches": {"pente-loglog": PENTE_ENTREE + '''
    return float(np.mean(np.diff(np.log(v)) / np.diff(np.log(u))))
'''}, "loses": {"test-pente-cache"}},
    # Counts Q Kᵀ but forgets the weighted average A V (T²·d operations).
    "oublie le produit AV": {"patches": {"couts-theoriques": '''
def couts_theoriques(T, d, lot=1, octets=4):
    return {"rnn": lot * 2 * T * d * d, "attention": lot * (3 * T * d * d + T * T * d),
            "scores_octets": lot * T * T * octets}
'''}, "loses": {"test-couts-cache"}},
}

# Right, written otherwise: the input projection for all steps before the loop, into a
# preallocated tensor; einsum and a lower-triangular "allowed" mask with torch.where; per-call
# durations in nanoseconds, averaged; the slope from np.linalg.lstsq in base 2; the counts
# factored differently.
ALTERNATIVE = {
    "rnn-block": '''
def rnn_block(X, W_x, W_h, b, h0=None):
    B, T, _ = X.shape
    H = W_h.shape[0]
    entrees = torch.einsum("btd,hd->bth", X, W_x) + b
    sorties = X.new_empty(B, T, H)
    h = X.new_zeros(B, H) if h0 is None else h0.clone()
    for t in range(T):
        h = torch.tanh(entrees[:, t] + h @ W_h.T)
        sorties[:, t] = h
    return sorties
''',
    "self-attention": '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q = torch.einsum("btd,dk->btk", X, W_q)
    K = torch.einsum("btd,dk->btk", X, W_k)
    V = torch.einsum("btd,dv->btv", X, W_v)
    scores = torch.einsum("bik,bjk->bij", Q, K) * Q.shape[-1] ** -0.5
    if causal:
        T = scores.shape[-1]
        permis = torch.tril(torch.ones(T, T, device=scores.device)).bool()
        scores = torch.where(permis, scores, float("-inf"))
    poids = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
    poids = poids / poids.sum(dim=-1, keepdim=True)
    return torch.einsum("bij,bjv->biv", poids, V)
''',
    "mesurer": '''
def mesurer(fonction, argument, n=REPETITIONS, echauffement=1):
    gpu = torch.cuda.is_available()
    for _ in range(echauffement):
        fonction(argument)
    durees = []
    for _ in range(n):
        if gpu:
            torch.cuda.synchronize()
        t0 = time.perf_counter_ns()
        fonction(argument)
        if gpu:
            torch.cuda.synchronize()
        durees.append(time.perf_counter_ns() - t0)
    return sum(durees) / len(durees) / 1e9
''',
    "pente-loglog": '''
def pente_loglog(longueurs, temps):
    longueurs, temps = list(longueurs), list(temps)
    if len(longueurs) != len(temps) or len(longueurs) < 2:
        raise ValueError("longueurs et temps : même taille, au moins 2")
    if min(longueurs) <= 0 or min(temps) <= 0:
        raise ValueError("valeurs strictement positives attendues")
    A = np.stack([np.log2(np.array(longueurs, dtype=float)), np.ones(len(longueurs))], axis=1)
    solution, *_ = np.linalg.lstsq(A, np.log2(np.array(temps, dtype=float)), rcond=None)
    return float(solution[0])
''',
    "couts-theoriques": '''
def couts_theoriques(T, d, lot=1, octets=4):
    projections = 3 * lot * T * d**2
    scores = lot * T**2 * d
    return {"rnn": int(2 * lot * T * d**2), "attention": int(projections + 2 * scores),
            "scores_octets": int(octets * lot * T**2)}
''',
}
