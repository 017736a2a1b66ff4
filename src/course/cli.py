"""`course`: the instructor's and student's command line around nbgrader.

Every verb works from the course root (the folder with nbgrader_config.py) or with --root."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from course.grading.limits import (  # light: the defaults shown in --help
    DEFAULT_CELL_TIMEOUT,
    DEFAULT_MEMORY,
    Limits,
)
from course.settings import CONFIG_NAME, find_root, folder, load_config


class Course:
    def __init__(self, root: Path) -> None:
        from nbgrader.coursedir import CourseDirectory

        self.root = root
        self.config = load_config(root)
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


class _AboveTheProgressBar(logging.Handler):
    """The grading notices on stderr, written so that tqdm's progress bar redraws below them."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        tqdm.write(self.format(record), file=sys.stderr)


def _show_notices() -> None:
    log = logging.getLogger("course")
    if not any(isinstance(h, _AboveTheProgressBar) for h in log.handlers):
        log.addHandler(_AboveTheProgressBar())
        log.setLevel(logging.WARNING)


@click.group()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Course root (default: the nearest folder up with nbgrader_config.py).")
@click.pass_context
def main(ctx: click.Context, root: Path | None) -> None:
    """Grade the course's nbgrader assignments: generate, import, autograde, feedback, export,
    report; and `validate` for students."""
    _show_notices()
    if ctx.invoked_subcommand in ("validate", "quiz"):  # no course needed
        ctx.obj = root
        return
    found = root.resolve() if root else find_root()
    if found is None or not (found / CONFIG_NAME).exists():
        raise click.UsageError(f"no {CONFIG_NAME} here or above: run from the course root "
                               "or pass --root")
    ctx.obj = Course(found)


@main.command()
@click.argument("assignments", nargs=-1)
@pass_course
def generate(course: Course, assignments: tuple[str, ...]) -> None:
    """Generate the student versions (exercises/) from solutions/, replacing the old ones."""
    from course.assignments import AssignmentError, generate_student_versions

    try:
        written = generate_student_versions(course.root, list(assignments) or None)
    except AssignmentError as error:
        raise click.ClickException(str(error)) from error
    for path in written:
        click.echo(path.relative_to(course.root))
    click.echo(f"wrote {len(written)} files; commit them with their sources")


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
              help="Seconds per cell before it is interrupted (default: "
                   f"nbgrader_config.py's Execute.timeout, else {DEFAULT_CELL_TIMEOUT}).")
@click.option("--memory", default=None,
              help="Memory for each submission, all its processes together, e.g. 2GiB "
                   f"(default {DEFAULT_MEMORY}).")
@click.option("--processes", type=click.IntRange(min=32), default=None,
              help="Processes and threads a submission may run at once (default "
                   f"{Limits.processes}; a bare kernel uses about 11).")
@click.option("--cpus", type=click.FloatRange(min=0.1), default=None,
              help=f"CPU cores a submission may use (default {Limits.cpus:g}).")
@click.option("--student", "students", multiple=True, help="Only these students.")
@click.option("--no-sandbox", is_flag=True,
              help="Run student code WITHOUT isolation (only where bubblewrap cannot run).")
@click.option("--pool/--no-pool", default=True, show_default=True,
              help="Fork each kernel, in its own sandbox, from a warm process that has "
                   "done Python's start-up once (docs/warm-kernel-pool.md); --no-pool "
                   "starts every kernel cold. Same scores and outputs either way; where "
                   "the pool cannot run, one NOTICE says why and kernels start cold.")
@pass_course
def autograde(course: Course, assignment: str, workers: int | None, timeout: int | None,
              memory: str | None, processes: int | None, cpus: float | None,
              students: tuple[str, ...], no_sandbox: bool, pool: bool) -> None:
    """Autograde every submission of ASSIGNMENT in parallel, in sandboxed kernels."""
    from course.grading.pipeline import autograde as run
    from course.grading.sandbox import SandboxUnavailable, parse_size

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
                      processes=processes, cpus=cpus, pool=pool)
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
    from course.grading.outputs import FeedbackError, write_feedback

    try:
        written = write_feedback(course.config, assignment, reveal_hidden)
    except FeedbackError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"wrote {len(written.files)} feedback files under {course.folder('feedback')}")
    fetchable, others = written.fetchable, written.others
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
    """Write nbgrader's grades CSV, a Canvas gradebook-import CSV and a Moodle grade-import
    CSV."""
    from course.grading.outputs import export_canvas_csv, export_moodle_csv, export_nbgrader_csv

    out_dir = course.output_folder(out_dir)
    a = export_nbgrader_csv(*course.db, assignment, out_dir / f"grades-{assignment}.csv")
    b = export_canvas_csv(*course.db, assignment, out_dir / f"canvas-{assignment}.csv")
    c = export_moodle_csv(*course.db, assignment, out_dir / f"moodle-{assignment}.csv")
    click.echo(f"wrote {a}\nwrote {b}\nwrote {c}")


@main.command()
@click.argument("assignment")
@click.argument("responses", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("autograder/reports"), show_default=True)
@click.option("--idents", "idents", metavar="MAP",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="`report quiz`: the ident map `course quiz export` wrote beside the file "
                   "the quiz was imported from (<file>.idents.json).")
@pass_course
def report(course: Course, assignment: str, responses: Path | None, out_dir: Path,
           idents: Path | None) -> None:
    """Item report of ASSIGNMENT (psN: from the gradebook), or `report quiz RESPONSES --idents
    MAP` for answers downloaded from Canvas or Moodle: table, HTML, CSV and plots."""
    if assignment == "quiz":
        _report_quiz(responses, idents, course.output_folder(out_dir))
        return
    if idents is not None or responses is not None:
        raise click.UsageError("RESPONSES and --idents are for `course report quiz` only")
    from course.grading.outputs import report as make

    text, png = make(*course.db, assignment, course.output_folder(out_dir))
    click.echo(text)
    click.echo(f"plot: {png}")


