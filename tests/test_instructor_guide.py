"""Every shell command of the instructor's guide (autograder/README.md) runs, in order, in a
temporary copy of the test course: there the guide's `ps1` is the test assignment `ps0`, its
notebook `who_is_speaking` is `questions`, the course id is the test course's, and the exchange
and the LMS download are in the temporary folder.

How the guide's fenced blocks are run (`test_every_command_block_is_run_by_a_test` keeps it so):

- ```python: config snippets, applied before any command. A snippet whose first line is
  `# /etc/jupyter/nbgrader_config.py` is the hub-wide config every user's nbgrader reads; here
  it goes to a folder on JUPYTER_CONFIG_PATH, for instructor and students alike. The others are
  added to the course's nbgrader_config.py (except `db_url`: PostgreSQL has its own test).
- ```sh: the instructor's commands, one line at a time, from the course root.
- ```sh student: what students run in their own Jupyter terminal. Each student of STUDENTS in
  turn runs the whole block as a separate hub user: from their own home folder (HOME), with USER
  and LOGNAME set to their name, and under bubblewrap with an /etc/passwd that names the test's
  uid after them, because nbgrader takes the student id from the OS account
  (nbgrader.utils.get_username), not from $USER. Before a block with `nbgrader submit`, the
  students who answer (ANSWERS) put a fixture notebook in their fetched folder; the others
  submit it blank.
- ```sh formgrader: the formgrader server, started by tests/test_formgrader.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from html import unescape
from pathlib import Path

import pytest

from course.quiz.lms import FILE_NAMES, select_banks
from course.quiz.lms.idents import map_path
from tests.support.course import FIXTURES, HIDDEN_TESTS
from tests.support.guide import GUIDE, blocks, fenced_blocks, lines
from tests.support.lms_responses import write_canvas, write_moodle

HUB_CONFIG = "# /etc/jupyter/nbgrader_config.py"
STUDENTS = ("adoe", "bkim")
ANSWERS = {"adoe": "honest/full-marks"}  # bkim submits the notebook as fetched
# Info string of a fenced block -> the test that runs its commands.
RUN_BY = {
    "sh": "test_instructor_guide.py",
    "sh student": "test_instructor_guide.py",
    "sh formgrader": "test_formgrader.py",
}
SHELLS = {"sh", "bash", "shell", "console", "zsh"}


def for_test_course(text: str, exchange: Path) -> str:
    return (text.replace("ps1", "ps0").replace("who_is_speaking", "questions")
            .replace("russia-nk-sources", "grading-tests")
            .replace("/srv/nbgrader/exchange", str(exchange)))


def apply_config_snippets(root: Path, hub_config: Path, exchange: Path) -> None:
    hub_config.mkdir()
    for snippet in blocks("python"):
        if "db_url" in snippet:  # PostgreSQL has its own test (test_postgres_gradebook.py)
            continue
        target = (hub_config if snippet.startswith(HUB_CONFIG) else root) / "nbgrader_config.py"
        with open(target, "a") as config:
            config.write("\n" + for_test_course(snippet, exchange))


def lms_downloads(root: Path) -> None:
    """What `course import` reads: a Canvas zip and a folder of submissions."""
    with zipfile.ZipFile(root / "submissions.zip", "w") as archive:
        archive.write(FIXTURES / "honest/full-marks.ipynb", "doe_1001_5501_questions-1.ipynb")
        archive.write(FIXTURES / "honest/partial-marks.ipynb", "roe_1002_5502_questions.ipynb")
    (root / "submissions" / "1003").mkdir(parents=True)
    shutil.copy(FIXTURES / "honest/wrong-answers.ipynb", root / "submissions/1003/questions.ipynb")
    # what `course report quiz` reads: a class's answers to a chapter's quiz, from each LMS
    bank = select_banks()[0]  # the bank as exported (quotations written out)
    write_canvas(bank, root / "canvas-student-analysis.csv")
    write_moodle(bank, root / "moodle-responses.csv")


class Student:
    """One hub user: a home folder, and an OS account name that nbgrader sees."""

    def __init__(self, name: str, tmp_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.home = tmp_path / "home" / name
        self.home.mkdir(parents=True)
        self.passwd = tmp_path / f"passwd-{name}"
        own = f"{name}:x:{os.getuid()}:{os.getgid()}::{self.home}:/bin/sh\n"
        others = [line for line in Path("/etc/passwd").read_text().splitlines(keepends=True)
                  if line.split(":")[2:3] != [str(os.getuid())]]
        self.passwd.write_text(own + "".join(others))
        # No JUPYTER_*/XDG_* from the grader's session: their data and cache are their own.
        self.env = {k: v for k, v in env.items() if not k.startswith(("JUPYTER_", "XDG_"))}
        self.env.update(HOME=str(self.home), USER=name, LOGNAME=name,
                        JUPYTER_CONFIG_PATH=env["JUPYTER_CONFIG_PATH"])

    def run(self, command: str) -> subprocess.CompletedProcess:
        wrapped = ["bwrap", "--dev-bind", "/", "/", "--ro-bind", str(self.passwd), "/etc/passwd",
                   "--chdir", str(self.home), "sh", "-c", command]
        return subprocess.run(wrapped, env=self.env, capture_output=True, text=True,
                              timeout=300)


def answer(student: Student) -> None:
    scenario = ANSWERS.get(student.name)
    if scenario:
        shutil.copy(FIXTURES / f"{scenario}.ipynb", student.home / "ps0" / "questions.ipynb")


def score_line(output: str, student: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(student + " "))


def visible_text(html_file: Path) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html_file.read_text()))


def run_guide(root: Path, env: dict[str, str], exchange: Path,
              students: list[Student]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Run the guide's blocks in order: the instructor's output by command, the students' by
    (student, command)."""
    outputs: dict[str, str] = {}
    student_outputs: dict[tuple[str, str], str] = {}
    for info, body in fenced_blocks():
        if info == "sh":
            for command in lines(body):
                result = subprocess.run(for_test_course(command, exchange), shell=True, cwd=root,
                                        env=env, capture_output=True, text=True, timeout=300)
                assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
                outputs[command] = result.stdout + result.stderr
        elif info == "sh student":
            for student in students:
                if "nbgrader submit" in body:
                    answer(student)
                for command in lines(body):
                    result = student.run(for_test_course(command, exchange))
                    assert result.returncode == 0, (f"{student.name}: {command}\n"
                                                    f"{result.stdout}\n{result.stderr}")
                    student_outputs[student.name, command] = result.stdout + result.stderr
    return outputs, student_outputs


