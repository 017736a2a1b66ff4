"""GIFT, Moodle's plain-text format, as question/format/gift/format.php reads it.

What that reader implies, and this writer does: the answer block is found from the first `{`
and the first `}`, the name ends at the first `::`, `#` starts feedback and `####` the general
feedback, `=` and `~` start answers; each of ``~ = # { } :`` is written with a backslash
(escapedchar_pre), and a backslash as two. A weight is read only as `%` + at most two digits
before the point + `%` (answerweightparser's pattern), so 100% is written with `=`.
A blank line ends a question, so texts are written on one line. Text is ``[markdown]``, which
is how the bank writes emphasis; with a book URL, paragraph ids become Markdown links.
The objective is a sub-category of the chapter's category: GIFT has no tags."""

from __future__ import annotations

import re
from typing import Any

from course.quiz.bank import (
    Bank,
    Matching,
    MultipleSelect,
    Numeric,
    Ordering,
    Question,
    ShortText,
    SingleChoice,
    TrueFalse,
)
from course.quiz.lms.mapping import (
    Render,
    accepted_answers,
    category_name,
    general_feedback,
    ordering_pairs,
    question_from,
    question_text,
)
from course.sources import PARAGRAPH_ID_RE

SPECIAL = "~=#{}:"


def escape(text: str) -> str:
    out = text.replace("\\", "\\\\")
    for ch in SPECIAL:
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.replace("<", "&lt;").split())  # one line; `<` is not a tag


def unescape(text: str) -> str:
    out = re.sub(r"\\(.)", r"\1", text.strip())
    return out.replace("&lt;", "<")


class _Markdown:
    def __init__(self, render: Render) -> None:
        self.base = render.base

    def __call__(self, text: str) -> str:
        out = escape(text)
        if self.base:
            out = PARAGRAPH_ID_RE.sub(
                lambda m: f"[{m.group(0)}]({escape(self._href(m.group(0)))})", out)
        return out

    def _href(self, pid: str) -> str:
        return f"{self.base}articles/article-{pid[0].lower()}.html#{pid}"


def _literal(answer: str) -> str:
    """A short answer taken literally: Moodle's short answer reads `*` as a wildcard."""
    return escape(answer).replace("*", "\\*")


def _weight(fraction: float) -> str:
    if fraction >= 100:
        return "="
    value = max(min(fraction, 99.99999), -99.99999)
    return f"~%{value:.5f}%".rstrip("0").rstrip(".").replace(".%", "%") if value else "~"


def question(q: Question, bank: Bank, render: Render) -> str:
    md = _Markdown(render)
    prompt = question_text(q, md)
    general = general_feedback(q, "gift", md)
    link = render.chapter_link(bank)
    if link:
        general.append(f"[{escape(bank.title)}]({escape(link)})")
    answers: list[str] = []
    if isinstance(q, SingleChoice | MultipleSelect):
        n_correct = sum(o.correct for o in q.options)
        for o in q.options:
            if isinstance(q, SingleChoice):
                mark = "=" if o.correct else "~"
            else:
                mark = _weight((100 if o.correct else -100) / n_correct)
            answers.append(f"{mark}{md(o.text)}#{md(o.feedback)}")
    elif isinstance(q, TrueFalse):
        # split_truefalse_comment: the first feedback is for a wrong answer, the second for
        # the right one.
        right, wrong = ((q.feedback_true, q.feedback_false) if q.answer
                        else (q.feedback_false, q.feedback_true))
        answers.append(f"{'TRUE' if q.answer else 'FALSE'}#{md(wrong)}#{md(right)}")
    elif isinstance(q, Numeric):
        answers.append(f"#={q.answer:g}:{q.tolerance:g}#{md(q.feedback_correct)}")
        answers += [f"=%0%{m.value:g}:{m.tolerance:g}#{md(m.feedback)}" for m in q.mistakes]
        answers.append(f"~#{md(q.feedback_incorrect)}")
    elif isinstance(q, ShortText):
        answers += [f"={_literal(a)}#{md(q.feedback_correct)}" for a in accepted_answers(q)]
        answers += [f"=%0%{_literal(m.answer)}#{md(m.feedback)}" for m in q.mistakes]
        answers.append(f"=%0%*#{md(q.feedback_incorrect)}")
    elif isinstance(q, Matching | Ordering):
        if isinstance(q, Matching):
            rows = [(p.prompt, p.answer) for p in q.pairs]
            rows += [("", c) for c in q.choices if c not in {p.answer for p in q.pairs}]
        else:
            rows = [(text, pos) for text, pos, _ in ordering_pairs(q)]
        answers += [f"={md(p)} -> {escape(a)}" for p, a in rows]
    body = "\n".join(answers + [f"####{'<br>'.join(general)}"])
    return f"// {q.id}\n::{escape(q.id)}::[markdown]{prompt}{{\n{body}\n}}"


