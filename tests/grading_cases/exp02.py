"""Experiment 2 (regularisation: L2 penalty and dropout): wrong-but-plausible answers and a
correct variant.

Each case passes every visible test; tests/test_grading_cases.py checks it loses exactly ``loses``.
"""

AVANT_LE_PAS = '''
def entrainer(model, X, y, X_val, y_val, epoques, lr, lambda_l2=0.0):
    optimiseur = torch.optim.Adam(model.parameters(), lr=lr)
    poids = [p for nom, p in model.named_parameters() if nom.endswith("weight")]
    historique = {cle: [] for cle in CLES}
    for _ in range(epoques):
        mesures = [*evaluer(model, X, y), *evaluer(model, X_val, y_val)]
        for cle, valeur in zip(CLES, mesures):
            historique[cle].append(valeur)
        model.train()
        optimiseur.zero_grad()
        perte = F.cross_entropy(model(X), y) + lambda_l2 / 2 * sum((w ** 2).sum() for w in poids)
        perte.backward()
        optimiseur.step()
    return historique
'''

WRONG = {"entrainer": AVANT_LE_PAS}
LOSES = {"test-entrainer-cache", "test-l2-cache"}


def _entrainer(penalite: str, train_avant_la_boucle: bool = False) -> str:
    """The solution's loop with another penalty line, or model.train() called once."""
    train = ("    model.train()\n", "") if train_avant_la_boucle else ("", "        model.train()\n")
    return f'''
def entrainer(model, X, y, X_val, y_val, epoques, lr, lambda_l2=0.0):
    optimiseur = torch.optim.Adam(model.parameters(), lr=lr)
    historique = {{cle: [] for cle in CLES}}
{train[0]}    for _ in range(epoques):
{train[1]}        optimiseur.zero_grad()
        perte = F.cross_entropy(model(X), y) + {penalite}
        perte.backward()
        optimiseur.step()
        mesures = [*evaluer(model, X, y), *evaluer(model, X_val, y_val)]
        for cle, valeur in zip(CLES, mesures):
            historique[cle].append(valeur)
    return historique
'''


POIDS_SEULS = ('lambda_l2 / 2 * sum((p ** 2).sum() for n, p in model.named_parameters() '
               'if n.endswith("weight"))')

CASES = {
    # One dropout only, before the output layer: the hidden layers are never dropped.
    "un seul dropout, avant la sortie": {"patches": {"creer-mlp": '''
def creer_mlp(p_dropout=0.0, seed=0):
    if not 0 <= p_dropout < 1:
        raise ValueError(f"p_dropout ({p_dropout}) doit être dans [0, 1)")
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, CACHEE), nn.ReLU(), nn.Linear(CACHEE, CACHEE), nn.ReLU(),
                         nn.Dropout(p_dropout), nn.Linear(CACHEE, 2)).to(device)
'''}, "loses": {"test-creer-mlp-cache"}},
    # Leaves the check of p to nn.Dropout, which accepts p = 1 (every activation dropped).
    "p = 1 accepté (contrôle laissé à nn.Dropout)": {"patches": {"creer-mlp": '''
def creer_mlp(p_dropout=0.0, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, CACHEE), nn.ReLU(), nn.Dropout(p_dropout),
                         nn.Linear(CACHEE, CACHEE), nn.ReLU(), nn.Dropout(p_dropout),
                         nn.Linear(CACHEE, 2)).to(device)
'''}, "loses": {"test-creer-mlp-cache"}},
    # Its own dropout, which keeps the surviving activations without the 1/(1-p) factor.
    "dropout maison sans le facteur 1/(1-p)": {"patches": {"creer-mlp": '''
class Eteindre(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, h):
        if not self.training:
            return h
        return h * (torch.rand_like(h) >= self.p)


def creer_mlp(p_dropout=0.0, seed=0):
    if not 0 <= p_dropout < 1:
        raise ValueError(f"p_dropout ({p_dropout}) doit être dans [0, 1)")
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, CACHEE), nn.ReLU(), Eteindre(p_dropout),
                         nn.Linear(CACHEE, CACHEE), nn.ReLU(), Eteindre(p_dropout),
                         nn.Linear(CACHEE, 2)).to(device)
'''}, "loses": {"test-creer-mlp-cache"}},
    # model.train() once before the loop, as in experiment 1: evaluer leaves the model in
    # evaluation mode, so dropout is off from the second epoch on.
    "model.train() une seule fois": {
        "patches": {"entrainer": _entrainer(POIDS_SEULS, train_avant_la_boucle=True)},
        "loses": {"test-entrainer-cache"}},
    # The history measured before each step: every entry is one epoch late.
    "historique décalé d'une époque": {"patches": {"entrainer": AVANT_LE_PAS},
                                        "loses": {"test-entrainer-cache", "test-l2-cache"}},
    # lambda * ||W||^2 without the 1/2: twice the weight decay of the optimizer.
    "pénalité sans le 1/2": {
        "patches": {"entrainer": _entrainer(POIDS_SEULS.replace("lambda_l2 / 2", "lambda_l2"))},
        "loses": {"test-l2-cache"}},
    # The penalty on every parameter, biases included.
    "pénalité sur les biais aussi": {
        "patches": {"entrainer": _entrainer(
            "lambda_l2 / 2 * sum((p ** 2).sum() for p in model.parameters())")},
        "loses": {"test-l2-cache"}},
    # Forgets model.eval(): a model with dropout draws a noisy map.
    "grille avec le dropout actif": {"patches": {"grille": '''
def grille_probabilites(model, xlim, ylim, nx, ny):
    xx, yy = np.meshgrid(np.linspace(xlim[0], xlim[1], nx), np.linspace(ylim[0], ylim[1], ny))
    points = torch.tensor(np.column_stack([xx.ravel(), yy.ravel()]), dtype=torch.float32,
                          device=device)
    with torch.no_grad():
        probas = torch.softmax(model(points), dim=-1)[:, 1]
    return xx, yy, probas.cpu().numpy().reshape(ny, nx)
'''}, "loses": {"test-grille-cache"}},
    # Points listed x-major (for x ... for y ...) then reshaped to (ny, nx): axes mixed up.
    "axes de la grille échangés": {"patches": {"grille": '''
def grille_probabilites(model, xlim, ylim, nx, ny):
    xs, ys = np.linspace(xlim[0], xlim[1], nx), np.linspace(ylim[0], ylim[1], ny)
    xx, yy = np.meshgrid(xs, ys)
    points = torch.tensor([[x, y] for x in xs for y in ys], dtype=torch.float32, device=device)
    model.eval()
    with torch.no_grad():
        probas = torch.softmax(model(points), dim=-1)[:, 1]
    return xx, yy, probas.cpu().numpy().reshape(ny, nx)
'''}, "loses": {"test-grille-cache"}},
}

