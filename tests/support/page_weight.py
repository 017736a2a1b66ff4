"""Page weight as a reader's browser sees it: the uncompressed bytes of every response a page
loads on a first visit (a fresh browser context, so an empty cache), in Chromium. Used by
tests/test_browser_reader.py (the limit) and benchmarks/bench_page_weight.py (the figures);
see docs/page-weight.md."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.support.browser import InFlight, is_loopback

LIMIT = 1024 * 1024  # bytes per chapter page, first load, uncompressed (issue 14, section 6)
VIEWPORT = {"width": 1280, "height": 900}


@dataclass
class PageWeight:
    url: str
    resources: dict[str, int] = field(default_factory=dict)  # URL -> body bytes
    external: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.resources.values())

    def largest(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.resources.items(), key=lambda item: -item[1])[:n]


def first_load(browser: object, url: str, viewport: dict[str, int] = VIEWPORT) -> PageWeight:
    """Open ``url`` in a fresh context and add up every response body it loads, fonts included
    (the page is left until its fonts are ready and no request is in flight)."""
    context = browser.new_context(viewport=viewport, service_workers="block")
    weight = PageWeight(url)

    def route(request_route: object) -> None:
        if is_loopback(request_route.request.url):
            request_route.continue_()
        else:
            weight.external.append(request_route.request.url)
            request_route.abort("blockedbyclient")

    responses: list[object] = []
    try:
        context.route("**/*", route)
        page = context.new_page()
        in_flight = InFlight(page)
        page.on("response", lambda response: responses.append(response))
        page.goto(url, wait_until="load")
        in_flight.settle()  # fonts included
        # bodies are read while the page is open: a closed context has none to give
        for response in responses:
            if response.url.startswith(("data:", "blob:")) or 300 <= response.status < 400:
                continue
            weight.resources[response.url] = len(response.body())
    finally:
        context.close()
    return weight
