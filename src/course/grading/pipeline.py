"""Parallel autograding on top of nbgrader, with one gradebook writer.

For each student, the parent process runs nbgrader's Autograde up to sanitizing (the step that
registers the submission in the gradebook and restores test cells), hands the sanitized notebooks
to a pool of workers that only execute them (execution.py), and then runs nbgrader's remaining
autograde preprocessors, which write the scores, itself. Only the parent ever opens the
gradebook, so SQLite is never written by two processes; the scores are nbgrader's own.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import math
import multiprocessing
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from nbconvert.writers import FilesWriter
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from nbgrader.utils import setenv
from sqlalchemy.exc import SAWarning
from tqdm import tqdm
from traitlets import Set
from traitlets.config import Config

from course.settings import load_config

from .execution import Execution, execute_notebook
from .fonts import build_font_list, uses_matplotlib
from .integrity import Finding, check_submission, unsafe_entries
from .limits import GroupTree, Limits, LimitsUnavailable, ResourceGroup, detect
from .nbgrader_cache import once_per_run
from .pool import use_pool, warm_up
from .sandbox import SandboxedKernelManager, format_size, parse_size

# Notices (a limit that could not be applied, a cgroup left behind) go to this logger; the
# `course` command shows them above the progress bar.
log = logging.getLogger("course.grading")
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class StudentResult:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "ok" if not self.findings else "; ".join(sorted({f.kind for f in self.findings}))


class _Sanitize(Autograde):
    """nbgrader's Autograde without execution: registers the submission, sanitizes notebooks."""

    autograde_preprocessors: list[Any] = []
    unreadable = Set()  # notebooks that would make nbgrader fail the whole student

    def init_notebooks(self) -> None:
        super().init_notebooks()
        for assignment, notebooks in self.assignments.items():
            self.assignments[assignment] = [n for n in notebooks if n not in self.unreadable]

    def convert_single_notebook(self, notebook_filename: str) -> None:
        """The sanitizing half only. nbgrader's own method then runs the autograde half, which
        has no preprocessors here: it would only read the notebook and write it back."""
        self._sanitizing = True
        self._init_preprocessors()
        BaseConverter.convert_single_notebook(self, notebook_filename)


class _Score(Autograde):
    """nbgrader's autograde steps after execution (output limits, saving grades), run on the
    notebooks the workers executed."""

    autograde_preprocessors: list[Any]  # nbgrader's trait, typed for mypy

    def score(self, notebooks: Iterable[str]) -> None:
        self._sanitizing = False
        self.autograde_preprocessors = [p for p in self.autograde_preprocessors if p is not Execute]
        self.writer = FilesWriter(parent=self, config=self.config)
        self.exporter = self.exporter_class(parent=self, config=self.config)
        self._init_preprocessors()
        for notebook in notebooks:
            resources = self.init_single_notebook_resources(notebook)
            with setenv(NBGRADER_EXECUTION="autograde"):
                output, resources = self.exporter.from_filename(notebook, resources=resources)
            self.write_single_notebook(output, resources)


def _converter(cls: type[Autograde], config: Config, assignment: str, student: str) -> Autograde:
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    coursedir.student_id = student
    converter = cls(coursedir=coursedir, config=config)
    converter.force = True
    converter.create_student = True
    return converter


def zero_grades(
    db_url: str, course_id: str, assignment: str, student: str, notebook: str,
    grade_ids: set[str] | None = None,
) -> None:
    """Score 0 for the autograded cells of a notebook (or only ``grade_ids``): what cannot be
    trusted or was deleted never passes."""
    with Gradebook(db_url, course_id) as gb:
        try:
            nb = gb.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:
            return
        for grade in nb.grades:
            if grade_ids is None and grade.cell.cell_type != "code":
                continue  # written answers stay for manual grading
            if grade_ids is None or grade.name in grade_ids:
                grade.auto_score = 0
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()


def submitted_students(config: Config, assignment: str) -> list[str]:
    coursedir = CourseDirectory(config=config)
    base = Path(coursedir.root) / coursedir.submitted_directory
    return sorted(p.parent.name for p in base.glob(f"*/{assignment}") if p.is_dir())


def _quiet_nbgrader_orm(func: Callable[P, R]) -> Callable[P, R]:
    """Hide SQLAlchemy's SAWarnings about nbgrader's own session handling ("Object of type
    <SubmittedAssignment> not in session"): harmless, nothing an instructor can act on, and
    printed in the middle of the progress bar on a course's first autograde."""

    @functools.wraps(func)
    def quiet(*args: P.args, **kwargs: P.kwargs) -> R:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session",
                                    category=SAWarning)
            return func(*args, **kwargs)

    return quiet


