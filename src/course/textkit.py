"""Small text tools for the exercises: words, sentences and quotations.

These are general helpers that students call in the assignments, not answers to any task.
They handle the typography of the course's articles: curly apostrophes (``Russia’s``),
curly and straight double quotes, and initialisms such as ``U.S.`` that end in a full stop
without ending the sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CERTAINTY", "HEDGES", "Quotation", "quotations", "sentences", "words"]

# The hedges and certainty markers the course counts: one list for the chapter "Weighing the
# sources" and for problem set 3, so that a phrase is counted the same way in both (see
# docs/word-lists.md). Each entry is a word or a phrase of words as words() splits them.
HEDGES: tuple[str, ...] = (
    "may", "might", "could", "perhaps", "possibly", "possible", "likely", "unlikely",
    "unclear", "appears", "seems", "speculation",
)
CERTAINTY: tuple[str, ...] = (
    "will", "clearly", "certainly", "always", "never", "must", "definitely", "undoubtedly",
    "in fact", "of course",
)

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
# A word is letters or digits, optionally joined by inner apostrophes or hyphens:
# "Russia's", "full-blown" and "don't" are one word each; a trailing "'" is not part of it.
_WORD_RE = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")
# A sentence ends at . ? ! (or an ellipsis), optionally followed by closing quotes or
# brackets, then whitespace. Whether it really ends there is decided in sentences().
_END_RE = re.compile(r"(?:[.?!]+|\u2026)[\"\u201d\u2019')\]]*(?=\s)")
# Words ending in "." that do not end a sentence when a capital follows.
_INITIALISM_RE = re.compile(r"^(?:[A-Za-z]\.){2,}$|^[A-Z]\.$")  # "U.S.", "e.g.", "W."
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "gen.", "sen.", "rep.", "vs."}
_OPENING_QUOTES = '"\u201c\u2018'


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``, in order.

    Curly apostrophes count as straight ones, so ``Russia’s`` gives ``"russia's"``.
    Inner apostrophes and hyphens stay inside the word; other punctuation separates words.

    >>> words("Russia’s full-blown “war”, U.S. 2019!")
    ["russia's", 'full-blown', 'war', 'u', 's', '2019']
    """
    if not isinstance(text, str):
        raise TypeError(f"words() needs a string of text, not {type(text).__name__}")
    return _WORD_RE.findall(text.translate(_APOSTROPHES).lower())


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the punctuation that stops just before ``end`` closes a sentence."""
    if "\n" in text[end : end + 2]:  # a line break always ends a sentence
        return True
    token = text[:end].rsplit(None, 1)[-1].rstrip("\"\u201d\u2019')]")
    following = text[end:].lstrip()
    if not following:
        return True
    abbreviated = _INITIALISM_RE.search(token) or token.lower() in _ABBREVIATIONS
    if abbreviated and not token.endswith(".."):
        # "the U.S. or its allies", "U.S. President Trump": not an end; "the U.S.. Next" is
        return False
    first = following[0]
    return first.isupper() or first.isdigit() or first in _OPENING_QUOTES


def sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, stripped of surrounding whitespace.

    A sentence ends at ``.``, ``?`` or ``!`` (closing quotes stay with it) when the next
    sentence starts with a capital, a digit or an opening quote, and always at a line break.
    Stops inside a quotation do not split it (the quotation stays with its sentence).
    Initialisms such as ``U.S.``, middle initials (``Janet W. Steele``) and titles such as
    ``Dr.`` do not end a sentence; a double stop such as ``the U.S.. Russia`` does.

    >>> sentences("He met the U.S. envoy. “Talks will go on.” Then he left!")
    ['He met the U.S. envoy.', '“Talks will go on.”', 'Then he left!']
    """
    if not isinstance(text, str):
        raise TypeError(f"sentences() needs a string of text, not {type(text).__name__}")
    # A quotation is kept whole with the sentence that carries it: "… important… Russia’s
    # engagement …" inside one pair of quotes is one person's statement, not two sentences.
    quoted = [(q.start, q.end) for q in quotations(text)]
    result: list[str] = []
    start = 0
    for match in _END_RE.finditer(text):
        inside = any(a < match.start() and match.end() < b for a, b in quoted)
        if not inside and _ends_sentence(text, match.end()):
            piece = text[start : match.end()].strip()
            if piece:
                result.append(piece)
            start = match.end()
    rest = text[start:].strip()
    if rest:
        result.append(rest)
    return [s for piece in result for s in _split_lines(piece)]


def _split_lines(piece: str) -> list[str]:
    return [line.strip() for line in piece.splitlines() if line.strip()]


@dataclass(frozen=True)
class Quotation:
    """A quoted span: ``text`` is what stands between the marks, and
    ``source[start:end] == text`` for the string it was found in."""

    text: str
    start: int
    end: int


_QUOTE_RE = re.compile(r"\u201c([^\u201c\u201d]*)\u201d|\"([^\"]*)\"")


def quotations(text: str) -> list[Quotation]:
    """Every span inside double quotes (“curly” or "straight"), in order, with offsets.

    Single quotes are not treated as quotation marks: in these texts ``’`` is mostly an
    apostrophe, and single quotes appear only inside double-quoted speech. An opening mark
    without a closing one is ignored.

    >>> quotations('He said “we will talk” and “soon”.')
    [Quotation(text='we will talk', start=9, end=21), Quotation(text='soon', start=28, end=32)]
    """
    if not isinstance(text, str):
        raise TypeError(f"quotations() needs a string of text, not {type(text).__name__}")
    found = []
    for match in _QUOTE_RE.finditer(text):
        group = 1 if match.group(1) is not None else 2
        found.append(Quotation(match.group(group), match.start(group), match.end(group)))
    return found
