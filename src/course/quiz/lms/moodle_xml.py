"""Moodle XML, as question/format/xml/format.php imports it: a category question per chapter
(``$course$/top/<chapter title>``), then one question per bank question with its id as name
and ``idnumber``, its objective as a tag, the explanation as general feedback."""

from __future__ import annotations

import xml.etree.ElementTree as ET
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
    POINTS,
    Render,
    accepted_answers,
    category_name,
    general_feedback,
    html_to_text,
    ordering_pairs,
    question_from,
    question_text,
)

MOODLE_TYPES = {"single_choice": "multichoice", "multiple_select": "multichoice",
                "true_false": "truefalse", "numeric": "numerical", "short_text": "shortanswer",
                "matching": "matching", "ordering": "matching"}


def _text(parent: ET.Element, tag: str, value: str, fmt: str | None = "html") -> ET.Element:
    el = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(el, "text").text = value
    return el


def _answer(parent: ET.Element, fraction: float, text: str, feedback: str,
            fmt: str | None = "html", tolerance: float | None = None) -> None:
    a = ET.SubElement(parent, "answer", {"fraction": f"{fraction:.5f}".rstrip("0").rstrip("."),
                                         **({"format": fmt} if fmt else {})})
    ET.SubElement(a, "text").text = text
    if tolerance is not None:
        ET.SubElement(a, "tolerance").text = f"{tolerance:g}"
    _text(a, "feedback", feedback)


def _short(text: str) -> str:
    """A short answer taken literally: Moodle reads `*` as a wildcard unless escaped."""
    return text.replace("*", r"\*")


def category(bank: Bank) -> ET.Element:
    q = ET.Element("question", type="category")
    _text(q, "category", f"$course$/top/{category_name(bank.title)}", None)
    return q


def question(q: Question, bank: Bank, render: Render) -> ET.Element:
    html = render.html
    el = ET.Element("question", type=MOODLE_TYPES[q.type])
    _text(el, "name", q.id, None)
    _text(el, "questiontext", question_text(q, html))
    general = general_feedback(q, "moodle", html)
    link = render.chapter_link(bank)
    if link:
        general.append(f'<a href="{link}">{html(bank.title)}</a>')
    _text(el, "generalfeedback", "<br/>".join(general))
    ET.SubElement(el, "defaultgrade").text = f"{POINTS:g}"
    ET.SubElement(el, "penalty").text = "0"
    ET.SubElement(el, "hidden").text = "0"
    ET.SubElement(el, "idnumber").text = q.id
    if isinstance(q, SingleChoice | MultipleSelect):
        single = isinstance(q, SingleChoice)
        ET.SubElement(el, "single").text = "true" if single else "false"
        ET.SubElement(el, "shuffleanswers").text = "true"
        ET.SubElement(el, "answernumbering").text = "abc"
        n_correct = sum(o.correct for o in q.options)
        for o in q.options:
            # Moodle adds the fractions of the chosen options and keeps the sum in [0, 1]:
            # +1/n for each correct and -1/n for each wrong one is the book's rule.
            fraction = 100 if single and o.correct else 0 if single else (
                (100 if o.correct else -100) / n_correct)
            _answer(el, fraction, html(o.text), html(o.feedback))
    elif isinstance(q, TrueFalse):
        _answer(el, 100 if q.answer else 0, "true", html(q.feedback_true), "moodle_auto_format")
        _answer(el, 0 if q.answer else 100, "false", html(q.feedback_false),
                "moodle_auto_format")
    elif isinstance(q, Numeric):
        _answer(el, 100, f"{q.answer:g}", html(q.feedback_correct), None, q.tolerance)
        for near in q.mistakes:
            _answer(el, 0, f"{near.value:g}", html(near.feedback), None, near.tolerance)
        _answer(el, 0, "*", html(q.feedback_incorrect), None, 0)
    elif isinstance(q, ShortText):
        ET.SubElement(el, "usecase").text = "0"
        for a in accepted_answers(q):
            _answer(el, 100, _short(a), html(q.feedback_correct), "moodle_auto_format")
        for m in q.mistakes:
            _answer(el, 0, _short(m.answer), html(m.feedback), "moodle_auto_format")
        _answer(el, 0, "*", html(q.feedback_incorrect), "moodle_auto_format")
    elif isinstance(q, Matching | Ordering):
        ET.SubElement(el, "shuffleanswers").text = "true"
        if isinstance(q, Matching):
            rows = [(p.prompt, p.answer) for p in q.pairs]
            unused = [c for c in q.choices if c not in {p.answer for p in q.pairs}]
        else:
            rows = [(text, pos) for text, pos, _ in ordering_pairs(q)]
            unused = []
        for prompt_text, answer in rows:
            sub = _text(el, "subquestion", html(prompt_text))
            ET.SubElement(ET.SubElement(sub, "answer"), "text").text = answer
        for extra in unused:  # an empty question with an answer is an extra wrong choice
            sub = _text(el, "subquestion", "")
            ET.SubElement(ET.SubElement(sub, "answer"), "text").text = extra
    tags = ET.SubElement(el, "tags")
    ET.SubElement(ET.SubElement(tags, "tag"), "text").text = q.objective
    return el