@_quiet_nbgrader_orm
@once_per_run()
def autograde(
    course_root: Path,
    assignment: str,
    students: list[str] | None = None,
    workers: int | None = None,
    timeout: int | None = None,
    memory: str | None = None,
    sandbox: bool = True,
    progress: bool = True,
    processes: int | None = None,
    cpus: float | None = None,
    pool: bool = True,
) -> list[StudentResult]:
    """Autograde ``assignment`` for every submitting student (or ``students``).

    ``memory`` caps each kernel process and, where cgroups can be made (limits.py), all the
    processes of one submission together; ``processes`` and ``cpus`` cap a submission's
    process count and CPU cores there. ``pool`` (the default) forks kernels from a warm
    zygote per worker where the machine allows it (pool.py); otherwise, with one NOTICE
    saying why, or with False, each starts cold."""
    config = load_config(course_root, grading=True, sandbox=sandbox, timeout=timeout,
                         memory=memory)
    pooled = pool and use_pool(config, sandbox)  # warm kernel pool: NOTICE when unavailable
    coursedir = CourseDirectory(config=config)
    root = Path(coursedir.root)
    students = students or submitted_students(config, assignment)
    workers = workers or os.cpu_count() or 1
    limits = submission_limits(config, processes, cpus)
    config.SandboxedKernelManager.compute_threads = math.ceil(limits.cpus)
    results = {s: StudentResult(s) for s in students}
    pending: dict[str, list[Future]] = {}
    jobs_of: dict[str, list[str]] = {}
    groups: dict[str, ResourceGroup | None] = {}
    tree = _group_tree(limits)
    bar = tqdm(total=len(students), desc=f"autograde {assignment}", unit="student",
               disable=not progress)
    context = multiprocessing.get_context("spawn")  # no inherited zmq/asyncio state
    fonts = None
    try:
        if sandbox:
            fonts = _give_font_list(config, root / coursedir.release_directory / assignment)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                 initializer=warm_up if pooled else None) as executor:
            for student in students:
                jobs = _prepare(config, root, coursedir, assignment, student, results[student])
                group = _create_group(tree, student, limits) if jobs else None
                run_config = _in_group(config, group)
                pending[student] = [executor.submit(execute_notebook, path, run_config)
                                    for path in jobs]
                jobs_of[student], groups[student] = jobs, group
                if not jobs:
                    _finish_safely(config, coursedir, assignment, student, [],
                                   results[student])
                    bar.update()
            for student, futures in pending.items():
                if futures:
                    pairs = zip(futures, jobs_of[student], strict=True)
                    executions = [_outcome(future, path) for future, path in pairs]
                    results[student].findings += _group_findings(groups[student], limits)
                    _finish_safely(config, coursedir, assignment, student, executions,
                                   results[student])
                    bar.update()
    finally:
        if fonts is not None:
            fonts.cleanup()
        if tree is not None and (left := tree.remove()):
            log.warning("NOTICE: some cgroups of this run could not be removed: "
                       + "; ".join(left))
    bar.close()
    return [results[s] for s in students]


def _give_font_list(config: Config, released: Path) -> tempfile.TemporaryDirectory | None:
    """For a plotting assignment, matplotlib's font list built once and named in ``config``
    for every kernel to copy, as under plain nbgrader (fonts.py); the folder that holds it,
    for the run to remove at its end."""
    if not uses_matplotlib(released.glob("*.ipynb")):
        return None
    folder = tempfile.TemporaryDirectory(prefix="course-fonts-", ignore_cleanup_errors=True)
    font_list = build_font_list(Path(folder.name),
                                SandboxedKernelManager(config=config).sandboxed_in)
    config.SandboxedKernelManager.font_list = str(font_list or "")
    return folder


def submission_limits(config: Config, processes: int | None = None,
                      cpus: float | None = None) -> Limits:
    """The per-submission limits: the kernel's memory limit from the config, and the rest."""
    memory = config.SandboxedKernelManager.get(
        "memory_limit", SandboxedKernelManager.class_traits()["memory_limit"].default_value)
    limits = Limits(memory_bytes=parse_size(memory))
    return replace(limits, processes=processes or limits.processes, cpus=cpus or limits.cpus)


def _group_tree(limits: Limits) -> GroupTree | None:
    try:
        return detect()
    except LimitsUnavailable as why:
        # said out loud: the limits are weaker than asked, and the instructor must know
        log.warning(f"NOTICE: no per-submission cgroup ({why}). Each kernel process is still "
                   f"capped at {format_size(limits.memory_bytes)}, but not a submission's "
                   "processes together, their number or their CPU use.")
        return None


def _create_group(tree: GroupTree | None, student: str, limits: Limits) -> ResourceGroup | None:
    if tree is None:
        return None
    try:
        return tree.create(student, limits)
    except OSError as error:  # e.g. the machine's cgroup count is exhausted: this student only
        log.warning(f"NOTICE: no cgroup for {student} ({error.strerror or error}); their kernels "
                   "get the per-process memory limit only.")
        return None


def _in_group(config: Config, group: ResourceGroup | None) -> Config:
    if group is None:
        return config
    run_config = copy.deepcopy(config)
    run_config.SandboxedKernelManager.cgroup_join = group.join_files()
    return run_config


