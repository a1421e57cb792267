"""llmcours — the from-scratch library of the course *Comprendre les grands modèles de langage*.

One module per idea (``attention``, ``transformer``, ``rnn``, ``bpe``, ``wordpiece``, ``ngram``,
``decoding``, ``optim``, ``train``, ``metrics``, ``lora``, ``alignment``, ``scaling``, ``rag``,
``models``, ``plots``, ``data``). Chapters import these modules and display their source with
:func:`llmcours.notebook.show_source`; labs compare students' code with them.

Submodules are imported on demand (``from llmcours.attention import ...``) so that
``import llmcours`` stays instantaneous.
"""

__version__ = "0.1.0"
