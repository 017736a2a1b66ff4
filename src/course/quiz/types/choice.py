"""Choice questions: one right option (single choice), or several (multiple select)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from course.quiz import markup
from course.quiz.scoring import Result, no_answer, result, shuffled
from course.quiz.types.base import ClaimRef, Controls, Model, QuestionType, Text, unique


class Option(Model):
    id: Text
    text: Text
    correct: bool = False
    feedback: Text
    claim: ClaimRef = None


class _Choice(QuestionType):
    options: list[Option] = Field(min_length=2, max_length=6)

    def presented_options(self) -> list[Option]:
        """Options in the order both renderers show them: shuffled with the question id as
        seed, so the right answer's place in the bank is no hint and rebuilds repeat."""
        return shuffled(self.options, self.id)


class SingleChoice(_Choice):
    type: Literal["single_choice"]

    @field_validator("options")
    @classmethod
    def _one_correct(cls, options: list[Option]) -> list[Option]:
        unique([o.id for o in options], "option")
        n = sum(o.correct for o in options)
        if n != 1:
            raise ValueError(f"exactly one option must have correct: true, found {n}")
        return options

    def grade(self, response: Any) -> Result:
        chosen = next((o for o in self.options if o.id == response), None)
        if chosen is None:
            return no_answer()
        return result(1 if chosen.correct else 0, [chosen.feedback])

    def html_controls(self) -> str:
        return "".join(markup.choice(self.id, "radio", o.id, o.text)
                       for o in self.presented_options())

    def widget_controls(self) -> Controls:
        import ipywidgets as w

        from course.quiz.types.widgets import WIDE, layout

        radio = w.RadioButtons(options=[(o.text, o.id) for o in self.presented_options()],
                               value=None, description="Answer:", style=WIDE, layout=layout())
        return [radio], lambda: radio.value


class MultipleSelect(_Choice):
    type: Literal["multiple_select"]
    hint = " (choose all that apply)"

    @field_validator("options")
    @classmethod
    def _some_correct(cls, options: list[Option]) -> list[Option]:
        unique([o.id for o in options], "option")
        if not any(o.correct for o in options):
            raise ValueError("at least one option must have correct: true")
        return options

    def grade(self, response: Any) -> Result:
        chosen = set(response or [])
        n_correct = sum(o.correct for o in self.options)
        right = sum(o.correct for o in self.options if o.id in chosen)
        wrong = sum(not o.correct for o in self.options if o.id in chosen)
        if not chosen:
            return no_answer()
        # Feedback on every option the student chose, and on every correct one they missed.
        feedback = [o.feedback for o in self.options if o.id in chosen or o.correct]
        return result((right - wrong) / n_correct, feedback)

    def html_controls(self) -> str:
        return "".join(markup.choice(self.id, "checkbox", o.id, o.text)
                       for o in self.presented_options())

    def widget_controls(self) -> Controls:
        import ipywidgets as w

        from course.quiz.types.widgets import layout

        shown = self.presented_options()
        boxes = [w.Checkbox(description=o.text, indent=False, layout=layout()) for o in shown]
        return boxes, lambda: [o.id for o, b in zip(shown, boxes, strict=True) if b.value]