def _group_findings(group: ResourceGroup | None, limits: Limits) -> list[Finding]:
    """What the cgroup counted, then the group removed (it is this student's alone)."""
    if group is None:
        return []
    findings = []
    if killed := group.oom_kills():
        findings.append(Finding(
            "memory-limit", "*", f"its processes together went over "
            f"{format_size(limits.memory_bytes)}; {killed} of them were stopped"))
    if refused := group.refused_forks():
        findings.append(Finding(
            "process-limit", "*", f"it tried to run more than {limits.processes} processes "
            f"and threads at once; {refused} starts were refused"))
    with contextlib.suppress(OSError):  # a straggler: the tree's removal at the end retries
        group.remove()
    return findings


def _outcome(future: Future, path: str) -> Execution:
    try:
        return future.result()
    except Exception as error:  # a worker that crashed fails this notebook, not the batch
        finding = Finding("not-executed", Path(path).stem, f"the grading worker failed: {error}")
        return Execution(path, False, 0.0, [finding])


def _prepare(
    config: Config, root: Path, coursedir: CourseDirectory, assignment: str, student: str,
    result: StudentResult,
) -> list[str]:
    """Check and sanitize one student's submission; the notebooks to execute."""
    submitted = root / coursedir.submitted_directory / student / assignment
    release = root / coursedir.release_directory / assignment
    if unsafe := unsafe_entries(submitted):
        result.findings += unsafe
        _register_only(config, assignment, student)
        return []
    unreadable = set()
    released = {p.name for p in release.glob("*.ipynb")}
    for path in sorted(submitted.glob("*.ipynb")):
        if path.name not in released:  # not the assignment's: nbgrader must not take it up
            result.findings.append(Finding("extra-notebook", path.stem,
                                           "not a notebook of the assignment; not graded"))
            unreadable.add(str(path))
            continue
        findings = check_submission(path, release / path.name)
        result.findings += findings
        if any(f.kind == "unreadable" for f in findings):
            unreadable.add(str(path))
    converter = _converter(_Sanitize, config, assignment, student)
    converter.unreadable = unreadable
    try:
        converter.start()
    except Exception as error:  # nbgrader already logged the traceback
        if unreadable and len(unreadable) == len(list(submitted.glob("*.ipynb"))):
            # nothing to grade: still register the submission so it scores 0
            _register_only(config, assignment, student)
            return []
        result.findings.append(Finding("failed", "*", f"nbgrader could not sanitize: {error}"))
        return []
    autograded = root / coursedir.autograded_directory / student / assignment
    return [str(autograded / Path(p).name) for p in sorted(submitted.glob("*.ipynb"))
            if str(p) not in unreadable]


def _finish_safely(
    config: Config, coursedir: CourseDirectory, assignment: str, student: str,
    executions: list[Execution], result: StudentResult,
) -> None:
    """``_finish``, whose failure is this student's verdict, never the batch's."""
    try:
        _finish(config, coursedir, assignment, student, executions, result)
    except Exception as error:  # the others are still scored
        log.error(f"scoring {student} failed: {type(error).__name__}: {error}")
        result.findings.append(Finding("failed", "*", f"could not be scored: {error}"))


def _register_only(config: Config, assignment: str, student: str) -> None:
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student)


def _finish(
    config: Config, coursedir: CourseDirectory, assignment: str, student: str,
    executions: list[Execution], result: StudentResult,
) -> None:
    """Write the scores of one student (parent process only)."""
    db_url, course_id = coursedir.db_url, coursedir.course_id
    ran = [e for e in executions if e.ok]
    for execution in executions:
        result.findings += execution.findings
    _converter(_Score, config, assignment, student).score(e.path for e in ran)
    for execution in executions:
        if not execution.ok:
            zero_grades(db_url, course_id, assignment, student, Path(execution.path).stem)
    for finding in result.findings:
        if finding.kind == "unreadable":
            zero_grades(db_url, course_id, assignment, student, finding.notebook,
                        grade_ids=_all_grade_ids(db_url, course_id, assignment, finding.notebook))
        elif finding.kind == "deleted-cell" and finding.cell:
            zero_grades(db_url, course_id, assignment, student, finding.notebook, {finding.cell})
    if any(f.kind == "unsafe-file" for f in result.findings):  # nothing of it was run
        for notebook in _notebook_names(db_url, course_id, assignment):
            zero_grades(db_url, course_id, assignment, student, notebook,
                        grade_ids=_all_grade_ids(db_url, course_id, assignment, notebook))
    with Gradebook(db_url, course_id) as gb:
        try:
            submission = gb.find_submission(assignment, student)
            result.score, result.max_score = submission.score, submission.max_score
        except MissingEntry:
            result.findings.append(Finding("failed", "*", "no submission in the gradebook"))


def _all_grade_ids(db_url: str, course_id: str, assignment: str, notebook: str) -> set[str]:
    with Gradebook(db_url, course_id) as gb:
        try:
            return {c.name for c in gb.find_notebook(notebook, assignment).grade_cells}
        except MissingEntry:  # not a notebook of the assignment
            return set()


def _notebook_names(db_url: str, course_id: str, assignment: str) -> list[str]:
    with Gradebook(db_url, course_id) as gb:
        return [n.name for n in gb.find_assignment(assignment).notebooks]
