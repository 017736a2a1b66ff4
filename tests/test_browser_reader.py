"""What a reader sees, in Chromium on the served book (issue 14, section 6; docs/reader-view.md
and docs/page-weight.md): one search field, no request that fails (the favicon included),
at most 1 MiB per page on a first load with every icon still drawn, quiz controls aligned
with their labels, and a phone-width chapter that neither scrolls sideways nor lets a quiz
control out of its box."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.book import toc_pages
from tests.support.browser import InFlight, is_loopback, serve_folder
from tests.support.page_weight import LIMIT, first_load

pytestmark = [pytest.mark.browser, pytest.mark.book]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 800}


def quiz_pages(html: Path) -> list[str]:
    return [p for p in toc_pages() if 'class="cq-quiz"' in (html / p).read_text("utf-8")]


@pytest.fixture
def desktop(offline_page):
    offline_page.page.set_viewport_size(DESKTOP)
    return offline_page


@pytest.mark.parametrize("page", ["book/index.html", "book/realpolitik.html"])
def test_one_search_field_in_view(book_url, desktop, page: str) -> None:
    desktop.goto(f"{book_url}/{page}")
    fields = desktop.page.locator(".search-button-field, input[type='search']")
    shown = [
        fields.nth(i).evaluate("e => e.outerHTML.slice(0, 80)")
        for i in range(fields.count())
        if fields.nth(i).is_visible() and fields.nth(i).evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth; }")
    ]
    assert len(shown) == 1, shown
    # the one left is the book theme's, in the sidebar, and it opens the search dialog
    assert desktop.page.locator(".bd-sidebar-primary .search-button-field").is_visible()
    desktop.page.locator(".bd-sidebar-primary .search-button-field").click()
    assert desktop.page.locator("#pst-search-dialog input[type='search']").is_visible()


def test_no_request_fails_and_the_favicon_is_served(built_book, book_server, browser) -> None:
    """Every page, then a wait for Chromium's own favicon request, which Playwright never
    reports: the server's log must show it answered, and no request answered with an error.
    No request routing here: while requests are routed, Chromium never asks for /favicon.ico."""
    server, url = book_server
    context = browser.new_context(service_workers="block")
    outside: list[str] = []
    context.on("request", lambda r: None if is_loopback(r.url) else outside.append(r.url))
    page = context.new_page()
    in_flight = InFlight(page)
    server.requests.clear()
    try:
        for name in built_book.pages():
            page.goto(f"{url}/{name.as_posix()}", wait_until="load")
            in_flight.settle()
        deadline = time.monotonic() + 10
        while not any("favicon" in path for path, _ in server.requests):
            assert time.monotonic() < deadline, "Chromium never asked for a favicon"
            time.sleep(0.2)
    finally:
        context.close()
    assert outside == []
    failed = sorted({(path, status) for path, status in server.requests if status >= 400})
    assert failed == []
    assert any(path.endswith("favicon.svg") and status == 200
               for path, status in server.requests)


def test_favicon_files(book_url) -> None:
    with urllib.request.urlopen(f"{book_url}/favicon.ico") as response:
        ico = response.read()
    count = int.from_bytes(ico[4:6], "little")
    assert ico[:4] == b"\0\0\1\0" and count == 3
    sizes = [ico[6 + 16 * i] for i in range(count)]
    assert sizes == [16, 32, 48]
    first = int.from_bytes(ico[6 + 12:6 + 16], "little")
    assert ico[first:first + 8] == b"\x89PNG\r\n\x1a\n"
    with urllib.request.urlopen(f"{book_url}/_static/favicon.svg") as response:
        assert response.headers["Content-Type"] == "image/svg+xml"
        assert b"<svg" in response.read()


def test_every_page_weighs_at_most_1_mib(built_book, book_url, browser) -> None:
    heavy, fontless = {}, []
    for page in toc_pages():
        weight = first_load(browser, f"{book_url}/{page}")
        assert weight.external == []
        if weight.total > LIMIT:
            heavy[page] = (weight.total, weight.largest(3))
        if not any(u.endswith(".woff") for u in weight.resources):
            fontless.append(page)  # the figure would leave out the icon font
    assert heavy == {}
    assert fontless == []


def test_a_planted_heavy_page_breaks_the_limit(browser, tmp_path: Path) -> None:
    """The weight check fails when its rule is broken: a page that loads a script as heavy as
    the theme's old fontawesome.js is measured over the limit."""
    (tmp_path / "heavy.js").write_text("//" + "x" * LIMIT + "\n", encoding="utf-8")
    (tmp_path / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Heavy</title>'
        '<script src="heavy.js"></script></head><body><p>A planted heavy page.</p></body></html>',
        encoding="utf-8")
    server, url = serve_folder(tmp_path)
    try:
        weight = first_load(browser, f"{url}/index.html")
    finally:
        server.shutdown()
        server.server_close()
    assert weight.total > LIMIT and f"{url}/heavy.js" in weight.resources


