"""Submissions that cannot be graded as released are found, each with its reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

from course.grading.integrity import check_submission

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "grading"
HONEST = FIXTURES / "honest" / "full-marks.ipynb"


def kinds(path: Path, released: Path | None = HONEST) -> list[tuple[str, str | None]]:
    return [(f.kind, f.cell) for f in check_submission(path, released)]


def test_honest_submission_is_sound() -> None:
    assert kinds(HONEST) == []
    assert kinds(HONEST, released=None) == []


def test_deleted_and_edited_test_cells_are_named() -> None:
    assert kinds(FIXTURES / "hostile" / "deleted-test-cell.ipynb") == [
        ("deleted-cell", "test_count_words")]
    assert kinds(FIXTURES / "hostile" / "edited-test-cell.ipynb") == [
        ("edited-cell", "test_count_words")]
    # without the released notebook, the cell's own checksum still gives the edit away
    assert kinds(FIXTURES / "hostile" / "edited-test-cell.ipynb", released=None) == [
        ("edited-cell", "test_count_words")]


def test_changed_points_are_caught(tmp_path: Path) -> None:
    nb = nbformat.read(HONEST, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_double":
            cell.metadata.nbgrader.points = 100
    nbformat.write(nb, tmp_path / "questions.ipynb")
    assert kinds(tmp_path / "questions.ipynb") == [("edited-cell", "test_double")]


def test_unreadable_files_are_listed_with_reasons(tmp_path: Path) -> None:
    cases = {
        "empty-file": "empty",
        "corrupt-json": "not valid JSON",
    }
    for scenario, reason in cases.items():
        findings = check_submission(FIXTURES / "hostile" / f"{scenario}.ipynb", HONEST)
        assert [f.kind for f in findings] == ["unreadable"] and reason in findings[0].detail
    old = tmp_path / "old-format.ipynb"
    old.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": [],
                               "metadata": {}}))
    assert "wrong notebook format 3" in check_submission(old, HONEST)[0].detail
    not_nb = tmp_path / "list.ipynb"
    not_nb.write_text("[1, 2]")
    assert "not a notebook" in check_submission(not_nb, HONEST)[0].detail
    binary = tmp_path / "photo.ipynb"
    shutil.copy("/bin/true", binary)
    assert check_submission(binary, HONEST)[0].kind == "unreadable"
