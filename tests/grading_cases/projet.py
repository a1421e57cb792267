"""Mini-projet submissions for tests/test_grading.py: ``{cell id: source}`` replacing a solution cell.

``WRONG`` passes every visible test but not the hidden ones, which must take ``LOSES`` away.
"""

WRONG = {
    # A broken classifier that still answers the visible test: it drops empty inputs (one
    # output per input no longer holds), its label flips at each call (not deterministic), and
    # within one call it always gives the same label (the minimal criterion fails).
    "run": '''
_appels = [0]


def run(inputs: list[str]) -> list:
    _appels[0] += 1
    etiquette = LABELS[_appels[0] % len(LABELS)]
    return [etiquette for texte in inputs if texte.strip()]
''',
}
LOSES = {"test-robustesse", "test-determinisme", "test-critere-minimal"}
