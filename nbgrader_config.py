"""nbgrader configuration. The course root is the repository root, so plain `nbgrader`
commands work from here, and the course's own `course` command reads the same settings."""

from pathlib import Path

# Not guarded: without the course package, feedback must fail rather than show hidden tests.
from course.grading.outputs import FEEDBACK_PREPROCESSORS, SHAPE_OUTPUT_HTML, TEMPLATE_DIRS

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

root = Path(__file__).resolve().parent
grading_home = root / "autograder"
grading_home.mkdir(exist_ok=True)

c.CourseDirectory.root = str(root)
c.CourseDirectory.course_id = "russia-nk-sources"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "autograder/submitted"
c.CourseDirectory.autograded_directory = "autograder/autograded"
c.CourseDirectory.feedback_directory = "autograder/feedback"
c.CourseDirectory.db_url = f"sqlite:///{grading_home / 'gradebook.db'}"
# Data files that sit beside a notebook are copied with it; answer keys never sit there.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# After a cell's reply the kernel's last outputs must arrive within this many seconds, or the
# notebook stops ungraded; nbclient's 4 s let a busy grading machine fail sound work. A kernel
# that withholds them stops its notebook after one wait (docs/sandbox.md, pitfall 15).
c.Execute.iopub_timeout = 30

# Every way of writing feedback (course feedback, nbgrader generate_feedback, Formgrader's
# buttons) hides the hidden tests; `course feedback --reveal-hidden` is the one way to show them.
c.GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS
# nbconvert's mathjax macro loads MathJax from a CDN. Ours come first: Formgrader's grading page
# loads it from the Jupyter server (jupyter_server_mathjax), feedback pages load none, so both
# work offline. nbgrader's own templates stay the rest of the search path.
c.HTMLExporter.extra_template_basedirs = TEMPLATE_DIRS
# Student code writes the HTML of its outputs: feedback pages and Formgrader's grading page show
# them, and the students' markdown, cleaned of scripts and event handlers, tables kept readable
# (docs/sandbox.md, "Feedback and Formgrader pages").
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.preprocessors = [SHAPE_OUTPUT_HTML]
