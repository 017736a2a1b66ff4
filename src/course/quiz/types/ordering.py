"""Put items in order; scored by the share of item pairs in the right relative order."""

from __future__ import annotations

from itertools import combinations
from typing import Any, Literal

from pydantic import Field, field_validator

from course.quiz import markup
from course.quiz.scoring import Result, order_from_positions, result, say, shuffled
from course.quiz.types.base import Controls, Model, QuestionType, Text, unique


class OrderItem(Model):
    id: Text
    text: Text
    feedback: Text


class Ordering(QuestionType):
    type: Literal["ordering"]
    hint = " (give each item its position)"
    empty_hint = "Give each item a different position, using every position once, then check."
    items: list[OrderItem] = Field(min_length=2)  # listed in the correct order

    @field_validator("items")
    @classmethod
    def _unique_items(cls, items: list[OrderItem]) -> list[OrderItem]:
        unique([i.id for i in items], "item")
        return items

    def grade(self, response: Any) -> Result:
        ids = [i.id for i in self.items]
        if not isinstance(response, list) or sorted(response) != sorted(ids):
            return result(0, [say("order_incomplete")])
        position = {item: k for k, item in enumerate(response)}
        pairs = list(combinations(ids, 2))  # (earlier, later) in the correct order
        in_order = sum(position[a] < position[b] for a, b in pairs)
        feedback = [i.feedback for k, i in enumerate(self.items) if response[k] != i.id]
        return result(in_order / len(pairs), feedback or [say("order_all_right")])

    def shown_items(self) -> list[OrderItem]:
        return shuffled(self.items, self.id)  # the same order in the book and in Jupyter

    def html_controls(self) -> str:
        n = len(self.items)
        positions = [("", say("choose_position"))] + [
            (str(k), say("position", k=k, n=n)) for k in range(1, n + 1)]
        return "".join(
            markup.select(f"cq-{self.id}-{i.id}", i.text, f'data-item="{markup.attr(i.id)}"',
                          positions)
            for i in self.shown_items()
        )

    def widget_controls(self) -> Controls:
        from course.quiz.types.widgets import dropdown

        n = len(self.items)
        positions: list[tuple[str, object]] = [(say("choose_position"), None)] + [
            (say("position", k=k, n=n), k) for k in range(1, n + 1)]
        items = self.shown_items()
        drops = [dropdown(i.text, positions) for i in items]
        return drops, lambda: order_from_positions([i.id for i in items],
                                                   [d.value for d in drops])
