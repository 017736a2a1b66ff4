"""Grading by the README's scoring rules: pure functions on a question and a response.

Responses are plain data, the same shape the book's script uses (assets/quiz.js):
single_choice: option id; multiple_select: list of option ids; true_false: bool;
numeric: number; short_text: str; ordering: list of item ids; matching: {pair id: choice}.
``None`` means unanswered.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any, Literal, TypeVar

from course.quiz.bank import (
    Matching,
    MultipleSelect,
    Numeric,
    Ordering,
    Question,
    ShortText,
    SingleChoice,
    TrueFalse,
)

Verdict = Literal["correct", "partial", "incorrect"]
T = TypeVar("T")
# Floating-point slack so that e.g. 0.4 against 0.3 ± 0.1 counts as inside; quiz.js uses the same.
EPSILON = 1e-9
NO_ANSWER = "No answer given yet."

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2032": "'",
                         "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
                         "\u2014": "-", "\u2015": "-", "\u2212": "-"})  # fmt: skip


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    score: float
    feedback: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    """README rule: NFKC, lower case, plain quotes and dashes, punctuation other than inner
    hyphens and apostrophes removed, white space collapsed."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    text = re.sub(r"[^\w\s'-]", "", text)
    text = re.sub(r"(?<!\w)['-]+|['-]+(?!\w)", "", text)
    return " ".join(text.split())


def _result(score: float, feedback: list[str]) -> Result:
    score = round(max(0.0, min(1.0, score)), 4)
    verdict: Verdict = "correct" if score == 1 else "incorrect" if score == 0 else "partial"
    return Result(verdict, score, feedback)


def _single(q: SingleChoice, response: Any) -> Result:
    chosen = next((o for o in q.options if o.id == response), None)
    if chosen is None:
        return _result(0, [NO_ANSWER])
    return _result(1 if chosen.correct else 0, [chosen.feedback])


def _multiple(q: MultipleSelect, response: Any) -> Result:
    chosen = set(response or [])
    n_correct = sum(o.correct for o in q.options)
    right = sum(o.correct for o in q.options if o.id in chosen)
    wrong = sum(not o.correct for o in q.options if o.id in chosen)
    # Feedback on every option the student chose, and on every correct one they missed.
    feedback = [o.feedback for o in q.options if o.id in chosen or o.correct]
    if not chosen:
        feedback = [NO_ANSWER]
    return _result((right - wrong) / n_correct, feedback)


def _true_false(q: TrueFalse, response: Any) -> Result:
    if not isinstance(response, bool):
        return _result(0, [NO_ANSWER])
    feedback = q.feedback_true if response else q.feedback_false
    return _result(1 if response == q.answer else 0, [feedback])


def _numeric(q: Numeric, response: Any) -> Result:
    if isinstance(response, bool) or not isinstance(response, int | float):
        return _result(0, [NO_ANSWER])
    if abs(response - q.answer) <= q.tolerance + EPSILON:
        return _result(1, [q.feedback_correct])
    for m in q.mistakes:
        if abs(response - m.value) <= m.tolerance + EPSILON:
            return _result(0, [m.feedback])
    return _result(0, [q.feedback_incorrect])


def _short_text(q: ShortText, response: Any) -> Result:
    given = normalise(response) if isinstance(response, str) else ""
    if not given:
        return _result(0, [NO_ANSWER])
    if given in {normalise(a) for a in q.accept} or (
        q.pattern is not None and re.fullmatch(q.pattern, given)
    ):
        return _result(1, [q.feedback_correct])
    for m in q.mistakes:
        if given == normalise(m.answer):
            return _result(0, [m.feedback])
    return _result(0, [q.feedback_incorrect])


def _ordering(q: Ordering, response: Any) -> Result:
    ids = [i.id for i in q.items]
    if not isinstance(response, list) or sorted(response) != sorted(ids):
        return _result(0, ["Give each item a different position, using every position once."])
    position = {item: k for k, item in enumerate(response)}
    pairs = list(combinations(ids, 2))  # (earlier, later) in the correct order
    in_order = sum(position[a] < position[b] for a, b in pairs)
    feedback = [i.feedback for k, i in enumerate(q.items) if response[k] != i.id]
    return _result(in_order / len(pairs), feedback or ["Every item is in its place."])


def _matching(q: Matching, response: Any) -> Result:
    given = response if isinstance(response, dict) else {}
    right = sum(given.get(p.id) == p.answer for p in q.pairs)
    feedback = [
        f"{p.prompt}: {_mark(given.get(p.id), p.answer)} {p.feedback}" for p in q.pairs
    ]
    return _result(right / len(q.pairs), feedback)


def _mark(given: str | None, answer: str) -> str:
    if given is None:
        return "no answer yet."
    return "right." if given == answer else f"not {given}."


_GRADERS = {
    "single_choice": _single,
    "multiple_select": _multiple,
    "true_false": _true_false,
    "numeric": _numeric,
    "short_text": _short_text,
    "ordering": _ordering,
    "matching": _matching,
}


def grade(question: Question, response: Any) -> Result:
    """Score one response per book/quizzes/README.md (1 point per question)."""
    return _GRADERS[question.type](question, response)


def shuffled(items: Sequence[T], seed: int | str) -> list[T]:
    """A copy of ``items`` in an order that depends only on ``seed`` (repeatable builds)."""
    out = list(items)
    random.Random(str(seed)).shuffle(out)
    return out


def presented_options(question: SingleChoice | MultipleSelect) -> list[Any]:
    """Choice options in the order both renderers show them: shuffled with the question id
    as seed, so the right answer's place in the bank is no hint and rebuilds repeat."""
    return shuffled(question.options, question.id)


@dataclass(frozen=True)
class Attempt:
    """One graded answer, stored as plain JSON data in the progress file."""

    question: str
    objective: str
    chapter: str
    response: Any
    verdict: Verdict
    score: float
    time: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def attempt(chapter: str, question: Question, response: Any) -> tuple[Result, Attempt]:
    """Grade ``response`` and describe it as an Attempt ready for the progress store."""
    result = grade(question, response)
    record = Attempt(
        question.id, question.objective, chapter, response, result.verdict, result.score,
        time.time(),
    )  # fmt: skip
    return result, record
