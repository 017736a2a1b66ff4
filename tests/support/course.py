"""The grading fixture course: a temporary course root made from tests/fixtures/grading/course
with its own nbgrader_config.py and gradebook, and the fixture submissions placed as nbgrader
expects them.

nbgrader's generate_assignment and the gradebook migration take several seconds, so the SQLite
course is generated once per process and each caller gets a copy (the course's config derives
every folder from its own location, so a copy is a course in its own right)."""

from __future__ import annotations

import atexit
import contextlib
import copy
import functools
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory

from course.grading.sandbox import HASH_SEED
from course.settings import ensure_tools_on_path, load_config
from tests.support.paths import REPO, TESTS

FIXTURES = TESTS / "fixtures" / "grading"
ASSIGNMENT = "ps0"
NOTEBOOK = "questions"
# ps0's hidden tests (tests/fixtures/grading/course/solutions/ps0): feedback must not show them
HIDDEN_TESTS = ("count_words('') == 0", "count_words(' x  y ') == 2")

# The temporary course runs the course's own nbgrader_config.py (it derives every folder
# from its own location), with the test course's id, a short timeout and, when given,
# another gradebook.
REPO_CONFIG = REPO / "nbgrader_config.py"
TEST_OVERRIDES = """
c.CourseDirectory.course_id = "grading-tests"
c.Execute.timeout = 10
"""


def generate_course(root: Path, db_url: str = "") -> Path:
    """A course root with ps0 generated (released and in the gradebook, by default a SQLite
    file in the course), made from scratch."""
    ensure_tools_on_path()
    shutil.copytree(FIXTURES / "course", root)
    db_line = f"c.CourseDirectory.db_url = {db_url!r}\n" if db_url else ""
    config = REPO_CONFIG.read_text(encoding="utf-8") + TEST_OVERRIDES + db_line
    (root / "nbgrader_config.py").write_text(config, encoding="utf-8")
    api = NbGraderAPI(config=load_config(root, grading=True, sandbox=False))
    result = api.generate_assignment(ASSIGNMENT)
    assert result["success"], result.get("log")
    return root


@functools.cache
def course_template() -> Path:
    """The course generated once per process (removed at exit). Copy it, never change it."""
    folder = Path(tempfile.mkdtemp(prefix="course-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return generate_course(folder / "course")


def make_course(root: Path, db_url: str = "") -> Path:
    """A fresh course root at ``root``, like ``generate_course``. With the default SQLite
    gradebook it is a copy of the course generated once per process; another gradebook (a
    server the test started) is migrated and filled for this course alone."""
    if db_url:
        return generate_course(root, db_url)
    ensure_tools_on_path()
    shutil.copytree(course_template(), root, symlinks=True)
    return root


def submit(root: Path, student: str, scenario: str) -> None:
    """Place fixture ``scenario`` (e.g. "honest/full-marks") as ``student``'s submission."""
    folder = root / "autograder" / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / f"{scenario}.ipynb", folder / f"{NOTEBOOK}.ipynb")


def cell_scores(root: Path, db_url: str = "") -> dict[str, dict[str, float | None]]:
    """student -> grade cell -> score, read from the gradebook."""
    db_url = db_url or f"sqlite:///{root / 'autograder' / 'gradebook.db'}"
    out: dict[str, dict[str, float | None]] = {}
    with Gradebook(db_url, "grading-tests") as gb:
        for student in gb.students:
            try:
                nb = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student.id)
            except Exception:
                continue
            out[student.id] = {g.name: g.score for g in nb.grades}
    return out


def gradebook_is_sound(root: Path) -> bool:
    with sqlite3.connect(root / "autograder" / "gradebook.db") as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"



# --- comparing grading paths ------------------------------------------------------------------

@contextlib.contextmanager
def grading_hash_seed() -> Iterator[None]:
    """Kernels started by this process meanwhile (plain nbgrader's inherit its environment)
    hash strings with the grading kernels' seed, as ``PYTHONHASHSEED=0 nbgrader autograde``
    would: otherwise a printed set of strings comes out in another order (docs/sandbox.md,
    pitfall 8)."""
    before = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = HASH_SEED
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONHASHSEED"]
        else:
            os.environ["PYTHONHASHSEED"] = before


class LogLines(logging.Handler):
    """The lines logged at ``level`` or above (tracebacks included), kept: a grading run in a
    worker process loses its log, so what it said has to travel back in its result."""

    def __init__(self, level: int, fmt: str = "%(message)s") -> None:
        super().__init__(level)
        self.setFormatter(logging.Formatter(fmt))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def plain_autograde(root: Path, assignment: str = "*", student: str = "*") -> str | None:
    """Plain ``nbgrader autograde`` of the course at ``root``, in this process: nbgrader's own
    converter with the course's nbgrader_config.py alone (nbgrader's kernel manager, no
    sandbox, no pool), kernels seeded as the grading kernels are. If a submission failed (the
    others are graded): nbgrader's error with the errors it logged, tracebacks included, since
    its error alone says only "see the above traceback" and a worker process loses its log.
    Else None."""
    config = load_config(root)
    # Kernels talk over ipc sockets, as the grading kernels do: the round trip runs two of these
    # at once, and TCP ports, picked free and bound later by the kernel, can be picked twice
    # (nteract/papermill#511). The transport changes no output.
    config.KernelManager.transport = "ipc"
    sockets = Path(tempfile.mkdtemp(prefix="plain-nbgrader-"))  # absolute: kernels run elsewhere
    config.KernelManager.ip = str(sockets / "kernel")
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = assignment, student
    log = logging.getLogger("plain-nbgrader")
    errors = LogLines(logging.ERROR, "%(levelname)s %(message)s")
    log.addHandler(errors)
    converter = Autograde(coursedir=coursedir, config=config, log=log)
    try:
        with grading_hash_seed():
            converter.start()
    except NbGraderException as exc:
        return "\n".join([str(exc), *errors.lines])
    finally:
        log.removeHandler(errors)
        shutil.rmtree(sockets, ignore_errors=True)
    return None


def autograded_cells(path: Path) -> list[dict]:
    """The cells of the autograded notebook at ``path`` (none if there is none), as grading
    paths are compared: plain nbgrader, ``--no-pool`` and the pool must give the same cells,
    outputs and tracebacks apart from timing. This is the one place that says what timing is:
    - each cell's execution timestamps (``metadata.execution``), left out;
    - where the kernel cut printed text into stream messages, which its output-flush timer
      decides: consecutive outputs of one stream are joined, as a notebook shows them."""
    if not path.exists():
        return []
    cells = []
    for cell in nbformat.read(path, as_version=4).cells:
        cell = copy.deepcopy(cell)
        cell.get("metadata", {}).pop("execution", None)
        outputs: list[dict] = []
        for output in cell.get("outputs", []):
            last = outputs[-1] if outputs else {}
            if (output.get("output_type") == last.get("output_type") == "stream"
                    and output.get("name") == last.get("name")):
                last["text"] += output["text"]
            else:
                outputs.append(dict(output))
        if "outputs" in cell:
            cell["outputs"] = outputs
        cells.append(cell)
    return cells


def executed_outputs(root: Path, student: str) -> list[list[dict]]:
    """The outputs of every cell of ``student``'s autograded ps0 notebook, without timing."""
    path = root / "autograder" / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    return [cell.get("outputs", []) for cell in autograded_cells(path)]
