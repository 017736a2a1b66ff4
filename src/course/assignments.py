"""The course's nbgrader assignments: list them and generate their student versions.

This is the one place that drives nbgrader's "generate assignment" step. The instructor's
command and the tests call it in-process through nbgrader's Python API (starting the
``nbgrader`` command costs seconds each time):

    .venv/bin/course generate          # regenerate exercises/ from solutions/
    .venv/bin/course generate ps2      # only ps2

Settings come from the course root's ``nbgrader_config.py`` (source folder ``solutions``,
release folder ``exercises``); the arguments here override where output and gradebook go,
so a test can regenerate into a temporary folder without touching the real gradebook.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path

from nbgrader.converters import GenerateAssignment
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

# the course's settings; tests and scripts still import these names from here
from course.settings import CONFIG_NAME, REPO_ROOT, folder, load_config

__all__ = ["CONFIG_NAME", "REPO_ROOT", "AssignmentError", "generate_student_versions",
           "list_assignments", "load_config", "source_folder"]

class AssignmentError(Exception):
    """A user mistake: an unknown assignment, a missing course root, a failed generation."""


def _routine_replacement(record: logging.LogRecord) -> bool:
    # Regenerating replaces the old student version on purpose; nbgrader's warning about it
    # ("Removing existing assignment") would sound like something went wrong.
    return not record.getMessage().startswith("Removing existing assignment")


def source_folder(course_root: Path, config: Config | None = None) -> Path:
    return folder(config if config is not None else load_config(course_root), "source")


def list_assignments(course_root: Path = REPO_ROOT) -> list[str]:
    """The assignment ids: folders of the source folder that hold at least one notebook."""
    source = source_folder(course_root)
    if not source.is_dir():
        return []
    return sorted(d.name for d in source.iterdir() if d.is_dir() and any(d.glob("*.ipynb")))


def generate_student_versions(
    course_root: Path = REPO_ROOT,
    assignments: Iterable[str] | None = None,
    release_dir: Path | None = None,
    db_url: str | None = None,
) -> list[Path]:
    """Generate the student version of each assignment (all of them by default).

    Each assignment's release folder is replaced as a whole, so files deleted from the
    source disappear from the release too. Returns the files written, sorted. Unless
    ``db_url`` says otherwise, the assignments are recorded in the course's gradebook, as
    ``nbgrader generate_assignment`` does (autograding needs that record).
    """
    course_root = Path(course_root).resolve()
    config = load_config(course_root, db_url=db_url)
    available = list_assignments(course_root)
    wanted = list(assignments) if assignments is not None else available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        raise AssignmentError(
            f"no assignment called {', '.join(unknown)} in {source_folder(course_root, config)}; "
            f"the assignments are: {', '.join(available) or 'none'}"
        )
    if release_dir is not None:
        config.CourseDirectory.release_directory = str(Path(release_dir).resolve())
    config.BaseConverter.force = True  # replace the old release folder whole
    config.GenerateAssignment.permissions = 644

    coursedir = CourseDirectory(config=config)
    release_root = Path(coursedir.root) / coursedir.release_directory
    log = logging.getLogger("course.assignments")
    log.addFilter(_routine_replacement)
    written: list[Path] = []
    for assignment in wanted:
        coursedir.assignment_id = assignment
        converter = GenerateAssignment(coursedir=coursedir, config=config, log=log)
        try:
            converter.start()
        except NbGraderException as exc:
            raise AssignmentError(
                f"nbgrader could not generate {assignment}: {exc}. "
                "The messages above name the notebook and cell."
            ) from exc
        written.extend(p for p in (release_root / assignment).rglob("*") if p.is_file())
    return sorted(written)


if __name__ == "__main__":  # the same as `course generate [ASSIGNMENTS]`
    from course.cli import main

    main(["generate", *sys.argv[1:]], prog_name="python -m course.assignments")
