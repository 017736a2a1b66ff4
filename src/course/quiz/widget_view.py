"""The live quiz in Jupyter: ipywidgets graded by the Python engine, attempts recorded in the
progress store. The same object also carries the book's HTML form in its mimebundle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from course.quiz.bank import Question
from course.quiz.engine import Result, attempt
from course.quiz.html_view import quiz_html
from course.quiz.markup import inline
from course.quiz.progress import ProgressStore
from course.quiz.scoring import is_empty, say, strings
from course.quiz.types.widgets import layout as _layout

VERDICT_TEXT: dict[str, str] = strings()["verdict"]


def result_html(result: Result) -> str:
    items = "".join(f"<li>{inline(f, None)}</li>" for f in result.feedback)
    return (
        f"<div role='status'><strong>{VERDICT_TEXT[result.verdict]}</strong> "
        f"({say('score', score=f'{result.score:g}')})<ul>{items}</ul></div>"
    )


class QuestionView(w.VBox):
    """One question: its controls, the check, explanation and retry buttons, the feedback."""

    def __init__(self, chapter: str, question: Question, number: int,
                 on_check: Callable[[QuestionView, Any], None]) -> None:  # fmt: skip
        self.chapter, self.question = chapter, question
        self.result: Result | None = None
        self._on_check = on_check
        self.controls, self._read = question.widget_controls()
        label = f"question {number}"
        self.check_button = w.Button(description=say("check"), tooltip=f"Check {label}")
        self.explain_button = w.Button(
            description=say("show_explanation"), tooltip=f"Show the explanation of {label}"
        )
        self.retry_button = w.Button(description=say("retry"),
                                     tooltip=f"Clear {label} and try again")
        self.feedback = w.HTML(layout=_layout())
        self.explanation = w.HTML(
            f"<p><strong>{say('explanation')}</strong> {inline(question.explanation, None)}</p>",
            layout=w.Layout(display="none"),
        )
        self.check_button.on_click(lambda _: self.check())
        self.explain_button.on_click(lambda _: self.toggle_explanation())
        self.retry_button.on_click(lambda _: self.retry())
        buttons = w.HBox([self.check_button, self.explain_button, self.retry_button])
        prompt = w.HTML(f"<strong>{say('question', number=number)}.</strong> "
                        f"{inline(question.prompt, None)}{question.hint}")
        super().__init__([prompt, *self.controls, buttons, self.feedback, self.explanation])

    def response(self) -> Any:
        return self._read()

    def check(self) -> Result | None:
        response = self.response()
        if is_empty(response):
            # Not graded and not recorded: an empty check is a slip, not a wrong answer.
            self.feedback.value = self.question.empty_hint or say("empty_hint")
            return None
        self.result, record = attempt(self.chapter, self.question, response)
        self.feedback.value = result_html(self.result)
        self._on_check(self, record)
        return self.result

    def toggle_explanation(self) -> None:
        hidden = self.explanation.layout.display == "none"
        self.explanation.layout.display = None if hidden else "none"
        self.explain_button.description = say("hide_explanation" if hidden else "show_explanation")

    def retry(self) -> None:
        for control in self.controls:
            control.value = False if isinstance(control, w.Checkbox) else (
                "" if isinstance(control, w.Text) else None
            )
        self.result = None
        self.feedback.value = say("cleared")
        self._on_check(self, None)


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
            f"<strong>{say('summary', total=f'{total:g}', n=n, checked=len(done))}</strong>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = quiz_html(
            self.book_questions, self.quiz_id, self.title, "", self.html_extra
        )
        return bundle