def document(banks: list[tuple[Bank, list[Question]]], render: Render) -> ET.Element:
    root = ET.Element("quiz")
    for bank, questions in banks:
        root.append(category(bank))
        for q in questions:
            root.append(question(q, bank, render))
    return root


# --- reading back -------------------------------------------------------------------------

def _t(el: ET.Element | None, path: str = "text") -> str:
    return html_to_text(el.findtext(path) or "") if el is not None else ""


def _raw(el: ET.Element, path: str = "text") -> str:
    found = el.findtext(path)
    if found is None:
        raise ValueError(f"Moodle XML answer without <{path}>")
    return found


def read_questions(root: ET.Element) -> list[Question]:
    return [read_question(el) for el in root.iter("question") if el.get("type") != "category"]


def read_question(el: ET.Element) -> Question:
    kind = el.get("type")
    answers = el.findall("answer")
    data: dict[str, Any] = {
        "id": el.findtext("idnumber"), "objective": el.findtext("tags/tag/text"),
        "difficulty": 1, "prompt": _t(el.find("questiontext")),
        "explanation": html_to_text((el.findtext("generalfeedback/text") or "")
                                    .split("<br/>")[0])}

    def fraction(a: ET.Element) -> float:
        return float(a.get("fraction", "0"))

    if kind == "multichoice":
        options = [{"id": f"o{k}", "text": _t(a), "correct": fraction(a) > 0,
                    "feedback": _t(a.find("feedback"))} for k, a in enumerate(answers)]
        single = el.findtext("single") == "true"
        return question_from({**data, "type": "single_choice" if single else "multiple_select",
                              "options": options})
    if kind == "truefalse":
        by = {a.findtext("text"): a for a in answers}
        return question_from({**data, "type": "true_false",
                              "answer": fraction(by["true"]) == 100,
                              "feedback_true": _t(by["true"].find("feedback")),
                              "feedback_false": _t(by["false"].find("feedback"))})
    other = next((a for a in answers if a.findtext("text") == "*"), ET.Element("answer"))
    if kind == "numerical":
        right = next(a for a in answers if fraction(a) == 100)
        rest = [a for a in answers if a is not right and a is not other]
        return question_from({
            **data, "type": "numeric", "answer": float(_raw(right)),
            "tolerance": float(_raw(right, "tolerance")),
            "feedback_correct": _t(right.find("feedback")),
            "feedback_incorrect": _t(other.find("feedback")),
            "mistakes": [{"value": float(_raw(a)), "tolerance": float(_raw(a, "tolerance")),
                          "feedback": _t(a.find("feedback"))} for a in rest]})
    if kind == "shortanswer":
        accepted = [a for a in answers if fraction(a) == 100]
        wrong = [a for a in answers if a not in accepted and a is not other]
        return question_from({
            **data, "type": "short_text",
            "accept": [_raw(a).replace(r"\*", "*") for a in accepted],
            "feedback_correct": _t(accepted[0].find("feedback")),
            "feedback_incorrect": _t(other.find("feedback")),
            "mistakes": [{"answer": _raw(a).replace(r"\*", "*"),
                          "feedback": _t(a.find("feedback"))} for a in wrong]})
    rows = [(_t(sub), _raw(sub, "answer/text")) for sub in el.findall("subquestion")]
    pairs = [{"id": f"p{k}", "prompt": p, "answer": a, "feedback": "(in the general feedback)"}
             for k, (p, a) in enumerate(rows) if p]
    return question_from({**data, "type": "matching",
                          "choices": list(dict.fromkeys(a for _, a in rows)), "pairs": pairs})
