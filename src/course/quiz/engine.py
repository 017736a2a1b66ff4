"""Grading by the README's scoring rules: a question grades a response, and an attempt records it.

Responses are plain data, the same shape the book's script uses (assets/quiz.js):
single_choice: option id; multiple_select: list of option ids; true_false: bool;
numeric: number; short_text: str; ordering: list of item ids; matching: {pair id: choice}.
``None`` means unanswered. Each type's rule lives with the type (course/quiz/types/).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from course.quiz.bank import Question
from course.quiz.scoring import EPSILON, Result, Verdict, is_empty, normalise, shuffled, strings
from course.quiz.types.choice import Option, SingleChoice

__all__ = ["EPSILON", "Attempt", "Result", "Verdict", "attempt", "grade", "is_empty",
           "normalise", "presented_options", "shuffled", "strings"]


def grade(question: Question, response: Any) -> Result:
    """Score one response per book/quizzes/README.md (1 point per question)."""
    return question.grade(response)


def presented_options(question: SingleChoice) -> list[Option]:
    """Choice options in the order both renderers show them (seeded by the question id)."""
    return question.presented_options()


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
