"""The ident map: what `course quiz export` writes beside each file so that
`course report quiz RESPONSES --idents MAP` can tell which bank question each column of an
LMS download is (docs/item-analysis.md, "Matching columns to questions").

Neither download carries our idents: Canvas heads a column ``"<Canvas question id>: <question
text without tags>"`` and Moodle's Responses report numbers slots. What they do carry is the
question's text as the LMS shows it, so the map records, per exported question, that text for
each LMS that imports the format, next to its ident (mapping.ident), question id, chapter and
a fingerprint of the question as exported. A column is matched to a map entry by that text,
then the entry's question id to the current bank: a question reworded since the export is still
found, and the report says so.

How each LMS prints the text (what ``canvas_text`` and ``moodle_text`` reproduce):

- Canvas, app/models/quizzes/quiz_statistics/student_analysis.rb: ``strip_tags`` of the
  question's HTML (Rails keeps entities such as ``&amp;`` as written).
- Moodle, mod/quiz/report/responses (the ``questionsummary`` of each attempt):
  ``question_definition::get_question_summary``, which is ``html_to_text`` of the question
  text (lib/html2text/Html2Text.php: ``<em>`` as ``_words_``, ``<strong>`` in capitals, a link
  as its text, entities decoded), followed for multiple choice by ``": "`` and the choices
  joined by ``"; "``, and for matching by ``" {stems} -> {choices}"``, both in the attempt's
  shuffled order. So a Moodle cell is matched by the text it starts with.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from course.quiz.bank import Bank, Question
from course.quiz.lms.mapping import Format, Render, ident, question_text

Lms = Literal["canvas", "moodle"]
VERSION: Literal[1] = 1
# The LMSs that import each format, hence whose download the map must be able to read.
LMS_OF: dict[Format, tuple[Lms, ...]] = {
    "cc": ("canvas", "moodle"), "qti": ("canvas",), "moodle": ("moodle",), "gift": ("moodle",),
}
LMS_NAMES: dict[Lms, str] = {"canvas": "Canvas", "moodle": "Moodle"}
ABOUT = ("Written by `course quiz export` beside the file it names. Keep it: "
         "`course report quiz RESPONSES --idents THIS-FILE` matches the columns of the class's "
         "answers, downloaded from the LMS, to bank questions through it.")


class IdentsError(ValueError):
    """An ident map that cannot be read, or a column it does not account for."""


def map_path(export_file: Path) -> Path:
    """The map beside an export file: ``course-quizzes-qti.zip`` ->
    ``course-quizzes-qti.idents.json``."""
    return export_file.with_name(export_file.name.split(".")[0] + ".idents.json")


def canvas_text(markup: str) -> str:
    """The question's HTML as Canvas's Student Analysis heads its column: tags stripped."""
    return re.sub(r"<[^>]*>", "", markup).strip()


def _upper(markup: str) -> str:
    # Html2Text::toupper: capitals for the text between tags, entities decoded first.
    return "".join(part if part.startswith("<") else
                   html.escape(html.unescape(part).upper(), quote=False)
                   for part in re.split(r"(<[^>]*>)", markup))


def moodle_text(markup: str) -> str:
    """The question's HTML as Moodle's ``html_to_text`` (links not shown) prints it, for the
    inline HTML the export writes: emphasis as ``_words_``, strong in capitals, every other
    tag dropped, entities decoded, runs of spaces as one."""
    out = re.sub(r"[\n\t]+", " ", markup.strip())
    out = re.sub(r"<(em|i)\b[^>]*>(.*?)</\1>", r"_\2_", out, flags=re.I)
    out = re.sub(r"<(strong|b)( [^>]*)?>(.*?)</\1>", lambda m: _upper(m.group(3)), out,
                 flags=re.I)
    out = html.unescape(re.sub(r"<[^>]*>", "", out))
    return re.sub(r" {2,}", " ", out).strip()


def lms_text(q: Question, lms: Lms, render: Render) -> str:
    """The question's text as ``lms`` shows it in its download, made from the HTML every
    format writes (mapping.question_text). Moodle renders a GIFT question's Markdown to the
    same inline HTML for what the bank uses (emphasis, paragraph links)."""
    markup = question_text(q, render.html)
    return canvas_text(markup) if lms == "canvas" else moodle_text(markup)


def fingerprint(q: Question) -> str:
    """A digest of the question as exported: it changes with any edit, wording or key."""
    data = json.dumps(q.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def loose(text: str) -> str:
    """Text compared as the LMS may have re-encoded it: entities decoded, Unicode normalised
    (NFKC), case and runs of white space ignored."""
    return " ".join(unicodedata.normalize("NFKC", html.unescape(text)).casefold().split())


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ident: str
    id: str
    chapter: str
    type: str
    texts: dict[Lms, str]
    fingerprint: str


class Quiz(BaseModel):
    """One chapter's quiz or category, its questions in the order written: the slot order of
    the quiz an LMS builds from a cc file, and of a Moodle quiz that adds the category's
    questions in order."""

    model_config = ConfigDict(extra="forbid")

    chapter: str
    title: str
    slots: list[str]


class IdentMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    about: str
    version: Literal[1]
    format: Format
    file: str
    exported: datetime
    book_url: str | None
    lms: list[Lms]
    quizzes: list[Quiz]
    questions: list[Entry]

    def for_lms(self, lms: Lms, where: Path) -> list[Entry]:
        if lms not in self.lms:
            readers = ", ".join(f for f, names in LMS_OF.items() if lms in names)
            raise IdentsError(
                f"{where} is the map of a `{self.format}` export ({self.file}), which "
                f"{LMS_NAMES[lms]} does not import; a {LMS_NAMES[lms]} download needs the map "
                f"of the export the quiz was imported from (format {readers})")
        return self.questions

    def match(self, lms: Lms, text: str, column: str, where: Path) -> Entry:
        """The entry whose text ``lms`` printed: Canvas's whole text, or the start of a Moodle
        summary (the question text, then ": " choices or " {" stems for matching)."""
        cell = loose(text)
        found: dict[str, tuple[int, Entry]] = {}
        for entry in self.for_lms(lms, where):
            mine = loose(entry.texts[lms])
            fits = cell == mine if lms == "canvas" else (
                cell == mine or cell.startswith((mine + ": ", mine + " {")))
            if fits:
                found[entry.ident] = (len(mine), entry)
        if not found:
            raise IdentsError(f"column {column!r}: no question of the map {where} has this "
                              f"text ({text[:80]!r}); was this quiz imported from "
                              f"{self.file} of that export?")
        longest = max(n for n, _ in found.values())
        best = [e for n, e in found.values() if n == longest]
        if len(best) > 1:
            raise IdentsError(f"column {column!r}: the text fits several questions of the map "
                              f"{where}: {', '.join(e.id for e in best)}")
        return best[0]


def build(fmt: Format, file_name: str, carried: Iterable[tuple[Bank, list[Question]]],
          render: Render, exported: datetime | None = None) -> IdentMap:
    """The map of one export: every question it carries, in the order written."""
    lms = LMS_OF[fmt]
    quizzes, entries = [], []
    for bank, questions in carried:
        quizzes.append(Quiz(chapter=bank.chapter, title=bank.title,
                            slots=[ident(q.id) for q in questions]))
        entries += [Entry(ident=ident(q.id), id=q.id, chapter=bank.chapter, type=q.type,
                          texts={name: lms_text(q, name, render) for name in lms},
                          fingerprint=fingerprint(q)) for q in questions]
    return IdentMap(about=ABOUT, version=VERSION, format=fmt, file=file_name,
                    exported=exported or datetime.now(UTC).replace(microsecond=0),
                    book_url=render.book_url, lms=list(lms), quizzes=quizzes,
                    questions=entries)


def dump(idmap: IdentMap) -> str:
    return json.dumps(idmap.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def load(path: Path) -> IdentMap:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise IdentsError(f"cannot read the ident map {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise IdentsError(f"{path} is not an ident map (not UTF-8 text)") from None
    try:
        return IdentMap.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the file"
        raise IdentsError(f"{path} is not an ident map written by `course quiz export` "
                          f"({where}: {first['msg']})") from None
