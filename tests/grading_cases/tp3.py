"""TP3 submissions for tests/test_grading.py: ``{cell id: source}`` replacing a solution cell.

``WRONG`` passes every visible test but not the hidden ones, which must take ``LOSES`` away.
"""

WRONG = {
    # Hard-codes two examples: right for the instructions' example, drops a third one.
    "prompt-few-shot": '''
def prompt_few_shot(tache, exemples, entree):
    if len(exemples) < 2:
        raise ValueError("il faut au moins deux exemples")
    (q1, r1), (q2, r2) = exemples[:2]
    return f"{tache}\\n\\nQ : {q1}\\nR : {r1}\\n\\nQ : {q2}\\nR : {r2}\\n\\nQ : {entree}\\nR :"
''',
    # Strict JSON only (raw_decode at each brace): nested objects, braces in double-quoted
    # strings and several objects are right, but single quotes, Python literals and trailing
    # commas fail (objects written with single quotes holding braces, too).
    "extraire-json": '''
def extraire_json(texte):
    if not isinstance(texte, str):
        return None
    decodeur = json.JSONDecoder()
    for debut, caractere in enumerate(texte):
        if caractere == "{":
            try:
                objet, _ = decodeur.raw_decode(texte, debut)
            except ValueError:
                continue
            if isinstance(objet, dict):
                return objet
    return None
''',
}
LOSES = {"test-prompt-few-shot-cache", "test-extraire-json-formats", "test-extraire-json-accolades"}

# Each passes the visible tests; tests/test_grading_cases.py checks what each one loses.
# (WRONG's few-shot mistake goes through the whole pipeline in test_grading.py.)
CASES = {
    "JSON strict seulement": {"patches": {"extraire-json": WRONG["extraire-json"]},
                              "loses": {"test-extraire-json-formats",
                                        "test-extraire-json-accolades"}},
    # Cleans its inputs: right on the instructions' example, which has no stray spaces.
    "nettoie l'entrée": {"patches": {"prompt-zero-shot": '''
def prompt_zero_shot(tache, entree):
    return f"{tache.strip()}\\n\\nQ : {entree.strip()}\\nR :"
'''}, "loses": {"test-prompt-zero-shot-cache"}},
    # Writes the template by hand: the same text as json.dumps until a description holds a
    # double quote or a backslash.
    "gabarit écrit à la main": {"patches": {"messages-json": '''
def messages_json(tache, champs, entree):
    gabarit = "{" + ", ".join(f'"{cle}": "{valeur}"' for cle, valeur in champs.items()) + "}"
    contenu = f"{tache}\\nRéponds en JSON avec les clés : {gabarit}\\n\\nTexte : {entree}"
    return [{"role": "system", "content": SYSTEME_JSON}, {"role": "user", "content": contenu}]
'''}, "loses": {"test-messages-json-cache"}},
    # Skips only double-quoted strings while counting braces, as in JSON: a brace inside
    # single quotes closes the candidate too early.
    "chaînes entre guillemets seulement": {"patches": {"extraire-json": '''
def extraire_json(texte):
    if not isinstance(texte, str):
        return None
    for debut in [i for i, c in enumerate(texte) if c == "{"]:
        profondeur, dans_chaine, echappe = 0, False, False
        for fin in range(debut, len(texte)):
            c = texte[fin]
            if dans_chaine:
                if echappe:
                    echappe = False
                elif c == "\\\\":
                    echappe = True
                elif c == '"':
                    dans_chaine = False
            elif c == '"':
                dans_chaine = True
            elif c in "{}":
                profondeur += 1 if c == "{" else -1
                if profondeur == 0:
                    objet = _lire(texte[debut:fin + 1])
                    if objet is not None:
                        return objet
                    break
    return None


def _lire(candidat):
    for lire in (json.loads, lambda s: json.loads(re.sub(r",\\s*([}\\]])", r"\\1", s)),
                 ast.literal_eval):
        try:
            valeur = lire(candidat)
        except Exception:
            continue
        if isinstance(valeur, dict):
            return valeur
    return None
'''}, "loses": {"test-extraire-json-accolades"}},
}

# Right, written otherwise: lists of lines joined once, dict(...) messages, and an extractor
# that scans each opening brace with an explicit state and reads the candidate in one helper.
ALTERNATIVE = {
    "prompt-zero-shot": '''
def prompt_zero_shot(tache, entree):
    return "\\n".join([tache, "", "Q : " + entree, "R :"])
''',
    "prompt-few-shot": '''
def prompt_few_shot(tache, exemples, entree):
    exemples = list(exemples)
    if len(exemples) < 2:
        raise ValueError("au moins deux exemples")
    lignes = [tache, ""]
    for question, reponse in exemples:
        lignes.extend(["Q : " + question, "R : " + reponse, ""])
    return "\\n".join(lignes + ["Q : " + entree, "R :"])
''',
    "messages-json": '''
def messages_json(tache, champs, entree):
    lignes = [tache, "Réponds en JSON avec les clés : " + json.dumps(champs, ensure_ascii=False),
              "", "Texte : " + entree]
    return [dict(role="system", content=SYSTEME_JSON), dict(role="user", content="\\n".join(lignes))]
''',
    "extraire-json": '''
def _candidat(texte, debut):
    profondeur, fermeture, echappe = 0, "", False
    for fin in range(debut, len(texte)):
        c = texte[fin]
        if fermeture:
            if echappe:
                echappe = False
            elif c == "\\\\":
                echappe = True
            elif c == fermeture:
                fermeture = ""
            continue
        if c in "'\\"":
            fermeture = c
        elif c == "{":
            profondeur += 1
        elif c == "}":
            profondeur -= 1
            if profondeur == 0:
                return texte[debut:fin + 1]
    return None


def _decoder(candidat):
    sans_virgules = re.sub(r",\\s*([}\\]])", r"\\1", candidat)
    for essai in (lambda: json.loads(candidat), lambda: json.loads(sans_virgules),
                  lambda: ast.literal_eval(candidat)):
        try:
            valeur = essai()
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(valeur, dict):
            return valeur
    return None


def extraire_json(texte):
    if type(texte) is not str:
        return None
    for m in re.finditer(r"\\{", texte):
        candidat = _candidat(texte, m.start())
        valeur = None if candidat is None else _decoder(candidat)
        if valeur is not None:
            return valeur
    return None
''',
}
