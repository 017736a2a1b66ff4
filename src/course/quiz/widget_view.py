"""The live quiz in Jupyter: ipywidgets graded by the Python engine, attempts recorded in the
progress store. The same object also carries the book's HTML form in its mimebundle."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from course.quiz.bank import Question
from course.quiz.engine import Result, attempt, presented_options, shuffled
from course.quiz.html_view import inline, quiz_html
from course.quiz.progress import ProgressStore

VERDICT_TEXT = {"correct": "Correct", "partial": "Partly correct", "incorrect": "Not correct"}
WIDE = {"description_width": "initial"}
# What Check says when there is nothing to grade (the same words as assets/quiz.js).
EMPTY_HINT = {
    "ordering": "Give each item a different position, using every position once, then check.",
    "numeric": "Type a number, then check.",
    "": "Answer the question first, then check.",
}


def _layout() -> w.Layout:
    return w.Layout(width="auto", max_width="100%")


def result_html(result: Result) -> str:
    items = "".join(f"<li>{inline(f, None)}</li>" for f in result.feedback)
    return (
        f"<div role='status'><strong>{VERDICT_TEXT[result.verdict]}</strong> "
        f"(score {result.score:g} of 1)<ul>{items}</ul></div>"
    )


class QuestionView(w.VBox):
    """One question: its controls, Check / Show explanation / Retry, and the feedback."""

    def __init__(self, chapter: str, question: Question, number: int,
                 on_check: Callable[[QuestionView, Any], None]) -> None:  # fmt: skip
        self.chapter, self.question, self.result = chapter, question, None
        self._on_check = on_check
        self.controls, self._read = self._build()
        label = f"question {number}"
        self.check_button = w.Button(description="Check answer", tooltip=f"Check {label}")
        self.explain_button = w.Button(
            description="Show explanation", tooltip=f"Show the explanation of {label}"
        )
        self.retry_button = w.Button(description="Retry", tooltip=f"Clear {label} and try again")
        self.feedback = w.HTML(layout=_layout())
        self.explanation = w.HTML(
            f"<p><strong>Explanation.</strong> {inline(question.explanation, None)}</p>",
            layout=w.Layout(display="none"),
        )
        self.check_button.on_click(lambda _: self.check())
        self.explain_button.on_click(lambda _: self.toggle_explanation())
        self.retry_button.on_click(lambda _: self.retry())
        buttons = w.HBox([self.check_button, self.explain_button, self.retry_button])
        prompt = w.HTML(f"<strong>Question {number}.</strong> {inline(question.prompt, None)}")
        super().__init__([prompt, *self.controls, buttons, self.feedback, self.explanation])

    def _build(self) -> tuple[list[w.Widget], Callable[[], Any]]:
        q = self.question
        if q.type == "single_choice" or q.type == "true_false":
            options = ([(o.text, o.id) for o in presented_options(q)] if q.type == "single_choice"
                       else [("True", True), ("False", False)])  # fmt: skip
            radio = w.RadioButtons(options=options, value=None, description="Answer:",
                                   style=WIDE, layout=_layout())  # fmt: skip
            return [radio], lambda: radio.value
        if q.type == "multiple_select":
            shown = presented_options(q)
            boxes = [w.Checkbox(description=o.text, indent=False, layout=_layout())
                     for o in shown]  # fmt: skip
            return boxes, lambda: [o.id for o, b in zip(shown, boxes, strict=True) if b.value]
        if q.type in ("numeric", "short_text"):
            unit = f" ({q.unit})" if q.type == "numeric" and q.unit else ""
            text = w.Text(description=f"Your answer{unit}:", style=WIDE, layout=_layout())
            return [text], (lambda: _number(text.value)) if q.type == "numeric" else (
                lambda: text.value
            )
        if q.type == "ordering":
            n = len(q.items)
            positions = [("Choose a position", None)] + [(f"position {k} of {n}", k)
                                                         for k in range(1, n + 1)]  # fmt: skip
            items = shuffled(q.items, q.id)  # the same order as in the book
            drops = [w.Dropdown(options=positions, value=None, description=i.text, style=WIDE,
                                layout=_layout()) for i in items]  # fmt: skip
            return drops, lambda: _order([i.id for i in items], [d.value for d in drops])
        choices = [("Choose", None)] + [(c, c) for c in q.choices]
        drops = [w.Dropdown(options=choices, value=None, description=p.prompt, style=WIDE,
                            layout=_layout()) for p in q.pairs]  # fmt: skip
        return drops, lambda: {
            p.id: d.value for p, d in zip(q.pairs, drops, strict=True) if d.value is not None
        }

    def response(self) -> Any:
        return self._read()

    def check(self) -> Result | None:
        response = self.response()
        if response in (None, "", [], {}) or (isinstance(response, str) and not response.strip()):
            # Not graded and not recorded: an empty check is a slip, not a wrong answer.
            self.feedback.value = EMPTY_HINT.get(self.question.type, EMPTY_HINT[""])
            return None
        self.result, record = attempt(self.chapter, self.question, response)
        self.feedback.value = result_html(self.result)
        self._on_check(self, record)
        return self.result

    def toggle_explanation(self) -> None:
        hidden = self.explanation.layout.display == "none"
        self.explanation.layout.display = None if hidden else "none"
        self.explain_button.description = "Hide explanation" if hidden else "Show explanation"

    def retry(self) -> None:
        for control in self.controls:
            control.value = False if isinstance(control, w.Checkbox) else (
                "" if isinstance(control, w.Text) else None
            )
        self.result = None
        self.feedback.value = "Answer cleared: try again."
        self._on_check(self, None)


def _number(text: str) -> float | None:
    """The typed number, or None like the book's number field (no nan/inf)."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _order(item_ids: list[str], positions: list[int | None]) -> list[str] | None:
    """Item ids in the chosen positions; None unless positions 1..n are each used once
    (the same rule as the book's script)."""
    if sorted(p for p in positions if p is not None) != list(range(1, len(item_ids) + 1)):
        return None
    return [i for _, i in sorted(zip(positions, item_ids, strict=True))]


