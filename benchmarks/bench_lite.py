"""Figures of the in-browser site (_build/html/lite, built by make book; docs/lite.md).

Run with `make bench` (or `.venv/bin/python benchmarks/bench_lite.py [SITE] [--runs N]`). In
Chromium, offline (every non-loopback host unresolvable), on a loopback server, exercise ps1
is opened in JupyterLite's notebook app:

- cold start: a fresh browser profile (empty HTTP cache, no service worker);
- warm start: the browser closed and started again on the same profile: the second visit of a
  student whose browser kept its cache (HTTP disk cache, compiled-code cache, service worker);
- "kernel ready": the notebook's kernel first reports idle, read from the app (KERNEL_READY_JS
  below; until 4 December 2026, from the kernel indicator on the page). Pyodide has booted
  (from the site's memory snapshot, when it has one), the kernel's packages are installed
  (their files written from the site's image, when it has one: docs/lite.md, "Start-up") and
  IPython is imported: a cell would run at once. The clock starts at navigation.
  The start-up targets are on this figure;
- the parts of it: page load (navigation to the notebook shown); the kernel's web worker
  created (from navigation: the notebook page creates it as soon as it has read the site's
  settings, and begins Pyodide's boot there while JupyterLite loads; docs/lite.md,
  "Start-up"); kernel ready after the notebook is shown (the app starting a session and the
  kernel, which takes the boot under way); then the first cell (Shift+Enter on ps1's first
  code cell to its output: installing and importing the course, and the cell's work);
- bytes the server sent for the cold open and for the warm one (all from the site);
- snapshot and files image requests: how often the kernel's memory snapshot and its
  packages' files image were fetched (0 on a warm start: the worker took them, gunzipped, from
  the browser's Cache Storage; docs/lite.md);
- CPU seconds the browser's processes used for the open: unlike the times, it barely moves with
  the machine's load, so it shows whether a change made the start-up cheaper;
- the site's size on disk.

With --runs N each figure is the median of N cold/warm pairs (the fastest in brackets), and each
run's kernel-ready time is listed with how many missed the target. The load average is printed
with the figures: the times are those of this machine at that load.
Targets (issue 10): cold start under 20 s, warm start under 5 s, site under 80 MB.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
EXERCISE = "exercises/ps1/who_is_speaking.ipynb"
TARGETS = {"cold": 20.0, "warm": 5.0, "size_mb": 80.0}
TIMEOUT_MS = 180_000

# Records when the notebook's kernel first reports idle (docs/lite.md, "kernel ready"), read from
# the app itself: the kernel indicator on the page can miss a start shorter than the frames the
# page skips while busy. The app is exposed (`exposeAppInBrowser`) by adding that setting to
# the page's configuration as soon as config-utils.js writes it, before the app reads it.
# (Not by routing the settings' request: Playwright turns the HTTP cache off for a context
# with routes, and a warm start would download the site again.)
KERNEL_READY_JS = """
(() => {
  new MutationObserver((changes, observer) => {
    const script = document.getElementById('jupyter-config-data');
    let config;
    try {
      config = JSON.parse(script.textContent);
    } catch (error) {
      return;  /* not there yet */
    }
    if (!config.baseUrl) return;  /* the page's empty placeholder, not the site's settings */
    observer.disconnect();
    config.exposeAppInBrowser = 'true';
    script.textContent = JSON.stringify(config);
  }).observe(document, {subtree: true, childList: true, characterData: true});
  const poll = setInterval(() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session &&
      panel.sessionContext.session.kernel;
    if (kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected') {
      window.__kernelReady = performance.now();
      clearInterval(poll);
    }
  }, 10);
})();
"""


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site and counts the bytes of the files it sends: the kernel's worker and the
    service worker fetch most of them, out of the page's sight."""

    sent = 0
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".mjs": "text/javascript", ".js": "text/javascript",
                      ".wasm": "application/wasm"}  # fmt: skip

    def log_message(self, format: str, *args: object) -> None:
        pass

    def copyfile(self, source: Any, outputfile: Any) -> None:
        start = source.tell()
        super().copyfile(source, outputfile)
        Handler.sent += source.tell() - start


@dataclass
class Open:
    """One open of the exercise: seconds from navigation, bytes, CPU, requests off the machine."""

    shown: float  # the notebook is on the page
    worker: float  # the kernel's web worker exists
    ready: float  # the kernel is ready
    cell: float  # seconds from Shift+Enter to the first cell's output
    sent: int
    cpu: float
    external: int
    snapshot_fetches: int  # requests for the snapshot and files image (0: from Cache Storage)


def site_size(site: Path) -> int:
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file())


