"""llmcours — the from-scratch library of the course *Comprendre les grands modèles de langage*.

One module per idea (``attention``, ``transformer``, ``rnn``, ``bpe``, ``wordpiece``, ``ngram``,
``decoding``, ``pretraining``, ``datafilter``, ``optim``, ``train``, ``sft``, ``classification``,
``metrics``, ``lora``, ``alignment``, ``scaling``, ``memory``, ``rag``, ``models``, ``plots``,
``data``, ``notebook``). Chapters import these modules and display their source with
:func:`llmcours.notebook.show_source`; labs compare students' code with them.

The instructor's tools live apart: ``llmcours.grading`` (release, collect, sandbox, autograde,
feedback, reports: the ``llmcours grade`` command) and ``llmcours.quiz`` (the question bank,
the chapters' self-checks, the Moodle export: ``llmcours quiz``).

Submodules are imported on demand (``from llmcours.attention import ...``) so that
``import llmcours`` stays instantaneous.
"""

__version__ = "0.1.0"
