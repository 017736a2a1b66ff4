"""The class's answers back from the LMS, matched to the bank for item analysis.

Two downloads, in the layouts their code writes (docs/item-analysis.md has the links):

- Canvas Classic Quizzes, Quiz Statistics, "Student Analysis" CSV
  (app/models/quizzes/quiz_statistics/student_analysis.rb, ``to_csv``): name, id, [sis_id],
  [root_account], section, section_id, [section_sis_id], submitted, [attempt]; then per
  question a column ``"<Canvas question id>: <question text without tags>"`` with the answer
  and a column headed by its points possible with the points given; then ``n correct``,
  ``n incorrect``, ``score``. Multiple answers are joined by ``,`` (a comma inside an answer
  as ``\\,``), matching answers as ``left=>right`` joined by ``,``.
- Moodle quiz "Responses" report download (mod/quiz/report/responses/report.php): per
  question slot n the columns ``Question n`` (the question text; tick "Question text" before
  downloading) and ``Response n`` (the response summary: options joined by ``; ``, matching
  as ``prompt -> answer; ...``).

Canvas's question ids and Moodle's slot numbers are the LMS's own, so a column is matched to
a bank question by the question text the export wrote (stable, from the bank). Canvas's own
points are used; Moodle's Responses report has no marks per question, so its answers are
graded by the bank's engine."""

from __future__ import annotations

import csv
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from course.itemstats import Analysis, analyse
from course.quiz.bank import (
    Bank,
    Matching,
    MultipleSelect,
    Numeric,
    Ordering,
    Question,
    SingleChoice,
    TrueFalse,
)
from course.quiz.engine import grade, normalise
from course.quiz.lms.mapping import POINTS, position_label

CANVAS_TRAILER = ("n correct", "n incorrect", "score")
_CANVAS_QUESTION = re.compile(r"^(\d+): (.*)$", re.S)
_MOODLE_RESPONSE = re.compile(r"^Response (\d+)$")


class ResponsesError(ValueError):
    """A responses file this report cannot read, with what to do about it."""


@dataclass
class Column:
    question: Question
    answers: list[str]
    points: list[str] | None  # Canvas: the points given; None: grade with the engine


def _key(text: str) -> str:
    return normalise(re.sub(r"<[^>]+>", " ", text).replace("&nbsp;", " "))


def _prompt_keys(banks: list[Bank]) -> dict[str, list[Question]]:
    keys: dict[str, list[Question]] = {}
    for bank in banks:
        for q in bank.questions:
            texts = {q.prompt}
            if isinstance(q, Numeric) and q.unit:
                texts.add(f"{q.prompt} ({q.unit})")
            for text in texts:
                keys.setdefault(_key(text), []).append(q)
    return keys


def _match(text: str, keys: dict[str, list[Question]], column: str) -> Question:
    found = keys.get(_key(html.unescape(text)))
    if not found:
        raise ResponsesError(f"column {column!r}: no bank question has this text; was the quiz "
                             "exported from this bank (course quiz export)?")
    if len({q.id for q in found}) > 1:
        raise ResponsesError(f"column {column!r}: the text fits several questions "
                             f"({', '.join(q.id for q in found)}): pass --chapter")
    return found[0]


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ResponsesError(f"{path}: not a UTF-8 CSV file") from None
    rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    if not rows:
        raise ResponsesError(f"{path}: the file is empty")
    if len(rows) < 2:
        raise ResponsesError(f"{path}: a header but no answers")
    width = len(rows[0])
    return rows[0], [r + [""] * (width - len(r)) for r in rows[1:]]


def read_canvas(header: list[str], rows: list[list[str]],
                keys: dict[str, list[Question]]) -> list[Column]:
    columns, k = [], 0
    while k < len(header):
        m = _CANVAS_QUESTION.match(header[k])
        if m and k + 1 < len(header):
            q = _match(m.group(2), keys, header[k])
            columns.append(Column(q, [r[k] for r in rows], [r[k + 1] for r in rows]))
            k += 2
        else:
            k += 1
    return columns


def read_moodle(header: list[str], rows: list[list[str]],
                keys: dict[str, list[Question]]) -> list[Column]:
    index = {h: i for i, h in enumerate(header)}
    columns = []
    for h, i in index.items():
        m = _MOODLE_RESPONSE.match(h)
        if not m:
            continue
        text_col = index.get(f"Question {m.group(1)}")
        if text_col is None:
            raise ResponsesError(f"column {h!r} has no 'Question {m.group(1)}' column beside it: "
                                 "in Moodle's Responses report tick 'Question text' and "
                                 "download again")
        texts = {r[text_col] for r in rows if r[text_col].strip()}
        if not texts:
            raise ResponsesError(f"column 'Question {m.group(1)}' is empty")
        q = _match(sorted(texts)[0], keys, f"Question {m.group(1)}")
        columns.append(Column(q, [r[i] for r in rows], None))
    return columns