def browser_cpu_seconds(profile: Path) -> float:
    """User + system CPU of the browser started on ``profile`` and of its child processes."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, cpu, roots = {}, {}, set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        pid = int(entry.name)
        parent[pid], cpu[pid] = int(stat[1]), (int(stat[11]) + int(stat[12])) / tick
        if f"--user-data-dir={profile}".encode() in command:
            roots.add(pid)
    total = 0.0
    for pid in cpu:
        ancestor = pid
        while ancestor in parent and ancestor not in roots:
            ancestor = parent[ancestor]
        total += cpu[pid] if ancestor in roots else 0.0
    return total


def open_exercise(pw: Any, profile: Path, url: str) -> Open:
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]  # fmt: skip
    context = pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=args)
    context.add_init_script(KERNEL_READY_JS)
    external, snapshots = [0], [0]

    def count(request: Any) -> None:
        url = request.url
        external[0] += "127.0.0.1" not in url and not url.startswith(("data:", "blob:"))
        snapshots[0] += "/kernel-snapshot-" in url or "/kernel-files-" in url

    context.on("request", count)
    page = context.new_page()
    worker = [0.0]
    sent_before, cpu_before = Handler.sent, browser_cpu_seconds(profile)
    start = time.perf_counter()
    page.on("worker", lambda w: worker.__setitem__(0, worker[0] or time.perf_counter() - start))
    page.goto(f"{url}/notebooks/index.html?path={EXERCISE}", wait_until="load")
    cell = page.locator(".jp-Notebook .jp-CodeCell").first
    cell.wait_for(timeout=TIMEOUT_MS)
    shown = time.perf_counter() - start
    page.wait_for_function("() => window.__kernelReady !== undefined", timeout=TIMEOUT_MS)
    ready = time.perf_counter() - start
    cell.locator(".cm-content").click()
    clicked = time.perf_counter()
    page.keyboard.press("Shift+Enter")
    cell.locator(".jp-OutputArea-output").first.wait_for(timeout=TIMEOUT_MS)
    ran = time.perf_counter() - clicked
    result = Open(shown, worker[0], ready, ran, Handler.sent - sent_before,
                  browser_cpu_seconds(profile) - cpu_before, external[0],
                  snapshots[0])  # fmt: skip
    context.close()
    return result


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", nargs="?", type=Path, default=REPO / "_build" / "html" / "lite")
    parser.add_argument("--runs", type=int, default=1, help="cold/warm pairs (median shown)")
    options = parser.parse_args(argv)
    site: Path = options.site
    if not (site / "jupyter-lite.json").is_file():
        print(f"no site in {site}: run make book first", file=sys.stderr)
        return 1
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    runs: list[tuple[Open, Open]] = []
    loads = [load_average()]
    with sync_playwright() as pw:
        for _ in range(options.runs):
            with tempfile.TemporaryDirectory(prefix="bench-lite-profile-") as profile:
                cold = open_exercise(pw, Path(profile), url)
                warm = open_exercise(pw, Path(profile), url)  # same profile: cache kept
            runs.append((cold, warm))
            loads.append(load_average())
    server.shutdown()
    size_mb = site_size(site) / 1e6
    print(f"\nIn-browser site (JupyterLite), offline, on this machine ({os.cpu_count()} cores; "
          f"load average before and after each run: {' | '.join(loads)})")
    print(f"  {options.runs} run(s); median (fastest). Start-up times from navigation.")

    def row(label: str, values: list[float], unit: str, target: float | None = None) -> None:
        middle = statistics.median(values)
        best = f"({min(values):.2f})" if len(values) > 1 else ""
        goal = f"target {target:g} {unit}, ratio {middle / target:.2f}" if target else ""
        print(f"  {label:<44}{middle:8.2f} {unit:<3}{best:>9}  {goal}")

    for name, index in (("cold", 0), ("warm", 1)):
        opens = [run[index] for run in runs]
        row(f"{name} start: kernel ready", [o.ready for o in opens], "s", TARGETS[name])
        if len(opens) > 1:  # how many runs missed the target, not only the median
            print(f"    each run: {', '.join(f'{o.ready:.2f}' for o in opens)} s "
                  f"({sum(o.ready >= TARGETS[name] for o in opens)} at or over the target)")
        row("  page load (notebook shown)", [o.shown for o in opens], "s")
        row("  kernel's worker created", [o.worker for o in opens], "s")
        row("  kernel ready after the notebook is shown", [o.ready - o.shown for o in opens],
            "s")  # fmt: skip
        row(f"{name}: first cell, Shift+Enter to output", [o.cell for o in opens], "s")
        row(f"{name}: kernel ready + first cell", [o.ready + o.cell for o in opens], "s")
        row(f"{name}: snapshot and files image requests",
            [float(o.snapshot_fetches) for o in opens], "")  # fmt: skip
        row(f"{name}: browser CPU for the open", [o.cpu for o in opens], "s")
        row(f"{name}: bytes sent", [o.sent / 1e6 for o in opens], "MB")
    row("site on disk", [size_mb], "MB", TARGETS["size_mb"])
    print(f"  requests that left the machine: {sum(o.external for run in runs for o in run)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