def check_grading(root: Path, outputs: dict[str, str]) -> None:
    """LMS imports and exchange submissions graded together, with nbgrader's scores."""
    assert "imported 1001: questions" in outputs["course import ps1 submissions.zip"]
    for student in STUDENTS:  # collected from the exchange, where the grader looks
        assert (root / f"autograder/submitted/{student}/ps0/questions.ipynb").exists()
    grading = outputs["course autograde ps1 --workers 2 --timeout 30 --memory 2GiB "
                      "--processes 256 --cpus 1"]
    assert "5 graded, 0 flagged" in grading
    assert score_line(grading, "adoe").split()[1:4] == ["3", "/", "5"]  # why_date: by hand
    assert score_line(grading, "bkim").split()[1:4] == ["0", "/", "5"]
    listed = outputs["course feedback ps1"]
    assert "submitted through the exchange (2): adoe, bkim" in listed
    assert "not submitted through the exchange (3): 1001, 1002, 1003" in listed
    assert (root / "autograder/feedback/1002/ps0/questions.html").exists()  # for the LMS
    assert (root / "autograder/export/canvas-ps0.csv").exists()
    assert (root / "autograder/export/moodle-ps0.csv").exists()
    assert (root / "autograder/reports/ps0-report.png").exists()
    assert (root / "autograder/reports/ps0-items.html").exists()


