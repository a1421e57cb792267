"""Expérience 10 (petit banc d'essai de prompts) for tests/test_grading.py and test_grading_cases.py.

``WRONG`` passes every visible test but not the hidden ones, which must take ``LOSES`` away.
"""

_ZERO_SHOT_ET_STRUCTURE = '''
def prompt_zero_shot(phrase):
    return [{"role": "user", "content": f"Which city is mentioned in this sentence? {phrase}"}]


def prompt_structure(phrase):
    consigne = f"Find the city mentioned in the French sentence given by the user. {FORMAT}"
    return [{"role": "system", "content": consigne},
            {"role": "user", "content": f"Sentence: {phrase}"}]
'''

# Leak: the first k pairs of the bank, the tested sentence included (the visible test asks
# about the fourth sentence, which is never among the first two).
WRONG = {"prompts": _ZERO_SHOT_ET_STRUCTURE + '''

def prompt_few_shot(phrase, banque, k=2):
    messages = []
    for p, ville in banque[:k]:
        messages += prompt_zero_shot(p) + [{"role": "assistant", "content": ville}]
    return messages + prompt_zero_shot(phrase)
'''}
LOSES = {"test-prompts-cache"}

_NOTER_DEBUT = '''
def noter(reponse, reference):
    rep, ref = normalize_answer(reponse), normalize_answer(reference)
    if rep == ref:
        return 2
'''

_RESUME = '''
def resume(notes):
    lignes = {{}}
    for nom, valeurs in notes.items():
        n = len(valeurs)
        lignes[nom] = {{"moyenne": sum(valeurs) / n,
                       "erreur_type": {erreur} / math.sqrt(n),
                       "justes": {justes} / n}}
    return pd.DataFrame.from_dict(lignes, orient="index")[["moyenne", "erreur_type", "justes"]]
'''

# Each passes the visible tests; tests/test_grading_cases.py checks what each one loses.
CASES = {
    "few-shot avec la phrase testée": {"patches": WRONG, "loses": LOSES},
    # Always two examples: the visible test only uses the default k.
    "few-shot qui ignore k": {"patches": {"prompts": _ZERO_SHOT_ET_STRUCTURE + '''

def prompt_few_shot(phrase, banque, k=2):
    exemples = [(p, ville) for p, ville in banque if p != phrase][:2]
    messages = []
    for p, ville in exemples:
        messages += prompt_zero_shot(p) + [{"role": "assistant", "content": ville}]
    return messages + prompt_zero_shot(phrase)
'''}, "loses": {"test-prompts-cache"}},
    # A home-made normalisation that keeps the case and the articles: « lyon » is not « Lyon ».
    "normalisation sans minuscules": {"patches": {"noter": '''
import re


def noter(reponse, reference):
    def normaliser(texte):
        return " ".join(re.sub(r"[^\\w\\s]", " ", texte).split())
    rep, ref = normaliser(reponse), normaliser(reference)
    if rep == ref:
        return 2
    if f" {ref} " in f" {rep} " or token_f1(reponse, reference) >= 0.5:
        return 1
    return 0
'''}, "loses": {"test-noter-cache"}},
    # Substring instead of whole words: « marseille » is found in « marseillaise ».
    "inclusion sans mots entiers": {"patches": {"noter": _NOTER_DEBUT + '''
    if ref in rep or token_f1(reponse, reference) >= 0.5:
        return 1
    return 0
'''}, "loses": {"test-noter-cache"}},
    # Strict threshold: F1 = 0.5 exactly (« Saint-Malo » for « Saint-Étienne ») gets 0.
    "seuil F1 strict": {"patches": {"noter": _NOTER_DEBUT + '''
    if f" {ref} " in f" {rep} " or token_f1(reponse, reference) > 0.5:
        return 1
    return 0
'''}, "loses": {"test-noter-cache"}},
    # F1 only: a long answer that contains the city gets 0 instead of 1.
    "F1 sans inclusion": {"patches": {"noter": _NOTER_DEBUT + '''
    return 1 if token_f1(reponse, reference) >= 0.5 else 0
'''}, "loses": {"test-noter-cache"}},
    # Population standard deviation (n in the denominator, numpy's default).
    "écart-type non corrigé": {"patches": {"resume": _RESUME.format(
        erreur="statistics.pstdev(valeurs)", justes="sum(v == 2 for v in valeurs)")},
        "loses": {"test-resume-cache"}},
    # « justes » counts the partly right answers too.
    "justes avec les notes 1": {"patches": {"resume": _RESUME.format(
        erreur="statistics.stdev(valeurs)", justes="sum(v >= 1 for v in valeurs)")},
        "loses": {"test-resume-cache"}},
}

# Right, written otherwise: islice and dict(); word windows instead of padded strings;
# pandas' mean and sem (ddof = 1).
ALTERNATIVE = {
    "prompts": '''
from itertools import islice

QUESTION = "Which city is named in the following sentence? "


def prompt_zero_shot(phrase):
    return [dict(role="user", content=QUESTION + phrase)]


def prompt_few_shot(phrase, banque, k=2):
    autres = islice(((p, v) for p, v in banque if p != phrase), k)
    messages = [m for p, v in autres
                for m in (prompt_zero_shot(p)[0], dict(role="assistant", content=v))]
    messages.append(prompt_zero_shot(phrase)[0])
    return messages


def prompt_structure(phrase):
    return [dict(role="system", content=f"The user gives a French sentence naming one city. {FORMAT}"),
            dict(role="user", content="Sentence:\\n" + phrase)]
''',
    "noter": '''
def noter(reponse, reference):
    if exact_match(reponse, reference) == 1.0:
        return 2
    mots_rep, mots_ref = normalize_answer(reponse).split(), normalize_answer(reference).split()
    m = len(mots_ref)
    inclus = any(mots_rep[i:i + m] == mots_ref for i in range(len(mots_rep) - m + 1))
    return 1 if inclus or token_f1(reponse, reference) >= 0.5 else 0
''',
    "resume": '''
def resume(notes):
    lignes = {}
    for nom, valeurs in notes.items():
        s = pd.Series(valeurs, dtype="float64")
        lignes[nom] = [s.mean(), s.sem(), (s == 2).mean()]
    return pd.DataFrame.from_dict(lignes, orient="index", columns=["moyenne", "erreur_type", "justes"])
''',
}
