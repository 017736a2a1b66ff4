"""The book builds strictly from a clean state, and no built page loads anything from
outside the book."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course import sources
from tests.support.offline_scan import CSS_URL, external_urls_in_page, is_external

# Tag -> attributes whose URL the browser fetches on its own when the page loads.
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Sphinx's own format ("path:line: WARNING: ..." or "WARNING: ..."); the kernels' log lines
# ("[IPKernelApp] WARNING | ...", Python logging's "ERROR:tornado.general:...", seen when
# ipykernel flushes during shutdown) reach the build's stderr but are not build warnings.
SPHINX_PROBLEM = re.compile(r"(^|: )(WARNING|ERROR|CRITICAL): ")


def sphinx_warnings(log: str) -> list[str]:
    return [line for line in ANSI.sub("", log).splitlines() if SPHINX_PROBLEM.search(line)]


def test_strict_build_succeeds_without_warnings(built_book) -> None:
    assert built_book.returncode == 0
    assert sphinx_warnings(built_book.log) == []
    assert (built_book.html / "index.html").is_file()


def test_warning_filter_catches_sphinx_warnings_only() -> None:
    log = ("\x1b[91m/x/book/a.md:3: WARNING: undefined label: 'para-a99'\x1b[39;49;00m\n"
           "WARNING: html_static_path entry 'x' does not exist\n"
           "[IPKernelApp] WARNING | Kernel is running over TCP without encryption.\n"
           "ERROR:tornado.general:Uncaught exception in ZMQStream callback\n"
           "/x/book/b.md: ERROR: Unknown directive type: 'exercis'.\n"
           "build succeeded.")
    assert sphinx_warnings(log) == ["/x/book/a.md:3: WARNING: undefined label: 'para-a99'",
                                    "WARNING: html_static_path entry 'x' does not exist",
                                    "/x/book/b.md: ERROR: Unknown directive type: 'exercis'."]


def test_no_page_loads_anything_from_outside_the_book(built_book) -> None:
    pages = sorted(built_book.html.rglob("*.html"))
    assert len(pages) >= 4
    offenders = {str(p.relative_to(built_book.html)): external_urls_in_page(p) for p in pages}
    assert {page: urls for page, urls in offenders.items() if urls} == {}


def test_no_stylesheet_imports_anything_from_outside_the_book(built_book) -> None:
    offenders = {}
    for css in built_book.html.rglob("*.css"):
        urls = [u for u in CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace"))
                if is_external(u)]
        if urls:
            offenders[str(css.relative_to(built_book.html))] = urls
    assert offenders == {}


def test_the_scanner_catches_external_resources(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(
        '<link rel="stylesheet" href="https://cdn.example/x.css">'
        '<link rel="canonical" href="https://example.org/">'
        '<script src="//cdn.example/x.js"></script><img src="local.png">'
        '<img srcset="a.png 1x, https://img.example/b.png 2x">'
        '<iframe src="http://example.org"></iframe><a href="https://example.org">a link</a>'
        '<div style="background: url(https://img.example/bg.png)"></div>'
    )
    assert external_urls_in_page(page) == [
        "<link> https://cdn.example/x.css",
        "<script> //cdn.example/x.js",
        "<img> https://img.example/b.png",
        "<iframe> http://example.org",
        "style https://img.example/bg.png",
    ]


@pytest.mark.parametrize("letter", ["A", "B"])
def test_reader_pages_anchor_every_paragraph(built_book, letter: str) -> None:
    article = sources.load_article(letter)
    html = (built_book.html / f"{article.reader_page}.html").read_text(encoding="utf-8")
    for para in article.paragraphs:
        assert f'id="{para.anchor}"' in html, para.id
        assert f'href="#{para.anchor}"' in html, para.id
    assert "unedited, errors included" in html


def test_landing_page_names_its_three_audiences(built_book) -> None:
    html = (built_book.html / "book" / "index.html").read_text(encoding="utf-8")
    for audience in ("Students reading the book", "Students in self-study", "Instructors"):
        assert audience in html
