"""Fixtures. Helpers live in tests/support (see its __init__ for what is where): test modules
import from there, never from this file. The suite's rules (markers from fixtures, a skip names
its Debian package, `make test` fails on any skip) are hooks in tests/support/plugin.py, imported
here by name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.book import BuiltBook, build_book
from tests.support.browser import (
    LoggingServer,
    serious_axe_violations,
    serve_folder,
)
from tests.support.course import course_template, make_course
from tests.support.plugin import (  # noqa: F401 (hooks and fixtures that pytest finds here)
    browser,
    bwrap,
    cgroups,
    chromium,
    group_tree,
    node,
    offline_page,
    pg_bin,
    playwright,
    pytest_collection_modifyitems,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

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
def book_server(built_book: BuiltBook) -> Iterator[tuple[LoggingServer, str]]:
    """The built book served on loopback for the session, and its base URL."""
    server, url = serve_folder(built_book.html)
    yield server, url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def book_url(book_server: tuple[LoggingServer, str]) -> str:
    """Base URL of the built book, served on loopback for the session."""
    return book_server[1]


@pytest.fixture(scope="session")
def axe() -> Any:
    return serious_axe_violations
