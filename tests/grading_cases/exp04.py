"""Expérience 4 (n-gramme contre LLM) for tests/test_grading.py and tests/test_grading_cases.py.

``WRONG`` passes every visible test but not the hidden ones, which must take ``LOSES`` away.
"""

_TRIGRAMME = '''
class Trigramme:
    def __init__(self, k=1.0):
        self.k = k

    def fit(self, phrases):
        self.comptes, self.contextes, self.vocabulaire = {}, {}, VOCAB_INIT
        for phrase in phrases:
            suite = ["<s>", "<s>"] + list(phrase) + ["</s>"]
            self.vocabulaire.update(phrase)
            for i in range(2, len(suite)):
                h = (suite[i - 2], suite[i - 1])
                self.comptes[h + (suite[i],)] = self.comptes.get(h + (suite[i],), 0) + 1
                self.contextes[h] = self.contextes.get(h, 0) + 1
        return self

    def prob(self, mot, contexte):
        h = tuple(contexte)
        num = self.comptes.get(h + (mot,), 0) + @K@
        den = self.contextes.get(h, 0) + @K@ * len(self.vocabulaire)
        return num / den if den > 0 else 0.0

    def log_probs(self, phrase):
        suite = ["<s>", "<s>"] + list(phrase) + ["</s>"]
        return [@LOG@(self.prob(suite[i], (suite[i - 2], suite[i - 1])))
                for i in range(2, len(suite))]
'''


def _trigramme(vocab_init='{"</s>"}', k="self.k", log="math.log"):
    return (_TRIGRAMME.replace("VOCAB_INIT", vocab_init).replace("@K@", k)
            .replace("@LOG@", log))


WRONG = {
    # The vocabulary forgets </s>: |V| one too small, so the smoothed probabilities are off.
    "trigramme": _trigramme(vocab_init="set()"),
}
LOSES = {"test-prob-cache"}

# Each passes the visible tests; tests/test_grading_cases.py checks what each one loses.
CASES = {
    "vocabulaire sans </s>": {"patches": WRONG, "loses": LOSES},
    # Always Laplace: right for the default k = 1 used by the visible test, wrong for any other k.
    "ignore k": {"patches": {"trigramme": _trigramme(k="1.0")}, "loses": {"test-prob-cache"}},
    # Decimal logarithm: still <= 0, right length, but not the natural log of the formula.
    "log10": {"patches": {"trigramme": _trigramme(log="math.log10")},
              "loses": {"test-log-probs-cache"}},
    # Mean of the per-sentence perplexities: equal on the visible tests (one sentence, or
    # sentences of equal perplexity), not on sentences of different lengths and surprises.
    "moyenne des perplexités": {"patches": {"perplexite": '''
def perplexite(log_probs_par_phrase):
    ppls = []
    for lp in log_probs_par_phrase:
        valeurs = [float(v) for v in lp]
        ppls.append(math.exp(-sum(valeurs) / len(valeurs)))
    return sum(ppls) / len(ppls)
'''}, "loses": {"test-perplexite-cache"}},
    # Off by one: reads token t in the distribution at position t (which predicts t + 1).
    "logits mal alignés": {"patches": {"log-probs-llm": '''
def log_probs_llm(phrase):
    ids = [ID_DEBUT] + tokenizer(phrase, add_special_tokens=False)["input_ids"]
    entree = torch.tensor([ids], device=model.device)
    with torch.no_grad():
        logits = model(entree).logits[0, 1:].float()
    return torch.log_softmax(logits, dim=-1).gather(-1, entree[0, 1:, None])[:, 0].cpu()
'''}, "loses": {"test-log-probs-llm-cache"}},
}

# Right, written otherwise: Counters and a nested dict of counts; torch.cat for the perplexity;
# the labels-shifted cross-entropy of transformers (reduction none) for the LLM.
ALTERNATIVE = {
    "trigramme": '''
from collections import Counter, defaultdict


class Trigramme:
    def __init__(self, k=1.0):
        self.k = k

    def fit(self, phrases):
        self.suivants = defaultdict(Counter)
        mots_vus = set()
        for phrase in phrases:
            mots_vus |= set(phrase)
            suite = ("<s>", "<s>", *phrase, "</s>")
            for a, b, c in zip(suite, suite[1:], suite[2:]):
                self.suivants[(a, b)][c] += 1
        self.V = len(mots_vus | {"</s>"})
        return self

    def prob(self, mot, contexte):
        compteur = self.suivants.get(tuple(contexte), Counter())
        den = sum(compteur.values()) + self.k * self.V
        return float((compteur[mot] + self.k) / den) if den else 0.0

    def log_probs(self, phrase):
        suite = ("<s>", "<s>", *phrase, "</s>")
        ps = [self.prob(c, (a, b)) for a, b, c in zip(suite, suite[1:], suite[2:])]
        return [math.log(p) if p else -math.inf for p in ps]
''',
    "perplexite": '''
def perplexite(log_probs_par_phrase):
    tout = torch.cat([torch.as_tensor(lp, dtype=torch.float64).flatten()
                      for lp in log_probs_par_phrase])
    return float(torch.exp(-tout.mean()))
''',
    "log-probs-llm": '''
def log_probs_llm(phrase):
    ids = torch.tensor([[ID_DEBUT] + tokenizer(phrase, add_special_tokens=False).input_ids])
    ids = ids.to(model.device)
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    nll = torch.nn.functional.cross_entropy(logits[0, :-1], ids[0, 1:], reduction="none")
    return (-nll).cpu()
''',
}
