"""No answers in exercises/: no nbgrader markers, no solution or hidden-test lines, no keys.

The scanner is generic: it reads every assignment in solutions/, collects what only the
instructor may see (lines inside solution and hidden-test regions, the text of free-response
model answers), and looks for it in every file of the matching exercises/ folder.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from course.assignments import REPO_ROOT, list_assignments

SOLUTIONS = REPO_ROOT / "solutions"
EXERCISES = REPO_ROOT / "exercises"
MARKERS = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "BEGIN MARK SCHEME",
    "END MARK SCHEME",
)
REGION_RE = re.compile(
    r"(?:### )?BEGIN (SOLUTION|HIDDEN TESTS|MARK SCHEME)(.*?)(?:### )?END \1", re.DOTALL
)
# Lines this short ("return x", "else:") say nothing about the answer and recur everywhere.
MIN_SECRET_CHARS = 16
KEY_NAME_RE = re.compile(r"(answer|solution|key|hidden|grading)", re.IGNORECASE)
ASSIGNMENTS = list_assignments()


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip()}


def _secrets(assignment: str) -> set[str]:
    """Lines a student must not see, minus lines the source also shows outside regions."""
    secret: set[str] = set()
    public: set[str] = set()
    for path in sorted((SOLUTIONS / assignment).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            regions = [m.group(2) for m in REGION_RE.finditer(cell.source)]
            if cell.cell_type == "markdown" and meta.get("solution") and not regions:
                secret |= _lines(cell.source)  # a model answer: the whole cell is replaced
                continue
            for region in regions:
                secret |= _lines(region)
            public |= _lines(REGION_RE.sub("", cell.source))
    return {s for s in secret - public if len(s) >= MIN_SECRET_CHARS}


def _student_texts(assignment: str) -> dict[str, str]:
    texts = {}
    for path in sorted((EXERCISES / assignment).rglob("*")):
        if path.is_file():
            texts[f"exercises/{path.relative_to(EXERCISES).as_posix()}"] = path.read_bytes().decode(
                "utf-8", errors="replace"
            )
    return texts


def test_there_are_assignments_to_scan() -> None:
    assert ASSIGNMENTS, "solutions/ holds no assignment: the leak scan would check nothing"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_nbgrader_markers(assignment: str) -> None:
    for name, text in _student_texts(assignment).items():
        found = [m for m in MARKERS if m in text]
        assert not found, f"{name} contains {found}: regenerate exercises/ with nbgrader"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_or_hidden_test_lines(assignment: str) -> None:
    secrets = _secrets(assignment)
    for name, text in _student_texts(assignment).items():
        if name.endswith(".ipynb"):
            nb = nbformat.reads(text, as_version=4)
            shown = set().union(*(_lines(c.source) for c in nb.cells)) if nb.cells else set()
        else:
            shown = _lines(text)
        leaked = sorted(secrets & shown)
        assert not leaked, f"{name} shows instructor-only lines: {leaked[:5]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_answer_key_files(assignment: str) -> None:
    source_files = {
        p.relative_to(SOLUTIONS / assignment): p.read_bytes()
        for p in (SOLUTIONS / assignment).rglob("*")
        if p.is_file()
    }
    for rel in source_files:
        assert not KEY_NAME_RE.search(rel.name), (
            f"solutions/{assignment}/{rel} looks like an answer key: nbgrader copies every "
            "file of the source folder to students. Keep keys out of solutions/."
        )
    for path in (EXERCISES / assignment).rglob("*"):
        if not path.is_file() or path.suffix == ".ipynb":
            continue
        rel = path.relative_to(EXERCISES / assignment)
        assert source_files.get(rel) == path.read_bytes(), (
            f"exercises/{assignment}/{rel} is not an unchanged copy of a source data file"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_outputs_in_student_notebooks(assignment: str) -> None:
    for path in (EXERCISES / assignment).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        with_output = [c.id for c in nb.cells if c.cell_type == "code" and c.outputs]
        assert not with_output, f"{path.name}: cells {with_output} carry outputs (answers)"
