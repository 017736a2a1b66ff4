"""The live ipywidgets quiz rendered by VS Code's own widget manager: the ipywidgets 8 bundle
that the VS Code Jupyter extension ships (@vscode/jupyter-ipywidgets8, pinned in
tests/vscode_widgets/package-lock.json), constructed and used as the extension's notebook
webview does, on a live kernel of a throwaway Jupyter server, in Chromium with every
non-loopback request blocked. VS Code itself is not run (see src/course/quiz/README.md)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest

from course.quiz.bank import load_bank
from course.quiz.engine import Result, attempt
from course.quiz.html_view import inline
from course.quiz.widget_view import VERDICT_TEXT
from tests.support.browser import serve_folder
from tests.support.jupyter import JupyterServer, run_jupyter_server
from tests.support.paths import REPO

HARNESS = REPO / "tests" / "vscode_widgets"
CELL = 'from course import quiz\nquiz.show("sanctions")'
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
RENDER_TIMEOUT = 90.0  # s: kernel start, imports and widget rendering on two busy cores
FEEDBACK_TIMEOUT = 30_000  # ms


@dataclass
class Harness:
    url: str  # the harness page, already pointed at the server and the cell
    server: JupyterServer


def _build_harness(outdir: Path) -> None:
    node = shutil.which("node")  # the harness's `node` fixture checked it and node_modules
    assert node
    # Built from the sources on every run, so the test never uses a stale bundle.
    proc = subprocess.run([node, "build.mjs", str(outdir)], cwd=HARNESS, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, node: Path) -> Iterator[Harness]:
    site = tmp_path_factory.mktemp("vscode-harness")
    _build_harness(site)
    static, static_url = serve_folder(site)
    # The page and the Jupyter server are two loopback origins: the server must accept the
    # page's REST calls and its kernel WebSocket (VS Code's webview reaches the kernel through
    # the extension host instead; see the README).
    args = [f"--ServerApp.allow_origin={static_url}", "--ServerApp.disable_check_xsrf=True"]
    try:
        with run_jupyter_server(tmp_path_factory.mktemp("jupyter-vscode"), args) as server:
            query = urlencode({"server": server.url, "code": CELL})
            yield Harness(f"{static_url}/index.html?{query}", server)
    finally:
        static.shutdown()
        static.server_close()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _plain(fragment: str) -> str:
    parser = _Text()
    parser.feed(fragment)
    return _squash(html.unescape("".join(parser.parts)))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _expected_feedback(result: Result) -> list[str]:
    """What the widget must show for ``result``: verdict, score and each feedback line."""
    return [VERDICT_TEXT[result.verdict], f"(score {result.score:g} of 1)",
            *(_plain(inline(f, None)) for f in result.feedback)]  # fmt: skip


def _attempts(progress: Path) -> list[dict]:
    path = progress / "progress.json"
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8")).get("attempts", [])


def _wait_attempts(progress: Path, count: int) -> list[dict]:
    deadline = time.monotonic() + 15
    while len(_attempts(progress)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return _attempts(progress)


def _render(page, harness: Harness) -> dict:
    page.goto(harness.url, wait_until="load")
    page.wait_for_function(
        "() => window.harness && (window.harness.status === 'error' ||"
        " (window.harness.status === 'done' && window.harness.keyboardPassDone))",
        timeout=RENDER_TIMEOUT * 1000,
    )
    state = page.evaluate("() => window.harness")
    assert state["status"] == "done", state["error"]
    return state


def test_quiz_under_vscode_widget_manager(offline_page, harness: Harness, tmp_path: Path,
                                          axe) -> None:  # fmt: skip
    page = offline_page.page
    bank = load_bank("sanctions")
    first, second = bank.questions[0], bank.questions[1]
    assert (first.type, second.type) == ("single_choice", "true_false")
    progress = harness.server.progress_dir
    before = len(_attempts(progress))
    try:
        state = _render(page, harness)

        # The cell's one output carries the widget view and the book's HTML form: VS Code
        # offers the widget view first, so the widget renderer (not the HTML) shows it.
        assert len(state["outputs"]) == 1, state["outputs"]
        output = state["outputs"][0]
        assert output["chosen"] == WIDGET_MIME and output["rendered"], output
        assert output["order"].index(WIDGET_MIME) < output["order"].index("text/html")
        assert output["order"][-1] == "text/plain", output
        # Only the built-in controls are needed: nothing to fetch, nothing failed to load.
        assert state["scriptRequests"] == [] and state["loadErrors"] == [], state
        assert {s["moduleName"] for s in state["loadSuccess"]} >= {"@jupyter-widgets/controls"}

        quiz = page.locator(".cell-output-ipywidget-background[role='region']")
        quiz.get_by_text("Quiz: Sanctions and the United Nations").wait_for()
        page.screenshot(path=str(tmp_path / "vscode-quiz.png"), full_page=True)
        found = axe(page)
        assert found == [], "\n".join(found)

        radios = quiz.locator(".widget-radio")
        checks = quiz.get_by_role("button", name="Check answer")

        # Question 1 by keyboard only: Tab from the output region to the first option, Space
        # to choose it, Tab on to "Check answer", Enter.
        quiz.first.focus()
        first_radio = radios.nth(0).locator("input[type=radio]").first
        for _ in range(10):
            page.keyboard.press("Tab")
            if first_radio.evaluate("el => el === document.activeElement"):
                break
        else:
            raise AssertionError("Tab never reached question 1's first option")
        page.keyboard.press("Space")
        assert first_radio.is_checked()
        chosen_text = _squash(first_radio.locator("xpath=..").inner_text())  # its <label>
        chosen = next(o for o in first.options if _squash(o.text) == chosen_text)
        for _ in range(10):
            page.keyboard.press("Tab")
            if checks.nth(0).evaluate("el => el === document.activeElement"):
                break
        else:
            raise AssertionError("Tab never reached question 1's Check answer")
        page.keyboard.press("Enter")
        status = quiz.locator("[role='status']").first
        status.wait_for(timeout=FEEDBACK_TIMEOUT)
        shown = _squash(status.inner_text())
        result1, _ = attempt(bank.chapter, first, chosen.id)
        for line in _expected_feedback(result1):
            assert line in shown, (line, shown)

        # Question 2 by mouse: click the "False" option, then Check answer.
        false_label = radios.nth(1).locator("label").filter(has_text=re.compile(r"^\s*False\s*$"))
        false_label.click()
        assert false_label.locator("input").is_checked()
        checks.nth(1).click()
        status2 = quiz.locator("[role='status']").nth(1)
        status2.wait_for(timeout=FEEDBACK_TIMEOUT)
        shown2 = _squash(status2.inner_text())
        result2, _ = attempt(bank.chapter, second, False)
        assert result2.verdict == "correct"  # the bank's answer is False
        for line in _expected_feedback(result2):
            assert line in shown2, (line, shown2)
        # Question 3 by keyboard, with Space on the button this time: VS Code's kernel script
        # adds its own Enter/Space handler to widget buttons, and one press must still record
        # one attempt. The number is typed, then Tab moves to "Check answer".
        third = bank.questions[2]
        assert third.type == "numeric"
        field = quiz.locator(".widget-text input").first
        field.focus()
        page.keyboard.type("2")
        page.keyboard.press("Tab")
        assert checks.nth(2).evaluate("el => el === document.activeElement")
        page.screenshot(path=str(tmp_path / "vscode-quiz-focus.png"))
        page.keyboard.press("Space")
        status3 = quiz.locator("[role='status']").nth(2)
        status3.wait_for(timeout=FEEDBACK_TIMEOUT)
        result3, _ = attempt(bank.chapter, third, 2.0)
        assert result3.verdict == "incorrect"  # one veto is enough; two is wrong
        shown3 = _squash(status3.inner_text())
        for line in _expected_feedback(result3):
            assert line in shown3, (line, shown3)

        summary = quiz.get_by_text(re.compile(r"Score: .* of \d+"))
        total = result1.score + result2.score + result3.score
        assert f"Score: {round(total, 2):g} of {len(bank.questions)}" in summary.inner_text()

        # Each check was recorded once, by the kernel, in the test's own progress folder.
        attempts = _wait_attempts(progress, before + 3)
        time.sleep(1)  # a doubled click would land a fourth attempt by now
        attempts = _attempts(progress)
        assert len(attempts) == before + 3, attempts
        recorded = [(a["question"], a["response"], a["score"]) for a in attempts[before:]]
        assert recorded == [(first.id, chosen.id, result1.score), (second.id, False, 1.0),
                            (third.id, 2.0, 0.0)]  # fmt: skip

        page.screenshot(path=str(tmp_path / "vscode-quiz-answered.png"), full_page=True)
        found = axe(page)
        assert found == [], "\n".join(found)
        assert offline_page.external_requests == []
        assert page.evaluate("() => window.harness.loadErrors") == []
        assert offline_page.console_errors == []  # no failed render, no uncaught error
    except BaseException:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print(f"screenshots: {tmp_path}")
        print("harness:", json.dumps(page.evaluate("() => window.harness || null"))[:4000])
        print("console errors:\n" + "\n".join(offline_page.console_errors))
        print("server log:\n" + harness.server.log.read_text()[-4000:])
        raise
    print(f"screenshots: {tmp_path}")
