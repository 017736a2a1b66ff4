"""Figures of the in-browser site (_build/html/lite, built by make book; docs/lite.md).

Run with `make bench` (or `.venv/bin/python benchmarks/bench_lite.py [SITE]`). In Chromium,
offline (every non-loopback host unresolvable), on a loopback server:

- cold start: a fresh browser profile opens exercise ps1 and runs its first code cell; the
  time from navigation to the kernel ready (its indicator idle) and to the cell's output;
- warm start: the same, in the same profile again (files in the HTTP cache);
- bytes the server sent for the cold open and for the warm one (all from the site);
- the site's size on disk.

Each is printed with its target and the ratio figure / target (below 1 meets it).
Targets (issue 10): cold start under 20 s, warm start under 5 s, site under 80 MB.
"""

from __future__ import annotations

import functools
import http.server
import os
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
EXERCISE = "exercises/ps1/who_is_speaking.ipynb"
TARGETS = {"cold": 20.0, "warm": 5.0, "size_mb": 80.0}


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site and counts the bytes of the files it sends: the kernel's worker and the
    service worker fetch most of them, out of the page's sight."""

    sent = 0
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".mjs": "text/javascript", ".js": "text/javascript",
                      ".wasm": "application/wasm"}  # fmt: skip

    def log_message(self, format: str, *args: object) -> None:
        pass

    def copyfile(self, source: object, outputfile: object) -> None:
        start = source.tell()
        super().copyfile(source, outputfile)
        Handler.sent += source.tell() - start


def site_size(site: Path) -> int:
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file())


def open_and_run(context: object, url: str) -> tuple[float, float, int, int]:
    """Seconds to kernel ready and to the first cell's output, bytes received, and requests
    that left the machine."""
    page = context.new_page()
    external = [0]
    sent_before = Handler.sent
    context.on("request", lambda r: external.__setitem__(0, external[0] + ("127.0.0.1" not in r.url
            and not r.url.startswith(("data:", "blob:")))))  # fmt: skip
    start = time.perf_counter()
    page.goto(f"{url}/notebooks/index.html?path={EXERCISE}", wait_until="load")
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
        state="attached", timeout=120_000)
    ready = time.perf_counter() - start
    cell = page.locator(".jp-Notebook .jp-CodeCell").first
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    cell.locator(".jp-OutputArea-output").first.wait_for(timeout=180_000)
    output = time.perf_counter() - start
    page.close()
    return ready, output, Handler.sent - sent_before, external[0]


def main() -> int:
    from playwright.sync_api import sync_playwright

    site = Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "_build" / "html" / "lite")
    if not (site / "jupyter-lite.json").is_file():
        print(f"no site in {site}: run make book first", file=sys.stderr)
        return 1
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        context = browser.new_context()
        cold = open_and_run(context, url)
        warm = open_and_run(context, url)
        browser.close()
    server.shutdown()
    size_mb = site_size(site) / 1e6
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nIn-browser site (JupyterLite), offline, on this machine ({os.cpu_count()} cores, "
          f"load average {load})")
    rows = [
        ("cold start: kernel ready", cold[0], "s", None),
        ("cold start: first output", cold[1], "s", TARGETS["cold"]),
        ("warm start: kernel ready", warm[0], "s", None),
        ("warm start: first output", warm[1], "s", TARGETS["warm"]),
        ("first exercise open: bytes sent", cold[2] / 1e6, "MB", None),
        ("warm open: bytes sent", warm[2] / 1e6, "MB", None),
        ("site on disk", size_mb, "MB", TARGETS["size_mb"]),
    ]
    for label, value, unit, target in rows:
        goal = f"target {target:g} {unit}, ratio {value / target:.2f}" if target else ""
        print(f"  {label:<32}{value:8.2f} {unit:<3} {goal}")
    print(f"  requests that left the machine: {cold[3] + warm[3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