def check_lms_quizzes(root: Path, outputs: dict[str, str]) -> None:
    """Section 7: every format written with its ident map, and the item report from both LMS
    downloads, matched through the maps."""
    for name in FILE_NAMES.values():
        assert (root / "lms" / name).stat().st_size > 0
    exported = [out for command, out in outputs.items() if command.startswith("course quiz")]
    assert len(exported) == len(FILE_NAMES)
    assert any("NOT CARRIED: cc: question" in out for out in exported)
    for name in FILE_NAMES.values():  # each file's ident map beside it
        assert (root / "lms" / map_path(Path(name))).stat().st_size > 0
    for download, export_file in (("canvas-student-analysis", FILE_NAMES["qti"]),
                                  ("moodle-responses", FILE_NAMES["moodle"])):
        printed = outputs[f"course report quiz {download}.csv --idents "
                          f"lms/{map_path(Path(export_file))}"]
        assert "30 students" in printed and "KR-20" in printed
        assert "note:" not in printed  # the bank is as exported
        for suffix in ("html", "csv", "png"):
            assert (root / f"autograder/reports/{download}-items.{suffix}").exists()


def check_fetched_feedback(students: list[Student]) -> None:
    """Each student fetched their own feedback into their own folder, without hidden tests."""
    texts = {}
    for student in students:
        fetched = list((student.home / "ps0" / "feedback").glob("*/questions.html"))
        assert len(fetched) == 1, f"{student.name}: {fetched}"
        texts[student.name] = visible_text(fetched[0])
        assert "hidden tests are not shown" in texts[student.name]
        assert not [test for test in HIDDEN_TESTS if test in texts[student.name]]
    assert "count_words('a b') == 2" in texts["adoe"]  # visible tests stay
    assert "NotImplementedError" in texts["bkim"] and "NotImplementedError" not in texts["adoe"]


# About twenty commands, each a Python start-up and several an nbgrader run: on two busy cores
# this takes several minutes, more than the suite's 300 s default.
@pytest.mark.timeout(900)
def test_every_guide_command_runs(ps0_course: Path, bwrap: None, tmp_path: Path) -> None:
    root = ps0_course
    exchange, hub_config = tmp_path / "exchange", tmp_path / "etc-jupyter"
    apply_config_snippets(root, hub_config, exchange)
    lms_downloads(root)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "JUPYTER_CONFIG_PATH": str(hub_config)}
    students = [Student(name, tmp_path, env) for name in STUDENTS]

    outputs, student_outputs = run_guide(root, env, exchange, students)

    assert len(outputs) >= 15 and len(student_outputs) >= 2 * len(STUDENTS)
    assert "ps0" in student_outputs["adoe", "nbgrader list"]
    assert list(exchange.glob("*/outbound/ps0/questions.ipynb"))
    check_grading(root, outputs)
    check_fetched_feedback(students)
    check_lms_quizzes(root, outputs)


def fence_openings(text: str) -> list[tuple[str, str]]:
    """(indent, info string) of every fenced block, indented or not, ``` or ~~~: a block the
    runner above cannot see must not hide a command either."""
    openings, closing = [], None
    for line in text.splitlines():
        match = re.match(r"^(\s*)(`{3,}|~{3,})\s*(.*)$", line)
        if not match:
            continue
        indent, fence, info = match.groups()
        if closing is None:
            openings.append((indent, info.strip()))
            closing = fence
        elif fence.startswith(closing) and not info:
            closing = None
    return openings


def test_every_command_block_is_run_by_a_test() -> None:
    """A shell block with an info string no test runs would be a command nobody checks."""
    tests = Path(__file__).resolve().parent
    openings = fence_openings(GUIDE.read_text())
    assert len(openings) == len(fenced_blocks()), "a fenced block the runner cannot see"
    for indent, info in openings:
        if info.split(" ")[0] not in SHELLS:
            continue
        assert not indent, f"```{info} is indented: no test would run it"
        assert info in RUN_BY, f"no test runs ```{info} blocks"
        assert (tests / RUN_BY[info]).exists(), f"```{info} blocks need {RUN_BY[info]}"
