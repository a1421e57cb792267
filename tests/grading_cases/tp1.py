"""TP1 submissions for tests/test_grading.py: ``{cell id: source}`` replacing a solution cell.

``WRONG`` passes every visible test but not the hidden ones, which must take ``LOSES`` away.
"""

WRONG = {
    # Counts words, not tokens: right for "" and > 0 for a sentence (the visible tests).
    "compter-tokens": '''
def compter_tokens(texte: str) -> int:
    return len(texte.split())
''',
    # Forgets set_seed(seed): greedy decoding still passes, sampling is not reproducible.
    "generer": '''
def generer(prompt, max_new_tokens=30, temperature=1.0, do_sample=False, seed=0):
    options = dict(max_new_tokens=max_new_tokens, do_sample=do_sample, return_full_text=False)
    if do_sample:
        options["temperature"] = temperature
    return gen(prompt, **options)[0]["generated_text"]
''',
}
LOSES = {"test-compter-tokens-cache", "test-generer-graine"}
