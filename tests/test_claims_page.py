"""The Claims checked page in Chromium: every claim of claims.yaml is shown with its
paragraph (a working link), verdict, reason and sources, and a chapter's verdict leads to it."""

from __future__ import annotations

import pytest

from course.claims import load_claims

pytestmark = [pytest.mark.browser, pytest.mark.book]


def _plain(text: str) -> str:
    """Text as compared: Sphinx's smart quotes made straight, white space collapsed."""
    return " ".join(text.translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\"")).split())


def test_every_claim_is_shown_with_its_verdict_reason_and_sources(book_url, offline_page,
                                                                    axe) -> None:
    offline_page.goto(f"{book_url}/book/claims.html")
    page = offline_page.page
    claims = load_claims()
    assert page.locator(".checked-claim").count() == len(claims)
    for c in claims:
        box = page.locator(f"[id='{c.anchor}']")
        text = _plain(box.inner_text())
        assert f"Verdict: {c.verdict}" in text, c.id
        assert (f"Outcome: {c.outcome}" in text) == (c.outcome is not None), c.id
        assert _plain(c.reason)[:60] in text, c.id
        assert box.locator("a.reference.external").count() == len(c.sources), c.id
        assert box.locator(".paragraph-citation").first.inner_text() == c.para
    assert offline_page.external_requests == [] and offline_page.console_errors == []
    assert axe(page) == []


def test_a_claims_paragraph_link_opens_the_paragraph(book_url, offline_page) -> None:
    offline_page.goto(f"{book_url}/book/claims.html#claim-b6-joint-military-exercises")
    page = offline_page.page
    assert page.locator(":target").get_attribute("id") == "claim-b6-joint-military-exercises"
    page.locator(":target .paragraph-citation").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/book/articles/article-b.html#B6")


def test_a_chapter_verdict_leads_to_its_claim(book_url, offline_page) -> None:
    offline_page.goto(f"{book_url}/book/what_happened_next.html")
    page = offline_page.page
    link = page.locator("a.claim-verdict-link", has_text="Failed").first
    assert link.is_visible()
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/book/claims.html#claim-a4-cannot-alienate")
    assert "Outcome: failed" in " ".join(page.locator(":target").inner_text().split())
