"""The chapters keep the book's standards: objectives first, quiz last, every paragraph
citation real, every figure described, every chapter with a folded "try it" answer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup, Tag
from markdown_it import MarkdownIt

from course.quiz.bank import load_bank
from course.quotations import as_plain_text
from course.sources import UnknownParagraphError, cited_ids, paragraph

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "book"
# Chapter file (without .md) -> the id of its question bank in book/quizzes/.
CHAPTER_BANKS = {
    "question_and_sources": "sources",
    "realpolitik": "realpolitik",
    "sanctions_and_un": "sanctions",
    "diplomacy_and_economics": "diplomacy",
    "human_cost": "human_cost",
    "weighing_the_sources": "weighing",
    "what_happened_next": "aftermath",
}
OBJECTIVES_OPENING = [
    ":::{admonition} Learning objectives",
    ":class: learning-objectives",
    "By the end of this chapter you will be able to:",
]
QUIZ_ENDING = re.compile(
    r"## Check your understanding\s*\n\s*"
    r"```\{code-cell\} ipython3\n:tags: \[remove-input\]\n"
    r"from course import quiz\n\nquiz\.show\(\"(?P<bank>[a-z_]+)\"\)\n```\s*\Z"
)
PARA_ROLE = re.compile(r"\{para\}`([^`]*)`")
EXERCISE = re.compile(r"^:::\{exercise\}[^\n]*\n:label: (?P<label>\S+)", re.MULTILINE)
SOLUTION = re.compile(r"^:::\{solution\} (?P<label>\S+)\n:class: dropdown$", re.MULTILINE)
# Fields of a bank that hold identifiers, not text that could cite a paragraph.
ID_FIELDS = {"id", "objective", "chapter"}


def toc_chapters() -> list[str]:
    """The files of the "Chapters" part of _toc.yml, as names without folder or suffix."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    part = next(p for p in toc["parts"] if p.get("caption") == "Chapters")
    return [Path(entry["file"]).name for entry in part["chapters"]]


def chapter_body(name: str) -> str:
    """The chapter's MyST text after its front matter."""
    text = (BOOK / f"{name}.md").read_text(encoding="utf-8")
    if text.startswith("---\n"):
        text = text.split("\n---\n", 1)[1]
    return text


def plain(text: str) -> str:
    """Text compared across source and HTML: quotation roles written out as the page shows
    them, curly quotes made straight, spaces collapsed."""
    text = unicodedata.normalize("NFKC", as_plain_text(text))
    text = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"',
                                         "\u201d": '"'}))
    return " ".join(text.split())


def bank_strings(node: object, key: str = "") -> Iterator[str]:
    """Every text value of a parsed bank, skipping identifier fields."""
    if isinstance(node, dict):
        for k, value in node.items():
            yield from bank_strings(value, str(k))
    elif isinstance(node, list):
        for value in node:
            yield from bank_strings(value, key)
    elif isinstance(node, str) and key not in ID_FIELDS:
        yield node


CHAPTERS = toc_chapters()


