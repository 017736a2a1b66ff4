"""What grading produces for people: feedback HTML, the CSV exports and the score report."""

from __future__ import annotations

import csv
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import nbgrader
from nbconvert.preprocessors import Preprocessor
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins.export import CsvExportPlugin
from traitlets import Bool
from traitlets.config import Config

from course.grading.importer import NBGRADER_TIME

HIDDEN_FAILED = "A hidden test failed (hidden tests are not shown in feedback)."


class HideHiddenTests(Preprocessor):
    """Removes hidden tests from feedback. nbgrader's autograded notebook holds them without
    their delimiters, so a hidden line is one the released test cell does not have; a failing
    cell's traceback would quote it, so its error shows a plain message instead."""

    enabled = Bool(True)  # nbconvert preprocessors are off unless enabled

    def _release_folder(self, resources: dict) -> Path:
        """The assignment's released folder, from the course's settings (so that plain nbgrader
        and Formgrader's buttons find it as `course feedback` does)."""
        coursedir = CourseDirectory(config=self.config)
        return (Path(coursedir.root) / coursedir.release_directory
                / resources["nbgrader"]["assignment"])

    def preprocess(self, nb, resources):
        name = resources["nbgrader"]["notebook"]
        released = nbformat.read(self._release_folder(resources) / f"{name}.ipynb",
                                 as_version=4)
        self._visible = {
            c.metadata["nbgrader"]["grade_id"]: set(c.source.splitlines())
            for c in released.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")
        }
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        visible = self._visible.get(grade_id)
        if cell.cell_type != "code" or visible is None:
            return cell, resources
        lines = cell.source.splitlines()
        shown = [line for line in lines if line in visible]
        if len(shown) == len(lines):
            return cell, resources
        cell.source = "\n".join([*shown, "# (hidden tests are not shown)"])
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename')}: {HIDDEN_FAILED}"]
                output["evalue"] = HIDDEN_FAILED
        return cell, resources


# nbgrader's GenerateFeedback preprocessors, and ours first. nbgrader_config.py names this list,
# so that every way of writing feedback hides hidden tests: `course feedback`, plain
# `nbgrader generate_feedback` and Formgrader's Generate Feedback button alike.
REVEALING_PREPROCESSORS = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
FEEDBACK_PREPROCESSORS = [f"{HideHiddenTests.__module__}.{HideHiddenTests.__name__}",
                          *REVEALING_PREPROCESSORS]
# Searched before nbgrader's own templates (nbgrader_config.py): our mathjax macros, so that
# Formgrader loads MathJax from the Jupyter server and feedback pages load none (no CDN).
TEMPLATE_DIRS = [
    str(Path(__file__).resolve().parent / "templates"),
    str(Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader"
        / "templates"),
]


def feedback_config(config: Config, reveal_hidden: bool) -> Config:
    """The nbgrader config for GenerateFeedback, hiding hidden tests unless asked not to (named
    here too, so that `course feedback` hides them even under a config that does not)."""
    config.GenerateFeedback.preprocessors = (REVEALING_PREPROCESSORS if reveal_hidden
                                             else FEEDBACK_PREPROCESSORS)
    return config


# `nbgrader release_feedback` reads these two files beside every feedback file, and stops at the
# first folder without them. `nbgrader submit` writes both into an exchange submission.
SECRET = "submission_secret.txt"
TIMESTAMP = "timestamp.txt"
# Our own secret for submissions that did not come through the exchange (LMS imports), kept in
# the submission's folder so that every release of its feedback replaces the same file.
KEPT_SECRET = "feedback_secret.txt"


def prepare_release(feedback: Path, submitted: Path) -> bool:
    """Make one student's feedback folder releasable with `nbgrader release_feedback`. True when
    the submission came through the exchange, so that the student can fetch its feedback with
    `nbgrader fetch_feedback`. Otherwise the folder gets a secret no student holds: releasing
    then works for the whole class, and nobody can fetch that copy."""
    through_exchange = (submitted / SECRET).exists()
    kept = submitted / (SECRET if through_exchange else KEPT_SECRET)
    if not kept.exists() and submitted.is_dir():
        kept.write_text(secrets.token_hex(64))
    if kept.exists():
        shutil.copy(kept, feedback / SECRET)
    else:  # the submission was removed since: a one-off key (never create a submission)
        (feedback / SECRET).write_text(secrets.token_hex(64))
    if (submitted / TIMESTAMP).exists():
        shutil.copy(submitted / TIMESTAMP, feedback / TIMESTAMP)
    elif not (feedback / TIMESTAMP).exists():  # placed by hand: the folder's time will do
        when = datetime.fromtimestamp((submitted if submitted.exists() else feedback)
                                      .stat().st_mtime, UTC)
        (feedback / TIMESTAMP).write_text(when.strftime(NBGRADER_TIME))
    return through_exchange


