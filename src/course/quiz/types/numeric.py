"""A number, right within a tolerance; known wrong numbers can have their own feedback."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from course.quiz import markup
from course.quiz.scoring import EPSILON, Result, no_answer, result, say
from course.quiz.types.base import Controls, Model, QuestionType, Text


class Mistake(Model):
    value: float
    tolerance: float = Field(0, ge=0)
    feedback: Text


def parse_number(text: str) -> float | None:
    """The typed number, or None like the book's number field (no nan/inf)."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class Numeric(QuestionType):
    type: Literal["numeric"]
    empty_hint = "Type a number, then check."
    answer: float
    tolerance: float = Field(ge=0)
    unit: str = ""
    feedback_correct: Text
    feedback_incorrect: Text
    mistakes: list[Mistake] = []

    def grade(self, response: Any) -> Result:
        if isinstance(response, bool) or not isinstance(response, int | float):
            return no_answer()
        if abs(response - self.answer) <= self.tolerance + EPSILON:
            return result(1, [self.feedback_correct])
        for m in self.mistakes:
            if abs(response - m.value) <= m.tolerance + EPSILON:
                return result(0, [m.feedback])
        return result(0, [self.feedback_incorrect])

    def _label(self) -> str:
        return say("your_answer") + (f" ({self.unit})" if self.unit else "")

    def html_controls(self) -> str:
        return markup.text_input(self.id, self._label(), 'type="number" step="any"')

    def widget_controls(self) -> Controls:
        import ipywidgets as w

        from course.quiz.types.widgets import WIDE, layout

        text = w.Text(description=f"{self._label()}:", style=WIDE, layout=layout())
        return [text], lambda: parse_number(text.value)
