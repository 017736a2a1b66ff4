"""QTI 1.2 items, as Canvas's "QTI .zip file" import and Common Cartridge 1.1 take them.

Structures follow the importers (docs/lms-export.md has the links):
- Canvas: the item layout of Canvas's own QTI export (``question_type`` and ``points_possible``
  in ``itemmetadata``, ``general_fb``/``correct_fb``/``general_incorrect_fb`` item feedback),
  read by ``gems/plugins/qti_exporter``; the same layout text2qti writes, which the tests use
  as an independent writer.
- Common Cartridge 1.1 for Moodle: ``backup/cc/entity11.quiz.class.php`` reads the type from
  the ``cc_profile`` field, the points from ``cc_weighting``, the general feedback from
  ``continue="Yes"`` conditions only, each option's score and feedback from the condition
  whose first ``varequal`` names it, true/false options with the idents ``true`` and
  ``false``, and multiple-response keys from ``varequal case="Yes"`` outside ``not``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Literal

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
    carry,
    general_feedback,
    html_to_text,
    ident,
    ordering_pairs,
    position_label,
    question_from,
    question_text,
)

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
Flavour = Literal["qti", "cc"]
CANVAS_TYPES = {
    "single_choice": "multiple_choice_question",
    "true_false": "true_false_question",
    "multiple_select": "multiple_answers_question",
    "numeric": "numerical_question",
    "short_text": "short_answer_question",
    "matching": "matching_question",
    "ordering": "matching_question",
}
CC_PROFILES = {  # backup/cc/includes/constants.php
    "single_choice": "cc.multiple_choice.v0p1",
    "true_false": "cc.true_false.v0p1",
    "multiple_select": "cc.multiple_response.v0p1",
    "short_text": "cc.fib.v0p1",
}
OBJECTIVE_FIELD = "course_objective"  # ours: importers ignore fields they do not know


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _mattext(parent: ET.Element, markup: str) -> None:
    _sub(_sub(parent, "material"), "mattext", markup, texttype="text/html")


def _field(meta: ET.Element, label: str, entry: str) -> None:
    f = _sub(meta, "qtimetadatafield")
    _sub(f, "fieldlabel", label)
    _sub(f, "fieldentry", entry)


def _feedback(item: ET.Element, fb_ident: str, markup: str) -> None:
    fb = _sub(item, "itemfeedback", ident=fb_ident)
    _mattext(_sub(fb, "flow_mat"), markup)


def _condition(rp: ET.Element, cont: bool, var: ET.Element | list[ET.Element] | None = None,
               score: float | None = None, feedback: str | None = None,
               action: str = "Set") -> ET.Element:
    """A ``respcondition``: on ``var`` (several are alternatives), or on any response."""
    cond = _sub(rp, "respcondition", **{"continue": "Yes" if cont else "No"})
    cv = _sub(cond, "conditionvar")
    if var is None:
        _sub(cv, "other")
    else:
        cv.extend(var if isinstance(var, list) else [var])
    if score is not None:
        _sub(cond, "setvar", f"{score:g}", action=action, varname="SCORE")
    if feedback:
        _sub(cond, "displayfeedback", feedbacktype="Response", linkrefid=feedback)
    return cond


def _varequal(value: str, resp: str = "response1", case: bool = False) -> ET.Element:
    el = ET.Element("varequal", {"respident": resp, **({"case": "Yes"} if case else {})})
    el.text = value
    return el


def _opt(q: Question, option_id: str) -> str:
    return f"{ident(q.id)}-{option_id}"


def item(q: Question, bank: Bank, flavour: Flavour, render: Render) -> ET.Element | None:
    """One ``<item>``, or None when the flavour does not carry the question's type."""
    if carry(q, flavour).level == "not carried":
        return None
    html = render.html
    it = ET.Element("item", ident=ident(q.id), title=q.id)
    meta = _sub(_sub(it, "itemmetadata"), "qtimetadata")
    _field(meta, "question_type", CANVAS_TYPES[q.type])
    _field(meta, "points_possible", f"{POINTS:g}")
    if flavour == "cc":
        _field(meta, "cc_profile", CC_PROFILES[q.type])
        _field(meta, "cc_weighting", f"{POINTS:g}")
    _field(meta, OBJECTIVE_FIELD, q.objective)
    pres = _sub(it, "presentation")
    _mattext(pres, question_text(q, html))
    rp = _sub(it, "resprocessing")
    outcomes = _sub(rp, "outcomes")
    _sub(outcomes, "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    general = general_feedback(q, flavour, html)
    link = render.chapter_link(bank)
    if link:
        general.append(f'<a href="{link}">{html(bank.title)}</a>')
    _condition(rp, True, feedback="general_fb")
    feedbacks: list[tuple[str, str]] = [("general_fb", "<br/>".join(general))]
    # Per-option feedback: Canvas's layout continues after it; for Moodle's CC reader a
    # continuing condition would be read as general feedback, so there it stops.
    option_continue = flavour == "qti"

    if isinstance(q, SingleChoice | MultipleSelect | TrueFalse):
        single = not isinstance(q, MultipleSelect)
        lid = _sub(pres, "response_lid", ident="response1",
                   rcardinality="Single" if single else "Multiple")
        choice = _sub(lid, "render_choice")
        if isinstance(q, TrueFalse):
            options = [("true", "True", q.answer is True, q.feedback_true),
                       ("false", "False", q.answer is False, q.feedback_false)]
        else:
            options = [(_opt(q, o.id), o.text, o.correct, o.feedback) for o in q.options]
        for oid, text, _, _ in options:
            label = _sub(choice, "response_label", ident=oid)
            _mattext(label, html(text))
        if single:
            for oid, _, correct, fb in options:
                _condition(rp, option_continue, _varequal(oid), 100 if correct else 0,
                           f"{oid}_fb")
                feedbacks.append((f"{oid}_fb", html(fb)))
        else:
            key = ET.Element("and")
            for oid, _, correct, _ in options:
                if correct:
                    key.append(_varequal(oid, case=flavour == "cc"))
                else:
                    ET.SubElement(key, "not").append(_varequal(oid, case=flavour == "cc"))
            _condition(rp, False, key, 100)
            for oid, _, _, fb in options:
                _condition(rp, option_continue, _varequal(oid), None, f"{oid}_fb")
                feedbacks.append((f"{oid}_fb", html(fb)))
    elif isinstance(q, Numeric):
        fib = _sub(_sub(pres, "response_str", ident="response1", rcardinality="Single"),
                   "render_fib", fibtype="Decimal")
        _sub(fib, "response_label", ident="answer1")
        either = ET.Element("or")
        either.append(_varequal(f"{q.answer:g}"))
        both = _sub(either, "and")
        _sub(both, "vargte", f"{q.answer - q.tolerance:g}", respident="response1")
        _sub(both, "varlte", f"{q.answer + q.tolerance:g}", respident="response1")
        _condition(rp, False, either, 100, "correct_fb")
        _condition(rp, True, feedback="general_incorrect_fb")
        feedbacks += [("correct_fb", html(q.feedback_correct)),
                      ("general_incorrect_fb", html(q.feedback_incorrect))]
    elif isinstance(q, ShortText):
        fib = _sub(_sub(pres, "response_str", ident="response1", rcardinality="Single"),
                   "render_fib")
        _sub(fib, "response_label", ident="answer1", rshuffle="No")
        _condition(rp, False, [_varequal(a) for a in accepted_answers(q)], 100, "correct_fb")
        if flavour == "cc":  # Moodle's FIB reader takes these as wrong answers with feedback
            for k, m in enumerate(q.mistakes, 1):
                _condition(rp, False, _varequal(m.answer), None, f"mistake{k}_fb")
                feedbacks.append((f"mistake{k}_fb", html(m.feedback)))
        _condition(rp, option_continue, feedback="general_incorrect_fb")
        feedbacks += [("correct_fb", html(q.feedback_correct)),
                      ("general_incorrect_fb", html(q.feedback_incorrect))]
    elif isinstance(q, Matching | Ordering):
        if isinstance(q, Matching):
            rows = [(p.id, p.prompt, p.answer) for p in q.pairs]
            choices = q.choices
        else:
            rows = [(i.id, text, pos) for i, (text, pos, _) in zip(q.items, ordering_pairs(q),
                                                                     strict=True)]
            choices = [position_label(k) for k in range(1, len(q.items) + 1)]
        choice_ids = {c: f"{ident(q.id)}-c{k}" for k, c in enumerate(choices, 1)}
        share = 100 / len(rows)
        for row_id, prompt_text, answer in rows:
            lid = _sub(pres, "response_lid", ident=f"response_{row_id}")
            _mattext(lid, html(prompt_text))
            rc = _sub(lid, "render_choice")
            for c in choices:
                _mattext(_sub(rc, "response_label", ident=choice_ids[c]), html(c))
            _condition(rp, False, _varequal(choice_ids[answer], f"response_{row_id}"),
                       round(share, 4), None, action="Add")
    for fb_ident, markup in feedbacks:
        _feedback(it, fb_ident, markup)
    return it


def assessment(bank: Bank, flavour: Flavour, render: Render) -> ET.Element:
    root = ET.Element("questestinterop", xmlns=QTI_NS)
    test = _sub(root, "assessment", ident=f"quiz-{bank.chapter}", title=bank.title)
    meta = _sub(test, "qtimetadata")
    if flavour == "cc":
        _field(meta, "cc_profile", "cc.exam.v0p1")
        _field(meta, "qmd_assessmenttype", "Examination")
    _field(meta, "cc_maxattempts", "unlimited")
    section = _sub(test, "section", ident="root_section")
    for q in bank.questions:
        el = item(q, bank, flavour, render)
        if el is not None:
            section.append(el)
    return root


# --- reading back (round-trip tests, and a check that what was written is what is meant) ---

def _q(tag: str) -> str:
    return f"{{{QTI_NS}}}{tag}"


def _need(el: ET.Element | None, what: str) -> ET.Element:
    if el is None:
        raise ValueError(f"QTI item without {what}")
    return el


def _text(el: ET.Element | None) -> str:
    return html_to_text(el.text or "") if el is not None else ""


def _mat(el: ET.Element) -> str:
    return _text(el.find(f".//{_q('mattext')}"))


def read_items(root: ET.Element) -> list[Question]:
    """The bank's questions from an assessment written by ``assessment`` (difficulty is not
    carried and comes back as 1; the unit stays in the prompt)."""
    return [read_item(it) for it in root.iter(_q("item"))]


def read_item(it: ET.Element) -> Question:
    fields = {f.findtext(_q("fieldlabel")) or "": f.findtext(_q("fieldentry")) or ""
              for f in it.iter(_q("qtimetadatafield"))}
    qtype, qid = fields["question_type"], it.get("title", "")
    raw = {f.get("ident", ""): f.findtext(f".//{_q('mattext')}") or ""
           for f in it.iter(_q("itemfeedback"))}
    general = raw.pop("general_fb", "")
    fbs = {k: html_to_text(v) for k, v in raw.items()}
    data: dict[str, Any] = {
        "id": qid, "objective": fields.get(OBJECTIVE_FIELD, ""), "difficulty": 1,
        "prompt": _text(it.find(f"{_q('presentation')}/{_q('material')}/{_q('mattext')}")),
        "explanation": html_to_text(general.split("<br/>")[0])}
    conds = list(it.iter(_q("respcondition")))

    def value(tag: str) -> float:
        return float(_need(it.find(f".//{_q(tag)}"), tag).text or "nan")

    if qtype in ("multiple_choice_question", "true_false_question", "multiple_answers_question"):
        correct = set()
        for c in conds:
            score = c.findtext(_q("setvar"))
            if score and float(score) > 0:
                negated = {id(v) for n in c.iter(_q("not")) for v in n}
                correct |= {v.text for v in c.iter(_q("varequal")) if id(v) not in negated}
        if qtype == "true_false_question":
            return question_from({**data, "type": "true_false", "answer": "true" in correct,
                                  "feedback_true": fbs["true_fb"],
                                  "feedback_false": fbs["false_fb"]})
        prefix = ident(qid) + "-"
        options = [{"id": lab.get("ident", "").removeprefix(prefix), "text": _mat(lab),
                    "correct": lab.get("ident") in correct,
                    "feedback": fbs[f"{lab.get('ident')}_fb"]}
                   for lab in it.iter(_q("response_label"))]
        kind = "single_choice" if qtype == "multiple_choice_question" else "multiple_select"
        return question_from({**data, "type": kind, "options": options})
    if qtype == "numerical_question":
        lo, hi = value("vargte"), value("varlte")
        answer = float(_need(it.find(f".//{_q('or')}/{_q('varequal')}"), "answer").text or "")
        return question_from({**data, "type": "numeric", "answer": answer,
                              "tolerance": round((hi - lo) / 2, 9),
                              "feedback_correct": fbs["correct_fb"],
                              "feedback_incorrect": fbs["general_incorrect_fb"]})
    if qtype == "short_answer_question":
        key = next(c for c in conds if c.findtext(_q("setvar")) == "100")
        mistakes = []
        for c in conds:
            fb = c.find(_q("displayfeedback"))
            link = fb.get("linkrefid", "") if fb is not None else ""
            if link.startswith("mistake"):
                given = _need(c.find(f".//{_q('varequal')}"), "wrong answer").text
                mistakes.append({"answer": given, "feedback": fbs[link]})
        return question_from({**data, "type": "short_text",
                              "accept": [v.text for v in key.iter(_q("varequal"))],
                              "mistakes": mistakes, "feedback_correct": fbs["correct_fb"],
                              "feedback_incorrect": fbs["general_incorrect_fb"]})
    # matching (ordering comes back as matching to positions)
    lids = list(it.iter(_q("response_lid")))
    names = {lab.get("ident"): _mat(lab) for lab in lids[0].iter(_q("response_label"))}
    answers = {}
    for c in conds:
        v = c.find(f".//{_q('varequal')}")
        if v is not None and c.findtext(_q("setvar")):
            answers[v.get("respident")] = names[v.text]
    pairs = [{"id": lid.get("ident", "").removeprefix("response_"),
              "prompt": _text(lid.find(f"{_q('material')}/{_q('mattext')}")),
              "answer": answers[lid.get("ident")], "feedback": "(in the general feedback)"}
             for lid in lids]
    return question_from({**data, "type": "matching", "choices": list(names.values()),
                          "pairs": pairs})
