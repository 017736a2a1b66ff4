"""Debian's Chromium driven by Playwright, pages on which every request that leaves the machine
is blocked and recorded, a static loopback server, and axe-core."""

from __future__ import annotations

import functools
import http.server
import threading
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


@dataclass
class OfflinePage:
    """A page on which every request that leaves the machine is blocked and recorded."""

    page: Any
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


def offline(context: Any) -> OfflinePage:
    """A new page of ``context`` with every non-loopback request blocked and recorded, and its
    console errors and uncaught exceptions collected."""
    page = context.new_page()
    record = OfflinePage(page)

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
