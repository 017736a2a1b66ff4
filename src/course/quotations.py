"""Quotations of the two articles, checked against the paragraph they cite.

A course on checking sources must not misquote its own (docs/accuracy.md). Every quotation of
an article is written in a form that names its paragraph, and this module checks that the
quoted words are in that paragraph:

- book pages (MyST): the role ``{quote}`quoted words <B12>```;
- question banks: the same role inside any text field (the bank loader checks it);
- notebooks and rubrics (plain Markdown): ``"quoted words" (B12)``, straight or curly quotes;
- notebook code: ``quote("B12", "quoted words")`` returns the words once checked.

What a quotation may do, marked as such in its text:

- leave words out with an ellipsis (``...`` or ``…``): the parts around it must appear in the
  paragraph in that order;
- put an editorial insertion in square brackets (``[Russia]``), which stands for words of the
  original that it replaces or adds to; the bracketed words themselves are not checked;
- change the case of its first letter, so that it fits the sentence it stands in.

Typography is not wording: curly and straight quotes, apostrophes and dashes compare equal, and
runs of white space count as one space. Everything else must be exact; a segment must start and
end on word boundaries, so "flexible" is not a quotation of "flexibility".
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from course.sources import Paragraph, articles, paragraph

# The checked forms. ROLE_RE: ``{quote}`words <B12>```; PLAIN_RE: ``"words" (B12)``.
# A quotation may wrap onto the next line of a source file, but not cross a blank line.
_CHAR = r"(?:[^\"\u201c\u201d\n]|\n(?![ \t]*\n))"
ROLE_RE = re.compile(r"\{quote\}`(?P<words>[^`<]+?)\s*<(?P<pid>[A-Za-z][0-9]+)>`")
_OPEN, _CLOSE = "\"\u201c", "\"\u201d"
PLAIN_RE = re.compile(
    rf"[{_OPEN}](?P<words>{_CHAR}+?)[{_CLOSE}]\s*\((?P<pid>[AB][1-9][0-9]?)\)"
)
# Any double-quoted span of text, for finding quotations written without a paragraph.
ANY_QUOTED_RE = re.compile(rf"[\"\u201c](?P<words>{_CHAR}{{3,}}?)[\"\u201d]")

_QUOTE_CHARS = dict.fromkeys(map(ord, "\u201c\u201d\u201e\u2018\u2019\u201a'`\u00b4"), '"')
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_GAP_RE = re.compile(r"\.\.\.|\u2026|\[[^\]]*\]")
_MIN_WORDS_FOR_NEAR_MISS = 4
_NEAR_MISS_RATIO = 0.8


class QuotationError(ValueError):
    """Quoted words that are not in the paragraph they cite."""


@dataclass(frozen=True)
class Quotation:
    pid: str
    words: str
    start: int  # offset of the whole marked form in the text it was found in


def normalise(text: str) -> str:
    """Text with typography folded: quotes, apostrophes, dashes, white space."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_CHARS).translate(_DASHES)
    return re.sub(r"\s+", " ", text).strip()


def _segments(words: str) -> list[str]:
    """The checked parts of a quotation: the text between ellipses and bracketed insertions."""
    parts = (normalise(part) for part in _GAP_RE.split(words))
    # punctuation left at a gap ("penalties, ... and") belongs to the gap, not the quotation
    return [p.strip(" ,;:") for p in parts if re.search(r"\w", p)]


def _find(segment: str, text: str, start: int, first: bool) -> int:
    """Offset just after ``segment`` in ``text`` at or after ``start``, on word boundaries."""
    body = re.escape(segment)
    if first and segment[:1].isalpha():
        body = f"[{re.escape(segment[0].lower())}{re.escape(segment[0].upper())}]" + body[
            len(re.escape(segment[0])):
        ]
    lead = r"(?<!\w)" if segment[:1].isalnum() else ""
    tail = r"(?!\w)" if segment[-1:].isalnum() else ""
    match = re.compile(lead + body + tail).search(text, start)
    return match.end() if match else -1


