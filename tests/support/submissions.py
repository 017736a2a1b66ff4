"""The one generator of every assignment's submission fixtures (tests/fixtures/submissions/psN/):
mutants, alternatives and wrong answers written from the solution, and the expected.yaml that
scores them.

Run from the repository root after changing a solution and regenerating exercises/:

    .venv/bin/python tests/fixtures/submissions/make_fixtures.py          # every assignment
    .venv/bin/python tests/fixtures/submissions/make_fixtures.py ps4      # one

Each assignment lists its fixtures in ``psN/fixtures.py`` (``ASSIGNMENT``). A fixture is the
student version (exercises/psN/, made by nbgrader, so its metadata and checksums are real) with
every code answer cell filled from the solution, then a few named edits applied: a plausible
wrong implementation of one function (``psN-mutant-<what-it-gets-wrong>``), an alternative
correct implementation (``psN-alt-...``), or a wrong judgement (``psN-wrong-...``). An edit is
either the whole new source of an answer cell or (old, new) replacements in it; a replacement
that no longer matches the solution's text exactly once fails loudly, so the fixtures cannot
drift silently.

expected.yaml gives full marks on every autograded cell except the ones a fixture declares it
loses, and under ``functions:`` which mutants belong to which function (read by
tests/test_assignment_validity.py). The round trip (tests/test_assignments_roundtrip.py) checks
the declared scores through nbgrader. See docs/judgement-and-mechanics.md.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from tests.support.paths import REPO, TESTS

FIXTURES = TESTS / "fixtures" / "submissions"
MARKER_RE = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.M)

# grade_id -> the whole new source of that answer cell, or (old, new) replacements in it
Edits = Mapping[str, "str | Sequence[tuple[str, str]]"]


@dataclass
class Fixture:
    name: str  # file stem, psN-mutant-..., psN-alt-... or psN-wrong-...
    why: str  # one line for expected.yaml ("" when the name says it all)
    edits: Edits
    loses: Mapping[str, float] = field(default_factory=dict)  # grade_id -> points it keeps
    function: str | None = None  # the function a mutant gets wrong


@dataclass
class Assignment:
    id: str
    notebook: str
    fixtures: list[Fixture]
    # the written answer every fixture gives (graded by hand, not here); None leaves the
    # student version's placeholder
    answer: str | None = None


def _is_answer(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def _notebook(folder: str, assignment: Assignment) -> nbformat.NotebookNode:
    return nbformat.read(REPO / folder / assignment.id / f"{assignment.notebook}.ipynb",
                         as_version=4)


def reference_answers(assignment: Assignment) -> dict[str, str]:
    """grade_id -> the solution's code answer cell without the nbgrader markers."""
    return {
        c.metadata["nbgrader"]["grade_id"]: MARKER_RE.sub("", c.source)
        for c in _notebook("solutions", assignment).cells
        if _is_answer(c) and c.cell_type == "code"
    }


def autograded(assignment: Assignment) -> dict[str, float]:
    """grade_id -> points of every autograded (test) cell of the solution."""
    return {
        c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
        for c in _notebook("solutions", assignment).cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    }


def _edited(source: str, edit: str | Sequence[tuple[str, str]], where: str) -> str:
    if isinstance(edit, str):
        return edit
    for old, new in edit:
        if source.count(old) != 1:
            raise ValueError(f"{where}: {old!r} occurs {source.count(old)} times, not once")
        source = source.replace(old, new)
    return source


def build(assignment: Assignment, fixture: Fixture) -> nbformat.NotebookNode:
    """The student version answered with the solution, then the fixture's edits applied."""
    answers = reference_answers(assignment)
    unknown = sorted(set(fixture.edits) - set(answers))
    if unknown:
        raise ValueError(f"{fixture.name}: no answer cells {unknown}; they are {sorted(answers)}")
    student = _notebook("exercises", assignment)
    for cell in student.cells:
        if not _is_answer(cell):
            continue
        if cell.cell_type == "markdown":
            if assignment.answer is not None:
                cell.source = assignment.answer
            continue
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        source = _edited(answers[grade_id], fixture.edits.get(grade_id, ()),
                         f"{fixture.name} ({grade_id})")
        cell.source = source.strip("\n")
    nbformat.validate(student)
    return student


def expected_yaml(assignment: Assignment) -> str:
    """expected.yaml's text: each fixture's points per autograded cell, mutants by function."""
    points = autograded(assignment)
    functions: dict[str, list[str]] = {}
    for fixture in assignment.fixtures:
        bad = sorted(set(fixture.loses) - set(points))
        if bad:
            raise ValueError(f"{fixture.name}: unknown grade ids {bad}; they are {sorted(points)}")
        if fixture.function:
            functions.setdefault(fixture.function, []).append(f"{fixture.name}.ipynb")
    lines = [
        f"# Autograded points per grade_id for each fixture of {assignment.id}.",
        "# Written by tests/fixtures/submissions/make_fixtures.py from "
        f"{assignment.id}/fixtures.py:",
        "# edit that, not this file.",
        f"assignment: {assignment.id}",
        f"notebook: {assignment.notebook}",
        f"max_autograded: {_num(sum(points.values()))}",
        "functions:",
    ]
    for name, fixtures in functions.items():
        lines.append(f"  {name}:")
        lines += [f"    - {f}" for f in fixtures]
    lines.append("submissions:")
    for fixture in assignment.fixtures:
        if fixture.why:
            lines.append(f"  # {fixture.why}")
        scores = {g: _num(fixture.loses.get(g, p)) for g, p in points.items()}
        row = yaml.safe_dump({f"{fixture.name}.ipynb": scores}, default_flow_style=None,
                             sort_keys=False, width=100)
        lines += ["  " + line for line in row.rstrip().splitlines()]
    return "\n".join(lines) + "\n"


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def load(assignment_id: str) -> Assignment:
    """The fixtures listed in ``<assignment_id>/fixtures.py``."""
    if not (FIXTURES / assignment_id / "fixtures.py").is_file():
        raise ValueError(f"no {FIXTURES / assignment_id / 'fixtures.py'}")
    module = importlib.import_module(f"tests.fixtures.submissions.{assignment_id}.fixtures")
    assignment: Assignment = module.ASSIGNMENT
    if assignment.id != assignment_id:
        raise ValueError(f"{assignment_id}/fixtures.py describes {assignment.id}")
    return assignment


def assignment_ids() -> list[str]:
    return sorted(p.parent.name for p in FIXTURES.glob("*/fixtures.py"))


def write(assignment: Assignment, folder: Path | None = None) -> None:
    """Write every fixture and expected.yaml into ``folder`` (the assignment's own by
    default); remove fixture notebooks no longer listed."""
    folder = folder or FIXTURES / assignment.id
    names = {f"{fixture.name}.ipynb" for fixture in assignment.fixtures}
    expected = expected_yaml(assignment)  # checks the declared scores before anything is written
    for fixture in assignment.fixtures:
        nbformat.write(build(assignment, fixture), folder / f"{fixture.name}.ipynb")
    for stale in folder.glob(f"{assignment.id}-*.ipynb"):
        if stale.name not in names:
            stale.unlink()
    (folder / "expected.yaml").write_text(expected, encoding="utf-8")


def main(argv: Sequence[str]) -> None:
    for assignment_id in argv or assignment_ids():
        assignment = load(assignment_id)
        write(assignment)
        print(f"{assignment.id}: {len(assignment.fixtures)} fixtures")
