"""Debian's Chromium driven by Playwright, pages on which every request that leaves the machine
is blocked and recorded, a static loopback server, and axe-core."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

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


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless (never a browser downloaded by ``playwright install``)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Chromium's own requests (the favicon) never reach Playwright; the server sees them.
        self.server.requests.append((self.path, int(code)))  # type: ignore[attr-defined]


class LoggingServer(http.server.ThreadingHTTPServer):
    """A static file server that keeps (path, status) of every request it answered."""

    requests: list[tuple[str, int]]


def serve_folder(folder: Any) -> tuple[LoggingServer, str]:
    """Start a static file server for ``folder`` on 127.0.0.1 and a free port."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = LoggingServer(("127.0.0.1", 0), handler)
    server.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# A page is settled when none of its requests has been in flight for this long. Playwright's
# "networkidle" waits 500 ms of quiet after every load (measured: the favicon test 12 s -> 7 s,
# the page-weight test 28 s -> 21 s, on two busy cores).
QUIET_S = 0.1


class InFlight:
    """The requests of ``page`` started and not yet finished or failed (blocked ones fail), from
    Playwright's events; listen from the page's creation, before it loads anything."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.requests: set[Any] = set()
        # (Playwright marks its handlers, which a builtin such as set.add cannot take)
        page.on("request", lambda request: self.requests.add(request))
        page.on("requestfinished", lambda request: self.requests.discard(request))
        page.on("requestfailed", lambda request: self.requests.discard(request))

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the page's fonts are loaded (they are requested during layout, after the
        load event) and no request of it has been in flight for QUIET_S; a page that sends the
        browser on (the book's root index redirects) is followed to where it lands."""
        from playwright.sync_api import Error as PlaywrightError

        deadline = time.monotonic() + timeout
        while True:
            url = self.page.url
            try:
                self.page.evaluate("document.fonts.ready.then(() => true)")
            except PlaywrightError as error:  # navigated away meanwhile
                if "context was destroyed" not in str(error):
                    raise
                self.page.wait_for_load_state("load")
                continue
            self._quiet(deadline, timeout)
            if self.page.url == url:
                return
            self.page.wait_for_load_state("load")

    def _quiet(self, deadline: float, timeout: float) -> None:
        quiet_since: float | None = None
        while True:
            now = time.monotonic()
            if self.requests:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= QUIET_S:
                return
            if now > deadline:
                pending = sorted(r.url for r in self.requests)
                raise AssertionError(f"requests still in flight after {timeout} s: {pending}")
            self.page.wait_for_timeout(20)  # Playwright delivers the page's events meanwhile


@dataclass
class OfflinePage:
    """A page on which every request that leaves the machine is blocked and recorded."""

    page: Any
    in_flight: InFlight
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def goto(self, url: str) -> None:
        self.page.goto(url, wait_until="load")
        self.in_flight.settle()


def is_loopback(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in {"data", "blob", "about", "file"}:
        return True
    return (parsed.hostname or "") in LOOPBACK_HOSTS


def offline(context: Any) -> OfflinePage:
    """A new page of ``context`` with every non-loopback request blocked and recorded, and its
    console errors and uncaught exceptions collected."""
    page = context.new_page()
    record = OfflinePage(page, InFlight(page))

    def route(request_route: Any) -> None:
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
    return record


def serious_axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical WCAG violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(str(n.get("target")) for n in v.get("nodes", [])[:5])
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


def accept_kernel_dialog(page: Any) -> None:
    """JupyterLab (and JupyterLite's notebook app) asks which kernel to use when a notebook is
    acted on while its session is still starting: a student clicks Select (the default). Any
    other dialog in the way fails the test with its own words, not with a click timeout."""
    dialog = page.locator(".jp-Dialog")
    if not (dialog.count() and dialog.first.is_visible()):
        return
    select = dialog.first.get_by_role("button", name="Select")
    if not select.count():
        raise AssertionError(f"a dialog is in the way: {dialog.first.inner_text()!r}")
    select.click()
    dialog.first.wait_for(state="hidden", timeout=10_000)
