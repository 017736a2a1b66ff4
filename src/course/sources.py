"""The two articles the course studies, loaded verbatim into numbered paragraphs.

The text files under ``course/data/articles`` are byte-for-byte copies of the published
articles, errors included. Everything the course says about them cites a paragraph id
(``A1``, ``A2``, ... ``B1``, ...), so the numbering rule below is part of the course's
public contract: every non-empty line after the title that is not a section heading is one
paragraph, numbered from 1 in reading order, byline and footer included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

LETTERS: tuple[str, ...] = ("A", "B")
_LETTER = f"[{''.join(LETTERS)}]"
PARAGRAPH_ID_RE = re.compile(rf"\b({_LETTER})([1-9][0-9]?)\b")
_ID_RE = re.compile(rf"^({_LETTER})([1-9][0-9]*)$")
# A heading is a short line without sentence-final punctuation: measured on both articles,
# every heading has at most 9 words and every paragraph ends with "." or a closing quote.
_MAX_HEADING_WORDS = 12
_SENTENCE_END = (".", "\u201d", '"', "\u2019")

Role = Literal["body", "byline", "footer"]


class UnknownParagraphError(KeyError):
    """A paragraph id that does not name a paragraph of either article."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Paragraph:
    id: str
    article: str
    number: int
    text: str
    section: str
    role: Role
    line: int  # 1-based line in the source file

    @property
    def anchor(self) -> str:
        """The HTML id of the paragraph on its reader page."""
        return self.id

    def href(self, base: str = "") -> str:
        """The paragraph's address on its reader page, from ``base`` (the path to book/)."""
        return f"{base}articles/{slug(self.article)}.html#{self.anchor}"


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Article:
    letter: str
    title: str
    author: str
    sections: tuple[Section, ...]
    text: str

    @property
    def paragraphs(self) -> tuple[Paragraph, ...]:
        return tuple(p for s in self.sections for p in s.paragraphs)

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(s.heading for s in self.sections)

    @property
    def slug(self) -> str:
        return slug(self.letter)

    @property
    def reader_page(self) -> str:
        """Path of the reader page inside the book, without suffix."""
        return f"book/articles/{self.slug}"

    def paragraph(self, number: int) -> Paragraph:
        paragraphs = self.paragraphs
        if not 1 <= number <= len(paragraphs):
            raise UnknownParagraphError(
                f"{self.letter}{number} does not exist: article {self.letter} has paragraphs "
                f"{self.letter}1 to {self.letter}{len(paragraphs)}"
            )
        return paragraphs[number - 1]

    def body_text(self) -> str:
        """The article's running text: body paragraphs only, without byline and footer."""
        return "\n\n".join(p.text for p in self.paragraphs if p.role == "body")

    def word_count(self) -> int:
        return len(re.findall(r"[\w\u2019'-]+", self.body_text()))


def slug(letter: str) -> str:
    """The file name of an article's reader page, without suffix: ``article-a``."""
    return f"article-{letter.lower()}"


def _is_heading(line: str) -> bool:
    return len(line.split()) <= _MAX_HEADING_WORDS and not line.endswith(_SENTENCE_END)


def parse_article(letter: str, text: str) -> Article:
    """Split an article's text into title, sections and numbered paragraphs."""
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line]
    if len(lines) < 3:
        raise ValueError(f"article {letter}: too short to hold a title, text and footer")
    (_, title), body, (footer_line, footer) = lines[0], lines[1:-1], lines[-1]

    sections: list[Section] = []
    heading, current = title, list[Paragraph]()
    number = 0
    byline_line = body[-1][0]
    for n, line in body:
        if _is_heading(line):
            if current or sections or heading != title:
                sections.append(Section(heading, tuple(current)))
            heading, current = line, []
            continue
        number += 1
        role: Role = "byline" if n == byline_line else "body"
        current.append(Paragraph(f"{letter}{number}", letter, number, line, heading, role, n))
    number += 1
    current.append(
        Paragraph(f"{letter}{number}", letter, number, footer, heading, "footer", footer_line)
    )
    sections.append(Section(heading, tuple(current)))

    byline = body[-1][1]
    author = byline.split(" is ", 1)[0]
    return Article(letter, title, author, tuple(sections), text)


def _read(letter: str) -> str:
    path = resources.files("course") / "data" / "articles" / f"article-{letter.lower()}.txt"
    return path.read_text(encoding="utf-8")


@cache
def load_article(letter: str) -> Article:
    """Load article ``"A"`` or ``"B"``."""
    letter = letter.upper()
    if letter not in LETTERS:
        raise UnknownParagraphError(f"there is no article {letter!r}: the articles are A and B")
    return parse_article(letter, _read(letter))


def articles() -> tuple[Article, ...]:
    return tuple(load_article(letter) for letter in LETTERS)


def parse_paragraph_id(pid: str) -> tuple[str, int]:
    match = _ID_RE.match(pid.strip().upper())
    if not match:
        raise UnknownParagraphError(
            f"{pid!r} is not a paragraph id: use a letter and a number, such as A7 or B12"
        )
    return match.group(1), int(match.group(2))


def paragraph(pid: str) -> Paragraph:
    """Look up a paragraph by id, such as ``"A7"``."""
    letter, number = parse_paragraph_id(pid)
    return load_article(letter).paragraph(number)


def cited_ids(text: str) -> list[str]:
    """Every paragraph id cited in ``text``, in order of appearance."""
    return [m.group(0) for m in PARAGRAPH_ID_RE.finditer(text)]
