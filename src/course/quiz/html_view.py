"""The book's form of a quiz: self-contained HTML with the key as JSON and assets/quiz.js
inlined, so it grades in the page without a kernel or any server (docs/architecture.md, decision 3).
Element ids derive from question ids, so rebuilds give the same page."""

from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib import resources
from typing import Any

from course.quiz.bank import Bank, Question
from course.quiz.engine import presented_options, shuffled
from course.quotations import as_plain_text
from course.sources import PARAGRAPH_ID_RE, UnknownParagraphError, paragraph

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
# Fields of the key that are shown to the learner, rendered once here for the script.
_RICH = {"feedback", "feedback_true", "feedback_false", "feedback_correct", "feedback_incorrect"}


@cache
def asset(name: str) -> str:
    return resources.files("course.quiz").joinpath("assets", name).read_text(encoding="utf-8")


def _link(match: re.Match[str], base: str) -> str:
    pid = match.group(0)
    try:
        page = paragraph(pid).href(base)
    except UnknownParagraphError:
        return pid
    return f'<a href="{page}" title="Paragraph {pid} of article {pid[0]}">{pid}</a>'


def inline(text: str, base: str | None = "") -> str:
    """Plain text with **bold**, *italic*, quotations and paragraph ids as links, escaped.
    ``base`` is the path from the page to the book/ folder ("" for a chapter page); None
    means no links (inside labels and legends, where a link would steal the click)."""
    out = html.escape(as_plain_text(text), quote=False)
    if base is not None:
        out = PARAGRAPH_ID_RE.sub(lambda m: _link(m, base), out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _ITALIC.sub(r"<em>\1</em>", out)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _choice(q: Question, kind: str, value: str, label: str) -> str:
    ident = f"cq-{q.id}-{value}"
    return (
        f'<div class="cq-choice"><input type="{kind}" name="cq-{_attr(q.id)}" '
        f'id="{_attr(ident)}" value="{_attr(value)}"> '
        f'<label for="{_attr(ident)}">{inline(label, None)}</label></div>'
    )


def _select(ident: str, label: str, data: str, options: list[tuple[str, str]]) -> str:
    opts = "".join(f'<option value="{_attr(v)}">{html.escape(t)}</option>' for v, t in options)
    return (
        f'<div class="cq-row"><label for="{_attr(ident)}">{inline(label, None)}</label>'
        f'<select id="{_attr(ident)}" {data}>{opts}</select></div>'
    )


def _controls(q: Question, base: str) -> str:
    if q.type in ("single_choice", "multiple_select"):
        kind = "radio" if q.type == "single_choice" else "checkbox"
        return "".join(_choice(q, kind, o.id, o.text) for o in presented_options(q))
    if q.type == "true_false":
        return "".join(_choice(q, "radio", v, v.title()) for v in ("true", "false"))
    if q.type in ("numeric", "short_text"):
        ident = f"cq-{q.id}-answer"
        unit = f" ({q.unit})" if q.type == "numeric" and q.unit else ""
        kind = 'type="number" step="any"' if q.type == "numeric" else 'type="text"'
        return (
            f'<div class="cq-row"><label for="{_attr(ident)}">Your answer{html.escape(unit)}'
            f'</label><input {kind} id="{_attr(ident)}" autocomplete="off"></div>'
        )
    if q.type == "ordering":
        n = len(q.items)
        positions = [("", "Choose a position")] + [(str(k), f"position {k} of {n}") for k in
                                                   range(1, n + 1)]  # fmt: skip
        return "".join(
            _select(f"cq-{q.id}-{i.id}", i.text, f'data-item="{_attr(i.id)}"', positions)
            for i in shuffled(q.items, q.id)
        )
    choices = [("", "Choose")] + [(c, c) for c in q.choices]
    return "".join(
        _select(f"cq-{q.id}-{p.id}", p.prompt, f'data-pair="{_attr(p.id)}"', choices)
        for p in q.pairs
    )


def _hint(q: Question) -> str:
    return {
        "multiple_select": " (choose all that apply)",
        "ordering": " (give each item its position)",
        "matching": " (choose an answer for each line)",
    }.get(q.type, "")


def question_html(q: Question, number: int, base: str = "") -> str:
    qid = _attr(q.id)
    return f"""<fieldset class="cq-question" id="cq-{qid}" data-type="{q.type}">
<legend>Question {number}: {inline(q.prompt, None)}{_hint(q)}</legend>
{_controls(q, base)}
<div class="cq-actions"><button type="button" class="cq-check">Check answer</button>
<button type="button" class="cq-explain cq-secondary" aria-expanded="false"
 aria-controls="cq-{qid}-explanation">Show explanation</button>
<button type="button" class="cq-retry cq-secondary">Retry</button></div>
<div class="cq-feedback" id="cq-{qid}-feedback" role="status" aria-live="polite"></div>
<div class="cq-explanation" id="cq-{qid}-explanation" hidden>
<p><strong>Explanation.</strong> {inline(q.explanation, base)}</p></div>
</fieldset>"""


def _rich(value: Any, base: str, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _rich(v, base, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_rich(v, base, key) for v in value]
    if isinstance(value, str) and key in _RICH:
        return inline(value, base)
    if isinstance(value, str) and key == "prompt":  # matching pairs' prompts are shown as text
        return html.escape(value)
    return value


def key_json(questions: list[Question], base: str = "") -> str:
    """The answer key the script grades with (accepted for self-study: there is no server)."""
    data = [_rich(q.model_dump(exclude={"explanation", "difficulty"}), base) for q in questions]
    # "</" would end the <script> element early.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def quiz_html(
    questions: list[Question], quiz_id: str, title: str, base: str = "", extra: str = ""
) -> str:
    """A whole quiz: the questions, a score summary and the inlined script and style."""
    body = "\n".join(question_html(q, k, base) for k, q in enumerate(questions, 1))
    return f"""<section class="cq-quiz" id="cq-quiz-{_attr(quiz_id)}" aria-label="{_attr(title)}">
<style>{asset("quiz.css")}</style>
<p class="cq-title">{html.escape(title)}</p>
{extra}{body}
<p class="cq-summary" role="status" aria-live="polite"></p>
<script type="application/json" class="cq-key">{key_json(questions, base)}</script>
<script>{asset("quiz.js")}</script>
</section>"""


def bank_html(bank: Bank, base: str = "") -> str:
    return quiz_html(list(bank.questions), bank.chapter, f"Quiz: {bank.title}", base)
