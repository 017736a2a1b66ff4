"""Every assignment, graded end to end through nbgrader: generate, submit, autograde, score.

One session-scoped run builds a temporary course (a copy of solutions/ and of
nbgrader_config.py, so the gradebook is temporary too), generates every assignment, submits
as separate students the reference solution, the blank student version and every fixture
listed in tests/fixtures/submissions/<assignment>/expected.yaml, and autogrades them all in
one in-process nbgrader Autograde run. The tests then compare the gradebook's scores per
grade_id with expected.yaml. Assignments and fixtures are discovered from the file system:
a new assignment joins by adding its folder and fixtures.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory

from course.assignments import (
    CONFIG_NAME,
    REPO_ROOT,
    ensure_nbgrader_tools_on_path,
    generate_student_versions,
    list_assignments,
    load_config,
)

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "submissions"
REFERENCE, BLANK = "reference", "blank"


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
    root: Path
    db_url: str
    course_id: str
    error: str | None  # what nbgrader reported when a submission could not be graded

    def scores(self, assignment: str, notebook: str, student: str) -> dict[str, tuple]:
        """grade_id -> (auto_score, max_score) of the autograded cells of one submission."""
        with Gradebook(self.db_url, self.course_id) as gb:
            try:
                nb = gb.find_submission_notebook(notebook, assignment, student)
            except MissingEntry as exc:
                raise AssertionError(
                    f"{student}'s {assignment}/{notebook} was not graded: {self.error}"
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


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO_ROOT / "solutions", root / "solutions")
    shutil.copy(REPO_ROOT / CONFIG_NAME, root / CONFIG_NAME)  # rooted where it lies
    config = load_config(root)
    db_url = config.CourseDirectory.db_url
    assert str(root) in db_url, f"the copied config must use a temporary gradebook: {db_url}"

    generate_student_versions(root)
    for assignment in ASSIGNMENTS:
        reference = _notebooks(root / "solutions" / assignment)
        _submit(root, REFERENCE, assignment, [(p, p.name) for p in reference])
        blank = _notebooks(root / "exercises" / assignment)
        _submit(root, BLANK, assignment, [(p, p.name) for p in blank])
    for exp in EXPECTATIONS:
        path = FIXTURES / exp.assignment / exp.fixture
        _submit(root, exp.student, exp.assignment, [(path, f"{exp.notebook}.ipynb")])

    ensure_nbgrader_tools_on_path()
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = "*"
    coursedir.student_id = "*"
    log = logging.getLogger("roundtrip")
    error = None
    try:
        Autograde(coursedir=coursedir, config=config, log=log).start()
    except NbGraderException as exc:  # one failed submission; the others are graded
        error = str(exc)
    return GradedCourse(root, db_url, config.CourseDirectory.course_id, error)


def _max_scores(course: GradedCourse, assignment: str) -> dict[str, float]:
    with Gradebook(course.db_url, course.course_id) as gb:
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
def test_reference_solution_gets_full_marks(graded_course: GradedCourse, assignment: str) -> None:
    maxima = _max_scores(graded_course, assignment)
    assert maxima, f"{assignment} has no autograded cells"
    specs = {e.max_autograded for e in EXPECTATIONS if e.assignment == assignment}
    assert specs <= {sum(maxima.values())}, (
        f"expected.yaml says max_autograded {specs}, the notebook has {sum(maxima.values())}"
    )
    for nb in _notebooks(REPO_ROOT / "solutions" / assignment):
        got = graded_course.scores(assignment, nb.stem, REFERENCE)
        lost = {k: v for k, v in got.items() if v[0] != v[1]}
        assert not lost, f"the reference {assignment}/{nb.name} loses points: {lost}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_student_version_gets_zero(graded_course: GradedCourse, assignment: str) -> None:
    for nb in _notebooks(REPO_ROOT / "solutions" / assignment):
        got = graded_course.scores(assignment, nb.stem, BLANK)
        assert got, f"the blank {assignment}/{nb.name} was not graded"
        scored = {k: v for k, v in got.items() if v[0] != 0}
        assert not scored, f"the blank {assignment}/{nb.name} scores points: {scored}"


@pytest.mark.parametrize(
    "exp", EXPECTATIONS, ids=[f"{e.assignment}/{e.student}" for e in EXPECTATIONS]
)
def test_fixture_scores_match_expected(graded_course: GradedCourse, exp: Expectation) -> None:
    got = graded_course.scores(exp.assignment, exp.notebook, exp.student)
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
