"""Every page of the built book, opened in Chromium with the network cut off beyond
loopback: nothing external is requested, nothing is logged as an error, axe-core finds no
serious or critical violation, and the reader pages show their numbered paragraphs."""

from __future__ import annotations

import pytest

from course import sources


def test_every_page_works_offline(built_book, book_url, offline_page, axe) -> None:
    pages = built_book.pages()
    assert len(pages) >= 3
    problems: dict[str, list[str]] = {}
    for page in pages:
        offline_page.external_requests.clear()
        offline_page.console_errors.clear()
        offline_page.goto(f"{book_url}/{page.as_posix()}")
        found = [f"external request: {u}" for u in offline_page.external_requests]
        found += [f"console error: {e}" for e in offline_page.console_errors]
        if page.name != "index.html" or page.parent.name:  # the root index only redirects
            found += [f"axe: {v}" for v in axe(offline_page.page)]
        if found:
            problems[page.as_posix()] = found
    assert problems == {}


@pytest.mark.parametrize("letter", ["A", "B"])
def test_reader_page_shows_numbered_paragraphs(book_url, offline_page, letter: str) -> None:
    article = sources.load_article(letter)
    offline_page.goto(f"{book_url}/{article.reader_page}.html")
    page = offline_page.page
    shown = page.locator(".article-paragraph")
    assert shown.count() == len(article.paragraphs)
    for para in article.paragraphs:
        node = page.locator(f"[id='{para.anchor}']")
        assert node.is_visible(), para.id
        assert node.locator(".paragraph-number").inner_text() == para.id
        assert node.locator(".paragraph-text").inner_text() == para.text
    assert page.get_by_text("unedited, errors included").first.is_visible()
    assert offline_page.external_requests == [] and offline_page.console_errors == []


def test_paragraph_anchor_opens_its_paragraph(book_url, offline_page) -> None:
    offline_page.goto(f"{book_url}/book/articles/article-a.html#A14")
    target = offline_page.page.locator(":target")
    assert target.get_attribute("id") == "A14"
    assert target.is_visible()
    assert target.evaluate("el => el.getBoundingClientRect().top") < 400


def test_citation_links_lead_to_the_cited_paragraph(book_url, offline_page) -> None:
    offline_page.goto(f"{book_url}/book/index.html")
    offline_page.page.locator("a.reference", has_text="B5").first.click()
    offline_page.page.wait_for_load_state("load")
    assert offline_page.page.url.endswith("/book/articles/article-b.html#B5")
    assert offline_page.page.locator(":target").get_attribute("id") == "B5"
