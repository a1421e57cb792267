"""Experiment 3 (vanishing gradient in an RNN): wrong-but-plausible answers and a correct variant.

Each case passes every visible test; tests/test_grading_cases.py checks it loses exactly ``loses``.
"""

DERNIER_BIT = '''
def generer_donnees(n, T, generator):
    bits = torch.randint(0, 2, (n, T), generator=generator)
    return (2 * bits - 1).float().unsqueeze(-1), bits[:, -1].float()
'''

WRONG = {"generer-donnees": DERNIER_BIT}
LOSES = {"test-donnees-cache"}

CASES = {
    # The label is the last bit, the one next to the prediction: no long-range dependency left.
    "étiquette = dernier bit": {"patches": {"generer-donnees": DERNIER_BIT},
                                "loses": {"test-donnees-cache"}},
    # Draws with the global random state: the generator argument is ignored.
    "générateur ignoré": {"patches": {"generer-donnees": '''
def generer_donnees(n, T, generator):
    bits = torch.randint(0, 2, (n, T))
    return (2 * bits - 1).float().unsqueeze(-1), bits[:, 0].float()
'''}, "loses": {"test-donnees-cache"}},
    # Differentiates the sum of the logits (the output), not the loss.
    "gradient de la sortie, pas de la perte": {"patches": {"norme-gradient": '''
def norme_gradient_par_position(model, x, y):
    x = x.detach().clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(model(x).sum(), x)
    return gradient.norm(dim=(0, 2)).cpu()
'''}, "loses": {"test-gradient-cache"}},
    # Sets requires_grad on the caller's x and reads x.grad: a second call on the same x
    # accumulates into the first call's gradient.
    "x.grad qui s'accumule": {"patches": {"norme-gradient": '''
def norme_gradient_par_position(model, x, y):
    x.requires_grad_(True)
    F.binary_cross_entropy_with_logits(model(x), y).backward()
    return x.grad.norm(dim=(0, 2)).detach().cpu()
'''}, "loses": {"test-gradient-cache"}},
    # Thresholds the logit at 0.5 as if it were a probability.
    "seuil 0,5 sur le logit": {"patches": {"exactitude": '''
def exactitude(model, x, y):
    model.eval()
    with torch.no_grad():
        predictions = (model(x) > 0.5).float()
    return (predictions == y).float().mean().item()
'''}, "loses": {"test-exactitude-cache"}},
    # One model per cell type: each length goes on training the model of the previous one.
    "un seul modèle pour toutes les longueurs": {"patches": {"experience": '''
def experience(longueurs):
    lignes = []
    for cellule in CELLULES:
        model = creer_modele(cellule)
        for T in longueurs:
            generateur = torch.Generator().manual_seed(GRAINE_DONNEES)
            g = norme_gradient_par_position(model, *lot(N_GRAD, T, generateur))
            normes = entrainer(model, T, PAS, generateur)
            acc = exactitude(model, *lot(N_TEST, T, generateur))
            lignes.append([cellule, T, float(g[0]), float(g[-1]), sum(normes) / len(normes), acc])
    return pd.DataFrame(lignes, columns=COLONNES)
'''}, "loses": {"test-experience-cache"}},
    # Measures the gradient after training instead of at initialisation.
    "gradient mesuré après l'entraînement": {"patches": {"experience": '''
def experience(longueurs):
    lignes = []
    for cellule in CELLULES:
        for T in longueurs:
            model = creer_modele(cellule)
            generateur = torch.Generator().manual_seed(GRAINE_DONNEES)
            normes = entrainer(model, T, PAS, generateur)
            g = norme_gradient_par_position(model, *lot(N_GRAD, T, generateur))
            acc = exactitude(model, *lot(N_TEST, T, generateur))
            lignes.append([cellule, T, float(g[0]), float(g[-1]), sum(normes) / len(normes), acc])
    return pd.DataFrame(lignes, columns=COLONNES)
'''}, "loses": {"test-experience-cache"}},
}

# Right, written otherwise: torch.where for the ±1 coding; backward on a copy and one norm per
# position in a loop; sigmoid > 1/2 and scikit-learn; the table built column by column.
ALTERNATIVE = {
    "generer-donnees": '''
def generer_donnees(n, T, generator):
    bits = torch.randint(0, 2, size=(n, T), generator=generator)
    x = torch.where(bits == 1, 1.0, -1.0)[:, :, None]
    return x.to(torch.float32), bits[:, 0].to(torch.float32)
''',
    "norme-gradient": '''
def norme_gradient_par_position(model, x, y):
    entrees = x.clone().detach()
    entrees.requires_grad = True
    perte = F.binary_cross_entropy_with_logits(model(entrees), y, reduction="sum") / len(y)
    perte.backward()
    normes = [torch.linalg.vector_norm(entrees.grad[:, t]) for t in range(entrees.shape[1])]
    return torch.stack(normes).detach().to("cpu", torch.float32)
''',
    "exactitude": '''
def exactitude(model, x, y):
    model.train(False)
    with torch.inference_mode():
        p = torch.sigmoid(model(x))
    return float(accuracy_score(y.cpu().numpy(), (p > 0.5).float().cpu().numpy()))
''',
    "experience": '''
def experience(longueurs):
    colonnes = {nom: [] for nom in COLONNES}
    for cellule, T in [(c, T) for c in CELLULES for T in longueurs]:
        reseau = creer_modele(cellule, graine=0)
        gen = torch.Generator()
        gen.manual_seed(GRAINE_DONNEES)
        x, y = lot(N_GRAD, T, gen)
        g = norme_gradient_par_position(reseau, x, y).tolist()
        normes = torch.tensor(entrainer(reseau, T, PAS, gen))
        x_test, y_test = lot(N_TEST, T, gen)
        for nom, v in zip(COLONNES, [cellule, T, g[0], g[T - 1], normes.mean().item(),
                                     exactitude(reseau, x_test, y_test)]):
            colonnes[nom].append(v)
    return pd.DataFrame(colonnes)
''',
}
