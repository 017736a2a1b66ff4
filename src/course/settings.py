"""Where the course is and how it is set up: the one place for these rules.

- the course root: the folder with ``nbgrader_config.py`` (this repository's root, or a copy);
- the nbgrader settings, read from that file and rooted there, plain or ready for grading
  (the sandboxed kernel, its limits);
- the course's folders, by the names the settings give them (never written out elsewhere);
- the tools nbgrader starts by name (``alembic``), findable when Python runs from ``.venv/bin``
  without an activated environment.

The CLI, the grading pipeline, assignment generation and the tests all take them from here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # traitlets is imported when settings are read, not by `course --help`
    from traitlets.config import Config

CONFIG_NAME = "nbgrader_config.py"
# The repository this package was installed from (an editable install: src/course/ -> root).
REPO_ROOT = Path(__file__).resolve().parents[2]
# The Jupyter kernel manager that starts every grading kernel (in its sandbox and cgroup).
KERNEL_MANAGER = "course.grading.sandbox.SandboxedKernelManager"

Step = Literal["source", "release", "submitted", "autograded", "feedback"]


class CourseRootError(FileNotFoundError):
    """No course root where one was looked for."""


def find_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the working folder) with the config."""
    start = (start or Path.cwd()).resolve()
    for folder in [start, *start.parents]:
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None


def ensure_tools_on_path() -> None:
    """Put this Python's script folder on PATH: nbgrader runs the ``alembic`` of its environment
    to create a gradebook, and fails with FileNotFoundError when it is not found."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def load_config(
    course_root: Path,
    *,
    db_url: str | None = None,
    grading: bool = False,
    sandbox: bool = True,
    timeout: int | None = None,
    memory: str | None = None,
) -> Config:
    """The nbgrader settings of the course at ``course_root``, rooted there.

    ``db_url`` replaces the gradebook (a test passes a temporary SQLite file). With ``grading``,
    kernels start through the course's kernel manager, in the bubblewrap sandbox unless
    ``sandbox`` is False, with the given cell ``timeout`` and ``memory`` limit.
    """
    from traitlets.config.loader import PyFileConfigLoader

    ensure_tools_on_path()
    course_root = Path(course_root).resolve()
    if not (course_root / CONFIG_NAME).is_file():
        raise CourseRootError(f"no {CONFIG_NAME} in {course_root}: is it the course root?")
    config = PyFileConfigLoader(CONFIG_NAME, path=str(course_root)).load_config()
    config.CourseDirectory.root = str(course_root)
    if db_url is not None:
        config.CourseDirectory.db_url = db_url
    if grading:
        # also without the sandbox: the manager is what puts a kernel in its submission's cgroup
        config.Execute.kernel_manager_class = KERNEL_MANAGER
        # every output is in once the last cell ran: end the kernel and its sandbox at once.
        # A graceful shutdown has ipykernel interrupt the processes a submission left behind,
        # and forked copies of the kernel then run its code again (docs/sandbox.md, pitfall 9)
        config.Execute.shutdown_kernel = "immediate"
        if sandbox:
            from course.grading.sandbox import check_bwrap

            check_bwrap()  # fails loudly, with the reason and the --no-sandbox way out
            config.SandboxedKernelManager.course_root = str(course_root)
        else:
            config.SandboxedKernelManager.sandbox = False
        if timeout is not None:
            config.Execute.timeout = timeout
        elif "timeout" not in config.Execute:
            from course.grading.limits import DEFAULT_CELL_TIMEOUT

            config.Execute.timeout = DEFAULT_CELL_TIMEOUT
        if memory is not None:
            config.SandboxedKernelManager.memory_limit = memory
    return config


def folder(config: Config, step: Step, *parts: str) -> Path:
    """A course folder by its role (``release`` is exercises/ here), as the settings name it."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    return Path(coursedir.root, getattr(coursedir, f"{step}_directory"), *parts)
