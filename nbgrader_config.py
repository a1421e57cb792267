"""nbgrader configuration of the course (the repository root is the nbgrader course root).

Solutions (with visible and hidden tests) live in ``solutions/<id>/<id>.ipynb``; nbgrader
generates the students' versions into ``labs/<id>/<id>.ipynb``. Everything the instructor
produces while grading (gradebook, submitted/, autograded/, feedback/, CSV, histograms) is
git-ignored. Drive it with ``llmcours grade ...`` (see ``solutions/README.md``); plain nbgrader
commands (``nbgrader generate_assignment tp1``, ``release_assignment``, ``collect``) work too,
on a fresh clone: this file creates ``grading/`` where the gradebook lives.
"""

import os

from llmcours.grading.feedback import ClearTestTracebacks
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "llmcours"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "labs"
# The gradebook is instructor data (students' grades): keep it out of git (grading/ is ignored).
os.makedirs(os.path.join(ROOT, "grading"), exist_ok=True)  # a fresh clone has no grading/ yet
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "grading", "gradebook.db")

# Execution of submissions: a cell that runs longer than this is interrupted (scored 0).
# SmolLM2 generates a few tokens per second on a busy CPU; no TP cell should need a minute.
c.Execute.timeout = 120
c.Execute.iopub_timeout = 60

# Restore test cells that a student deleted (locked cells are restored by checksum anyway).
c.OverwriteCells.add_missing_cells = True

# What students see in place of the solutions.
c.ClearSolutions.code_stub = {"python": "# VOTRE CODE ICI\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "VOTRE RÉPONSE ICI"

# Feedback must never show hidden tests: neither their source (ClearHiddenTests) nor the
# tracebacks of failing test cells, which quote the failing lines (ClearTestTracebacks).
# Student markdown and outputs are rendered without scripts or event attributes, in the feedback
# pages and in the formgrader (which renders submissions in the instructor's Jupyter session).
c.HTMLExporter.sanitize_html = True
# The formgrader's own template ("formgrade") ignores sanitize_html (only nbconvert's templates
# read it): a preprocessor of the exporter itself cleans markdown and outputs in every template.
c.HTMLExporter.preprocessors = ["nbconvert.preprocessors.sanitize.SanitizeHTML"]
c.GenerateFeedback.preprocessors = [
    GetGrades,
    CSSHTMLHeaderPreprocessor,
    ClearHiddenTests,
    ClearTestTracebacks,
]
