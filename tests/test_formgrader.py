"""Section 5 of the instructor's guide (autograder/README.md), done as an instructor does it:
the guide's `sh formgrader` command starts Jupyter in a temporary course with two autograded
submissions of ps0; Chromium, with every request off the machine blocked, opens JupyterLab,
Nbgrader -> Formgrader -> Manual Grading -> ps0 -> questions -> Submission #1, types points and
a comment for the written answer `why_date`, moves on with the Ctrl+. shortcut and gives the
second one full credit; no request leaves the machine and the page logs no error. The
gradebook must then hold those points and that comment, and `course feedback` and `course export`
must pass them on."""

from __future__ import annotations

import csv
import re
import secrets
import shlex
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from nbgrader.api import Gradebook
from playwright.sync_api import Frame, Page

from course.grading.pipeline import autograde
from tests.support.course import ASSIGNMENT, NOTEBOOK, make_course, submit
from tests.support.guide import blocks, lines
from tests.support.jupyter import ANY_PORT, isolated_env, root_flag, running_server

GUIDE_PORT = "--ServerApp.port=8888"
WRITTEN = "why_date"  # ps0's manually graded written answer, 2 points
POINTS = "1"
COMMENT = "Basic: names no date and no evidence from the articles."
LOAD_TIMEOUT = 60_000  # ms: JupyterLab's first load is slow on two busy cores
SAVE_TIMEOUT = 15  # s: formgrader saves through its REST API after the box loses focus


def guide_command() -> list[str]:
    """The one command of the guide's `sh formgrader` block, as argv."""
    found = blocks("sh formgrader")
    assert len(found) == 1, "the guide needs exactly one ```sh formgrader block"
    commands = lines(found[0])
    assert len(commands) == 1, f"the formgrader block must hold one command: {commands}"
    return shlex.split(commands[0])


def for_test_server(command: list[str], token: str) -> list[str]:
    """The guide's command on a port the system picks, with a token and no browser of its
    own."""
    assert command[:2] == ["jupyter", "lab"], "the guide's menu steps need JupyterLab"
    assert "--ServerApp.ip=127.0.0.1" in command, "the guide must keep the server on loopback"
    assert GUIDE_PORT in command, f"the test expects {GUIDE_PORT} in the guide's command"
    command = [ANY_PORT if arg == GUIDE_PORT else arg for arg in command]
    # expose_app_in_browser: window.jupyterapp, whose `restored` promise says the page is ready
    return [*command, f"--IdentityProvider.token={token}", "--no-browser",
            "--LabApp.expose_app_in_browser=True", *root_flag()]


@dataclass
class Course:
    root: Path
    db_url: str
    autograded: dict[str, float]  # student -> total score before grading by hand


def _total(gb: Gradebook, student: str) -> float:
    return gb.find_submission(ASSIGNMENT, student).score


@pytest.fixture
def autograded_ps0(tmp_path: Path) -> Course:
    root = make_course(tmp_path / "course")
    submit(root, "1001", "honest/partial-marks")
    submit(root, "1002", "honest/full-marks")
    # Our own honest fixtures: the sandbox has its own tests (test_grading_sandbox.py), and
    # without it autograding here is a few seconds shorter on two shared cores.
    results = autograde(root, ASSIGNMENT, workers=1, sandbox=False, progress=False)
    assert [r.verdict for r in results] == ["ok", "ok"], results
    db_url = f"sqlite:///{root / 'autograder' / 'gradebook.db'}"
    with Gradebook(db_url, "grading-tests") as gb:
        totals = {s: _total(gb, s) for s in ("1001", "1002")}
        assert all(gb.find_grade(WRITTEN, NOTEBOOK, ASSIGNMENT, s).needs_manual_grade
                   for s in totals)
    return Course(root, db_url, totals)


@dataclass
class Server:
    url: str
    token: str
    log: Path


@pytest.fixture
def formgrader(autograded_ps0: Course, tmp_path: Path) -> Iterator[Server]:
    """The guide's command, run from the course root; stopped at the end, also on failure."""
    token, log = secrets.token_hex(16), tmp_path / "server.log"
    command = for_test_server(guide_command(), token)
    with running_server(command, cwd=autograded_ps0.root, env=isolated_env(tmp_path / "home"),
                        log=log, token=token) as url:
        yield Server(url, token, log)


