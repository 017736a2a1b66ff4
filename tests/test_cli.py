"""The `course` command, verb by verb, on the tiny fixture course."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import zipfile
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner
from nbgrader.utils import parse_utc

from course.cli import main
from course.grading.outputs import KEPT_SECRET, SECRET, prepare_release
from tests.support.course import FIXTURES, HIDDEN_TESTS, make_course, submit


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, ps0_template: Path, bwrap: None) -> Path:
    """A course where three Canvas-named submissions were imported from a zip and graded.
    Shared by the module's tests: a test that changes it works on ``own_copy`` instead."""
    root = make_course(tmp_path_factory.mktemp("cli") / "course")
    lms = root.parent / "canvas.zip"
    with zipfile.ZipFile(lms, "w") as archive:
        archive.write(FIXTURES / "honest/full-marks.ipynb", "doe_1001_55501_questions.ipynb")
        archive.write(FIXTURES / "honest/partial-marks.ipynb",
                      "roe_late_1002_55502_questions-1.ipynb")
        archive.write(FIXTURES / "hostile/deleted-test-cell.ipynb",
                      "poe_1003_55503_questions.ipynb")
        archive.write(FIXTURES / "honest/full-marks.ipynb", "moe_1004_55504_notes.ipynb")
        archive.writestr("readme.txt", "hello")
    result = run(root, "import", "ps0", str(lms))
    assert result.exit_code == 0, result.output
    assert "imported 1001: questions" in result.output
    assert "imported 1002: questions" in result.output
    assert "NOT imported moe_1004_55504_notes.ipynb: no notebook 'notes'" in result.output
    assert "NOT imported readme.txt: not a notebook" in result.output
    result = run(root, "autograde", "ps0", "--timeout", "5", "--memory", "1GiB")
    assert result.exit_code == 0, result.output
    return root


def own_copy(graded: Path, tmp_path: Path) -> Path:
    """A copy of the module's graded course for a test that adds to it or overwrites its
    files, so the tests after it still see the course as ``graded`` made it."""
    return Path(shutil.copytree(graded, tmp_path / "course", symlinks=True))


def run(root: Path, *args: str):
    return CliRunner().invoke(main, ["--root", str(root), *args], catch_exceptions=False)


def test_autograde_prints_scores_and_verdicts(graded: Path) -> None:
    result = run(graded, "autograde", "ps0", "--student", "1003", "--workers", "1")
    assert "deleted-cell" in result.output and "test_count_words" in result.output
    assert "1 graded, 1 flagged" in result.output


def test_autograde_no_pool_starts_kernels_cold_and_grades_alike(graded: Path) -> None:
    pooled = run(graded, "autograde", "ps0", "--student", "1002", "--workers", "1")  # default
    cold = run(graded, "autograde", "ps0", "--student", "1002", "--workers", "1", "--no-pool")
    assert cold.exit_code == pooled.exit_code == 0, cold.output
    assert "NOTICE: no warm kernel pool" not in pooled.output + cold.output
    # the progress bar may share a line with a score: search, do not anchor
    score = re.compile(r"\b1002 +\S+ / \S+ +\S+")
    line = score.findall(pooled.output)
    assert line and line == score.findall(cold.output), pooled.output + cold.output


def test_export_writes_nbgrader_and_canvas_csv(graded: Path) -> None:
    result = run(graded, "export", "ps0")
    assert result.exit_code == 0, result.output
    with open(graded / "autograder/export/canvas-ps0.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ps0"]
    assert rows[1][0] == "Points Possible" and float(rows[1][5]) == 5
    scores = {row[1]: float(row[5]) for row in rows[2:]}
    assert scores == {"1001": 3.0, "1002": 1.0, "1003": 1.0}
    with open(graded / "autograder/export/grades-ps0.csv", newline="") as handle:
        nbgrader_rows = list(csv.DictReader(handle))
    assert {r["assignment"] for r in nbgrader_rows} == {"ps0"}  # one file per assignment
    assert {r["student_id"]: float(r["score"]) for r in nbgrader_rows} == scores


