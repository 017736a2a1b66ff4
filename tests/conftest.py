"""Fixtures and hooks. Helpers live in tests/support (see its __init__ for what is where): test
modules import from there, never from this file.

- Markers are set from the fixtures a test uses (tests/support/system.py, FIXTURE_MARKERS), so
  `make test-fast` (-m "not ...") leaves out new browser, book, sandbox... tests by itself.
- A fixture standing for a system tool skips its tests with a reason naming the Debian package
  when the tool is missing; with COURSE_NO_SKIPS=1 (`make test`, and so CI) any skip fails the
  run, with the skipped tests and their reasons listed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import system
from tests.support.book import BuiltBook, build_book
from tests.support.browser import (
    OfflinePage,
    launch_chromium,
    offline,
    serious_axe_violations,
    serve_folder,
)
from tests.support.course import course_template, make_course

# A clean book build executes every notebook: the test that happens to build it may take this
# long (tests/support/book.py). Tests that reuse a build (COURSE_REUSE_BUILD) keep the default.
BOOK_BUILD_TEST_TIMEOUT = 1500


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reuse = bool(os.environ.get("COURSE_REUSE_BUILD"))
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in system.FIXTURE_MARKERS.items():
            if fixture in used:
                item.add_marker(marker)
        if "built_book" in used and not reuse and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(BOOK_BUILD_TEST_TIMEOUT))


# --- system tools: skip with the package's name, or fail the run under make test ------------

def _require(fixture: str) -> None:
    why = system.missing(fixture)
    if why:
        pytest.skip(why)


@pytest.fixture(scope="session")
def chromium() -> str:
    """/usr/bin/chromium (Debian's chromium)."""
    _require("chromium")
    return "/usr/bin/chromium"


@pytest.fixture(scope="session")
def bwrap() -> None:
    """A bubblewrap that can build the grading sandbox (Debian's bubblewrap)."""
    _require("bwrap")


@pytest.fixture(scope="session")
def cgroups() -> None:
    """A cgroup tree this process may make per-submission groups in."""
    _require("cgroups")


@pytest.fixture(scope="session")
def pg_bin() -> Path:
    """PostgreSQL's server binaries (Debian's postgresql)."""
    _require("pg_bin")
    return system.PG_BIN


@pytest.fixture(scope="session")
def node() -> Path:
    """node and npm, with the VS Code harness's npm packages installed (make node-deps)."""
    _require("node")
    return system.NODE_HARNESS


_skipped: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append((report.nodeid, reason.removeprefix("Skipped: ")))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and os.environ.get(system.NO_SKIPS_ENV) == "1" and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _skipped and os.environ.get(system.NO_SKIPS_ENV) == "1":
        terminalreporter.section("skipped tests fail this run", sep="=", red=True)
        terminalreporter.line(f"{system.NO_SKIPS_ENV}=1 (make test): nothing may be skipped. "
                              "Install what each reason names, then run again:")
        for nodeid, reason in _skipped:
            terminalreporter.line(f"  {nodeid}: {reason}")


# --- the grading fixture course ---------------------------------------------------------------

@pytest.fixture(scope="session")
def ps0_template() -> Path:
    """The fixture course with ps0 generated, made once per session. Never change it: copy it
    (ps0_course, or make_course)."""
    return course_template()


@pytest.fixture
def ps0_course(ps0_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the fixture course with ps0 generated, for this test alone."""
    return make_course(tmp_path / "course")


# --- the book and the browser -----------------------------------------------------------------

@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> BuiltBook:
    """The book, built once per test session from a clean state.

    Set COURSE_REUSE_BUILD=/path/to/_build/html to test an existing build while iterating
    on tests; the full suite (make test) always builds from scratch.
    """
    reuse = os.environ.get("COURSE_REUSE_BUILD")
    if reuse:
        html = Path(reuse).resolve()
        return BuiltBook(html.parent.parent, html, "", 0)
    book = build_book(tmp_path_factory.mktemp("book"))
    if book.returncode != 0:
        pytest.fail(f"the book did not build:\n{book.log[-6000:]}")
    return book


@pytest.fixture(scope="session")
def book_url(built_book: BuiltBook) -> Iterator[str]:
    """Base URL of the built book, served on loopback for the session."""
    server, url = serve_folder(built_book.html)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = launch_chromium(pw)
        yield instance
        instance.close()


@pytest.fixture
def offline_page(browser: Any) -> Iterator[OfflinePage]:
    """A fresh browser context (fresh localStorage) with no network beyond loopback."""
    context = browser.new_context(service_workers="block")
    yield offline(context)
    context.close()


@pytest.fixture(scope="session")
def axe() -> Any:
    return serious_axe_violations
