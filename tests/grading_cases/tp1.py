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

# Each passes the visible tests; tests/test_grading_cases.py checks what each one loses.
CASES = {
    "compte les mots": {"patches": {"compter-tokens": WRONG["compter-tokens"]},
                        "loses": {"test-compter-tokens-cache"}},
    "oublie la graine": {"patches": {"generer": WRONG["generer"]},
                         "loses": {"test-generer-graine"}},
    # Samples at the default temperature whatever it is asked: reproducible, but 0.01 is not cold.
    "ignore la température": {"patches": {"generer": '''
def generer(prompt, max_new_tokens=30, temperature=1.0, do_sample=False, seed=0):
    set_seed(seed)
    return gen(prompt, max_new_tokens=max_new_tokens, do_sample=do_sample,
               return_full_text=False)[0]["generated_text"]
'''}, "loses": {"test-generer-graine"}},
}

# Right, written otherwise: the tokenizer's own tokens; model.generate instead of the pipeline.
ALTERNATIVE = {
    "compter-tokens": '''
def compter_tokens(texte):
    return len(tokenizer.tokenize(texte))
''',
    "generer": '''
def generer(prompt, max_new_tokens=30, temperature=1.0, do_sample=False, seed=0):
    import torch

    torch.manual_seed(seed)
    entrees = tokenizer(prompt, return_tensors="pt").to(model.device)
    options = {"temperature": temperature, "top_k": 0, "top_p": 1.0} if do_sample else {}
    sortie = model.generate(**entrees, max_new_tokens=max_new_tokens, do_sample=do_sample,
                            **options)
    return tokenizer.decode(sortie[0, entrees["input_ids"].shape[1]:], skip_special_tokens=True)
''',
}
CASES["échantillonne dès que T ≠ 1"] = {"patches": {"generer": '''
def generer(prompt, max_new_tokens=30, temperature=1.0, do_sample=False, seed=0):
    set_seed(seed)
    echantillonner = do_sample or temperature != 1.0
    options = dict(max_new_tokens=max_new_tokens, do_sample=echantillonner,
                   return_full_text=False)
    if echantillonner:
        options["temperature"] = temperature
    return gen(prompt, **options)[0]["generated_text"]
'''}, "loses": {"test-generer-exact"}}
