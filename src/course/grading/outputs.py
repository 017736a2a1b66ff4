"""What grading produces for people: feedback HTML, the CSV exports and the score report."""

from __future__ import annotations

import csv
import html
import json
import re
import secrets
import shutil
import unicodedata
from dataclasses import dataclass
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
from course.grading.integrity import is_test

HIDDEN_FAILED = "A hidden test failed (hidden tests are not shown in feedback)."
QUOTED_HIDDEN_OUTPUT = nbformat.from_dict({
    "output_type": "stream", "name": "stdout",
    "text": "(this output is not shown: it quoted a hidden test)\n"})


class HideHiddenTests(Preprocessor):
    """Removes hidden tests from feedback. A hidden line is one the released test cell does not
    have (nbgrader restores the whole test cell, delimiters included); a failing cell's
    traceback would quote it, so its error shows a plain message instead."""

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
        # hidden tests live in test cells only: a student's answer cell differs from its
        # released stub by the answer, which feedback shows
        self._visible = {
            grade_id: set(c.source.splitlines())
            for c in released.cells
            if is_test(c) and (grade_id := c.metadata["nbgrader"].get("grade_id"))
        }
        # Student code sees each cell's source as it runs (an IPython pre_run_cell hook) and
        # could print it: no output anywhere may quote a hidden line of some length
        # (docs/sandbox.md, "Hidden tests").
        self._hidden = {plain for cell in nb.cells if cell.cell_type == "code"
                        for line in self._hidden_lines(cell)
                        if len(plain := _plain(line)) >= 10}
        return super().preprocess(nb, resources)

    def _hidden_lines(self, cell) -> list[str]:
        visible = self._visible.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        return [] if visible is None else [
            line for line in cell.source.splitlines() if line not in visible]

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if hidden := set(self._hidden_lines(cell)):
            cell.source = "\n".join([*(line for line in cell.source.splitlines()
                                       if line not in hidden),
                                     "# (hidden tests are not shown)"])
            # only the verdict: whatever else a hidden test cell printed came from code that
            # ran beside the hidden lines, and the error's name is the student's to choose (a
            # class named after the tests), so only a plain identifier is shown
            cell.outputs = [nbformat.from_dict({
                **output, "ename": (ename := _error_name(output.get("ename"))),
                "traceback": [f"{ename}: {HIDDEN_FAILED}"], "evalue": HIDDEN_FAILED})
                for output in cell.get("outputs", []) if output.get("output_type") == "error"]
        elif self._hidden:
            outputs = cell.get("outputs", [])
            if self._quotes_hidden(outputs):  # also a line split over several outputs
                cell.outputs = [output if not self._quotes_hidden([output])
                                else QUOTED_HIDDEN_OUTPUT for output in outputs]
                if self._quotes_hidden(cell.outputs):
                    cell.outputs = [QUOTED_HIDDEN_OUTPUT]
        return cell, resources

    def _quotes_hidden(self, outputs: list) -> bool:
        """Whether ``outputs`` show a hidden line as a reader sees them: markup, escapes,
        colour codes, invisible characters and spacing do not hide it."""
        shown = _plain("".join(_texts(output) for output in outputs))
        return any(line in shown for line in self._hidden)


