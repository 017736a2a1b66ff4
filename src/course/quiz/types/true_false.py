"""True or false."""

from __future__ import annotations

from typing import Any, Literal

from course.quiz import markup
from course.quiz.scoring import Result, no_answer, result
from course.quiz.types.base import Controls, QuestionType, Text


class TrueFalse(QuestionType):
    type: Literal["true_false"]
    answer: bool
    feedback_true: Text
    feedback_false: Text

    def grade(self, response: Any) -> Result:
        if not isinstance(response, bool):
            return no_answer()
        feedback = self.feedback_true if response else self.feedback_false
        return result(1 if response == self.answer else 0, [feedback])

    def html_controls(self) -> str:
        return "".join(markup.choice(self.id, "radio", v, v.title()) for v in ("true", "false"))

    def widget_controls(self) -> Controls:
        import ipywidgets as w

        from course.quiz.types.widgets import WIDE, layout

        radio = w.RadioButtons(options=[("True", True), ("False", False)], value=None,
                               description="Answer:", style=WIDE, layout=layout())
        return [radio], lambda: radio.value
