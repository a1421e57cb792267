"""Experiment 1 (learning curves of an MLP): wrong-but-plausible answers and a correct variant.

Each case passes every visible test; tests/test_grading_cases.py checks it loses exactly ``loses``.
"""

SANS_EVAL = '''
def evaluer(model, X, y):
    with torch.no_grad():
        logits = model(X)
        return F.cross_entropy(logits, y).item(), (logits.argmax(-1) == y).float().mean().item()
'''

WRONG = {"evaluer": SANS_EVAL}
LOSES = {"test-evaluer-cache"}

CASES = {
    # Forgets model.eval(): a model with dropout is evaluated with dropout on.
    "oublie model.eval()": {"patches": {"evaluer": SANS_EVAL}, "loses": {"test-evaluer-cache"}},
    # Softmax before F.cross_entropy, which applies its own log-softmax (ln 2 for zero logits).
    "double softmax": {"patches": {"evaluer": '''
def evaluer(model, X, y):
    model.eval()
    with torch.no_grad():
        logits = model(X)
        perte = F.cross_entropy(torch.softmax(logits, dim=-1), y).item()
        return perte, (logits.argmax(-1) == y).float().mean().item()
'''}, "loses": {"test-evaluer-cache"}},
    # Never zeroes the gradients: they accumulate from one epoch to the next.
    "oublie zero_grad": {"patches": {"entrainer": '''
def entrainer(model, X, y, epoques, lr):
    optimiseur = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    pertes = []
    for _ in range(epoques):
        perte = F.cross_entropy(model(X), y)
        perte.backward()
        optimiseur.step()
        pertes.append(perte.item())
    return pertes
'''}, "loses": {"test-entrainer-cache"}},
    # Builds a new Adam at every epoch: its moment estimates restart from zero each time.
    "recrée l'optimiseur à chaque époque": {"patches": {"entrainer": '''
def entrainer(model, X, y, epoques, lr):
    model.train()
    pertes = []
    for _ in range(epoques):
        optimiseur = torch.optim.Adam(model.parameters(), lr=lr)
        optimiseur.zero_grad()
        perte = F.cross_entropy(model(X), y)
        perte.backward()
        optimiseur.step()
        pertes.append(perte.item())
    return pertes
'''}, "loses": {"test-entrainer-cache"}},
    # One model for every size: each size goes on training the previous one.
    "un seul modèle pour toutes les tailles": {"patches": {"courbe-apprentissage": '''
def courbe_apprentissage(tailles):
    model = creer_mlp(0)
    lignes = []
    for n in tailles:
        entrainer(model, X_reserve[:n], y_reserve[:n], EPOQUES, LR)
        lignes.append([n, *evaluer(model, X_reserve[:n], y_reserve[:n]), *evaluer(model, X_val, y_val)])
    return pd.DataFrame(lignes, columns=COLONNES)
'''}, "loses": {"test-courbe-cache"}},
    # Measures the training metrics on the whole reserve, not on the n points it trained on.
    "train mesuré sur toute la réserve": {"patches": {"courbe-apprentissage": '''
def courbe_apprentissage(tailles):
    lignes = []
    for n in tailles:
        model = creer_mlp(0)
        entrainer(model, X_reserve[:n], y_reserve[:n], EPOQUES, LR)
        lignes.append([n, *evaluer(model, X_reserve, y_reserve), *evaluer(model, X_val, y_val)])
    return pd.DataFrame(lignes, columns=COLONNES)
'''}, "loses": {"test-courbe-cache"}},
}

# Right, written otherwise: log-softmax and gather; the negative log-likelihood by hand with
# zero_grad(set_to_none=False); the table built column by column.
ALTERNATIVE = {
    "evaluer": '''
def evaluer(model, X, y):
    model.train(False)
    with torch.inference_mode():
        log_p = torch.log_softmax(model(X), dim=1)
    perte = -log_p.gather(1, y[:, None]).mean()
    return float(perte), float(accuracy_score(y.cpu().numpy(), log_p.argmax(1).cpu().numpy()))
''',
    "entrainer": '''
def entrainer(model, X, y, epoques, lr):
    model.train(True)
    opt = torch.optim.Adam(model.parameters(), lr)
    historique = []
    for epoque in range(epoques):
        opt.zero_grad(set_to_none=False)
        log_p = torch.log_softmax(model(X), dim=-1)
        perte = -log_p[torch.arange(len(y)), y].mean()
        historique.append(float(perte))
        perte.backward()
        opt.step()
    return historique
''',
    "courbe-apprentissage": '''
def courbe_apprentissage(tailles):
    colonnes = {nom: [] for nom in COLONNES}
    for n in tailles:
        mlp = creer_mlp(seed=0)
        Xn, yn = X_reserve[:n], y_reserve[:n]
        entrainer(mlp, Xn, yn, epoques=EPOQUES, lr=LR)
        valeurs = (n, *evaluer(mlp, Xn, yn), *evaluer(mlp, X_val, y_val))
        for nom, v in zip(COLONNES, valeurs):
            colonnes[nom].append(v)
    return pd.DataFrame(colonnes)
''',
}