def prepare_releases(feedback_root: Path, submitted_root: Path,
                     assignment: str) -> tuple[list[str], list[str]]:
    """`prepare_release` for every student with feedback on ``assignment``: the students who
    can fetch it through the exchange, and those who get it another way (the LMS)."""
    fetchable: list[str] = []
    others: list[str] = []
    for folder in sorted(feedback_root.glob(f"*/{assignment}")):
        student = folder.parent.name
        through_exchange = prepare_release(folder, submitted_root / student / assignment)
        (fetchable if through_exchange else others).append(student)
    return fetchable, others


def export_nbgrader_csv(db_url: str, course_id: str, dest: Path) -> Path:
    with Gradebook(db_url, course_id) as gb:
        CsvExportPlugin(to=str(dest)).export(gb)
    return dest


def export_canvas_csv(db_url: str, course_id: str, assignment: str, dest: Path,
                      column: str | None = None) -> Path:
    """Canvas's gradebook-import layout: Student, ID, SIS User ID, SIS Login ID, Section and one
    column per assignment. The student id is taken as the Canvas user id (see the importer)."""
    column = column or assignment
    with Gradebook(db_url, course_id) as gb, open(dest, "w", newline="",
                                                   encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        writer.writerow(["Points Possible", "", "", "", "", gb.find_assignment(assignment)
                         .max_score])
        for student in sorted(gb.students, key=lambda s: s.id):
            name = ", ".join(x for x in (student.last_name, student.first_name) if x) or student.id
            try:
                score = gb.find_submission(assignment, student.id).score
            except Exception:
                score = ""
            writer.writerow([name, student.id, "", "", "", score])
    return dest


def cell_table(db_url: str, course_id: str, assignment: str) -> tuple[list[dict], list[float]]:
    """Per graded cell: mean score and share of full marks; and every submission's total."""
    rows, totals = [], []
    with Gradebook(db_url, course_id) as gb:
        submissions = [s for s in gb.assignment_submissions(assignment)]
        totals = [s.score for s in submissions]
        for nb in gb.find_assignment(assignment).notebooks:
            for cell in nb.grade_cells:
                scores = [g.score for s in submissions for n in s.notebooks
                          if n.name == nb.name for g in n.grades if g.name == cell.name]
                full = sum(1 for x in scores if x >= cell.max_score)
                rows.append({
                    "notebook": nb.name, "cell": cell.name, "points": cell.max_score,
                    "mean": sum(scores) / len(scores) if scores else 0.0,
                    "full_marks": full / len(scores) if scores else 0.0,
                })
    return rows, totals


def report(db_url: str, course_id: str, assignment: str, out_dir: Path) -> tuple[str, Path]:
    """A text table of the cells and a PNG with the score distribution and each cell's mean."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, totals = cell_table(db_url, course_id, assignment)
    lines = [f"{assignment}: {len(totals)} submissions"]
    if totals:
        lines.append(f"total score: mean {sum(totals) / len(totals):.2f}, "
                     f"min {min(totals):g}, max {max(totals):g}")
    lines.append(f"{'notebook':<14} {'cell':<24} {'points':>6} {'mean':>6} {'full marks':>10}")
    for row in rows:
        lines.append(f"{row['notebook']:<14} {row['cell']:<24} {row['points']:>6g} "
                     f"{row['mean']:>6.2f} {row['full_marks']:>10.0%}")
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"{assignment}-report.png"
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.hist(totals, bins=10, color="#1f4e79")
    left.set(title="Score distribution", xlabel="total score", ylabel="submissions")
    right.barh([r["cell"] for r in rows], [r["full_marks"] * 100 for r in rows], color="#1f4e79")
    right.set(title="Share of full marks per cell", xlabel="% of submissions", xlim=(0, 100))
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return "\n".join(lines), png


def read_notebook_names(release_folder: Path) -> set[str]:
    return {p.stem for p in release_folder.glob("*.ipynb")} or {
        p.stem for p in release_folder.rglob("*.ipynb")
    }

