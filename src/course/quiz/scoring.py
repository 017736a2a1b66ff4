"""What every question type grades with, in Python and in the book's script alike.

The rules of book/quizzes/README.md that are not one type's own: the result of a check, the
normalising of typed text, the seeded order of shown options, when an answer counts as not given
(a check of it is a slip, not a wrong answer), how chosen positions become an ordering, and the
words the quizzes show (assets/strings.json, which the book's script reads too).
tests/quiz-vectors.yaml and tests/quiz-rule-vectors.yaml hold both implementations to the same
answers (docs/architecture.md, decision 3).
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal, TypeVar

Verdict = Literal["correct", "partial", "incorrect"]
T = TypeVar("T")
# Floating-point slack so that e.g. 0.4 against 0.3 ± 0.1 counts as inside; quiz.js uses the same.
EPSILON = 1e-9

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2032": "'",
                         "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
                         "\u2014": "-", "\u2015": "-", "\u2212": "-"})  # fmt: skip


@cache
def strings() -> dict[str, Any]:
    """The quizzes' words, shared with the book's script."""
    text = resources.files("course.quiz").joinpath("assets", "strings.json").read_text("utf-8")
    return dict(json.loads(text))


def say(key: str, **values: object) -> str:
    """One of the quizzes' words, with its ``{placeholders}`` filled in."""
    return str(strings()[key]).format(**values)


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    score: float
    feedback: list[str] = field(default_factory=list)


def result(score: float, feedback: list[str]) -> Result:
    """A result with its score clamped to 0..1, rounded to 4 places, and its verdict."""
    score = round(max(0.0, min(1.0, score)), 4)
    verdict: Verdict = "correct" if score == 1 else "incorrect" if score == 0 else "partial"
    return Result(verdict, score, feedback)


def no_answer() -> Result:
    return result(0, [say("no_answer")])


def normalise(text: str) -> str:
    """README rule: NFKC, lower case, plain quotes and dashes, punctuation other than inner
    hyphens and apostrophes removed, white space collapsed."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    text = re.sub(r"[^\w\s'-]", "", text)
    text = re.sub(r"(?<!\w)['-]+|['-]+(?!\w)", "", text)
    return " ".join(text.split())


def is_empty(response: Any) -> bool:
    """An answer that was not given: nothing chosen, typed or placed."""
    if response is None or response == [] or response == {}:
        return True
    return isinstance(response, str) and not response.strip()


def order_from_positions(item_ids: Sequence[str], positions: Sequence[int | None]
                         ) -> list[str] | None:  # fmt: skip
    """Item ids in their chosen positions; None unless positions 1..n are each used once."""
    if sorted(p for p in positions if p is not None) != list(range(1, len(item_ids) + 1)):
        return None
    return [i for _, i in sorted(zip(positions, item_ids, strict=True))]


def mark(given: str | None, answer: str) -> str:
    """How one line of a matching question went."""
    if given is None:
        return say("mark_none")
    return say("mark_right") if given == answer else say("mark_wrong", given=given)


def shuffled(items: Sequence[T], seed: int | str) -> list[T]:
    """A copy of ``items`` in an order that depends only on ``seed`` (repeatable builds)."""
    out = list(items)
    random.Random(str(seed)).shuffle(out)
    return out
