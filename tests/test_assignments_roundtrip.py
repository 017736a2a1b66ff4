"""Every assignment, graded end to end through nbgrader: generate, submit, autograde, score.

One session-scoped run builds a temporary course (a copy of solutions/ and of
nbgrader_config.py, so the gradebook is temporary too), generates every assignment, and submits
as separate students the reference solution, the blank student version and every fixture
listed in tests/fixtures/submissions/<assignment>/expected.yaml. Assignments and fixtures are
discovered from the file system: a new assignment joins by adding its folder and fixtures.

- `course autograde`, as an instructor runs it (the warm kernel pool), grades every submission:
  the reference gets full marks, the blank version none, every fixture the points its
  expected.yaml gives per grade_id.
- Plain nbgrader and `course autograde --no-pool` grade the compared submissions: each
  assignment's reference and blank version, and the first fixture of each name prefix
  `psN-<kind>-<word>` (for a mutant or a wrong answer the word names the part it gets wrong,
  for an alternative solution its approach, so every alternative is compared). Every grade and
  every autograded cell, outputs and tracebacks included, must be the same on all three paths
  apart from timing (tests/support/course.py, ``autograded_cells``). The paths differ in how a
  kernel is started and confined, not in what a submission's content exercises, so these show
  them alike at about a third of the cost of all (docs/warm-kernel-pool.md, "Same results");
  ``pytest --every-submission`` compares all.

Each grading is split over two worker processes that each grade into their own copy of the
course and gradebook, so SQLite never sees two writers.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
import yaml
from nbgrader.api import Gradebook, MissingEntry

from course.assignments import (
    REPO_ROOT,
    list_assignments,
    load_config,
)
from course.grading.pipeline import autograde
from tests.support.course import LogLines, autograded_cells, plain_autograde

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "submissions"
REFERENCE, BLANK = "reference", "blank"
WORKERS = max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class Expectation:
    assignment: str
    notebook: str
    fixture: str  # file name in the assignment's fixture folder
    scores: dict[str, float]  # grade_id -> autograded points
    max_autograded: float

    @property
    def student(self) -> str:
        return Path(self.fixture).stem


def _read_expectations() -> list[Expectation]:
    found = []
    for spec_path in sorted(FIXTURES.glob("*/expected.yaml")):
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        for fixture, scores in (spec.get("submissions") or {}).items():
            found.append(
                Expectation(
                    spec["assignment"],
                    spec["notebook"],
                    fixture,
                    {k: float(v) for k, v in scores.items()},
                    float(spec["max_autograded"]),
                )
            )
    return found


EXPECTATIONS = _read_expectations()
ASSIGNMENTS = list_assignments()


Submission = tuple[str, str]  # (student, assignment)


@functools.cache
def _db_url(root: Path) -> str:
    return load_config(root).CourseDirectory.db_url


@dataclass
class GradedCourse:
    course_id: str
    roots: dict[Submission, Path]  # the course each submission was graded in
    notebooks: dict[Submission, list[str]]  # the notebooks each submitted
    # what the grading reported: nbgrader's errors, or `course autograde`'s notices
    errors: list[str] = field(default_factory=list)

    @property
    def any_db_url(self) -> str:
        return self.db_url(next(iter(self.roots)))

    def db_url(self, submission: Submission) -> str:
        assert submission in self.roots, f"{submission[0]} submitted no {submission[1]}"
        return _db_url(self.roots[submission])

    def grades(self, assignment: str, notebook: str, student: str) -> dict[str, tuple]:
        """grade_id -> (auto_score, manual_score, max_score, cell type) of every graded cell
        of one submission's notebook."""
        with Gradebook(self.db_url((student, assignment)), self.course_id) as gb:
            try:
                nb = gb.find_submission_notebook(notebook, assignment, student)
            except MissingEntry as exc:
                raise AssertionError(
                    f"{student}'s {assignment}/{notebook} was not graded: {self.errors}"
                ) from exc
            return {g.name: (g.auto_score, g.manual_score, g.max_score, g.cell.cell_type)
                    for g in nb.grades}

    def scores(self, assignment: str, notebook: str, student: str) -> dict[str, tuple]:
        """grade_id -> (auto_score, max_score) of the autograded cells of one submission."""
        return {name: (auto, top) for name, (auto, _, top, kind)
                in self.grades(assignment, notebook, student).items() if kind == "code"}

    def cells(self, assignment: str, notebook: str, student: str) -> list[dict]:
        """The cells of one submission's autograded notebook, timing left out."""
        root = self.roots[(student, assignment)]
        return autograded_cells(root / "autograder" / "autograded" / student / assignment
                                / f"{notebook}.ipynb")


