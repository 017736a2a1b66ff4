"""Page weight of every page of the book: the uncompressed bytes a reader's Chromium loads on a
first visit (empty cache, every resource the page loads, fonts included), measured side by side
on the book as built and on a copy that puts back the theme's stock icon files (its 1.5 MB
fontawesome.js and its untrimmed icon stylesheet and fonts; docs/page-weight.md).

    make book && .venv/bin/python -m benchmarks.bench_page_weight [--html _build/html]

(from the repository root, so the test helpers import as tests.support)

Target: at most 1 MiB per chapter page (tests/test_browser_reader.py holds the limit).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from course.icons import THEME_CSS, theme_css
from tests.support.book import toc_pages
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, serve_folder
from tests.support.page_weight import LIMIT, first_load
from tests.support.paths import REPO

_PRELOAD = re.compile(r'<link rel="preload" as="script" href="([^"]*)_static/scripts/bootstrap\.js'
                      r'(\?digest=[0-9a-f]+)?"')


def stock_copy(html: Path, target: Path) -> Path:
    """The built book with the theme's own icon files back in every page."""
    shutil.copytree(html, target)
    shutil.copy(theme_css(), target / THEME_CSS)
    for page in toc_pages():
        path = target / page
        text = path.read_text(encoding="utf-8")
        found = _PRELOAD.search(text)
        if not found:
            sys.exit(f"{page}: the theme's bootstrap.js preload link is missing")
        prefix, digest = found.group(1), found.group(2) or ""
        tag = f'<script defer src="{prefix}_static/scripts/fontawesome.js{digest}"></script>\n'
        path.write_text(text[:found.start()] + tag + text[found.start():], encoding="utf-8")
    return target


def mib(n: int) -> str:
    return f"{n / 2**20:6.2f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=REPO / "_build" / "html")
    args = parser.parse_args()
    if not (args.html / "book" / "index.html").is_file():
        sys.exit(f"no built book in {args.html}: run make book first")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        stock = stock_copy(args.html, Path(tmp) / "stock")
        built_server, built_url = serve_folder(args.html)
        stock_server, stock_url = serve_folder(stock)
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        print(f"\nPage weight, first load, uncompressed (limit {mib(LIMIT).strip()} a page)")
        print(f"  {'page':<38}{'as built':>12}{'stock icons':>14}{'ratio':>8}  largest resource")
        worst = 0
        for page in toc_pages():
            built = first_load(browser, f"{built_url}/{page}")
            theirs = first_load(browser, f"{stock_url}/{page}")
            worst = max(worst, built.total)
            url, size = built.largest(1)[0]
            print(f"  {page:<38}{mib(built.total):>12}{mib(theirs.total):>14}"
                  f"{built.total / theirs.total:>8.2f}  {url.split('/')[-1].split('?')[0]}"
                  f" ({size // 1024} KiB)")
        print(f"\n  heaviest page: {mib(worst).strip()}, {worst / LIMIT:.0%} of the limit")
        browser.close()
        for server in (built_server, stock_server):
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