def test_every_toc_chapter_has_a_known_bank() -> None:
    assert CHAPTERS, "_toc.yml has no chapters in its 'Chapters' part"
    unknown = [c for c in CHAPTERS if c not in CHAPTER_BANKS]
    assert not unknown, f"chapters without a bank id in CHAPTER_BANKS: {unknown}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_opens_with_its_banks_objectives(chapter: str) -> None:
    lines = [line for line in chapter_body(chapter).splitlines() if line.strip()]
    assert lines[0].startswith("# "), f"{chapter}: the first line after the header is not an H1"
    assert lines[1:4] == OBJECTIVES_OPENING, (
        f"{chapter}: the learning-objectives admonition must follow the H1 directly"
    )
    items = []
    for line in lines[4:]:
        if line == ":::":
            break
        assert line.startswith("- "), f"{chapter}: unexpected line in the objectives: {line!r}"
        items.append(line[2:])
    bank = load_bank(CHAPTER_BANKS[chapter])
    assert items == [o.text for o in bank.objectives], (
        f"{chapter}: the objectives must be the texts of book/quizzes/{bank.chapter}.yaml"
    )
    assert 2 <= len(items) <= 4, f"{chapter}: has {len(items)} objectives, not 2 to 4"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_ends_with_its_quiz(chapter: str) -> None:
    match = QUIZ_ENDING.search(chapter_body(chapter))
    assert match, f"{chapter}: does not end with the 'Check your understanding' quiz cell"
    assert match["bank"] == CHAPTER_BANKS[chapter], (
        f"{chapter}: its quiz shows bank {match['bank']!r}, not {CHAPTER_BANKS[chapter]!r}"
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_an_exercise_with_a_folded_solution(chapter: str) -> None:
    body = chapter_body(chapter)
    exercises = {m["label"] for m in EXERCISE.finditer(body)}
    folded = {m["label"] for m in SOLUTION.finditer(body)}
    assert exercises & folded, (
        f"{chapter}: needs a :::{{exercise}} with a :::{{solution}} that has :class: dropdown"
    )


def test_every_para_citation_in_the_book_exists() -> None:
    missing = []
    for path in sorted(BOOK.rglob("*.md")):
        for pid in PARA_ROLE.findall(path.read_text(encoding="utf-8")):
            try:
                paragraph(pid)
            except UnknownParagraphError as exc:
                missing.append(f"{path.relative_to(REPO)}: {exc}")
    assert not missing, "\n".join(missing)


def test_every_paragraph_cited_in_a_quiz_bank_exists() -> None:
    missing = []
    for path in sorted((BOOK / "quizzes").glob("*.yaml")):
        for text in bank_strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            for pid in cited_ids(text):
                try:
                    paragraph(pid)
                except UnknownParagraphError as exc:
                    missing.append(f"{path.relative_to(REPO)}: {exc}")
    assert not missing, "\n".join(missing)


def empty_table_cells(text: str) -> list[int]:
    """The source lines of table rows with an empty body cell. A row broken over two lines
    becomes two rows padded with empty cells, which pairs a claim with the wrong evidence; a
    header's corner cell may be empty, a body cell never is in this book ("(same)", "None")."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    lines = []
    for i, token in enumerate(tokens):
        if token.type == "tr_open" and token.map:
            row = token.map[0] + 1
        if token.type == "td_open" and not tokens[i + 1].content.strip():
            lines.append(row)
    return sorted(set(lines))


def test_no_table_row_has_an_empty_cell() -> None:
    broken = [f"{path.relative_to(REPO)}:{line}"
              for path in sorted(BOOK.rglob("*.md"))
              for line in empty_table_cells(path.read_text(encoding="utf-8"))]
    assert not broken, f"table rows with an empty cell (a row broken over two lines?): {broken}"


def test_table_check_catches_a_row_broken_over_two_lines() -> None:
    table = ("| Claim | Reason | Evidence |\n|---|---|---|\n"
             "| Russia may help {para}`A7` | ties deepen\n {quote}`political clout <A8>` | "
             "Energy {para}`A10` |\n| Whole row | reason | evidence |\n")
    assert empty_table_cells(table) == [3, 4]
    assert empty_table_cells("| | A | B |\n|---|---|---|\n| row | a | b |\n") == []


def test_citation_checks_catch_a_paragraph_that_does_not_exist() -> None:
    # A19 and B20 are one past the last paragraphs of the articles.
    for pid in PARA_ROLE.findall("see {para}`A19` and {para}`B20`"):
        with pytest.raises(UnknownParagraphError):
            paragraph(pid)
    assert cited_ids("as A19 and B3 say") == ["A19", "B3"]


def _page(built_book: object, chapter: str) -> BeautifulSoup:
    html = (built_book.html / "book" / f"{chapter}.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_built_chapter_shows_objectives_right_after_its_title(built_book, chapter: str) -> None:
    page = _page(built_book, chapter)
    h1 = page.select_one("article h1")
    assert h1 is not None, f"{chapter}: the built page has no H1"
    first = h1.find_next_sibling(lambda t: isinstance(t, Tag))
    assert first is not None and "learning-objectives" in first.get("class", []), (
        f"{chapter}: the first element after the H1 is not the learning-objectives admonition"
    )
    shown = [plain(li.get_text()) for li in first.select("li")]
    assert shown == [plain(o.text) for o in load_bank(CHAPTER_BANKS[chapter]).objectives]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_built_chapter_folds_a_solution(built_book, chapter: str) -> None:
    page = _page(built_book, chapter)
    assert page.select("div.solution.dropdown"), f"{chapter}: no folded solution in the page"


def test_every_figure_has_alt_text_and_a_caption(built_book) -> None:
    problems = []
    for rel in built_book.pages():
        page = BeautifulSoup((built_book.html / rel).read_text(encoding="utf-8"), "html.parser")
        article = page.select_one("article") or page
        for img in article.select("figure img, .cell_output img"):
            if not (img.get("alt") or "").strip():
                problems.append(f"{rel}: an image without alt text ({img.get('src')})")
            figure = img.find_parent("figure")
            caption = figure.find("figcaption") if figure else None
            if caption is None or not caption.get_text(strip=True):
                problems.append(f"{rel}: an image without a caption ({img.get('src')})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("chapter", "figure_id"),
    [("what_happened_next", "fig-timeline"), ("weighing_the_sources", "fig-hedging")],
)
def test_figures_computed_at_build_time_are_in_their_chapters(
    built_book, chapter: str, figure_id: str
) -> None:
    figure = _page(built_book, chapter).find("figure", id=figure_id)
    assert figure is not None, f"{chapter}: figure {figure_id} is missing"
    img = figure.find("img")
    assert img is not None and "_images/" in img["src"], f"{figure_id} holds no drawn image"
    assert (built_book.html / "book" / img["src"]).resolve().is_file()
