"""The suite's rules as pytest hooks and fixtures; tests/conftest.py imports them by name (so does
the test of these rules, tests/test_suite_rules.py, in a pytester run).

- Markers come from the fixtures a test uses (system.FIXTURE_MARKERS), so `make test-fast`
  (-m "not ...") leaves a new browser, book or sandbox test out without anyone marking it.
- A fixture standing for a system tool skips its tests, with a reason naming the Debian package,
  when the tool is missing. With COURSE_NO_SKIPS=1 (`make test`, and so CI) any skip fails the
  run, and the skipped tests are listed with their reasons.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import system, workers
from tests.support.browser import CHROMIUM, OfflinePage, launch_chromium, offline

if TYPE_CHECKING:
    from course.grading.limits import GroupTree

# Session fixtures that take minutes to make. pytest-timeout counts a fixture's set-up in the
# test that happens to make it, which depends on the order (and on the pytest-xdist worker), so
# every test using one gets the time to make it. A clean book build executes every notebook
# (tests/support/book.py); the round trip grades every submission, the compared ones three ways
# (tests/test_assignments_roundtrip.py). With COURSE_REUSE_BUILD the built book is reused.
SLOW_FIXTURE_TIMEOUTS = {
    "built_book": 1500,
    "lite_site": 900,
    "released_course": 600,
    "graded_assignments": 1200,
    "graded_by_pool": 1200,
    "graded_cold": 1200,
}
REUSED_WITH_COURSE_REUSE_BUILD = frozenset({"built_book", "lite_site"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--every-submission", action="store_true",
        help="the round trip compares plain nbgrader, the pool and --no-pool on every fixture "
             "submission, not one per kind and part (tests/test_assignments_roundtrip.py); "
             "worth it on an nbgrader or ipykernel upgrade")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reuse = bool(os.environ.get("COURSE_REUSE_BUILD"))
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in system.FIXTURE_MARKERS.items():
            if fixture in used:
                item.add_marker(marker)
        slow = [seconds for fixture, seconds in SLOW_FIXTURE_TIMEOUTS.items()
                if fixture in used and not (reuse and fixture in REUSED_WITH_COURSE_REUSE_BUILD)]
        if slow and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(max(slow)))
    if hasattr(config, "workerinput"):  # a pytest-xdist worker (make test runs -n 2)
        workers.record_groups(items)


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput"):
        config.add_cleanup(workers.share_groups())  # the controller, before workers start


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, called where it is installed
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadgroup, with the groups found from the fixtures (tests/support/workers.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return workers.make_scheduler(config, log)


def _no_skips() -> bool:
    return os.environ.get(system.NO_SKIPS_ENV) == "1"


def skipped_tests(config: pytest.Config) -> list[tuple[str, str]]:
    """(test id, reason) of every test skipped so far, from the terminal reporter's record."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    reports = reporter.stats.get("skipped", []) if reporter is not None else []
    out = []
    for report in reports:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        out.append((report.nodeid, reason.removeprefix("Skipped: ")))
    return out


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _no_skips() and exitstatus == pytest.ExitCode.OK and skipped_tests(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = skipped_tests(config)
    if _no_skips() and skipped:
        terminalreporter.section("skipped tests fail this run", sep="=", red=True)
        terminalreporter.line(f"{system.NO_SKIPS_ENV}=1 (make test): nothing may be skipped. "
                              "Install what each reason names, then run again:")
        for nodeid, reason in skipped:
            terminalreporter.line(f"  {nodeid}: {reason}")


def _require(fixture: str) -> None:
    why = system.missing(fixture)
    if why:
        pytest.skip(why)


@pytest.fixture(scope="session")
def chromium() -> str:
    """/usr/bin/chromium (Debian's chromium)."""
    _require("chromium")
    return CHROMIUM


@pytest.fixture(scope="session")
def playwright(chromium: str) -> Iterator[Any]:
    """Playwright, started once: its sync API allows one instance per thread, so every
    browser of the session (the shared one, the in-browser site's) is launched from it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (never a downloaded browser)."""
    instance = launch_chromium(playwright)
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def bwrap() -> None:
    """A bubblewrap that can build the grading sandbox (Debian's bubblewrap)."""
    _require("bwrap")


@pytest.fixture(scope="session")
def cgroups() -> None:
    """A cgroup tree this process may make per-submission groups in."""
    _require("cgroups")


@pytest.fixture
def group_tree(cgroups: None, bwrap: None) -> Iterator[GroupTree]:
    """This test's tree of per-submission cgroups for sandboxed
    kernels (tests/support/sandbox.py run_in_group); removed after the test, with nothing left."""
    from course.grading.limits import detect

    tree = detect()
    yield tree
    assert tree.remove() == [], "the test's cgroups were left behind"


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


@pytest.fixture
def offline_page(browser: Any) -> Iterator[OfflinePage]:
    """A fresh browser context (fresh localStorage) with no network beyond loopback."""
    context = browser.new_context(service_workers="block")
    yield offline(context)
    context.close()
