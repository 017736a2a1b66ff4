"""exercises/ is generated from solutions/ by nbgrader: a committed copy must not be stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from course.assignments import (
    REPO_ROOT,
    AssignmentError,
    generate_student_versions,
    list_assignments,
)
from course.cli import main

EXERCISES = REPO_ROOT / "exercises"
REGENERATE = ".venv/bin/course generate"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts
    }


def test_every_assignment_has_a_generated_student_version() -> None:
    missing = [a for a in list_assignments() if not (EXERCISES / a).is_dir()]
    assert not missing, (
        f"solutions/ has {', '.join(missing)} but exercises/ does not: run `{REGENERATE}` "
        "and commit exercises/"
    )


@pytest.fixture
def fresh_release(released_course: Path) -> Path:
    """Every assignment generated from solutions/ by nbgrader, in a temporary course."""
    return released_course / "exercises"


def test_committed_exercises_equal_a_fresh_generation(fresh_release: Path) -> None:
    fresh, committed = _files(fresh_release), _files(EXERCISES)
    for assignment in list_assignments():
        prefix = f"{assignment}/"
        new = {k: v for k, v in fresh.items() if k.startswith(prefix)}
        old = {k: v for k, v in committed.items() if k.startswith(prefix)}
        stale = sorted(k for k in new.keys() & old.keys() if new[k] != old[k])
        absent = sorted(new.keys() - old.keys())
        extra = sorted(old.keys() - new.keys())
        problems = [f"exercises/{k} differs from a fresh generation" for k in stale]
        problems += [f"exercises/{k} is missing" for k in absent]
        problems += [f"exercises/{k} no longer comes from solutions/ (delete it)" for k in extra]
        assert not problems, (
            "\n".join(problems)
            + f"\nRegenerate with `{REGENERATE} {assignment}` and commit exercises/{assignment}."
        )


def test_no_release_folder_without_a_source() -> None:
    orphans = (
        sorted(
            d.name for d in EXERCISES.glob("*") if d.is_dir() and d.name not in list_assignments()
        )
        if EXERCISES.is_dir()
        else []
    )
    assert not orphans, (
        f"exercises/{', exercises/'.join(orphans)} has no source in solutions/: delete it "
        "or restore its source"
    )


def test_assignments_are_the_source_folders_with_notebooks() -> None:
    listed = list_assignments()
    assert listed == sorted(listed)
    for assignment in listed:
        assert any((REPO_ROOT / "solutions" / assignment).glob("*.ipynb"))


def test_unknown_assignment_is_a_clear_error() -> None:
    with pytest.raises(AssignmentError, match="no assignment called ps99.*the assignments are"):
        generate_student_versions(REPO_ROOT, ["ps99"])
    result = CliRunner().invoke(main, ["--root", str(REPO_ROOT), "generate", "ps99"])
    assert result.exit_code == 1
    assert "Error: no assignment called ps99" in result.output