# Right, written otherwise: a module class with F.dropout; weight decay through two parameter
# groups of Adam; the grid with torch.meshgrid and a sigmoid of the logit difference.
ALTERNATIVE = {
    "creer-mlp": '''
class MLP(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p
        self.c1, self.c2, self.sortie = nn.Linear(2, CACHEE), nn.Linear(CACHEE, CACHEE), nn.Linear(CACHEE, 2)

    def forward(self, x):
        h = F.dropout(torch.relu(self.c1(x)), self.p, self.training)
        h = F.dropout(torch.relu(self.c2(h)), self.p, self.training)
        return self.sortie(h)


def creer_mlp(p_dropout=0.0, seed=0):
    if p_dropout < 0 or p_dropout >= 1:
        raise ValueError(f"p_dropout doit vérifier 0 <= p < 1, reçu {p_dropout}")
    torch.manual_seed(seed)
    return MLP(p_dropout).to(device)
''',
    "entrainer": '''
def entrainer(model, X, y, X_val, y_val, epoques, lr, lambda_l2=0.0):
    groupes = {"poids": [], "biais": []}
    for nom, p in model.named_parameters():
        groupes["poids" if nom.endswith("weight") else "biais"].append(p)
    opt = torch.optim.Adam([{"params": groupes["poids"], "weight_decay": lambda_l2},
                            {"params": groupes["biais"]}], lr=lr)
    lignes = []
    for epoque in range(epoques):
        model.train(True)
        opt.zero_grad(set_to_none=False)
        F.cross_entropy(model(X), y).backward()
        opt.step()
        lignes.append(evaluer(model, X, y) + evaluer(model, X_val, y_val))
    return {cle: [float(ligne[i]) for ligne in lignes] for i, cle in enumerate(CLES)}
''',
    "grille": '''
def grille_probabilites(model, xlim, ylim, nx, ny):
    gx = torch.linspace(xlim[0], xlim[1], nx, dtype=torch.float64)
    gy = torch.linspace(ylim[0], ylim[1], ny, dtype=torch.float64)
    xx, yy = torch.meshgrid(gx, gy, indexing="xy")
    model.train(False)
    with torch.inference_mode():
        logits = model(torch.stack([xx, yy], dim=-1).reshape(-1, 2).float().to(device))
        probas = torch.sigmoid(logits[:, 1] - logits[:, 0]).reshape(ny, nx)
    return xx.numpy(), yy.numpy(), probas.cpu().double().numpy()
''',
}
