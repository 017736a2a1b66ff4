"""`course`: the instructor's and student's command line around nbgrader.

Every verb works from the course root (the folder with nbgrader_config.py) or with --root."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from course.grading.integrity import check_submission
from course.grading.limits import Limits
from course.grading.sandbox import SandboxUnavailable, parse_size


def _find_root(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        if (folder / "nbgrader_config.py").exists():
            return folder
    return None


class Course:
    def __init__(self, root: Path) -> None:
        from nbgrader.coursedir import CourseDirectory

        from course.grading.pipeline import load_config

        self.root = root
        self.config = load_config(root, sandbox=False)
        self.coursedir = CourseDirectory(config=self.config)

    def output_folder(self, folder: Path) -> Path:
        """``folder`` (relative ones from the course root), created if missing."""
        folder = folder if folder.is_absolute() else self.root / folder
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def folder(self, step: str, *parts: str) -> Path:
        return Path(self.coursedir.root, getattr(self.coursedir, f"{step}_directory"), *parts)

    @property
    def db(self) -> tuple[str, str]:
        return self.coursedir.db_url, self.coursedir.course_id


pass_course = click.make_pass_decorator(Course)


@click.group()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Course root (default: the nearest folder up with nbgrader_config.py).")
@click.pass_context
def main(ctx: click.Context, root: Path | None) -> None:
    """Grade the course's nbgrader assignments: generate, import, autograde, feedback, export,
    report; and `validate` for students."""
    if ctx.invoked_subcommand == "validate":
        ctx.obj = root
        return
    found = root.resolve() if root else _find_root(Path.cwd().resolve())
    if found is None or not (found / "nbgrader_config.py").exists():
        raise click.UsageError("no nbgrader_config.py here or above: run from the course root "
                               "or pass --root")
    ctx.obj = Course(found)


@main.command()
@click.argument("assignments", nargs=-1)
@pass_course
def generate(course: Course, assignments: tuple[str, ...]) -> None:
    """Generate the student versions (exercises/) from solutions/."""
    from course.assignments import AssignmentError, generate_student_versions

    try:
        written = generate_student_versions(course.root, list(assignments) or None)
    except AssignmentError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"wrote {len(written)} files")


@main.command("import")
@click.argument("assignment")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with columns canvas_id,student_id to map Canvas user ids.")
@pass_course
def import_(course: Course, assignment: str, source: Path, roster: Path | None) -> None:
    """Import submissions from a folder or an LMS (Canvas) zip."""
    from course.grading.importer import import_submissions, read_roster
    from course.grading.outputs import read_notebook_names

    notebooks = read_notebook_names(course.folder("release", assignment))
    if not notebooks:
        raise click.ClickException(f"{assignment} has no released notebooks: run "
                                   "`course generate` first")
    try:
        report = import_submissions(source, course.folder("submitted"), assignment, notebooks,
                                    read_roster(roster) if roster else None)
    except (ValueError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error
    for student, names in sorted(report.imported.items()):
        click.echo(f"imported {student}: {', '.join(sorted(names))}")
    for name, why in sorted(report.unmapped.items()):
        click.echo(f"NOT imported {name}: {why}", err=True)
    click.echo(f"{len(report.imported)} students imported, {len(report.unmapped)} files not")


@main.command()
@click.argument("assignment")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Parallel kernels (default: number of cores).")
@click.option("--timeout", type=click.IntRange(min=1), default=None,
              help="Seconds per cell before it is interrupted (default: config, 30).")
@click.option("--memory", default=None,
              help="Memory for each submission, all its processes together, e.g. 2GiB "
                   "(default 2GiB).")
@click.option("--processes", type=click.IntRange(min=32), default=None,
              help="Processes and threads a submission may run at once (default "
                   f"{Limits.processes}; a bare kernel uses about 11).")
@click.option("--cpus", type=click.FloatRange(min=0.1), default=None,
              help=f"CPU cores a submission may use (default {Limits.cpus:g}).")
@click.option("--student", "students", multiple=True, help="Only these students.")
@click.option("--no-sandbox", is_flag=True,
              help="Run student code WITHOUT isolation (only where bubblewrap cannot run).")
@click.option("--no-pool", is_flag=True,
              help="Start every kernel cold instead of forking it from a warm process.")
@pass_course
def autograde(course: Course, assignment: str, workers: int | None, timeout: int | None,
              memory: str | None, processes: int | None, cpus: float | None,
              students: tuple[str, ...], no_sandbox: bool, no_pool: bool) -> None:
    """Autograde every submission of ASSIGNMENT in parallel, in sandboxed kernels."""
    from course.grading.pipeline import autograde as run

    if memory is not None:
        try:
            parse_size(memory)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--memory") from error
    if not course.folder("submitted").exists() or not any(
        course.folder("submitted").glob(f"*/{assignment}")
    ):
        raise click.ClickException(f"no submissions of {assignment} in "
                                   f"{course.folder('submitted')}: run `course import` first")
    if no_sandbox:
        click.echo("WARNING: --no-sandbox: student code runs with your rights.", err=True)
    try:
        results = run(course.root, assignment, students=list(students) or None, workers=workers,
                      timeout=timeout, memory=memory, sandbox=not no_sandbox,
                      processes=processes, cpus=cpus, pool=not no_pool)
    except SandboxUnavailable as error:
        raise click.ClickException(str(error)) from error
    for result in results:
        click.echo(f"{result.student:<30} {result.score:>6g} / {result.max_score:<6g} "
                   f"{result.verdict}")
        for finding in result.findings:
            click.echo(f"    {finding}")
    flagged = sum(1 for r in results if r.findings)
    click.echo(f"{len(results)} graded, {flagged} flagged")


@main.command()
@click.argument("assignment")
@click.option("--reveal-hidden", is_flag=True, help="Show hidden tests in the feedback.")
@pass_course
def feedback(course: Course, assignment: str, reveal_hidden: bool) -> None:
    """Write an HTML feedback file per student (autograder/feedback/)."""
    from nbgrader.apps import NbGraderAPI

    from course.grading.outputs import feedback_config, prepare_releases

    api = NbGraderAPI(config=feedback_config(course.config, reveal_hidden))
    result = api.generate_feedback(assignment)
    if not result["success"]:
        raise click.ClickException("nbgrader could not write feedback:\n" + result.get("log", ""))
    files = sorted(course.folder("feedback").glob(f"*/{assignment}/*.html"))
    click.echo(f"wrote {len(files)} feedback files under {course.folder('feedback')}")
    fetchable, others = prepare_releases(course.folder("feedback"), course.folder("submitted"),
                                         assignment)
    if fetchable:
        click.echo(f"submitted through the exchange ({len(fetchable)}): {', '.join(fetchable)}; "
                   f"`nbgrader release_feedback {assignment}` lets them fetch it")
    if others:
        click.echo(f"not submitted through the exchange ({len(others)}): {', '.join(others)}; "
                   "send them their HTML files through the LMS")


@main.command()
@click.argument("assignment")
@click.option("--to", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("autograder/export"), show_default=True)
@pass_course
def export(course: Course, assignment: str, out_dir: Path) -> None:
    """Write nbgrader's grades CSV and a Canvas gradebook-import CSV."""
    from course.grading.outputs import export_canvas_csv, export_nbgrader_csv

    out_dir = course.output_folder(out_dir)
    a = export_nbgrader_csv(*course.db, out_dir / "grades.csv")
    b = export_canvas_csv(*course.db, assignment, out_dir / f"canvas-{assignment}.csv")
    click.echo(f"wrote {a}\nwrote {b}")


