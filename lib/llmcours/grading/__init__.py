"""The instructor's side of the labs (nbgrader): release, collect, sandboxed autograde,
feedback and reports, one small module per step, and the ``llmcours grade`` command.

- :mod:`~llmcours.grading.course`: the course layout (root, labs, gradebook, records);
- :mod:`~llmcours.grading.release`: ``labs/`` generated from ``solutions/``;
- :mod:`~llmcours.grading.submissions` and :mod:`~llmcours.grading.collect`: folders and LMS
  zips into ``submitted/``, hostile archives held;
- :mod:`~llmcours.grading.sandbox`: the bubblewrap sandbox of a student's kernel;
- :mod:`~llmcours.grading.judge` and :mod:`~llmcours.grading.executor`: hidden tests as calls
  (run in the student's kernel, data only) + judgement (run by the grader);
- :mod:`~llmcours.grading.guard`: the test cells run and judged; kernel tampering flagged;
- :mod:`~llmcours.grading.autograde`: every copy graded in parallel, scores merged;
- :mod:`~llmcours.grading.feedback`: sanitised HTML pages, no hidden test;
- :mod:`~llmcours.grading.reports`: CSV (with ``flags``) and histogram;
- :mod:`~llmcours.grading.cli`: ``llmcours grade ...``.

The teaching library (``llmcours.attention``...) never imports this package.
"""

from llmcours.grading.autograde import (
                                        DEFAULT_MEMORY,
                                        NO_SANDBOX_FLAG,
                                        STATUSES,
                                        autograde,
                                        check_sandbox,
                                        drop_foreign_cells,
                                        restore_locked_cells,
                                        submitted_students,
)
from llmcours.grading.collect import collect
from llmcours.grading.course import (
                                        course_root,
                                        grading_dir,
                                        grading_env,
                                        lab_ids,
                                        load_records,
                                        save_records,
)
from llmcours.grading.feedback import ClearTestTracebacks, feedback
from llmcours.grading.release import release, student_version, without_region_markers
from llmcours.grading.reports import export, grade_parts, grade_rows, histogram

__all__ = [
    "DEFAULT_MEMORY", "NO_SANDBOX_FLAG", "STATUSES", "ClearTestTracebacks", "autograde", "check_sandbox",
    "collect", "course_root", "drop_foreign_cells", "export", "feedback", "grade_parts",
    "grade_rows", "grading_dir", "grading_env", "histogram", "lab_ids", "load_records",
    "release", "restore_locked_cells", "save_records", "student_version",
    "submitted_students", "without_region_markers",
]