ICON_CHECK = """() => [...document.querySelectorAll('[class*="fa-"]')]
  .filter(e => e.getClientRects().length
    && [...e.classList].some(c => /^fa-(solid|regular|brands)$|^fa[srb]$/.test(c)))
  .map(e => {
    const before = getComputedStyle(e, '::before'), r = e.getBoundingClientRect();
    return {icon: [...e.classList].filter(c => c.startsWith('fa-')).join(' '),
            content: before.content, family: before.fontFamily,
            width: r.width};
  })"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_icons_the_book_shows_are_drawn(book_url, offline_page, viewport) -> None:
    """Without fontawesome.js the icons come from the trimmed webfont: every icon shown has
    its glyph, in a loaded Font Awesome face, at a visible size."""
    offline_page.page.set_viewport_size(viewport)
    scripts = []
    offline_page.page.on("request", lambda r: scripts.append(r.url))
    offline_page.goto(f"{book_url}/book/realpolitik.html")
    offline_page.page.evaluate("document.fonts.ready.then(() => true)")
    assert not [u for u in scripts if "fontawesome.js" in u]
    icons = offline_page.page.evaluate(ICON_CHECK)
    assert len(icons) >= 4
    for icon in icons:
        assert icon["content"] not in ("none", "normal", '""'), icon
        assert "Font Awesome" in icon["family"], icon
        assert icon["width"] > 4, icon  # its height is the line's: fa-lg sets line-height
    loaded = offline_page.page.evaluate(
        "[...document.fonts].filter(f => f.family.includes('Font Awesome')"
        " && f.status === 'loaded').map(f => f.weight)")
    assert "900" in loaded


QUIZ_GEOMETRY = """quiz => [...quiz.querySelectorAll('fieldset.cq-question')].map(box => {
  const b = box.getBoundingClientRect(), cs = getComputedStyle(box);
  const legend = box.querySelector('legend').getBoundingClientRect();
  const choices = [...box.querySelectorAll('.cq-choice')].map(c => {
    const input = c.querySelector('input').getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(c.querySelector('label'));
    const line = range.getClientRects()[0];
    return {id: c.querySelector('input').id,
            offset: (input.top + input.height / 2) - (line.top + line.height / 2)};
  });
  return {id: box.id,
          inner_top: b.top + parseFloat(cs.borderTopWidth) + parseFloat(cs.paddingTop),
          legend_top: legend.top, choices};
})"""


def test_quiz_legend_and_choices_are_aligned(book_url, desktop) -> None:
    desktop.goto(f"{book_url}/book/realpolitik.html")
    boxes = desktop.page.locator(".cq-quiz").first.evaluate(QUIZ_GEOMETRY)
    assert len(boxes) >= 3 and sum(len(b["choices"]) for b in boxes) >= 8
    for box in boxes:
        # a legend in the border's gap starts at the box's outer edge, above the line
        assert box["legend_top"] >= box["inner_top"] - 0.5, f"{box['id']}: legend on the border"
        for choice in box["choices"]:
            assert abs(choice["offset"]) <= 2, f"{choice['id']} is off its label's first line"


CONTROLS_OUTSIDE = """box => { const b = box.getBoundingClientRect();
  return [...box.querySelectorAll('input, select, button, label, legend')]
    .filter(e => { const r = e.getBoundingClientRect();
      return r.width && (r.left < b.left - 0.5 || r.right > b.right + 0.5); })
    .map(e => `${e.tagName.toLowerCase()}#${e.id}`); }"""


def test_phone_width_chapters_and_quizzes(built_book, book_url, offline_page, axe) -> None:
    """At 375 px: no page scrolls sideways, every quiz control stays inside its question's box,
    a matching question can be answered, and axe finds no serious or critical violation."""
    offline_page.page.set_viewport_size(PHONE)
    pages = quiz_pages(built_book.html)
    assert len(pages) >= 5
    problems: dict[str, list[str]] = {}
    for page in pages:
        offline_page.goto(f"{book_url}/{page}")
        p = offline_page.page
        found = []
        scroll = p.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
        if max(scroll) > PHONE["width"]:
            found.append(f"scrolls sideways: {scroll}")
        boxes = p.locator("fieldset.cq-question")
        for i in range(boxes.count()):
            found += [f"{boxes.nth(i).get_attribute('id')}: {c} outside"
                      for c in boxes.nth(i).evaluate(CONTROLS_OUTSIDE)]
        found += [f"axe: {v}" for v in axe(p)]
        if found:
            problems[page] = found
    assert problems == {}
    # a matching question works by touch-sized controls: pick an answer, check it
    offline_page.goto(f"{book_url}/book/human_cost.html")
    match = offline_page.page.locator("fieldset[data-type='matching']").first
    match.scroll_into_view_if_needed()
    select = match.locator("select").first
    select.select_option(index=1)
    match.locator(".cq-check").click()
    assert match.locator(".cq-feedback").inner_text().strip()