def _notebooks(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ipynb"))


def _submit(root: Path, student: str, assignment: str, files: list[tuple[Path, str]]) -> None:
    dest = root / "autograder" / "submitted" / student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    for source, name in files:
        shutil.copy(source, dest / name)


def _prefix(exp: Expectation) -> tuple[str, ...]:
    """A fixture's assignment, kind (alt, mutant, wrong) and first word of what it does."""
    return (exp.assignment, *exp.student.removeprefix(f"{exp.assignment}-").split("-")[:2])


def compared(student: str) -> bool:
    """Whether plain nbgrader and --no-pool grade this submission too: the reference, the blank
    version, and the first fixture of each name prefix, in expected.yaml's order."""
    if student in (REFERENCE, BLANK):
        return True
    exp = next(e for e in EXPECTATIONS if e.student == student)
    return next(e for e in EXPECTATIONS if _prefix(e) == _prefix(exp)) is exp


def _submissions(root: Path, every: bool) -> dict[Submission, list[tuple[Path, str]]]:
    """What the students submit: (file, name in the submission) per (student, assignment), from
    the course at ``root`` with every assignment generated; all of them, or the compared ones."""
    submissions = {}
    for assignment in ASSIGNMENTS:
        for student, folder in ((REFERENCE, "solutions"), (BLANK, "exercises")):
            files = [(p, p.name) for p in _notebooks(root / folder / assignment)]
            submissions[(student, assignment)] = files
    for exp in EXPECTATIONS:
        path = FIXTURES / exp.assignment / exp.fixture
        submissions[(exp.student, exp.assignment)] = [(path, f"{exp.notebook}.ipynb")]
    return {s: files for s, files in submissions.items() if every or compared(s[0])}


def _course_copy(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(shutil.copytree(generated, tmp_path_factory.mktemp("course") / "course"))


def _graded_in_shards(generated: Path, tmp_path_factory: pytest.TempPathFactory,
                      grade: Callable[[str], list[str]], every: bool) -> GradedCourse:
    """Every submission (or the compared ones) graded by ``grade(course root)`` in WORKERS
    course copies at once, each with its own gradebook (so SQLite never sees two writers);
    what ``grade`` reported."""
    shards = [_course_copy(generated, tmp_path_factory) for _ in range(WORKERS)]
    submissions = _submissions(generated, every)
    roots = {}
    for i, (submission, files) in enumerate(submissions.items()):
        shard = shards[i % len(shards)]
        _submit(shard, *submission, files)
        roots[submission] = shard
    with ProcessPoolExecutor(len(shards), mp_context=multiprocessing.get_context("fork")) as pool:
        reports = [line for lines in pool.map(grade, [str(s) for s in shards]) for line in lines]
    notebooks = {s: [Path(name).stem for _, name in files] for s, files in submissions.items()}
    return GradedCourse(load_config(generated).CourseDirectory.course_id, roots, notebooks,
                        reports)


def _plain_autograde(root: str) -> list[str]:
    """Plain nbgrader autograde of every submission of the course at ``root`` (in a worker):
    nbgrader's error, if any."""
    error = plain_autograde(Path(root))
    return [error] if error else []


def _course_autograde(root: str, pool: bool) -> list[str]:
    """`course autograde` of every assignment of the course at ``root`` (in a worker, one
    grading worker of its own): the notices it printed."""
    notices = LogLines(logging.WARNING)  # course.grading's notices
    logging.getLogger("course.grading").addHandler(notices)
    for assignment in ASSIGNMENTS:
        autograde(Path(root), assignment, workers=1, progress=False, pool=pool)
    return notices.lines


@pytest.fixture(scope="session")
def every_submission(request: pytest.FixtureRequest) -> bool:
    """Whether plain nbgrader and --no-pool grade every submission, not the compared ones."""
    return bool(request.config.getoption("every_submission"))


@pytest.fixture(scope="session")
def graded_assignments(released_course: Path, every_submission: bool,
                       tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    """The compared submissions graded by plain nbgrader: all of them, or nbgrader's errors in
    full (a grade of None would say only that a submission was not graded)."""
    # Plain nbgrader's kernels share the grader's matplotlib font cache: made by the first of
    # them on a fresh machine, past 5 s under load its scan prints a warning into ps3's and
    # ps5's outputs, which the grading kernels never print (src/course/grading/fonts.py)
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=True)
    graded = _graded_in_shards(released_course, tmp_path_factory, _plain_autograde,
                               every_submission)
    assert not graded.errors, "\n".join(graded.errors)
    return graded


@pytest.fixture(scope="session")
def graded_by_pool(released_course: Path, bwrap: None,
                   tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    """Every submission, graded as an instructor grades: `course autograde` with the warm
    kernel pool (the default)."""
    graded = _graded_in_shards(released_course, tmp_path_factory,
                               functools.partial(_course_autograde, pool=True), every=True)
    assert not graded.errors, graded.errors  # the pool ran (no cold fallback), limits applied
    return graded


@pytest.fixture(scope="session")
def graded_cold(released_course: Path, bwrap: None, every_submission: bool,
                tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    """The compared submissions graded by `course autograde --no-pool`."""
    graded = _graded_in_shards(released_course, tmp_path_factory,
                               functools.partial(_course_autograde, pool=False),
                               every_submission)
    assert not graded.errors, graded.errors  # every limit applied
    return graded


def _max_scores(course: GradedCourse, assignment: str) -> dict[str, float]:
    with Gradebook(course.any_db_url, course.course_id) as gb:
        return {
            cell.name: cell.max_score
            for nb in gb.find_assignment(assignment).notebooks
            for cell in nb.grade_cells
            if cell.cell_type == "code"
        }


def test_fixture_folders_are_complete() -> None:
    """Every fixture notebook is listed in expected.yaml and every listed one exists."""
    for spec_path in sorted(FIXTURES.glob("*/expected.yaml")):
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        listed = set(spec.get("submissions") or {})
        present = {p.name for p in spec_path.parent.glob("*.ipynb")}
        assert listed == present, (
            f"{spec_path.relative_to(REPO_ROOT)}: listed but missing {sorted(listed - present)}, "
            f"present but not listed {sorted(present - listed)}"
        )
        assert spec["assignment"] in ASSIGNMENTS, f"{spec_path}: unknown assignment"
        assert (
            REPO_ROOT / "solutions" / spec["assignment"] / f"{spec['notebook']}.ipynb"
        ).is_file()
        for name in present:  # fixtures are student notebooks: no outputs, valid format
            nbformat.validate(nbformat.read(spec_path.parent / name, as_version=4))


def test_compared_submissions_are_the_first_of_each_name_prefix() -> None:
    """Fixture names say what plain nbgrader and --no-pool are compared on: every assignment's
    reference and blank version and the first fixture of each `psN-<kind>-<word>` prefix."""
    first: dict[tuple[str, str, str], str] = {}
    for exp in EXPECTATIONS:
        named = re.fullmatch(rf"{re.escape(exp.assignment)}-(alt|mutant|wrong)-([a-z0-9]+)(-.+)?",
                             exp.student)
        assert named, f"{exp.fixture}: not named <assignment>-<kind>-<what it does>"
        first.setdefault((exp.assignment, named[1], named[2]), exp.student)
    assert [e.student for e in EXPECTATIONS if compared(e.student)] == list(first.values())
    for assignment in ASSIGNMENTS:
        kinds = {kind for (a, kind, _) in first if a == assignment}
        assert kinds == {"alt", "mutant", "wrong"}, f"{assignment} compares only {kinds}"
    assert compared(REFERENCE) and compared(BLANK)


def test_every_assignment_has_fixtures() -> None:
    covered = {e.assignment for e in EXPECTATIONS}
    missing = [a for a in ASSIGNMENTS if a not in covered]
    assert not missing, f"no fixtures in tests/fixtures/submissions/ for {missing}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_solution_gets_full_marks(graded_by_pool: GradedCourse,
                                            assignment: str) -> None:
    maxima = _max_scores(graded_by_pool, assignment)
    assert maxima, f"{assignment} has no autograded cells"
    specs = {e.max_autograded for e in EXPECTATIONS if e.assignment == assignment}
    assert specs <= {sum(maxima.values())}, (
        f"expected.yaml says max_autograded {specs}, the notebook has {sum(maxima.values())}"
    )
    for nb in _notebooks(REPO_ROOT / "solutions" / assignment):
        got = graded_by_pool.scores(assignment, nb.stem, REFERENCE)
        lost = {k: v for k, v in got.items() if v[0] != v[1]}
        assert not lost, f"the reference {assignment}/{nb.name} loses points: {lost}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_student_version_gets_zero(graded_by_pool: GradedCourse, assignment: str) -> None:
    for nb in _notebooks(REPO_ROOT / "solutions" / assignment):
        got = graded_by_pool.scores(assignment, nb.stem, BLANK)
        assert got, f"the blank {assignment}/{nb.name} was not graded"
        scored = {k: v for k, v in got.items() if v[0] != 0}
        assert not scored, f"the blank {assignment}/{nb.name} scores points: {scored}"


@pytest.mark.parametrize(
    "exp", EXPECTATIONS, ids=[f"{e.assignment}/{e.student}" for e in EXPECTATIONS]
)
def test_fixture_scores_match_expected(graded_by_pool: GradedCourse, exp: Expectation) -> None:
    got = graded_by_pool.scores(exp.assignment, exp.notebook, exp.student)
    actual = {k: v[0] for k, v in got.items()}
    assert set(exp.scores) == set(actual), (
        f"expected.yaml must give every autograded grade_id of {exp.assignment}: "
        f"missing {sorted(set(actual) - set(exp.scores))}, "
        f"unknown {sorted(set(exp.scores) - set(actual))}"
    )
    wrong = {
        k: f"expected {exp.scores[k]}, got {actual[k]}"
        for k in actual
        if actual[k] != exp.scores[k]
    }
    assert not wrong, f"{exp.fixture}: {wrong}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("path", ["pool", "cold"])
def test_course_autograde_grades_as_plain_nbgrader(graded_assignments: GradedCourse,
                                                   graded_by_pool: GradedCourse,
                                                   graded_cold: GradedCourse,
                                                   path: str, assignment: str) -> None:
    """Every grade, cell by cell, and every autograded cell with its outputs and tracebacks,
    equal to plain nbgrader's, with the pool and without it, for every compared submission."""
    ours = graded_by_pool if path == "pool" else graded_cold
    submissions = [s for s in graded_assignments.roots if s[1] == assignment]
    # the reference, the blank version and at least one fixture of each kind
    assert len(submissions) >= 5, submissions
    for student, _ in submissions:
        for notebook in graded_assignments.notebooks[(student, assignment)]:
            plain = graded_assignments.grades(assignment, notebook, student)
            assert ours.grades(assignment, notebook, student) == plain, (student, notebook)
            plain_cells = graded_assignments.cells(assignment, notebook, student)
            assert plain_cells, (student, notebook)
            mine = ours.cells(assignment, notebook, student)
            for index, (cell, theirs) in enumerate(zip(mine, plain_cells, strict=True)):
                assert cell == theirs, (student, notebook, index)