def test_export_leaves_missing_work_blank_in_every_file(graded: Path, tmp_path: Path) -> None:
    """A student without a submission is not a graded zero, in nbgrader's file as in Canvas's."""
    from nbgrader.api import Gradebook

    with Gradebook(*run_db(graded)) as gb:
        gb.update_or_create_student("1009", first_name="Nat", last_name="Absent")
    try:  # the course is the module's: leave it as it was
        result = run(graded, "export", "ps0", "--to", str(tmp_path))
    finally:
        with Gradebook(*run_db(graded)) as gb:
            gb.remove_student("1009")
    assert result.exit_code == 0, result.output
    with open(tmp_path / "grades-ps0.csv", newline="") as handle:
        absent = next(r for r in csv.DictReader(handle) if r["student_id"] == "1009")
    assert absent["score"] == "" and absent["timestamp"] == ""
    with open(tmp_path / "canvas-ps0.csv", newline="") as handle:
        assert next(r for r in csv.reader(handle) if r[1] == "1009")[5] == ""
    assert "1009" not in (tmp_path / "moodle-ps0.csv").read_text()


def run_db(root: Path) -> tuple[str, str]:
    from course.settings import load_config

    config = load_config(root)
    return config.CourseDirectory.db_url, config.CourseDirectory.course_id


