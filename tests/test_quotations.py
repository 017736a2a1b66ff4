"""Quotations of the articles are checked against the paragraph they cite (docs/accuracy.md).

The unit tests pin the matching rules; the corpus test reads every chapter, bank, notebook and
rubric of the course; the planted-misquotation tests show that each check fails when its rule is
broken, in a real strict Sphinx build as well as in the bank loader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from course.quiz.bank import BankError, parse_bank, read_bank
from course.quotations import (
    QuotationError,
    as_plain_text,
    check_quotation,
    problems,
    quote,
)
from course.sources import UnknownParagraphError
from tests.support.book import TinyBook

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "quotations"


# -- the matching rules ------------------------------------------------------------------

@pytest.mark.parametrize("words", [
    "it is highly unlikely that Russia would be willing to risk further economic penalties",
    "It is highly unlikely that Russia would be willing to risk further economic penalties",
    "it is highly unlikely ... further economic penalties",
    "it is highly unlikely \u2026 further economic penalties",
    "[Russia] would be willing to risk further economic penalties",
    "the regime\u2019s nuclear ambitions",  # curly apostrophe in the source, either in the quote
    "the regime's nuclear ambitions",
])
def test_exact_quotations_and_marked_gaps_pass(words: str) -> None:
    assert check_quotation("B12", words).id == "B12"


@pytest.mark.parametrize("pid, words, reason", [
    ("B12", "would not be willing to risk further economic penalties", "a word inserted"),
    ("B4", "flexible", "a different word form (B4 says flexibility)"),
    ("B12", "flexibility", "the right word in the wrong paragraph"),
    ("B12", "further economic penalties ... it is highly unlikely", "parts out of order"),
    ("B12", "economic penalties from the UN", "a gloss added without brackets"),
    ("B12", "IT IS HIGHLY UNLIKELY", "case changed beyond the first letter"),
])
def test_misquotations_fail_with_what_the_paragraph_says(pid: str, words: str,
                                                        reason: str) -> None:
    with pytest.raises(QuotationError) as caught:
        check_quotation(pid, words)
    assert pid in str(caught.value), reason
    assert "the paragraph says" in str(caught.value)


def test_unknown_paragraph_is_its_own_error() -> None:
    with pytest.raises(UnknownParagraphError, match="B99 does not exist"):
        check_quotation("B99", "anything")


def test_notebook_helper_returns_the_checked_quotation() -> None:
    assert quote("b4", "a certain amount of flexibility") == (
        "\u201ca certain amount of flexibility\u201d (B4)"
    )
    with pytest.raises(QuotationError):
        quote("B4", "flexible")


def test_role_is_written_out_for_renderers() -> None:
    assert as_plain_text("B says {quote}`a certain amount of flexibility <B4>`.") == (
        "B says \u201ca certain amount of flexibility\u201d (B4)."
    )


# -- planted misquotations fail every check ----------------------------------------------

def test_planted_misquotation_in_a_page_is_found() -> None:
    found = problems((FIXTURES / "misquoted-page.md").read_text())
    assert len(found) == 1 and "would not be willing" in found[0]
    assert problems((FIXTURES / "correct-page.md").read_text()) == []


def test_quotation_without_its_paragraph_is_found() -> None:
    found = problems((FIXTURES / "unmarked-quotation.md").read_text())
    assert len(found) == 1 and "B4" in found[0] and "{quote}`words <B4>`" in found[0]


def test_planted_misquotation_in_notebook_markdown_is_found() -> None:
    found = problems((FIXTURES / "misquoted-notebook-markdown.md").read_text(), plain=True)
    assert len(found) == 1 and "B12" in found[0]


def test_planted_misquotation_in_a_bank_stops_the_loader(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "book" / "quizzes" / "sources.yaml").read_text())
    question = raw["questions"][0]
    question["explanation"] += (
        " B12 says {quote}`would not be willing to risk further economic penalties <B12>`."
    )
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(BankError, match=rf"question '{question['id']}'.*misquotation.*B12"):
        read_bank(path)
    assert parse_bank(raw, "planted")  # the schema alone accepts it: the check is the loader's


@pytest.mark.slow  # a Sphinx build of its own
def test_planted_misquotation_fails_a_strict_sphinx_build(tmp_path: Path) -> None:
    book = TinyBook(tmp_path, {
        "misquoted": (FIXTURES / "misquoted-page.md").read_text(),
        "article": "# Article B\n\n```{article-text} B\n```\n",
    })
    failed = book.build()
    assert failed.returncode != 0
    assert "misquotation: B12" in failed.stderr

    book.write("misquoted", (FIXTURES / "correct-page.md").read_text())
    passed = book.build()
    assert passed.returncode == 0, passed.stderr
    page = (tmp_path / "out" / "misquoted.html").read_text()
    assert "\u201ccharacterized by a certain amount of flexibility\u201d (" in page
    assert 'href="article.html#B4"' in page


# -- the whole course --------------------------------------------------------------------

def _notebook_markdown(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [text for item in items for text in _strings(item)]


def course_texts() -> list[tuple[str, str, bool]]:
    """(name, text, plain) for every text of the course that may quote the articles."""
    texts = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"), False)
             for p in sorted((ROOT / "book").glob("*.md"))]
    for path in sorted((ROOT / "book" / "quizzes").glob("*.yaml")):
        bank = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts.append((str(path.relative_to(ROOT)), "\n\n".join(_strings(bank)), False))
    for folder in ("solutions", "exercises"):
        for path in sorted((ROOT / folder).glob("*/*.ipynb")):
            texts.append((str(path.relative_to(ROOT)), _notebook_markdown(path), True))
    for path in sorted((ROOT / "autograder" / "rubrics").glob("*.md")):
        texts.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"), True))
    return texts


def test_every_quotation_in_the_course_is_exact_and_names_its_paragraph() -> None:
    found = [f"{name}: {problem}" for name, text, plain in course_texts()
             for problem in problems(text, plain=plain)]
    assert not found, "\n".join(found)