def _open_formgrader(page: Page, server: Server) -> Frame:
    """JupyterLab, then Nbgrader -> Formgrader from the menu bar: the frame it opens.

    Every step waits for the page's own signal that it is ready, with LOAD_TIMEOUT, before it
    clicks: under load, a click that relied on Playwright's fixed 30 s wait landed while
    JupyterLab was still restoring its layout or while a formgrader table was still loading
    (see _ready)."""
    page.goto(f"{server.url}/lab?token={server.token}", wait_until="load", timeout=LOAD_TIMEOUT)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=LOAD_TIMEOUT)
    # The menus work once the app has restored its layout; a menu opened before that is
    # closed again by the restoration, and the click on its item waits in vain.
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    page.locator(".lm-Menu-item", has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(
        r"^Formgrader$"))).click()
    frame = _frame_at(page, "/formgrader")
    _ready(frame, "/formgrader/manage_assignments")
    return frame


def _frame_at(page: Page, path: str) -> Frame:
    """The frame that has loaded ``path``: the iframe starts out blank."""
    deadline = time.monotonic() + LOAD_TIMEOUT / 1000
    while not (frames := [f for f in page.frames if path in f.url]):
        assert time.monotonic() < deadline, [f.url for f in page.frames]
        page.wait_for_timeout(200)
    return frames[0]


def _ready(frame: Frame, path: str) -> None:
    """Wait until the formgrader page at ``path`` (query and trailing slash aside) has loaded
    and filled its table: each list page fetches its rows from the formgrader API after the
    load event, shows "Loading, please wait..." until then and sets the global
    `models.loaded` (the signal nbgrader's own browser tests wait for)."""
    frame.wait_for_url(re.compile(re.escape(path) + r"/?(?:[?#].*)?$"), wait_until="load",
                       timeout=LOAD_TIMEOUT)
    frame.wait_for_function("() => typeof models !== 'undefined' && models.loaded === true",
                            timeout=LOAD_TIMEOUT)


def _open_first_submission(frame: Frame) -> None:
    """Manual Grading -> the assignment -> the notebook -> Submission #1."""
    frame.get_by_role("link", name="Manual Grading").first.click()
    _ready(frame, "/formgrader/gradebook")
    frame.get_by_role("link", name=ASSIGNMENT, exact=True).click()
    _ready(frame, f"/formgrader/gradebook/{ASSIGNMENT}")
    frame.get_by_role("link", name=NOTEBOOK, exact=True).click()
    _ready(frame, f"/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK}")
    frame.get_by_role("link", name="Submission #1").click()
    frame.wait_for_url(re.compile(r"/formgrader/submissions/\w+/?$"), timeout=LOAD_TIMEOUT)
    _wait_for_grading_page(frame, "Submission 1 / 2")


def _wait_for_grading_page(frame: Frame, position: str) -> None:
    frame.get_by_text(position).wait_for(timeout=LOAD_TIMEOUT)
    frame.wait_for_load_state("load", timeout=LOAD_TIMEOUT)
    # Typing before formgrade.js has bound its score and comment views would save nothing.
    frame.locator(f"#{WRITTEN}").wait_for(state="visible")
    frame.wait_for_function("() => window.formgrader && formgrader.grades && formgrader.comments"
                            " && formgrader.grades.loaded && formgrader.comments.loaded",
                            timeout=LOAD_TIMEOUT)


def _mathjax_blank_font(error: str) -> bool:
    """MathJax 2's HTML-CSS output declares a font at about:blank to time its web fonts, which
    Chromium logs as an error; it loads nothing and changes nothing."""
    return ("Access to font at 'about:blank'" in error
            or error.startswith("Failed to load resource: net::ERR_FAILED @ {'url': 'about:blank'"))


def _lite_kernel_extension(error: str) -> bool:
    """The in-browser site's build tool installs a JupyterLab extension that only works inside
    that site. setup-venv.sh switches it off, but JupyterLab still fetches the module of a
    switched-off extension, which names a shared module only the site has (docs/lite.md,
    pitfall 7): harmless, and no part of Formgrader."""
    return "Shared module @jupyterlite/services doesn't exist" in error


def _typesets(frame: Frame, tex: str) -> bool:
    """Whether the page's MathJax turns ``tex`` into rendered maths (its fonts included)."""
    return frame.evaluate("""tex => new Promise(done => {
        const probe = document.createElement("p");
        probe.textContent = tex;
        document.body.appendChild(probe);
        MathJax.Hub.Queue(["Typeset", MathJax.Hub, probe],
                          () => done(probe.querySelector(".MathJax, .MathJax_CHTML") !== null));
    })""", tex)


def _submission_student(frame: Frame, db_url: str) -> str:
    # .../formgrader/submissions/<id>/, with ?index=N when reached by a keyboard shortcut
    submission_id = urlparse(frame.url).path.rstrip("/").rsplit("/", 1)[-1]
    with Gradebook(db_url, "grading-tests") as gb:
        return gb.find_submission_notebook_by_id(submission_id).student.id


