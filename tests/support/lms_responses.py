"""A class's answers to one chapter's quiz, written as Canvas's Student Analysis CSV and as
Moodle's Responses report download, from the bank itself (so that an edited bank needs no
edited fixture); the question texts are the ones the ident map records for each LMS
(lms/idents.py), Moodle's followed by the attempt's shuffled choices. Student s answers item
k right when s < RIGHT[k] * students: the item's difficulty is known exactly, the students
are in order of ability, and an item marked ``miskeyed`` is answered right by the weakest
instead.

Layouts: Canvas, app/models/quizzes/quiz_statistics/student_analysis.rb (``to_csv``); Moodle,
mod/quiz/report/responses/report.php (columns "Question n", "Response n")."""

from __future__ import annotations

import csv
from pathlib import Path

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
from course.quiz.html_view import inline
from course.quiz.lms.idents import lms_text, moodle_text
from course.quiz.lms.mapping import Render, position_label


def right_share(k: int, n_items: int) -> float:
    """Item k's share of right answers: from 0.9 down to 0.1 across the quiz."""
    return round(0.9 - 0.8 * k / max(1, n_items - 1), 2)


def answers_right(q: Question, k: int, n_items: int, student: int, students: int,
                  miskeyed: str | None) -> bool:
    cut = round(right_share(k, n_items) * students)
    if q.id == miskeyed:
        return student >= students - cut
    return student < cut


def _wrong_option(options: list) -> object:
    return next(o for o in options if not o.correct)


def answer_text(q: Question, right: bool, lms: str) -> str:
    join = "," if lms == "canvas" else "; "
    arrow = "=>" if lms == "canvas" else " -> "

    def esc(s: str) -> str:  # Canvas writes a comma inside an answer as "\,"
        return s.replace(",", "\\,") if lms == "canvas" else s

    if isinstance(q, SingleChoice):
        return (next(o for o in q.options if o.correct) if right else _wrong_option(q.options)).text
    if isinstance(q, TrueFalse):
        return "True" if q.answer == right else "False"
    if isinstance(q, MultipleSelect):
        chosen = [o for o in q.options if o.correct] if right else [_wrong_option(q.options)]
        return join.join(esc(o.text) for o in chosen)
    if isinstance(q, Numeric):
        return f"{q.answer:g}" if right else f"{q.answer + 10 * q.tolerance + 1000:g}"
    if isinstance(q, ShortText):
        return q.accept[0] if right else "no idea at all"
    if isinstance(q, Matching):
        wrong = {p.id: next(c for c in q.choices if c != p.answer) for p in q.pairs}
        return join.join(esc(f"{p.prompt}{arrow}{p.answer if right else wrong[p.id]}")
                         for p in q.pairs)
    if isinstance(q, Ordering):
        n = len(q.items)
        places = range(1, n + 1) if right else range(n, 0, -1)
        return join.join(esc(f"{i.text}{arrow}{position_label(k)}")
                         for i, k in zip(q.items, places, strict=True))
    raise AssertionError(q.type)


def canvas_header(q: Question) -> str:
    """The text Canvas heads the question's column with (idents.py cites its code)."""
    return lms_text(q, "canvas", Render())


def moodle_summary(q: Question, student: int) -> str:
    """Moodle's question summary for one attempt: the text, then the choices (multiple choice)
    or the stems and choices (matching) in this attempt's shuffled order, here rotated by the
    student's number (question/type/*/question.php, get_question_summary)."""
    text = lms_text(q, "moodle", Render())

    def shuffled(items: list[str]) -> list[str]:
        k = student % len(items)
        return [moodle_text(inline(t, None)) for t in items[k:] + items[:k]]

    if isinstance(q, SingleChoice | MultipleSelect):
        return f"{text}: {'; '.join(shuffled([o.text for o in q.options]))}"
    if isinstance(q, Matching):
        return (f"{text} {{{'; '.join(shuffled([p.prompt for p in q.pairs]))}}} -> "
                f"{{{'; '.join(shuffled(q.choices))}}}")
    if isinstance(q, Ordering):  # exported as matching of the items to positions
        positions = [position_label(k) for k in range(1, len(q.items) + 1)]
        return (f"{text} {{{'; '.join(shuffled([i.text for i in q.items]))}}} -> "
                f"{{{'; '.join(shuffled(positions))}}}")
    return text


def write_canvas(bank: Bank, dest: Path, students: int = 30,
                 miskeyed: str | None = None) -> Path:
    qs = bank.questions
    header = ["name", "id", "section", "section_id", "submitted"]
    for k, q in enumerate(qs):
        header += [f"{5000 + k}: {canvas_header(q)}", "1.0"]
    header += ["n correct", "n incorrect", "score"]
    with open(dest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for s in range(students):
            row = [f"Student {s}", str(2000 + s), "Section A", "77", "2026-11-30 10:00:00 UTC"]
            right_count = 0
            for k, q in enumerate(qs):
                right = answers_right(q, k, len(qs), s, students, miskeyed)
                right_count += right
                row += [answer_text(q, right, "canvas"), "1.0" if right else "0.0"]
            row += [str(right_count), str(len(qs) - right_count), str(float(right_count))]
            writer.writerow(row)
    return dest


def write_moodle(bank: Bank, dest: Path, students: int = 30,
                 miskeyed: str | None = None) -> Path:
    qs = bank.questions
    header = ["Surname", "First name", "Email address", "State", "Started on", "Completed",
              "Time taken", f"Grade/{len(qs)}.00"]
    for n in range(1, len(qs) + 1):
        header += [f"Question {n}", f"Response {n}"]
    with open(dest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for s in range(students):
            row = [f"Student{s}", "A", f"s{s}@example.org", "Finished", "30 November 2026",
                   "30 November 2026", "5 mins", ""]
            for k, q in enumerate(qs):
                right = answers_right(q, k, len(qs), s, students, miskeyed)
                row += [moodle_summary(q, s), answer_text(q, right, "moodle")]
            writer.writerow(row)
    return dest
