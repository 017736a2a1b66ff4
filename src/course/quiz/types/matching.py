"""Match each line to one of a few verdict labels; scored by the share matched right."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from course.quiz import markup
from course.quiz.scoring import Result, mark, result, say
from course.quiz.types.base import ClaimRef, Controls, Model, QuestionType, Text, unique


class Pair(Model):
    id: Text
    prompt: Text
    answer: Text
    feedback: Text
    claim: ClaimRef = None


class Matching(QuestionType):
    type: Literal["matching"]
    hint = " (choose an answer for each line)"
    choices: list[Text] = Field(min_length=2)
    pairs: list[Pair] = Field(min_length=1)

    @field_validator("pairs")
    @classmethod
    def _answers_are_choices(cls, pairs: list[Pair], info: ValidationInfo) -> list[Pair]:
        unique([p.id for p in pairs], "pair")
        choices = info.data.get("choices", [])
        for p in pairs:
            if choices and p.answer not in choices:
                raise ValueError(
                    f"pair '{p.id}': the correct answer {p.answer!r} is not among the "
                    f"choices {choices}"
                )
        return pairs

    def grade(self, response: Any) -> Result:
        given = response if isinstance(response, dict) else {}
        right = sum(given.get(p.id) == p.answer for p in self.pairs)
        feedback = [f"{p.prompt}: {mark(given.get(p.id), p.answer)} {p.feedback}"
                    for p in self.pairs]
        return result(right / len(self.pairs), feedback)

    def html_controls(self) -> str:
        choices = [("", say("choose"))] + [(c, c) for c in self.choices]
        return "".join(
            markup.select(f"cq-{self.id}-{p.id}", p.prompt, f'data-pair="{markup.attr(p.id)}"',
                          choices)
            for p in self.pairs
        )

    def widget_controls(self) -> Controls:
        from course.quiz.types.widgets import dropdown

        choices: list[tuple[str, object]] = [(say("choose"), None)] + [
            (c, c) for c in self.choices]
        drops = [dropdown(p.prompt, choices) for p in self.pairs]
        return drops, lambda: {
            p.id: d.value for p, d in zip(self.pairs, drops, strict=True) if d.value is not None
        }
