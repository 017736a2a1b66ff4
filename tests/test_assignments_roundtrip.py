"""Every assignment, graded end to end through nbgrader: generate, submit, autograde, score.

One session-scoped run builds a temporary course (a copy of solutions/ and of
nbgrader_config.py, so the gradebook is temporary too), generates every assignment, submits
as separate students the reference solution, the blank student version and every fixture
listed in tests/fixtures/submissions/<assignment>/expected.yaml, and autogrades them all in
in-process nbgrader Autograde runs, split over two worker processes that each grade into
their own copy of the course and gradebook (so SQLite never sees two writers). The tests
then compare the gradebook's scores per
grade_id with expected.yaml. Assignments and fixtures are discovered from the file system:
a new assignment joins by adding its folder and fixtures.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
import yaml
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory

from course.assignments import (
    REPO_ROOT,
    list_assignments,
    load_config,
)

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


@dataclass
class GradedCourse:
    course_id: str
    db_urls: dict[tuple[str, str], str]  # (student, assignment) -> gradebook it was graded in
    errors: list[str] = field(default_factory=list)  # what nbgrader reported, if anything

    @property
    def any_db_url(self) -> str:
        return next(iter(self.db_urls.values()))

    def scores(self, assignment: str, notebook: str, student: str) -> dict[str, tuple]:
        """grade_id -> (auto_score, max_score) of the autograded cells of one submission."""
        db_url = self.db_urls.get((student, assignment))
        assert db_url, f"{student} submitted no {assignment}"
        with Gradebook(db_url, self.course_id) as gb:
            try:
                nb = gb.find_submission_notebook(notebook, assignment, student)
            except MissingEntry as exc:
                raise AssertionError(
                    f"{student}'s {assignment}/{notebook} was not graded: {self.errors}"
                ) from exc
            return {
                g.name: (g.auto_score, g.max_score) for g in nb.grades if g.cell.cell_type == "code"
            }


def _notebooks(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ipynb"))


def _submit(root: Path, student: str, assignment: str, files: list[tuple[Path, str]]) -> None:
    dest = root / "autograder" / "submitted" / student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    for source, name in files:
        shutil.copy(source, dest / name)


def _autograde(root: str) -> str | None:
    """Autograde every submission of the course at ``root`` (runs in a worker process)."""
    config = load_config(Path(root))  # also puts nbgrader's alembic on PATH
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = "*"
    coursedir.student_id = "*"
    try:
        Autograde(coursedir=coursedir, config=config, log=logging.getLogger("roundtrip")).start()
    except NbGraderException as exc:  # one failed submission; the others are graded
        return str(exc)
    return None


@pytest.fixture(scope="session")
def graded_assignments(tmp_path_factory: pytest.TempPathFactory,
                       released_course: Path) -> GradedCourse:
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(released_course, root, dirs_exist_ok=True)
    config = load_config(root)
    assert str(root) in config.CourseDirectory.db_url, (
        "the copied config must use a temporary gradebook"
    )
    # One course copy per worker, each with the generated assignments in its own gradebook.
    shards = [root] + [tmp_path_factory.mktemp("course") for _ in range(WORKERS - 1)]
    for shard in shards[1:]:
        shutil.copytree(root, shard, dirs_exist_ok=True)

    submissions: list[tuple[str, str, list[tuple[Path, str]]]] = []
    for assignment in ASSIGNMENTS:
        for student, folder in ((REFERENCE, "solutions"), (BLANK, "exercises")):
            files = [(p, p.name) for p in _notebooks(root / folder / assignment)]
            submissions.append((student, assignment, files))
    for exp in EXPECTATIONS:
        path = FIXTURES / exp.assignment / exp.fixture
        submissions.append((exp.student, exp.assignment, [(path, f"{exp.notebook}.ipynb")]))
    db_urls = {}
    for i, (student, assignment, files) in enumerate(submissions):
        shard = shards[i % len(shards)]
        _submit(shard, student, assignment, files)
        db_urls[(student, assignment)] = load_config(shard).CourseDirectory.db_url

    with ProcessPoolExecutor(len(shards), mp_context=multiprocessing.get_context("fork")) as pool:
        errors = [e for e in pool.map(_autograde, [str(s) for s in shards]) if e]
    return GradedCourse(config.CourseDirectory.course_id, db_urls, errors)


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


def test_every_assignment_has_fixtures() -> None:
    covered = {e.assignment for e in EXPECTATIONS}
    missing = [a for a in ASSIGNMENTS if a not in covered]
    assert not missing, f"no fixtures in tests/fixtures/submissions/ for {missing}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_solution_gets_full_marks(graded_assignments: GradedCourse,
                                            assignment: str) -> None:
    maxima = _max_scores(graded_assignments, assignment)
    assert maxima, f"{assignment} has no autograded cells"
    specs = {e.max_autograded for e in EXPECTATIONS if e.assignment == assignment}
    assert specs <= {sum(maxima.values())}, (
        f"expected.yaml says max_autograded {specs}, the notebook has {sum(maxima.values())}"
    )
    for nb in _notebooks(REPO_ROOT / "solutions" / assignment):
        got = graded_assignments.scores(assignment, nb.stem, REFERENCE)
        lost = {k: v for k, v in got.items() if v[0] != v[1]}
        assert not lost, f"the reference {assignment}/{nb.name} loses points: {lost}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_student_version_gets_zero(graded_assignments: GradedCourse, assignment: str) -> None:
    for nb in _notebooks(REPO_ROOT / "solutions" / assignment):
        got = graded_assignments.scores(assignment, nb.stem, BLANK)
        assert got, f"the blank {assignment}/{nb.name} was not graded"
        scored = {k: v for k, v in got.items() if v[0] != 0}
        assert not scored, f"the blank {assignment}/{nb.name} scores points: {scored}"


@pytest.mark.parametrize(
    "exp", EXPECTATIONS, ids=[f"{e.assignment}/{e.student}" for e in EXPECTATIONS]
)
def test_fixture_scores_match_expected(graded_assignments: GradedCourse, exp: Expectation) -> None:
    got = graded_assignments.scores(exp.assignment, exp.notebook, exp.student)
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