@main.command()
@click.argument("assignment")
@click.option("--to", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("autograder/reports"), show_default=True)
@pass_course
def report(course: Course, assignment: str, out_dir: Path) -> None:
    """Print the score distribution and per-cell results, and save them as a PNG plot."""
    from course.grading.outputs import report as make

    text, png = make(*course.db, assignment, course.output_folder(out_dir))
    click.echo(text)
    click.echo(f"plot: {png}")


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--released", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The notebook as released (default: found in exercises/ if at hand).")
@click.pass_obj
def validate(root: Path | None, notebook: Path, released: Path | None) -> None:
    """Check a notebook before you submit it: readable, and every graded or test cell still
    there and unchanged."""
    if released is None:
        course_root = root or _find_root(notebook.resolve().parent)
        if course_root is not None:
            candidate = course_root / "exercises" / notebook.parent.name / notebook.name
            released = candidate if candidate.exists() else None
    try:
        findings = check_submission(notebook, released)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if not findings:
        checked = f"against {released}" if released else "against its own checksums"
        click.echo(f"{notebook}: OK ({checked})")
        return
    for finding in findings:
        click.echo(f"{notebook}: {finding.kind}: {finding.detail}"
                   + (f" (cell {finding.cell})" if finding.cell else ""))
    sys.exit(1)


if __name__ == "__main__":
    main()