def by_objective(questions: list[Question]) -> dict[str, list[Question]]:
    """A chapter's questions by objective, objectives in order of first use: the
    sub-categories of the file, and so the order it writes the questions in."""
    groups: dict[str, list[Question]] = {}
    for q in questions:
        groups.setdefault(q.objective, []).append(q)
    return groups


def document(banks: list[tuple[Bank, list[Question]]], render: Render) -> str:
    blocks = []
    for bank, questions in banks:
        for objective, group in by_objective(questions).items():
            blocks.append(f"$CATEGORY: $course$/top/{category_name(bank.title)}/"
                          f"{category_name(objective)}")
            blocks += [question(q, bank, render) for q in group]
    return "\n\n".join(blocks) + "\n"


# --- reading back, following format.php's readquestion -------------------------------------

_LINK = re.compile(r"\[([AB]\d+|[^\]]+)\]\([^)]*\)")
_HOLD = "\x00"


def _protect(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _HOLD + str(ord(m.group(1))) + _HOLD, text)


def _restore(text: str) -> str:
    text = re.sub(f"{_HOLD}(\\d+){_HOLD}", lambda m: "\\" + chr(int(m.group(1))), text)
    return unescape(_LINK.sub(r"\1", text))


def read(text: str) -> list[tuple[str, Question]]:
    """(category, question) for every question of a GIFT file written by ``document``."""
    out, category = [], ""
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if not ln.strip().startswith("//")]
        block = _protect("\n".join(lines).strip())
        if not block:
            continue
        if block.startswith("$CATEGORY:"):
            category = block.removeprefix("$CATEGORY:").strip()
            continue
        out.append((category, _read_question(block, category)))
    return out


def _read_question(block: str, category: str) -> Question:
    name, rest = block.removeprefix("::").split("::", 1)
    start, end = rest.index("{"), rest.index("}")
    answer_text, general = rest[start + 1:end].strip().rsplit("####", 1)
    data: dict[str, Any] = {
        "id": _restore(name), "objective": category.rsplit("/", 1)[-1], "difficulty": 1,
        "prompt": _restore(rest[:start].removeprefix("[markdown]")),
        "explanation": _restore(general.split("<br>")[0])}
    answer_text = answer_text.strip()
    lines = answer_text.split("\n")
    if answer_text.startswith("#"):
        value, fb = lines[0].removeprefix("#=").split("#", 1)
        key, tol = value.split(":")
        mistakes = []
        for ln in lines[1:-1]:
            given, mfb = ln.removeprefix("=%0%").split("#", 1)
            mv, mt = given.split(":")
            mistakes.append({"value": float(mv), "tolerance": float(mt),
                             "feedback": _restore(mfb)})
        return question_from({**data, "type": "numeric", "answer": float(key),
                              "tolerance": float(tol), "feedback_correct": _restore(fb),
                              "mistakes": mistakes,
                              "feedback_incorrect": _restore(lines[-1].removeprefix("~#"))})
    if answer_text.startswith(("TRUE", "FALSE")):
        truth, wrong, right = answer_text.split("#", 2)
        answer = truth == "TRUE"
        ft, ff = (right, wrong) if answer else (wrong, right)
        return question_from({**data, "type": "true_false", "answer": answer,
                              "feedback_true": _restore(ft), "feedback_false": _restore(ff)})
    if "~" in answer_text:
        options = []
        for k, ln in enumerate(lines):
            body, correct = ln[1:], ln[0] == "="
            if body.startswith("%"):
                weight, body = body[1:].split("%", 1)
                correct = float(weight) > 0
            text, fb = body.split("#", 1)
            options.append({"id": f"o{k}", "text": _restore(text), "correct": correct,
                            "feedback": _restore(fb)})
        # format.php: without an "=" answer, a multiple-choice block is multiple answer
        kind = "multiple_select" if "=" not in answer_text else "single_choice"
        return question_from({**data, "type": kind, "options": options})
    if "->" in answer_text:
        rows = [ln.removeprefix("=").split(" -> ", 1) for ln in lines]
        pairs = [{"id": f"p{k}", "prompt": _restore(p), "answer": _restore(a),
                  "feedback": "(in the general feedback)"} for k, (p, a) in enumerate(rows) if p]
        return question_from({**data, "type": "matching", "pairs": pairs,
                              "choices": list(dict.fromkeys(_restore(a) for _, a in rows))})
    accept, mistakes, correct_fb, incorrect_fb = [], [], "", ""
    for ln in lines:
        body = ln.removeprefix("=")
        zero = body.startswith("%0%")
        text, fb = body.removeprefix("%0%").split("#", 1)
        if zero and text == "*":
            incorrect_fb = _restore(fb)
        elif zero:
            mistakes.append({"answer": _restore(text), "feedback": _restore(fb)})
        else:
            accept.append(_restore(text))
            correct_fb = _restore(fb)
    return question_from({**data, "type": "short_text", "accept": accept, "mistakes": mistakes,
                          "feedback_correct": correct_fb, "feedback_incorrect": incorrect_fb})
