"""The book's form of a quiz: self-contained HTML with the key as JSON and assets/quiz.js
inlined, so it grades in the page without a kernel or any server (docs/architecture.md, decision 3).
Element ids derive from question ids, so rebuilds give the same page."""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from typing import Any

from course.quiz.bank import Bank, Question
from course.quiz.markup import attr, inline
from course.quiz.scoring import say, strings
from course.quiz.types import REGISTRY

__all__ = ["asset", "bank_html", "inline", "key_json", "page_strings", "question_html",
           "quiz_html"]



@cache
def asset(name: str) -> str:
    return resources.files("course.quiz").joinpath("assets", name).read_text(encoding="utf-8")


def page_strings() -> dict[str, Any]:
    """The words the book's script shows: the shared ones and each type's own."""
    types = {name: {"hint": cls.hint, "empty_hint": cls.empty_hint}
             for name, cls in REGISTRY.items()}
    return {**strings(), "types": types}


def question_html(q: Question, number: int, base: str = "") -> str:
    qid = attr(q.id)
    return f"""<fieldset class="cq-question" id="cq-{qid}" data-type="{q.type}">
<legend>{say("question", number=number)}: {inline(q.prompt, None)}{q.hint}</legend>
{q.html_controls()}
<div class="cq-actions"><button type="button" class="cq-check">{say("check")}</button>
<button type="button" class="cq-explain cq-secondary" aria-expanded="false"
 aria-controls="cq-{qid}-explanation">{say("show_explanation")}</button>
<button type="button" class="cq-retry cq-secondary">{say("retry")}</button></div>
<div class="cq-feedback" id="cq-{qid}-feedback" role="status" aria-live="polite"></div>
<div class="cq-explanation" id="cq-{qid}-explanation" hidden>
<p><strong>{say("explanation")}</strong> {inline(q.explanation, base)}</p></div>
</fieldset>"""


def _rich(value: Any, base: str, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _rich(v, base, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_rich(v, base, key) for v in value]
    if isinstance(value, str) and key.startswith("feedback"):  # shown to the learner
        return inline(value, base)
    if isinstance(value, str) and key == "prompt":  # matching pairs' prompts are shown as text
        return html.escape(value)
    return value


def key_json(questions: list[Question], base: str = "") -> str:
    """The answer key the script grades with (accepted for self-study: there is no server)."""
    data = [_rich(q.model_dump(exclude={"explanation", "difficulty"}), base) for q in questions]
    return _json(data)


def _json(data: Any) -> str:
    # "</" would end the <script> element early.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def quiz_html(
    questions: list[Question], quiz_id: str, title: str, base: str = "", extra: str = ""
) -> str:
    """A whole quiz: the questions, a score summary and the inlined script and style."""
    body = "\n".join(question_html(q, k, base) for k, q in enumerate(questions, 1))
    return f"""<section class="cq-quiz" id="cq-quiz-{attr(quiz_id)}" aria-label="{attr(title)}">
<style>{asset("quiz.css")}</style>
<p class="cq-title">{html.escape(title)}</p>
{extra}{body}
<p class="cq-summary" role="status" aria-live="polite"></p>
<script type="application/json" class="cq-key">{key_json(questions, base)}</script>
<script type="application/json" class="cq-strings">{_json(page_strings())}</script>
<script>{asset("quiz.js")}</script>
</section>"""


def bank_html(bank: Bank, base: str = "") -> str:
    return quiz_html(list(bank.questions), bank.chapter, f"Quiz: {bank.title}", base)