ANSI_CODE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
TAG = re.compile(r"<[^>]*>")
# invisible in a page, and characters that markdown and escapes add or remove
UNSEEN = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad*_`~\\"), None)


def _plain(text: str) -> str:
    """``text`` reduced to what a reader of the page sees of it, without any spacing."""
    text = html.unescape(TAG.sub("", ANSI_CODE.sub("", text)))
    text = unicodedata.normalize("NFKC", text).translate(UNSEEN)
    return re.sub(r"\s+", "", text)


def _texts(output: dict) -> str:
    """Every text an output shows (images aside)."""
    parts = [output.get("text", ""), output.get("ename", ""), output.get("evalue", ""),
             *output.get("traceback", [])]
    parts += [value for key, value in output.get("data", {}).items()
              if not key.startswith("image/") and isinstance(value, str)]
    parts += [json.dumps(value) for key, value in output.get("data", {}).items()
              if not isinstance(value, str)]
    return "".join(p if isinstance(p, str) else "".join(p) for p in parts)


def _error_name(name: object) -> str:
    return name if isinstance(name, str) and re.fullmatch(r"[A-Za-z_]\w{0,39}", name) else (
        "Error")


class ShapeOutputHTML(Preprocessor):
    """Readies the HTML a student's code printed for nbconvert's sanitizer (`sanitize_html`,
    nbgrader_config.py), which escapes every tag it does not allow into visible text: a
    `<style>` or `<script>` block goes whole, and a table's header cells (pandas writes
    `<thead>` and `<th>`, which it does not allow) become bold plain cells
    (docs/sandbox.md, "Feedback and Formgrader pages")."""

    enabled = Bool(True)

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if isinstance(data.get("text/html"), str | list):
                data["text/html"] = shape_html("".join(data["text/html"]))
        return cell, resources


def shape_html(text: str) -> str:
    text = SCRIPT_OR_STYLE.sub("", text)
    text = TABLE_SECTION.sub("", text)
    text = HEADER_CELL_START.sub("<td><b>", text)
    return HEADER_CELL_END.sub("</b></td>", text)


SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
TABLE_SECTION = re.compile(r"</?(thead|tbody|tfoot)\b[^>]*>", re.I)
HEADER_CELL_START = re.compile(r"<th\b[^>]*>", re.I)
HEADER_CELL_END = re.compile(r"</th\s*>", re.I)


# nbgrader's GenerateFeedback preprocessors, and ours first. nbgrader_config.py names this list,
# so that every way of writing feedback hides hidden tests: `course feedback`, plain
# `nbgrader generate_feedback` and Formgrader's Generate Feedback button alike.
REVEALING_PREPROCESSORS = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
SHAPE_OUTPUT_HTML = f"{ShapeOutputHTML.__module__}.{ShapeOutputHTML.__name__}"
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


class FeedbackError(RuntimeError):
    """nbgrader could not write the feedback; the message carries its log."""


@dataclass
class Feedback:
    files: list[Path]          # one HTML file per student and notebook
    fetchable: list[str]       # students who fetch it through nbgrader's exchange
    others: list[str]          # students who get it another way (the LMS)


def write_feedback(config: Config, assignment: str, reveal_hidden: bool = False) -> Feedback:
    """The feedback step: nbgrader's HTML feedback per student, hidden tests hidden unless
    ``reveal_hidden``, each folder prepared for `nbgrader release_feedback`."""
    from nbgrader.apps import NbGraderAPI

    from course.settings import folder

    result = NbGraderAPI(config=feedback_config(config, reveal_hidden)).generate_feedback(
        assignment)
    if not result["success"]:
        raise FeedbackError("nbgrader could not write feedback:\n" + result.get("log", ""))
    feedback_root, submitted_root = folder(config, "feedback"), folder(config, "submitted")
    fetchable, others = prepare_releases(feedback_root, submitted_root, assignment)
    return Feedback(sorted(feedback_root.glob(f"*/{assignment}/*.html")), fetchable, others)


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


def export_nbgrader_csv(db_url: str, course_id: str, assignment: str, dest: Path) -> Path:
    """nbgrader's grades CSV for one assignment. A student who did not submit gets blank scores,
    as in the Canvas file (nbgrader writes 0.0, which reads as a graded zero)."""
    with Gradebook(db_url, course_id) as gb:
        CsvExportPlugin(to=str(dest), assignment=[assignment]).export(gb)
        # a submission may have no time (imported without one): ask the gradebook who submitted
        submitted = {s.student.id for s in gb.find_assignment(assignment).submissions}
    with open(dest, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0]) if rows else ["assignment", "student_id", "score"]
    for row in rows:
        if row["student_id"] not in submitted:
            row.update(raw_score="", late_submission_penalty="", score="")
    with open(dest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
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


def export_moodle_csv(db_url: str, course_id: str, assignment: str, dest: Path,
                      column: str | None = None) -> Path:
    """The CSV that Moodle's "Import grades from CSV" takes (grade/import/csv): a user
    identifier column (mapped on import to "ID number", where the course keeps its student ids)
    and one column per assignment, mapped on import to the grade item. Students who did not
    submit are left out, so that an import does not overwrite a grade given another way."""
    column = column or assignment
    with Gradebook(db_url, course_id) as gb, open(dest, "w", newline="",
                                                   encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID number", "Email address", column])
        for student in sorted(gb.students, key=lambda s: s.id):
            try:
                score = gb.find_submission(assignment, student.id).score
            except Exception:
                continue
            writer.writerow([student.id, student.email or "", f"{score:g}"])
    return dest


def cell_scores(db_url: str, course_id: str,
                assignment: str) -> tuple[list[dict], list[str], list[list[float]]]:
    """The graded cells (notebook, cell, points), the students, and each student's score on
    each cell as a share of its points."""
    with Gradebook(db_url, course_id) as gb:
        submissions = sorted(gb.assignment_submissions(assignment), key=lambda s: s.student_id)
        cells = [{"notebook": nb.name, "cell": cell.name, "points": cell.max_score}
                 for nb in gb.find_assignment(assignment).notebooks for cell in nb.grade_cells]
        matrix = []
        for s in submissions:
            got = {(n.name, g.name): g.score for n in s.notebooks for g in n.grades}
            matrix.append([(got.get((c["notebook"], c["cell"])) or 0.0) / c["points"]
                           if c["points"] else 0.0 for c in cells])
        return cells, [s.student_id for s in submissions], matrix


def cell_table(db_url: str, course_id: str, assignment: str) -> tuple[list[dict], list[float]]:
    """Per graded cell: mean score and share of full marks; and every submission's total."""
    cells, _, matrix = cell_scores(db_url, course_id, assignment)
    rows = []
    for j, cell in enumerate(cells):
        shares = [row[j] for row in matrix]
        rows.append({**cell,
                     "mean": sum(x * cell["points"] for x in shares) / len(shares)
                     if shares else 0.0,
                     "full_marks": sum(1 for x in shares if x >= 1) / len(shares)
                     if shares else 0.0})
    totals = [sum(x * c["points"] for x, c in zip(row, cells, strict=True)) for row in matrix]
    return rows, totals


def report(db_url: str, course_id: str, assignment: str, out_dir: Path) -> tuple[str, Path]:
    """A text table of the cells with their item statistics (course.itemstats, the same as
    for LMS quizzes), a PNG with the score distribution and each cell's share of full marks,
    and the item report (HTML, CSV, PNG) beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course.itemstats import analyse, text_table, write_report

    rows, totals = cell_table(db_url, course_id, assignment)
    lines = [f"{assignment}: {len(totals)} submissions"]
    if totals:
        lines.append(f"total score: mean {sum(totals) / len(totals):.2f}, "
                     f"min {min(totals):g}, max {max(totals):g}")
    # columns as wide as their longest entry, so long notebook names and cell ids stay aligned
    nb_w = max([len("notebook"), *(len(row["notebook"]) for row in rows)])
    cell_w = max([len("cell"), *(len(row["cell"]) for row in rows)])
    lines.append(f"{'notebook':<{nb_w}} {'cell':<{cell_w}} {'points':>6} {'mean':>6} "
                 f"{'full marks':>10}")
    for row in rows:
        lines.append(f"{row['notebook']:<{nb_w}} {row['cell']:<{cell_w}} {row['points']:>6g} "
                     f"{row['mean']:>6.2f} {row['full_marks']:>10.0%}")
    out_dir.mkdir(parents=True, exist_ok=True)
    cells, _, matrix = cell_scores(db_url, course_id, assignment)
    if matrix and cells:
        analysis = analyse(assignment, [c["cell"] for c in cells], matrix,
                           labels=[f"{c['notebook']}: {c['cell']}" for c in cells])
        lines += ["", text_table(analysis)]
        page, table, _ = write_report(analysis, out_dir, assignment)
        lines.append(f"item report: {page} and {table}")
    png = out_dir / f"{assignment}-report.png"
    fig = score_figure(rows, totals)
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return "\n".join(lines), png


def score_figure(rows: list[dict], totals: list[float]):
    """The score distribution and each cell's share of full marks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.hist(totals, bins=10, color="#1f4e79")
    # Counts of submissions are whole numbers: no ticks at 0.5.
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.set(title="Score distribution", xlabel="total score", ylabel="submissions")
    right.barh([r["cell"] for r in rows], [r["full_marks"] * 100 for r in rows], color="#1f4e79")
    right.set(title="Share of full marks per cell", xlabel="% of submissions", xlim=(0, 100))
    fig.tight_layout()
    return fig


def read_notebook_names(release_folder: Path) -> set[str]:
    return {p.stem for p in release_folder.glob("*.ipynb")} or {
        p.stem for p in release_folder.rglob("*.ipynb")
    }

