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
  question slot n the columns ``Question n`` (the question's summary: its text, then for
  choices and matching the options in the attempt's order; tick "Question text" before
  downloading) and ``Response n`` (the response summary: options joined by ``; ``, matching
  as ``prompt -> answer; ...``).

Neither carries our idents, so columns are matched through the ident map the export wrote
(lms/idents.py): the column's question text -> the map's entry (ident, question id) -> the
question of the current bank. Canvas's own points are used; Moodle's Responses report has no
marks per question, so its answers are graded by the bank's engine."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

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
from course.quiz.lms import select_banks
from course.quiz.lms.idents import Entry, IdentMap, Lms, fingerprint, lms_text, load, loose
from course.quiz.lms.mapping import POINTS, Render, position_label

CANVAS_TRAILER = ("n correct", "n incorrect", "score")
_CANVAS_QUESTION = re.compile(r"^(\d+): (.*)$", re.S)
_MOODLE_RESPONSE = re.compile(r"^Response (\d+)$")


class ResponsesError(ValueError):
    """A responses file this report cannot read, with what to do about it."""


class Matched(NamedTuple):
    """A question column of the download and its entry in the ident map."""

    header: str
    entry: Entry
    answers: list[str]
    points: list[str] | None  # Canvas: the points given; None: grade with the engine


@dataclass
class Column:
    header: str  # the download's column the question was found by
    entry: Entry  # its question in the ident map, as exported
    question: Question  # its question in the bank now
    answers: list[str]
    points: list[str] | None  # Canvas: the points given; None: grade with the engine


def _key(text: str) -> str:
    return normalise(re.sub(r"<[^>]+>", " ", text).replace("&nbsp;", " "))


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


def read_canvas(header: list[str], rows: list[list[str]], idmap: IdentMap,
                where: Path) -> list[Matched]:
    columns: list[Matched] = []
    k = 0
    while k < len(header):
        m = _CANVAS_QUESTION.match(header[k])
        if m and k + 1 < len(header):
            entry = idmap.match("canvas", m.group(2), header[k], where)
            columns.append(Matched(header[k], entry, [r[k] for r in rows],
                                   [r[k + 1] for r in rows]))
            k += 2
        else:
            k += 1
    return columns


def read_moodle(header: list[str], rows: list[list[str]], idmap: IdentMap,
                where: Path) -> list[Matched]:
    index = {h: i for i, h in enumerate(header)}
    columns: list[Matched] = []
    for h, i in index.items():
        m = _MOODLE_RESPONSE.match(h)
        if not m:
            continue
        name = f"Question {m.group(1)}"
        text_col = index.get(name)
        if text_col is None:
            raise ResponsesError(f"column {h!r} has no {name!r} column beside it: "
                                 "in Moodle's Responses report tick 'Question text' and "
                                 "download again")
        texts = {r[text_col] for r in rows if r[text_col].strip()}
        if not texts:
            raise ResponsesError(f"column {name!r} is empty")
        # Each attempt prints its own summary (choices shuffled): every one must be one question.
        found = {e.ident: e for e in (idmap.match("moodle", t, name, where) for t in texts)}
        if len(found) > 1:
            raise ResponsesError(f"column {name!r} holds different questions in different "
                                 f"attempts ({', '.join(e.id for e in found.values())}): a "
                                 "random slot, which this report does not analyse")
        (entry,) = found.values()
        columns.append(Matched(name, entry, [r[i] for r in rows], None))
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


def _in_bank(found: list[Matched], banks: list[Bank],
             idmap: IdentMap, where: Path, lms: Lms) -> tuple[list[Column], list[str]]:
    """Each entry's question in the current bank, and one notice per question changed since
    the export. A question the bank no longer has is an error: leaving its column out would
    change every student's total, hence every other item's discrimination and the
    reliability, and without it its answers cannot be graded nor its options listed."""
    bank_questions = {q.id: q for bank in banks for q in bank.questions}
    render = Render(idmap.book_url)
    columns, notices = [], []
    for header, entry, answers, points in found:
        q = bank_questions.get(entry.id)
        if q is None:
            raise ResponsesError(
                f"column {header!r} is question '{entry.id}' ({entry.ident}, chapter "
                f"{entry.chapter}) in the map {where}, and the bank no longer has it: put it "
                "back, or analyse this download with the bank as it was at the export "
                f"({idmap.exported:%Y-%m-%d})")
        now = lms_text(q, lms, render)
        if loose(now) != loose(entry.texts[lms]):
            notices.append(f"question '{q.id}' was reworded after the export "
                           f"({idmap.exported:%Y-%m-%d}): the class saw "
                           f"{entry.texts[lms]!r}, the bank now says {now!r}; its statistics "
                           "are about the wording the class saw")
        elif fingerprint(q) != entry.fingerprint:
            notices.append(f"question '{q.id}' was changed after the export "
                           f"({idmap.exported:%Y-%m-%d}), not in its wording (options, key "
                           "or feedback)" + ("; the answers are graded by the bank's key now"
                                             if points is None else ""))
        columns.append(Column(header, entry, q, answers, points))
    return columns, notices


def read_responses(path: Path, banks: list[Bank], idmap: IdentMap, map_file: Path
                   ) -> tuple[Lms, list[Column], list[str]]:  # fmt: skip
    """("canvas" or "moodle", the question columns, notices) of a responses download,
    matched through the ident map ``idmap`` read from ``map_file``."""
    header, rows = _read_rows(path)
    lms: Lms
    if all(h in header for h in CANVAS_TRAILER):
        lms, found = "canvas", read_canvas(header, rows, idmap, map_file)
    elif any(_MOODLE_RESPONSE.match(h) for h in header):
        lms, found = "moodle", read_moodle(header, rows, idmap, map_file)
    else:
        raise ResponsesError(
            f"{path}: neither Canvas's Student Analysis (columns 'n correct', 'n incorrect', "
            "'score') nor Moodle's Responses report (columns 'Response 1', ...)")
    if not found:
        raise ResponsesError(f"{path}: no question columns found")
    seen: dict[str, str] = {}
    for header_text, entry, _, _ in found:
        if entry.ident in seen:
            raise ResponsesError(f"{path}: columns {seen[entry.ident]!r} and {header_text!r} "
                                 f"are both question '{entry.id}'")
        seen[entry.ident] = header_text
    columns, notices = _in_bank(found, banks, idmap, map_file, lms)
    return lms, columns, notices


def analyse_responses(path: Path, map_file: Path, banks: list[Bank] | None = None,
                      title: str | None = None) -> Analysis:
    """Item analysis of a download, matched through the ident map ``map_file`` to ``banks``
    (default: every chapter's bank, as exported)."""
    idmap = load(map_file)
    lms, columns, notices = read_responses(
        path, banks if banks is not None else select_banks(), idmap, map_file)
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
    analysis = analyse(title or f"{path.stem} ({lms})", [c.question.id for c in columns],
                       scores, labels=[c.entry.texts[lms] for c in columns], choices=choices,
                       options=options)
    return replace(analysis, notes=tuple(notices))
