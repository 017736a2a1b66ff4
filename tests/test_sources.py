"""The sources API: verbatim text, headings, paragraph counts and stable numbering."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from course import sources
from course.sources import UnknownParagraphError

# SHA-256 of the two published texts as the course received them, kept byte for byte.
PUBLISHED_SHA256 = {
    "A": "40870cc8e940fe8ce0d2081f3f1b9481c6c241b6d6d8b2cb3bf869ed3fef05bb",
    "B": "1c2a983678791f73dca2bdeb649e8197493de043dc2f7b9b0ebe55a5e893c9c3",
}

# The first words of every paragraph. Chapters, quizzes and exercises cite these ids, so a
# change to the numbering rule must fail here before it silently breaks a citation.
FIRST_WORDS = {
    "A": ["Recent actions by", "Recent meetings between", "However, despite the",
          "It seems both", "The other areas", "Tensions between the", "Still, the possibility",
          "Russian economic and", "It\u2019s unclear what", "Russia is already",
          "Furthermore, many observers", "In spite of", "Many experts believe",
          "Russia is a", "The possibility of", "The situation between", "Cassie Grissom is",
          "Leave a Comment"],
    "B": ["The relationship between", "To answer this,", "In addition, Moscow",
          "However, while it", "Russia has also", "On the other", "Moreover, North Korea",
          "Ultimately, while it", "In addition, both", "It is important",
          "Given the state", "The United Nations", "The Russian government", "Finally, it is",
          "Moreover, intervening in", "In addition, any", "In conclusion, while",
          "Cassie Grissom is", "Leave a Comment"],
}

HEADINGS = {
    "A": ["Will Russia Help North Korea?", "Will War Break Out?",
          "How Might Russia Aid North Korea?", "The Human Factors", "Sanctions & Arms Control",
          "Conclusion"],
    "B": ["Military Relations between Russia and North Korea",
          "Russia\u2019s Foreign Policy with North Korea",
          "North Korea\u2019s Foreign Policy with Russia",
          "Stability, Security, and Economic Cooperation in the Region",
          "North Korea\u2019s Relationship with Other Nations",
          "United Nations Sanctions against North Korea",
          "Implications of Interference in North Korea", "Economic Costs for Russia"],
}


@pytest.mark.parametrize("letter", ["A", "B"])
def test_data_files_are_the_published_texts_byte_for_byte(letter: str) -> None:
    data = (resources.files("course") / "data" / "articles" / f"article-{letter.lower()}.txt")
    assert hashlib.sha256(data.read_bytes()).hexdigest() == PUBLISHED_SHA256[letter]


def test_titles_and_byline() -> None:
    a, b = sources.articles()
    assert a.title == "Will Russia Help North Korea"
    assert b.title == "Would Russia Defend North Korea"
    assert a.author == b.author == "Cassie Grissom"


@pytest.mark.parametrize("letter", ["A", "B"])
def test_headings(letter: str) -> None:
    assert list(sources.load_article(letter).headings) == HEADINGS[letter]


@pytest.mark.parametrize("letter", ["A", "B"])
def test_paragraph_numbering_is_stable(letter: str) -> None:
    article = sources.load_article(letter)
    assert len(article.paragraphs) == len(FIRST_WORDS[letter])
    pairs = zip(article.paragraphs, FIRST_WORDS[letter], strict=True)
    for number, (para, words) in enumerate(pairs, 1):
        assert para.id == f"{letter}{number}"
        assert para.text.startswith(words), para.id


@pytest.mark.parametrize("letter", ["A", "B"])
def test_every_line_of_the_text_is_kept_verbatim_in_order(letter: str) -> None:
    article = sources.load_article(letter)
    lines = [line for line in article.text.splitlines() if line.strip()]
    rebuilt = [article.title]
    for section in article.sections:
        if section.heading != article.title:
            rebuilt.append(section.heading)
        rebuilt.extend(p.text for p in section.paragraphs)
    assert rebuilt == lines
    for para in article.paragraphs:
        assert article.text.splitlines()[para.line - 1] == para.text


def test_roles_of_byline_and_footer() -> None:
    for article in sources.articles():
        *body, byline, footer = article.paragraphs
        assert byline.role == "byline" and byline.text.startswith("Cassie Grissom is an American")
        assert footer.role == "footer" and footer.text == "Leave a Comment"
        assert {p.role for p in body} == {"body"}


def test_known_paragraphs_hold_the_claims_the_course_discusses() -> None:
    assert "in Moscow in June 2019" in sources.paragraph("A2").text
    assert "START nuclear arms control treaty with North Korea" in sources.paragraph("A14").text
    assert "up to three railway lines" in sources.paragraph("A10").text
    assert "Six Party Talks in 2003 and 2009" in sources.paragraph("B5").text
    assert "joint military exercises" in sources.paragraph("B6").text


def test_word_counts_exclude_byline_and_footer() -> None:
    a, b = sources.articles()
    assert 1200 < a.word_count() < 1400
    assert 1050 < b.word_count() < 1300
    assert "Cassie" not in a.body_text()


@pytest.mark.parametrize(
    ("pid", "message"),
    [
        ("A99", "article A has paragraphs A1 to A18"),
        ("B0", "not a paragraph id"),
        ("C3", "not a paragraph id"),
        ("7", "not a paragraph id"),
    ],
)
def test_unknown_paragraphs_raise_a_clear_error(pid: str, message: str) -> None:
    with pytest.raises(UnknownParagraphError, match=message):
        sources.paragraph(pid)


def test_ids_are_case_insensitive_and_citations_are_found() -> None:
    assert sources.paragraph("b12").id == "B12"
    assert sources.cited_ids("See A7, B12 and (A14-A15); not A100.") == ["A7", "B12", "A14", "A15"]