def _grade_by_keyboard(frame: Frame) -> None:
    """Points typed in the score box and a comment in the comment box; Tab leaves each box."""
    frame.locator(f"#{WRITTEN}").click()
    frame.page.keyboard.type(POINTS)
    frame.page.keyboard.press("Tab")
    frame.locator(f"#{WRITTEN}-comment").click()
    frame.page.keyboard.type(COMMENT)
    frame.page.keyboard.press("Tab")


def _stored(db_url: str, student: str) -> tuple[float | None, str | None, bool]:
    with Gradebook(db_url, "grading-tests") as gb:
        grade = gb.find_grade(WRITTEN, NOTEBOOK, ASSIGNMENT, student)
        comment = gb.find_comment(WRITTEN, NOTEBOOK, ASSIGNMENT, student)
        return grade.manual_score, comment.manual_comment, grade.needs_manual_grade


def _wait_stored(db_url: str, student: str, expected: tuple) -> tuple:
    deadline = time.monotonic() + SAVE_TIMEOUT
    while (got := _stored(db_url, student)) != expected and time.monotonic() < deadline:
        time.sleep(0.3)
    return got


def _course_command(root: Path, *args: str) -> str:
    env = isolated_env(root.parent / "home")
    result = subprocess.run(["course", *args], cwd=root, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"course {' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _exported_scores(root: Path) -> dict[str, float]:
    with (root / "autograder" / "export" / f"grades-{ASSIGNMENT}.csv").open(newline="") as f:
        # students without a submission have a blank score (course export), not a zero
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)
                if row["assignment"] == ASSIGNMENT and row["score"]}


# Course, autograding, a JupyterLab start and the grading clicks: about 2 minutes on two busy
# cores, up to 4 with both cores taken by other work (the runs in the closing report).
@pytest.mark.timeout(600)
def test_manual_grading_in_formgrader_reaches_gradebook_feedback_and_export(
    autograded_ps0: Course, formgrader: Server, offline_page, tmp_path: Path
) -> None:
    course = autograded_ps0
    page = offline_page.page
    shot = tmp_path / "grading-page.png"
    try:
        frame = _open_formgrader(page, formgrader)
        _open_first_submission(frame)
        first = _submission_student(frame, course.db_url)
        _grade_by_keyboard(frame)
        assert _wait_stored(course.db_url, first, (float(POINTS), COMMENT, False)) == (
            float(POINTS), COMMENT, False)
        frame.locator(f"#{WRITTEN}").scroll_into_view_if_needed()
        page.screenshot(path=str(shot), full_page=True)
        frame.locator(".nbgrader_cell", has=frame.locator(f"#{WRITTEN}")).screenshot(
            path=str(tmp_path / "written-answer.png"))

        # MathJax came from the Jupyter server (our formgrade template), so formgrade.js got
        # as far as binding its keyboard shortcuts: Ctrl+. is the guide's "Next".
        frame.wait_for_function("() => window.MathJax && MathJax.loaded === true",
                                timeout=LOAD_TIMEOUT)
        assert _typesets(frame, "$x^2 + 1$"), "MathJax did not render maths"
        frame.locator(f"#{WRITTEN}").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Control+.")
        _wait_for_grading_page(frame, "Submission 2 / 2")
        second = _submission_student(frame, course.db_url)
        assert second != first
        frame.locator(".nbgrader_cell", has=frame.locator(f"#{WRITTEN}")).get_by_role(
            "button", name="Full credit").click()
        assert _wait_stored(course.db_url, second, (2.0, None, False)) == (2.0, None, False)

        assert offline_page.external_requests == []
        errors = [e for e in offline_page.console_errors
                  if not _mathjax_blank_font(e) and not _lite_kernel_extension(e)]
        assert errors == [], errors
    except BaseException:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print(f"screenshots in {tmp_path}")
        print("console errors:\n" + "\n".join(offline_page.console_errors))
        print("server log:\n" + formgrader.log.read_text()[-4000:])
        raise
    print(f"grading page screenshot: {shot}")

    _course_command(course.root, "feedback", ASSIGNMENT)
    feedback = course.root / "autograder" / "feedback" / first / ASSIGNMENT / f"{NOTEBOOK}.html"
    assert COMMENT in feedback.read_text(encoding="utf-8")
    _course_command(course.root, "export", ASSIGNMENT)
    assert _exported_scores(course.root) == {
        first: course.autograded[first] + float(POINTS),
        second: course.autograded[second] + 2.0,
    }
