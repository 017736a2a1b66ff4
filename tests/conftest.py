"""Shared fixtures: the book built once per session from a clean state, a loopback server
for it, and Chromium pages on which every non-loopback request is blocked and recorded (throwaway
Jupyter servers are in throwaway_jupyter.py)."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
# Flags that keep Chromium from phoning home on a closed network (see the machine notes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BUILD_LOG_NAME = "build.log"


@dataclass
class BuiltBook:
    root: Path  # the folder build output went to
    html: Path  # root / "_build" / "html"
    log: str
    returncode: int

    def pages(self) -> list[Path]:
        """Every content page, relative to ``html``, without Sphinx's generated ones (nor the
        in-browser site that make book adds in lite/, which test_lite.py checks)."""
        skip = {"genindex.html", "search.html"}
        return sorted(
            p.relative_to(self.html)
            for p in self.html.rglob("*.html")
            if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts
            and p.relative_to(self.html).parts[0] != "lite"
        )


def build_book(output: Path) -> BuiltBook:
    """Build the book strictly (warnings are errors) into ``output`` from a clean state."""
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [str(jb), "build", str(REPO), "-W", "-n", "--keep-going", "--path-output", str(output)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=1800,
    )
    log = proc.stdout + proc.stderr
    (output / BUILD_LOG_NAME).write_text(log)
    return BuiltBook(output, output / "_build" / "html", log, proc.returncode)


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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Chromium's own requests (the favicon) never reach Playwright; the server sees them.
        self.server.requests.append((self.path, int(code)))


class LoggingServer(http.server.ThreadingHTTPServer):
    """A static file server that keeps (path, status) of every request it answered."""

    requests: list[tuple[str, int]]


def serve_folder(folder: Path) -> tuple[LoggingServer, str]:
    """Start a static file server for ``folder`` on 127.0.0.1 and a free port."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = LoggingServer(("127.0.0.1", 0), handler)
    server.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


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
def browser() -> Iterator[object]:
    """Debian's Chromium, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: run make test, which installs it"
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class OfflinePage:
    """A page on which every request that leaves the machine is blocked and recorded."""

    page: object
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def goto(self, url: str) -> None:
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")


def is_loopback(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in {"data", "blob", "about", "file"}:
        return True
    return (parsed.hostname or "") in LOOPBACK_HOSTS


@pytest.fixture
def offline_page(browser: object) -> Iterator[OfflinePage]:
    """A fresh browser context (fresh localStorage) with no network beyond loopback."""
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    record = OfflinePage(page)

    def route(request_route: object) -> None:
        url = request_route.request.url
        if is_loopback(url):
            request_route.continue_()
        else:
            record.external_requests.append(url)
            request_route.abort("blockedbyclient")

    context.route("**/*", route)
    page.on(
        "console",
        lambda msg: record.console_errors.append(f"{msg.text} @ {msg.location}")
        if msg.type == "error"
        else None,
    )
    page.on("pageerror", lambda exc: record.console_errors.append(f"uncaught: {exc}"))
    yield record
    context.close()


def serious_axe_violations(page: object) -> list[str]:
    """axe-core's serious and critical WCAG violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(str(n.get("target")) for n in v.get("nodes", [])[:5])
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


@pytest.fixture(scope="session")
def axe() -> object:
    return serious_axe_violations
