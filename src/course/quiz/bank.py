"""The question-bank format of book/quizzes/README.md as pydantic models, and its loader.

Every problem in a bank becomes one line "file: question 'id': field 'name': message" inside a
single ``BankError``, so an author sees all mistakes of a file at once and no traceback.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

try:
    import yaml
except ModuleNotFoundError:  # in the browser: Pyodide has no PyYAML (docs/lite.md)
    yaml = None
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from course.sources import UnknownParagraphError, cited_ids, paragraph

QUIZZES_ENV = "COURSE_QUIZZES_DIR"
Text = Annotated[str, Field(min_length=1)]


class BankError(ValueError):
    """A malformed bank; the message has one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Objective(_Model):
    id: Text
    text: Text


class Option(_Model):
    id: Text
    text: Text
    correct: bool = False
    feedback: Text


class Mistake(_Model):
    value: float
    tolerance: float = Field(0, ge=0)
    feedback: Text


class TextMistake(_Model):
    answer: Text
    feedback: Text


class OrderItem(_Model):
    id: Text
    text: Text
    feedback: Text


class Pair(_Model):
    id: Text
    prompt: Text
    answer: Text
    feedback: Text


class _Question(_Model):
    id: Text
    objective: Text
    difficulty: Literal[1, 2, 3]
    prompt: Text
    explanation: Text


def _unique(ids: list[str], what: str) -> None:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{what} ids must be unique; repeated: {', '.join(repeated)}")


class SingleChoice(_Question):
    type: Literal["single_choice"]
    options: list[Option] = Field(min_length=2, max_length=6)

    @field_validator("options")
    @classmethod
    def _one_correct(cls, options: list[Option]) -> list[Option]:
        _unique([o.id for o in options], "option")
        n = sum(o.correct for o in options)
        if n != 1:
            raise ValueError(f"exactly one option must have correct: true, found {n}")
        return options


class MultipleSelect(_Question):
    type: Literal["multiple_select"]
    options: list[Option] = Field(min_length=2, max_length=6)

    @field_validator("options")
    @classmethod
    def _some_correct(cls, options: list[Option]) -> list[Option]:
        _unique([o.id for o in options], "option")
        if not any(o.correct for o in options):
            raise ValueError("at least one option must have correct: true")
        return options


class TrueFalse(_Question):
    type: Literal["true_false"]
    answer: bool
    feedback_true: Text
    feedback_false: Text


class Numeric(_Question):
    type: Literal["numeric"]
    answer: float
    tolerance: float = Field(ge=0)
    unit: str = ""
    feedback_correct: Text
    feedback_incorrect: Text
    mistakes: list[Mistake] = []


class ShortText(_Question):
    type: Literal["short_text"]
    accept: list[Text] = Field(min_length=1)
    pattern: str | None = None
    feedback_correct: Text
    feedback_incorrect: Text
    mistakes: list[TextMistake] = []

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern


class Ordering(_Question):
    type: Literal["ordering"]
    items: list[OrderItem] = Field(min_length=2)

    @field_validator("items")
    @classmethod
    def _unique_items(cls, items: list[OrderItem]) -> list[OrderItem]:
        _unique([i.id for i in items], "item")
        return items


class Matching(_Question):
    type: Literal["matching"]
    choices: list[Text] = Field(min_length=2)
    pairs: list[Pair] = Field(min_length=1)

    @field_validator("pairs")
    @classmethod
    def _answers_are_choices(cls, pairs: list[Pair], info: ValidationInfo) -> list[Pair]:
        _unique([p.id for p in pairs], "pair")
        choices = info.data.get("choices", [])
        for p in pairs:
            if choices and p.answer not in choices:
                raise ValueError(
                    f"pair '{p.id}': the correct answer {p.answer!r} is not among the "
                    f"choices {choices}"
                )
        return pairs


Question = Annotated[
    SingleChoice | MultipleSelect | TrueFalse | Numeric | ShortText | Ordering | Matching,
    Field(discriminator="type"),
]
QUESTION_TYPES = [
    "single_choice",
    "multiple_select",
    "true_false",
    "numeric",
    "short_text",
    "ordering",
    "matching",
]


class Bank(_Model):
    chapter: Text
    title: Text
    objectives: list[Objective] = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"bank '{self.chapter}' has no question '{question_id}'")


# Banks are YAML; the in-browser site carries them as JSON inside the package, written from
# the same YAML by its build, and reads them when PyYAML is absent (docs/lite.md).
BANK_SUFFIX = ".yaml" if yaml is not None else ".json"


