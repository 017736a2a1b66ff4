"""course.textkit: the word, sentence and quotation helpers the exercises build on."""

from __future__ import annotations

import pytest

from course.sources import articles, paragraph
from course.textkit import Quotation, quotations, sentences, words


def test_words_lowercases_and_keeps_inner_apostrophes_and_hyphens() -> None:
    assert words("Russia’s full-blown WAR, don't stop") == [
        "russia's",
        "full-blown",
        "war",
        "don't",
        "stop",
    ]


def test_words_drop_punctuation_and_quotes() -> None:
    assert words("“Deeply impressed” -- (2019)! ‘hegemonic’ ... ") == [
        "deeply",
        "impressed",
        "2019",
        "hegemonic",
    ]


def test_words_of_empty_text_is_empty() -> None:
    assert words("") == []
    assert words("  … — ") == []


def test_words_count_matches_sources_word_count() -> None:
    # One word rule in the course: textkit agrees with Article.word_count on real text.
    for article in articles():
        assert len(words(article.body_text())) == article.word_count()


def test_words_rejects_non_text_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match="needs a string"):
        words(["a list"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two? Three!", ["One.", "Two?", "Three!"]),
        ("It met the U.S. envoy. Then it left.", ["It met the U.S. envoy.", "Then it left."]),
        ("In fact, U.S. President Trump spoke.", ["In fact, U.S. President Trump spoke."]),
        ("With the U.S.. Russia’s role grew.", ["With the U.S..", "Russia’s role grew."]),
        ("Dr. Kim and Janet W. Steele agreed.", ["Dr. Kim and Janet W. Steele agreed."]),
        ("“We will talk.” He said so.", ["“We will talk.”", "He said so."]),
        ('She said "Stop. Now." He left.', ['She said "Stop. Now."', "He left."]),
        ("no final stop", ["no final stop"]),
        ("First line\nSecond line.", ["First line", "Second line."]),
        ("Prices rose 3.5 percent. 2019 was calm.", ["Prices rose 3.5 percent.", "2019 was calm."]),
        ("", []),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_sentences_of_real_paragraphs() -> None:
    a3 = sentences(paragraph("A3").text)
    assert len(a3) == 3
    assert a3[1].endswith("Janet W. Steele observed.")
    # The ellipsis inside the Carnegie quotation does not split it.
    assert len(sentences(paragraph("A5").text)) == 3
    assert len(sentences(paragraph("A6").text)) == 2


def test_quotations_give_text_and_offsets() -> None:
    text = 'He said “we will talk” and "soon".'
    found = quotations(text)
    assert found == [Quotation("we will talk", 9, 21), Quotation("soon", 28, 32)]
    for q in found:
        assert text[q.start : q.end] == q.text


def test_quotations_ignore_apostrophes_single_quotes_and_unclosed_marks() -> None:
    assert quotations("Russia’s ‘hegemonic’ aims") == []
    assert quotations("an “unclosed quote") == []


def test_quotations_in_the_articles() -> None:
    a3 = quotations(paragraph("A3").text)
    assert [q.text[:25] for q in a3] == ["Russia’s attitude towards", "Russia is not likely to r"]
    a5 = quotations(paragraph("A5").text)
    assert len(a5) == 1 and "‘hegemonic’" in a5[0].text
    assert sum(len(quotations(p.text)) for a in articles() for p in a.paragraphs) == 8


def test_the_examples_in_textkit_docstrings_hold() -> None:
    import doctest

    import course.textkit

    result = doctest.testmod(course.textkit)
    assert result.attempted >= 3 and result.failed == 0
