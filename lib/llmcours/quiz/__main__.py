import sys

from llmcours.quiz.cli import main

sys.exit(main())
