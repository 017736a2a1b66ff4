"""The live ipywidgets quiz in the two Jupyter frontends students use: a real Jupyter server
(JupyterLab 4, Notebook 7) on loopback, a notebook whose one cell shows the sanctions quiz,
and Chromium with every non-loopback request blocked. Answering a question must show the
feedback and record the attempt in the progress store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.support.browser import accept_kernel_dialog
from tests.support.jupyter import JupyterServer, run_jupyter_server

CELL = 'from course import quiz\nquiz.show("sanctions")'
LOAD_TIMEOUT = 60_000  # ms: JupyterLab's first load is slow on two busy cores
WIDGET_TIMEOUT = 60_000  # ms: kernel start, imports and widget rendering


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp("jupyter")
    with run_jupyter_server(base) as server:
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_code_cell(CELL))
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, server.root / "quiz.ipynb")
        yield server


def _attempts(progress: Path) -> list[dict]:
    path = progress / "progress.json"
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8")).get("attempts", [])


def _answer_quiz(offline_page, jupyter: JupyterServer, path: str, tmp_path: Path) -> None:
    page = offline_page.page
    before = len(_attempts(jupyter.progress_dir))
    try:
        page.goto(f"{jupyter.url}{path}", wait_until="load", timeout=LOAD_TIMEOUT)
        cell = page.locator(".jp-Notebook .jp-CodeCell").first
        cell.wait_for(state="visible", timeout=LOAD_TIMEOUT)
        check = page.get_by_role("button", name="Check answer").first
        # Shift+Enter before the kernel session is ready does nothing: run again until the
        # quiz appears (an extra run only adds a second copy of the quiz).
        deadline = time.monotonic() + WIDGET_TIMEOUT / 1000
        while True:
            accept_kernel_dialog(page)
            cell.locator(".cm-content").click()
            page.keyboard.press("Shift+Enter")
            try:
                check.wait_for(state="visible", timeout=15_000)
                break
            except PlaywrightTimeout:
                if time.monotonic() > deadline:
                    raise
        radio_label = page.locator("label", has=page.locator("input[type=radio]")).first
        radio_label.click()
        assert radio_label.locator("input").is_checked()
        check.click()
        status = page.locator(".jupyter-widgets [role='status']").first
        status.wait_for(state="visible", timeout=WIDGET_TIMEOUT)
        assert any(
            word in status.inner_text() for word in ("Correct", "Partly correct", "Not correct")
        ), status.inner_text()
        assert "score" in status.inner_text()
        deadline = time.monotonic() + 10
        while len(_attempts(jupyter.progress_dir)) <= before and time.monotonic() < deadline:
            time.sleep(0.2)
        attempts = _attempts(jupyter.progress_dir)
        assert len(attempts) == before + 1, attempts
        assert "sanctions" in json.dumps(attempts[-1])
        assert offline_page.external_requests == []
    except BaseException:
        shot = tmp_path / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        print("console errors:\n" + "\n".join(offline_page.console_errors))
        print("server log:\n" + jupyter.log.read_text()[-4000:])
        raise


def test_quiz_widget_in_jupyterlab(offline_page, jupyter: JupyterServer, tmp_path: Path) -> None:
    _answer_quiz(offline_page, jupyter, "/lab/tree/quiz.ipynb", tmp_path)


def test_quiz_widget_in_notebook7(offline_page, jupyter: JupyterServer, tmp_path: Path) -> None:
    _answer_quiz(offline_page, jupyter, "/notebooks/quiz.ipynb", tmp_path)