def test_export_writes_moodle_grade_import_csv(graded: Path) -> None:
    """Moodle's "Import grades from CSV": a user identifier column and one column per
    assignment; students who did not submit are left out rather than given 0."""
    result = run(graded, "export", "ps0")
    assert result.exit_code == 0 and "moodle-ps0.csv" in result.output
    with open(graded / "autograder/export/moodle-ps0.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["ID number", "Email address", "ps0"]
    assert {row[0]: float(row[2]) for row in rows[1:]} == {"1001": 3.0, "1002": 1.0,
                                                           "1003": 1.0}


def test_feedback_hides_hidden_tests_unless_revealed(graded: Path) -> None:
    def text() -> str:
        html = (graded / "autograder/feedback/1002/ps0/questions.html").read_text()
        return unescape(re.sub(r"<[^>]+>", "", html))

    assert run(graded, "feedback", "ps0").exit_code == 0
    page = (graded / "autograder/feedback/1002/ps0/questions.html").read_text()
    assert re.findall(r'src="(?:https?:)?//[^"]*"', page) == []  # opens offline
    assert not [test for test in HIDDEN_TESTS if test in text()]
    assert "hidden tests are not shown" in text() and "count_words('a b') == 2" in text()
    assert run(graded, "feedback", "ps0", "--reveal-hidden").exit_code == 0
    assert all(test in text() for test in HIDDEN_TESTS)


def test_plain_nbgrader_feedback_hides_hidden_tests_too(graded: Path, tmp_path: Path) -> None:
    """Formgrader's Generate Feedback button and `nbgrader generate_feedback` run nbgrader's
    own converter: the course's nbgrader_config.py makes it hide hidden tests as well."""
    graded = own_copy(graded, tmp_path)  # nbgrader's feedback replaces the course's own
    nbgrader = Path(sys.executable).with_name("nbgrader")
    result = subprocess.run([str(nbgrader), "generate_feedback", "ps0", "--force"], cwd=graded,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    html = (graded / "autograder/feedback/1002/ps0/questions.html").read_text()
    page = unescape(re.sub(r"<[^>]+>", "", html))
    assert not [test for test in HIDDEN_TESTS if test in page]
    assert "hidden tests are not shown" in page
    assert re.findall(r'src="(?:https?:)?//[^"]*"', html) == []  # no CDN MathJax either


def test_feedback_of_lms_imports_can_be_released(graded: Path, tmp_path: Path) -> None:
    """`nbgrader release_feedback` stops at the first feedback folder without a submission
    secret; LMS imports have none of their own, so `course feedback` gives them one."""
    result = run(graded, "feedback", "ps0")
    assert "not submitted through the exchange (3): 1001, 1002, 1003" in result.output
    assert "release_feedback" not in result.output  # nobody here can fetch it
    secret = (graded / "autograder/feedback/1001/ps0" / SECRET).read_text()
    assert secret == (graded / "autograder/submitted/1001/ps0" / KEPT_SECRET).read_text()
    assert run(graded, "feedback", "ps0").exit_code == 0
    assert (graded / "autograder/feedback/1001/ps0" / SECRET).read_text() == secret  # same key
    released = subprocess.run(
        [Path(sys.executable).parent / "nbgrader", "release_feedback", "ps0",
         f"--Exchange.root={tmp_path}"], cwd=graded, capture_output=True, text=True)
    assert released.returncode == 0, released.stderr
    assert len(list(tmp_path.glob("grading-tests/feedback/*.html"))) == 3


def test_release_keeps_an_exchange_submissions_secret_and_time(tmp_path: Path) -> None:
    submitted, feedback = tmp_path / "submitted", tmp_path / "feedback"
    submitted.mkdir()
    feedback.mkdir()
    (submitted / SECRET).write_text("the student's secret")
    (submitted / "timestamp.txt").write_text("2026-01-05 10:00:00.000000 UTC")
    assert prepare_release(feedback, submitted)
    assert (feedback / SECRET).read_text() == "the student's secret"
    assert (feedback / "timestamp.txt").read_text() == "2026-01-05 10:00:00.000000 UTC"
    assert not (submitted / KEPT_SECRET).exists()


def test_release_of_a_submission_placed_by_hand_or_removed(tmp_path: Path) -> None:
    submitted, feedback = tmp_path / "submitted", tmp_path / "feedback"
    submitted.mkdir()
    feedback.mkdir()
    assert not prepare_release(feedback, submitted)
    assert len((feedback / SECRET).read_text()) == 128
    assert parse_utc((feedback / "timestamp.txt").read_text()).year >= 2026
    assert not prepare_release(feedback, tmp_path / "removed")
    assert not (tmp_path / "removed").exists()  # no new submission for the grader to find


def test_report_prints_table_and_saves_plot(graded: Path) -> None:
    result = run(graded, "report", "ps0")
    assert result.exit_code == 0, result.output
    assert "3 submissions" in result.output
    assert "test_count_words" in result.output and "33%" in result.output
    # every row of the cell table has its columns where the header has them
    table = result.output.split("\n")
    head = next(i for i, line in enumerate(table) if line.startswith("notebook"))
    rows = [line for line in table[head + 1:] if line.startswith("questions ")]
    assert rows
    assert {len(line) for line in [table[head], *rows]} == {len(table[head])}
    png = graded / "autograder/reports/ps0-report.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the item statistics of LMS quizzes, per graded cell (course.itemstats)
    # autograded cells score all or nothing: the reliability is KR-20
    assert "3 students" in result.output and "KR-20" in result.output, result.output
    page = (graded / "autograder/reports/ps0-items.html").read_text()
    assert "test_count_words" in page and "discrimination" in page
    assert (graded / "autograder/reports/ps0-items.csv").exists()


def test_score_histogram_counts_on_whole_numbers() -> None:
    from course.grading.outputs import score_figure

    fig = score_figure([{"cell": "a", "full_marks": 0.5}], [1.0, 2.5, 2.5, 4.0])
    ticks = fig.axes[0].get_yticks()
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)


def test_validate_catches_what_autograde_would(graded: Path) -> None:
    runner = CliRunner()
    released = graded / "exercises/ps0/questions.ipynb"
    ok = runner.invoke(main, ["validate", str(FIXTURES / "honest/full-marks.ipynb"),
                              "--released", str(released)])
    assert ok.exit_code == 0 and "OK" in ok.output
    deleted = runner.invoke(main, ["validate", str(FIXTURES / "hostile/deleted-test-cell.ipynb"),
                                   "--released", str(released)])
    assert deleted.exit_code == 1 and "deleted-cell" in deleted.output
    empty = runner.invoke(main, ["validate", str(FIXTURES / "hostile/empty-file.ipynb")])
    assert empty.exit_code == 1 and "the file is empty" in empty.output


def test_validate_finds_the_release_by_the_notebooks_name(graded: Path, tmp_path: Path) -> None:
    """In the layout `course import` takes, <student>/<notebook>.ipynb, the folder above the
    notebook is a student, not an assignment: the release is found by the notebook's name."""
    runner = CliRunner()
    student = graded / "autograder" / "submitted" / "1001" / "ps0" / "questions.ipynb"
    by_student = tmp_path / "doe" / "questions.ipynb"
    by_student.parent.mkdir()
    by_student.write_bytes(student.read_bytes())
    ok = runner.invoke(main, ["--root", str(graded), "validate", str(by_student)])
    assert ok.exit_code == 0
    assert f"compared with the released version {graded / 'exercises/ps0/questions.ipynb'}" in (
        ok.output)
    deleted = tmp_path / "roe" / "questions.ipynb"
    deleted.parent.mkdir()
    deleted.write_bytes((FIXTURES / "hostile/deleted-test-cell.ipynb").read_bytes())
    caught = runner.invoke(main, ["--root", str(graded), "validate", str(deleted)])
    assert caught.exit_code == 1 and "deleted-cell" in caught.output
    # nothing to compare with: said plainly, not "OK" alone
    alone = tmp_path / "notes.ipynb"
    alone.write_bytes(student.read_bytes())
    result = runner.invoke(main, ["--root", str(graded), "validate", str(alone)])
    assert result.exit_code == 0
    assert "NOT compared with a released version: no released notebook called notes.ipynb" in (
        result.output)


def test_user_mistakes_get_messages_not_tracebacks(graded: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "autograde", "ps0"])
    graded = own_copy(graded, tmp_path)  # it gains an ungraded submission below
    assert result.exit_code == 2 and "nbgrader_config.py" in result.output
    result = run(graded, "autograde", "ps9")
    assert result.exit_code == 1 and "no submissions of ps9" in result.output
    result = run(graded, "autograde", "ps0", "--memory", "lots")
    assert result.exit_code == 2 and "not a size" in result.output
    submit(graded, "extra", "honest/full-marks")
    result = run(graded, "import", "ps0", str(FIXTURES / "honest/full-marks.ipynb"))
    assert result.exit_code == 1 and "neither a folder nor a zip" in result.output