# --- LMS quizzes (issue 12): `course quiz export` and `course report quiz`; docs/lms-export.md

def _report_quiz(responses: Path | None, idents: Path | None, out_dir: Path) -> None:
    from course.itemstats import text_table, write_report
    from course.quiz.lms import ExportError
    from course.quiz.lms.idents import IdentsError
    from course.quiz.lms.responses import ResponsesError, analyse_responses

    if responses is None:
        raise click.UsageError("`course report quiz` needs the responses file: "
                               "course report quiz RESPONSES.csv --idents MAP")
    if idents is None:
        # The download has no idents of ours: only the map says which column is which question.
        raise click.UsageError(
            "`course report quiz` needs --idents MAP: the ident map `course quiz export` wrote "
            "beside the file the quiz was imported from, e.g. "
            "lms/course-quizzes-qti.idents.json (Canvas) or "
            "lms/course-quizzes-moodle.idents.json (Moodle). Lost it? Export again from the "
            "bank as it was then: the map's texts come from the bank")
    try:
        analysis = analyse_responses(responses, idents)
    except (ExportError, IdentsError, ResponsesError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    page, table, png = write_report(analysis, out_dir, responses.stem)
    click.echo(text_table(analysis))
    click.echo(f"wrote {page}\nwrote {table}\nwrote {png}")


@main.group()
def quiz() -> None:
    """The question banks (book/quizzes/): `check` them, `export` them to an LMS."""


@quiz.command("export")
@click.option("--format", "fmt", required=True,
              type=click.Choice(["cc", "qti", "moodle", "gift"]),
              help="cc: Common Cartridge 1.1 (Canvas, Moodle); qti: Canvas's QTI .zip; "
                   "moodle: Moodle XML; gift: Moodle's GIFT text.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder to write the file into (created if missing).")
@click.option("--chapter", "chapters", multiple=True,
              help="Only this chapter's bank (repeatable; default: all).")
@click.option("--book-url", default=None,
              help="URL of the published book: paragraph citations become links to it.")
def quiz_export(fmt: str, out_dir: Path, chapters: tuple[str, ...],
                book_url: str | None) -> None:
    """Write the question bank as one LMS import file, one quiz or category per chapter."""
    from course.quiz.lms import ExportError, export

    try:
        result = export(fmt, out_dir, list(chapters) or None, book_url)  # type: ignore[arg-type]
    except ExportError as error:
        raise click.ClickException(str(error)) from error
    for notice in result.notices:
        click.echo(str(notice), err=True)
    click.echo(f"wrote {result.path}: {len(result.exact)} questions exact, "
               f"{len(result.approximate)} approximate, {len(result.not_carried)} not carried")
    click.echo(f"wrote {result.idents}: its ident map, for "
               f"`course report quiz RESPONSES --idents {result.idents}`")


# --- end of LMS quizzes


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--released", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The notebook as released (default: the released notebook of the same name).")
@click.pass_obj
def validate(root: Path | None, notebook: Path, released: Path | None) -> None:
    """Check a notebook before you submit it: readable, and every graded or test cell still
    there and unchanged."""
    from course.grading.integrity import check_submission

    why_not = ""
    if released is None:
        released, why_not = _released_version(root or find_root(notebook.resolve().parent),
                                              notebook)
    try:
        findings = check_submission(notebook, released)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if not findings:
        if released:
            click.echo(f"{notebook}: OK (compared with the released version {released})")
        else:
            click.echo(f"{notebook}: OK against its own checksums only. It was NOT compared with "
                       f"a released version: {why_not}. Pass --released to compare.")
        return
    for finding in findings:
        click.echo(f"{notebook}: {finding.kind}: {finding.detail}"
                   + (f" (cell {finding.cell})" if finding.cell else ""))
    sys.exit(1)


@quiz.command("check")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
def quiz_check(folder: Path | None) -> None:
    """Report every problem of every bank in FOLDER (default: book/quizzes), one per line."""
    from course.quiz.bank import BankError, bank_files, load_all_banks

    try:
        banks = load_all_banks(folder)
    except BankError as error:
        click.echo(str(error), err=True)
        click.echo(f"{len(error.problems)} problem(s) found", err=True)
        sys.exit(1)
    n = sum(len(b.questions) for b in banks)
    click.echo(f"{len(banks)} bank(s), {n} question(s): all valid "
               f"({len(bank_files(folder))} file(s))")


def _released_version(course_root: Path | None, notebook: Path) -> tuple[Path | None, str]:
    """The released notebook of the same name, and why none was found if so.

    Looked up by the notebook's name in every assignment of the release folder, so both
    layouts work: ``<assignment>/<notebook>.ipynb`` and ``<student>/<notebook>.ipynb``.
    """
    if course_root is None:
        return None, f"no {CONFIG_NAME} above the notebook, so no release folder is known"
    release = folder(load_config(course_root), "release")
    found = sorted(release.glob(f"*/{notebook.name}"))
    by_assignment = [p for p in found if p.parent.name == notebook.parent.name]
    if len(by_assignment) == 1:
        return by_assignment[0], ""
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, f"no released notebook called {notebook.name} in {release}"
    return None, (f"{len(found)} assignments release a notebook called {notebook.name} "
                  f"({', '.join(p.parent.name for p in found)})")


if __name__ == "__main__":
    main()