def _closest(words: str, text: str) -> tuple[str, float]:
    """The passage of ``text`` most like ``words``, and how alike they are (0 to 1)."""
    target = normalise(words)
    tokens = text.split()
    width = len(target.split())
    best, best_ratio = "", 0.0
    # one word more or fewer than the quotation, for a word inserted or dropped
    for size in {max(1, width - 1), width, width + 1}:
        for i in range(max(1, len(tokens) - size + 1)):
            window = " ".join(tokens[i:i + size])
            matcher = difflib.SequenceMatcher(None, target.lower(), window.lower())
            if matcher.real_quick_ratio() <= best_ratio or matcher.quick_ratio() <= best_ratio:
                continue
            ratio = matcher.ratio()
            if ratio > best_ratio:
                best, best_ratio = window, ratio
    return best, best_ratio


def check_quotation(pid: str, words: str) -> Paragraph:
    """Check that ``words`` quote paragraph ``pid``; return the paragraph.

    Raises ``UnknownParagraphError`` for an id that names no paragraph and ``QuotationError``
    when the words are not in it (the message shows what the paragraph says instead).
    """
    para = paragraph(pid)
    segments = _segments(words)
    if not segments:
        raise QuotationError(f"{para.id}: the quotation {words!r} has no words to check")
    text = normalise(para.text)
    position = 0
    for index, segment in enumerate(segments):
        end = _find(segment, text, position, first=index == 0)
        if end < 0:
            where = "after the previous part " if index else ""
            raise QuotationError(
                f"{para.id}: {segment!r} is not in the paragraph {where}(quoted as {words!r}); "
                f"the paragraph says: {_closest(segment, text)[0]!r}"
            )
        position = end
    return para


def quote(pid: str, words: str) -> str:
    """For notebooks: ``words`` once checked against paragraph ``pid``, in curly quotes."""
    check_quotation(pid, words)
    return f"\u201c{words}\u201d ({pid.upper()})"


def as_plain_text(text: str) -> str:
    """Text with every ``{quote}`` role written out as ``“words” (B12)``, for renderers."""
    return ROLE_RE.sub(lambda m: f"\u201c{m.group('words')}\u201d ({m.group('pid').upper()})",
                       text)


def role_quotations(text: str) -> Iterator[Quotation]:
    """Quotations written with the ``{quote}`` role (pages and banks)."""
    for m in ROLE_RE.finditer(text):
        yield Quotation(m.group("pid").upper(), m.group("words"), m.start())


def plain_quotations(text: str) -> Iterator[Quotation]:
    """Quotations written as ``"words" (B12)`` (notebooks and rubrics)."""
    for m in PLAIN_RE.finditer(text):
        yield Quotation(m.group("pid").upper(), m.group("words"), m.start())


def problems(text: str, *, plain: bool = False) -> list[str]:
    """Every misquotation in ``text``, and every quotation of an article that names no paragraph.

    ``plain`` selects the Markdown form ``"words" (B12)`` instead of the ``{quote}`` role.
    """
    found = list(plain_quotations(text) if plain else role_quotations(text))
    out = []
    for q in found:
        try:
            check_quotation(q.pid, q.words)
        except (QuotationError, KeyError) as exc:
            out.append(str(exc))
    marked = PLAIN_RE if plain else ROLE_RE
    unmarked = marked.sub(" ", text)
    for m in ANY_QUOTED_RE.finditer(unmarked):
        source = unmarked_source(m.group("words"))
        if source:
            form = f'"words" ({source})' if plain else f"{{quote}}`words <{source}>`"
            out.append(
                f"{m.group(0)!r} quotes {source} without naming its paragraph: write it as {form}"
            )
    return out


def unmarked_source(words: str) -> str | None:
    """The paragraph id that ``words`` quote or nearly quote, if it is a quotation at all.

    A span of four words or more that is in a paragraph, or nearly (a changed or inserted word),
    is a quotation; shorter spans are names or scare quotes and are left alone.
    """
    target = normalise(words)
    if len(target.split()) < _MIN_WORDS_FOR_NEAR_MISS:
        return None
    lowered = target.lower()
    for article in articles():
        for para in article.paragraphs:
            text = normalise(para.text)
            if lowered in text.lower():
                return para.id
            # a near quotation shares a long run of characters with its paragraph
            longest = difflib.SequenceMatcher(None, lowered, text.lower(), autojunk=False)
            if longest.find_longest_match().size < len(lowered) / 2:
                continue
            if _closest(target, text)[1] >= _NEAR_MISS_RATIO:
                return para.id
    return None