def test_generate_lists_what_it_wrote_without_alarming_words(ps0_course: Path) -> None:
    root = ps0_course
    result = run(root, "generate", "ps0")
    assert result.exit_code == 0, result.output
    assert "exercises/ps0/questions.ipynb" in result.output
    assert "wrote 1 files" in result.output
    assert "Removing existing assignment" not in result.output


@pytest.mark.slow  # two Python processes of their own
def test_every_python_m_entry_point_is_the_course_command() -> None:
    for module, verb in (("course.assignments", "generate"), ("course.quiz", "quiz")):
        shown = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                               text=True, check=True).stdout
        direct = CliRunner().invoke(main, [verb, "--help"]).output
        # the same help, but for the usage line (and where the terminal wraps it)
        assert shown.split("\n", 1)[1].split() == direct.split("\n", 1)[1].split()


def test_a_first_autograde_prints_no_orm_warnings(ps0_course: Path, bwrap: None) -> None:
    """nbgrader's SQLAlchemy warnings used to break into the progress bar on a first run (in
    a process of its own: pytest would catch the warnings before they reach stderr)."""
    root = ps0_course
    submit(root, "s1", "honest/full-marks")
    course = Path(sys.executable).with_name("course")
    done = subprocess.run([str(course), "--root", str(root), "autograde", "ps0", "--timeout",
                           "5"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "SAWarning" not in done.stderr and "not in session" not in done.stderr


def test_notices_reach_the_instructor_through_logging(graded: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A NOTICE is a log record of course.grading, which the command shows on stderr."""
    from course.grading import pipeline
    from course.grading.limits import LimitsUnavailable

    def unavailable() -> None:
        raise LimitsUnavailable("cgroups switched off for this test")

    monkeypatch.setattr(pipeline, "detect", unavailable)
    result = run(graded, "autograde", "ps0", "--student", "1001", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "NOTICE: no per-submission cgroup (cgroups switched off for this test)" in (
        result.output)