def quizzes_dir() -> Path:
    """book/quizzes of this repository, or the folder named by $COURSE_QUIZZES_DIR."""
    override = os.environ.get(QUIZZES_ENV)
    if override:
        return Path(override)
    if yaml is None:
        return Path(str(resources.files("course") / "data" / "quizzes"))
    # Editable install: src/course/quiz/bank.py -> repository root; else search from the cwd.
    candidates = [Path(__file__).resolve().parents[3], *Path.cwd().resolve().parents, Path.cwd()]
    for root in candidates:
        if (root / "book" / "quizzes").is_dir():
            return root / "book" / "quizzes"
    return candidates[0] / "book" / "quizzes"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _locate(raw: object, loc: tuple[object, ...]) -> tuple[str, str]:
    """The question id and the dotted field name of a pydantic error location."""
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
        qs = raw.get("questions") if isinstance(raw, dict) else None
        entry = qs[loc[1]] if isinstance(qs, list) and loc[1] < len(qs) else None
        qid = entry.get("id") if isinstance(entry, dict) else None
        rest = [str(p) for p in loc[2:] if str(p) not in QUESTION_TYPES]
        return (f"question '{qid}'" if qid else f"question #{loc[1] + 1}"), ".".join(rest)
    return "bank", ".".join(str(p) for p in loc)


def _explain(err: dict) -> str:
    if err["type"] == "union_tag_invalid":
        return f"unknown question type {err['input'].get('type')!r}; use one of {QUESTION_TYPES}"
    if err["type"] == "union_tag_not_found":
        return f"'type' is missing; use one of {QUESTION_TYPES}"
    if err["type"] == "string_type" and isinstance(err["input"], bool | int | float):
        # YAML 1.1 reads yes/no/on/off/true/false and bare numbers as non-strings.
        return f"YAML read this as {err['input']!r}, not text: put the value in quotes"
    if err["type"] == "missing":
        return "this field is required"
    return err["msg"].removeprefix("Value error, ")


def parse_bank(raw: object, source: str) -> Bank:
    """Validate an already-parsed YAML document; ``source`` names it in errors."""
    try:
        return Bank.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where, fld = _locate(raw, err["loc"])
            if err["type"].startswith("union_tag"):
                fld = "type"
            field_part = f": field '{fld}'" if fld else ""
            lines.append(f"{source}: {where}{field_part}: {_explain(err)}")
        raise BankError(lines) from None


def _check_bank(bank: Bank, source: str, expected_chapter: str | None) -> list[str]:
    problems = []
    if expected_chapter is not None and bank.chapter != expected_chapter:
        problems.append(
            f"{source}: bank: field 'chapter': {bank.chapter!r} must equal the file name "
            f"{expected_chapter!r}"
        )
    objectives = {o.id for o in bank.objectives}
    for q in bank.questions:
        where = f"{source}: question '{q.id}'"
        if q.objective not in objectives:
            problems.append(
                f"{where}: field 'objective': {q.objective!r} is not one of this bank's "
                f"objectives {sorted(objectives)}"
            )
        cited = cited_ids(q.explanation)
        if not cited:
            problems.append(f"{where}: field 'explanation': cite at least one paragraph, e.g. A7")
        for pid in cited:
            try:
                paragraph(pid)
            except UnknownParagraphError as exc:
                problems.append(f"{where}: field 'explanation': {exc}")
    return problems


def read_bank(path: Path) -> Bank:
    """Load and check one bank file on its own (ids unique inside it)."""
    source = _display(path)
    if not path.is_file():
        raise BankError([f"{source}: no such bank file"])
    if yaml is None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BankError([f"{source}: not valid JSON: {exc}"]) from None
    else:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise BankError([f"{source}: not valid YAML: {exc}"]) from None
    bank = parse_bank(raw, source)
    problems = _check_bank(bank, source, path.stem)
    problems += _duplicates([(source, bank)])
    if problems:
        raise BankError(problems)
    return bank


def _duplicates(banks: list[tuple[str, Bank]]) -> list[str]:
    problems, seen_q, seen_o = [], {}, {}
    for source, bank in banks:
        for o in bank.objectives:
            if o.id in seen_o:
                problems.append(
                    f"{source}: objective '{o.id}': field 'id': already used in {seen_o[o.id]}"
                )
            seen_o.setdefault(o.id, source)
        for q in bank.questions:
            if q.id in seen_q:
                problems.append(
                    f"{source}: question '{q.id}': field 'id': already used in {seen_q[q.id]}"
                )
            seen_q.setdefault(q.id, source)
    return problems


def load_bank(chapter_id: str, folder: Path | None = None) -> Bank:
    """The bank book/quizzes/<chapter_id>.yaml (or <folder>/<chapter_id>.yaml)."""
    return read_bank((folder or quizzes_dir()) / f"{chapter_id}{BANK_SUFFIX}")


def bank_files(folder: Path | None = None) -> list[Path]:
    return sorted((folder or quizzes_dir()).glob(f"*{BANK_SUFFIX}"))


def load_all_banks(folder: Path | None = None) -> list[Bank]:
    """Every bank in the folder, checked together: ids are unique across all banks."""
    banks, problems = [], []
    for path in bank_files(folder):
        try:
            banks.append((_display(path), read_bank(path)))
        except BankError as exc:
            problems += exc.problems
    problems += _duplicates(banks)
    if problems:
        raise BankError(problems)
    return [bank for _, bank in banks]