class QuizView(w.VBox):
    """A quiz: questions, score summary; shows as widgets in Jupyter and as the HTML form in
    the book (its mimebundle carries both)."""

    def __init__(self, chapter: str, title: str, questions: list[tuple[str, Question]],
                 store: ProgressStore | None = None, header: list[w.Widget] | None = None,
                 html_extra: str = "", book_questions: list[Question] | None = None
                 ) -> None:  # fmt: skip
        self.quiz_id, self.title, self.header = chapter, title, header or []
        self.store = store if store is not None else ProgressStore()
        self.html_extra = html_extra
        self.questions = [
            QuestionView(bank_id, q, k, self._checked)
            for k, (bank_id, q) in enumerate(questions, 1)
        ]
        # The book's form may show other questions (practice: unweighted, repeatable set).
        self.book_questions = book_questions or [v.question for v in self.questions]
        self.summary = w.HTML(layout=_layout())
        self._update_summary()
        heading = w.HTML(f"<h3>{inline(title, None)}</h3>")
        super().__init__([heading, *self.header, *self.questions, self.summary])

    def _checked(self, view: QuestionView, record: Any) -> None:
        if record is not None:
            self.store.record(record)
        self._update_summary()
        for widget in self.header:
            if hasattr(widget, "refresh"):
                widget.refresh()

    def _update_summary(self) -> None:
        done = [v.result for v in self.questions if v.result is not None]
        total = round(sum(r.score for r in done), 2)
        n = len(self.questions)
        self.summary.value = (
            f"<strong>Score: {total:g} of {n}</strong> ({len(done)} of {n} questions checked)"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = quiz_html(
            self.book_questions, self.quiz_id, self.title, "", self.html_extra
        )
        return bundle
