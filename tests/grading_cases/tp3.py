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
    # Strict JSON only (raw_decode at each brace): nested objects, braces in strings and
    # several objects are right, but single quotes, Python literals and trailing commas fail.
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
LOSES = {"test-prompt-few-shot-cache", "test-extraire-json-formats"}