def _split(answer: str, lms: str) -> list[str]:
    if lms == "canvas":
        return [p.replace("\\,", ",") for p in re.split(r"(?<!\\),", answer) if p]
    return [p for p in answer.split("; ") if p]


def response_of(q: Question, answer: str, lms: str) -> Any:
    """The engine's response for an LMS answer text (None when unanswered or unreadable)."""
    answer = answer.strip()
    if not answer or answer == "-":
        return None
    if isinstance(q, SingleChoice):
        return next((o.id for o in q.options if _key(o.text) == _key(answer)), None)
    if isinstance(q, TrueFalse):
        return {"true": True, "false": False}.get(answer.lower())
    if isinstance(q, MultipleSelect):
        parts = {_key(p) for p in _split(answer, lms)}
        return [o.id for o in q.options if _key(o.text) in parts]
    if isinstance(q, Numeric):
        try:
            return float(answer.replace(",", "").split()[0])
        except ValueError:
            return None
    if isinstance(q, Matching | Ordering):
        sep = "=>" if lms == "canvas" else " -> "
        given = {}
        for part in _split(answer, lms):
            left, _, right = part.partition(sep)
            given[_key(left)] = right.strip()
        if isinstance(q, Matching):
            return {p.id: given[_key(p.prompt)] for p in q.pairs if _key(p.prompt) in given}
        placed = {}
        for item in q.items:
            for k in range(1, len(q.items) + 1):
                if given.get(_key(item.text)) == position_label(k):
                    placed[k] = item.id
        return [placed[k] for k in sorted(placed)]
    return answer  # short text


def choice_of(q: Question, response: Any) -> frozenset[str] | None:
    """The options a student chose, for the distractor analysis of choice questions."""
    if isinstance(q, SingleChoice) and response is not None:
        return frozenset([response])
    if isinstance(q, TrueFalse) and response is not None:
        return frozenset(["true" if response else "false"])
    if isinstance(q, MultipleSelect) and response is not None:
        return frozenset(response)
    return None


def options_of(q: Question) -> list[str]:
    if isinstance(q, SingleChoice | MultipleSelect):
        return [o.id for o in q.options]
    if isinstance(q, TrueFalse):
        return ["true", "false"]
    return []


def read_responses(path: Path, banks: list[Bank]) -> tuple[str, list[Column]]:
    """("canvas" or "moodle", the question columns) of a responses download."""
    header, rows = _read_rows(path)
    keys = _prompt_keys(banks)
    if all(h in header for h in CANVAS_TRAILER):
        lms, columns = "canvas", read_canvas(header, rows, keys)
    elif any(_MOODLE_RESPONSE.match(h) for h in header):
        lms, columns = "moodle", read_moodle(header, rows, keys)
    else:
        raise ResponsesError(
            f"{path}: neither Canvas's Student Analysis (columns 'n correct', 'n incorrect', "
            "'score') nor Moodle's Responses report (columns 'Response 1', ...)")
    if not columns:
        raise ResponsesError(f"{path}: no question columns found")
    seen: dict[str, int] = {}
    for c in columns:
        if c.question.id in seen:
            raise ResponsesError(f"{path}: two columns are question '{c.question.id}'")
        seen[c.question.id] = 1
    return lms, columns


def analyse_responses(path: Path, banks: list[Bank], title: str | None = None) -> Analysis:
    lms, columns = read_responses(path, banks)
    n = len(columns[0].answers)
    scores = np.zeros((n, len(columns)))
    choices, options = [], []
    for j, col in enumerate(columns):
        picked = []
        for i, answer in enumerate(col.answers):
            response = response_of(col.question, answer, lms)
            if col.points is not None and col.points[i].strip():
                try:
                    scores[i, j] = min(1.0, max(0.0, float(col.points[i]) / POINTS))
                except ValueError:
                    raise ResponsesError(f"{path}: question '{col.question.id}', row {i + 2}: "
                                         f"points {col.points[i]!r} is not a number") from None
            else:
                scores[i, j] = grade(col.question, response).score if response is not None else 0
            picked.append(choice_of(col.question, response))
        choices.append(picked)
        options.append(options_of(col.question))
    return analyse(title or f"{path.stem} ({lms})", [c.question.id for c in columns], scores,
                   labels=[c.question.prompt for c in columns], choices=choices, options=options)
