"""A typed answer: equal to an accepted answer once normalised, or matched by a pattern."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from course.quiz import markup
from course.quiz.scoring import Result, no_answer, normalise, result, say
from course.quiz.types.base import Controls, Model, QuestionType, Text

# Pattern syntax that Python's re runs but the book's script (JavaScript's RegExp, without the
# u flag) does not, or runs differently: both graders must give the same verdict.
_NOT_IN_JAVASCRIPT = [
    (re.compile(r"\(\?P[<=]"), "named groups written (?P<name>...) or (?P=name)"),
    (re.compile(r"\(\?[aiLmsux]+\)"), "inline flags such as (?i)"),
    (re.compile(r"\(\?[aiLmsux-]+:"), "scoped inline flags such as (?i:...)"),
    (re.compile(r"\(\?#"), "comments (?#...)"),
    (re.compile(r"\(\?>"), "atomic groups (?>...)"),
    (re.compile(r"\(\?\("), "conditional groups (?(1)...)"),
    (re.compile(r"(?<!\\)(?:\\\\)*\\[AZz]"), r"\A, \Z or \z (the whole answer is matched anyway)"),
    (re.compile(r"(?<!\\)(?:\\\\)*\\[wWdDbB]"),
     r"\w, \d or \b, which JavaScript reads as ASCII only; write the characters, e.g. [a-z0-9]"),
    (re.compile(r"[*+?}][+]"), "possessive quantifiers such as *+"),
]


class TextMistake(Model):
    answer: Text
    feedback: Text


def javascript_problems(pattern: str) -> list[str]:
    """Why ``pattern`` would not run the same in the book's script; empty if it would."""
    return [why for syntax, why in _NOT_IN_JAVASCRIPT if syntax.search(pattern)]


class ShortText(QuestionType):
    type: Literal["short_text"]
    accept: list[Text] = Field(min_length=1)
    pattern: str | None = None
    feedback_correct: Text
    feedback_incorrect: Text
    mistakes: list[TextMistake] = []

    @field_validator("pattern")
    @classmethod
    def _pattern_runs_in_both_graders(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
            problems = javascript_problems(pattern)
            if problems:
                raise ValueError(
                    "the book's script (JavaScript) cannot run this pattern the same way: "
                    + "; ".join(problems)
                )
        return pattern

    def grade(self, response: Any) -> Result:
        given = normalise(response) if isinstance(response, str) else ""
        if not given:
            return no_answer()
        if given in {normalise(a) for a in self.accept} or (
            self.pattern is not None and re.fullmatch(self.pattern, given)
        ):
            return result(1, [self.feedback_correct])
        for m in self.mistakes:
            if given == normalise(m.answer):
                return result(0, [m.feedback])
        return result(0, [self.feedback_incorrect])

    def html_controls(self) -> str:
        return markup.text_input(self.id, say("your_answer"), 'type="text"')

    def widget_controls(self) -> Controls:
        import ipywidgets as w

        from course.quiz.types.widgets import WIDE, layout

        text = w.Text(description=f"{say('your_answer')}:", style=WIDE, layout=layout())
        return [text], lambda: text.value
