"""The item report as an instructor sees it: opened in Chromium, offline, readable by axe."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.itemstats import write_report
from course.quiz.lms import export, select_banks
from course.quiz.lms.responses import analyse_responses
from tests.support.browser import serve_folder
from tests.support.lms_responses import write_canvas

pytestmark = pytest.mark.browser


def test_item_report_shows_every_item_and_its_figure_offline(offline_page, axe,
                                                             tmp_path: Path) -> None:
    bank = select_banks()[0]
    bad = bank.questions[-1].id
    analysis = analyse_responses(
        write_canvas(bank, tmp_path / "canvas-miskeyed-last.csv", miskeyed=bad),
        export("qti", tmp_path / "lms").idents)
    page_file, _, _ = write_report(analysis, tmp_path / "reports", "canvas")
    server, url = serve_folder(page_file.parent)
    try:
        offline_page.goto(f"{url}/{page_file.name}")
        page = offline_page.page
        rows = page.locator("tbody tr")
        assert rows.count() == len(bank.questions)
        bad_row = page.locator("tbody tr", has_text=bad)
        assert "negative discrimination: revise" in bad_row.inner_text()
        image = page.get_by_role("img", name="Difficulty against discrimination for each item")
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert page.get_by_role("heading", level=1).inner_text().endswith("item analysis")
        assert offline_page.external_requests == []
        assert offline_page.console_errors == []
        assert axe(page) == []
    finally:
        server.shutdown()
        server.server_close()
