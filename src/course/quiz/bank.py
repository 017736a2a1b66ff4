"""The question-bank format of book/quizzes/README.md as pydantic models, and its loader.

Every problem in a bank becomes one line "file: question 'id': field 'name': message" inside a
single ``BankError``, so an author sees all mistakes of a file at once and no traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Union

try:
    import yaml
except ModuleNotFoundError:  # in the browser: Pyodide has no PyYAML (docs/lite.md)
    yaml = None  # type: ignore[assignment]
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails

from course.claims import UnknownClaimError, claim, contradiction, label_verdicts
from course.quiz.types import REGISTRY, QuestionType
from course.quiz.types.base import Model, Text
from course.quiz.types.choice import MultipleSelect, Option, SingleChoice
from course.quiz.types.matching import Matching, Pair
from course.quiz.types.numeric import Mistake, Numeric
from course.quiz.types.ordering import Ordering, OrderItem
from course.quiz.types.short_text import ShortText, TextMistake
from course.quiz.types.true_false import TrueFalse
from course.quotations import QuotationError, check_quotation, role_quotations
from course.sources import UnknownParagraphError, cited_ids, paragraph

QUIZZES_ENV = "COURSE_QUIZZES_DIR"


class BankError(ValueError):
    """A malformed bank; the message has one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


__all__ = [
    "QUESTION_TYPES", "Bank", "BankError", "Matching", "Mistake", "MultipleSelect", "Numeric",
    "Objective", "Option", "OrderItem", "Ordering", "Pair", "Question", "ShortText",
    "SingleChoice", "TextMistake", "TrueFalse", "load_all_banks", "load_bank", "read_bank",
]

# The bank's questions: any registered type, told apart by its `type` field.
if TYPE_CHECKING:
    Question = QuestionType
else:
    Question = Annotated[Union[tuple(REGISTRY.values())], Field(discriminator="type")]  # noqa: UP007
QUESTION_TYPES = list(REGISTRY)


class Objective(Model):
    id: Text
    text: Text


class Bank(Model):
    chapter: Text
    title: Text
    objectives: list[Objective] = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)

    def question_ids(self, objective_id: str) -> list[str]:
        """The ids of the questions that assess one objective, in the bank's order."""
        return [q.id for q in self.questions if q.objective == objective_id]

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


def _explain(err: ErrorDetails) -> str:
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
        problems += [f"{where}: {problem}" for problem in _misquotations(q)]
        problems += [f"{where}: {problem}" for problem in verdict_problems(q)]
        cited = cited_ids(q.explanation)
        if not cited:
            problems.append(f"{where}: field 'explanation': cite at least one paragraph, e.g. A7")
        for pid in cited:
            try:
                paragraph(pid)
            except UnknownParagraphError as exc:
                problems.append(f"{where}: field 'explanation': {exc}")
    return problems


def _texts(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _misquotations(question: BaseModel) -> list[str]:
    """Quotations written with the {quote} role whose words are not in their paragraph."""
    found = []
    for text in _texts(question.model_dump()):
        for q in role_quotations(text):
            try:
                check_quotation(q.pid, q.words)
            except (QuotationError, UnknownParagraphError) as exc:
                found.append(f"misquotation: {exc}")
    return found


def verdict_problems(question: BaseModel) -> list[str]:
    """Claim keys that name no claim, and keys whose stated verdict contradicts claims.yaml.

    Where the verdict is stated (labels mapped in ``course.claims.LABELS``):

    - a pair with ``claim``: its answer must agree with the claim;
    - an option with ``claim`` (or a correct option of a question with ``claim``): its text,
      or else the question's prompt ("Which forecasts held?"), states the verdict. A correct
      option must agree; a wrong option must not, or it would be a second right answer;
    - a true/false question with ``claim``: the prompt states the verdict; the answer ``true``
      must agree, ``false`` must not.
    """
    found = []
    own = getattr(question, "claim", None)
    prompt = getattr(question, "prompt", "")
    # (where, claim id, text stating the verdict, whether it must agree)
    refs: list[tuple[str, str, str | None, bool]] = []
    if own:
        answer = getattr(question, "answer", None)
        stated = prompt if isinstance(answer, bool) else None
        refs.append(("field 'claim'", own, stated, answer is not False))
    for pair in getattr(question, "pairs", None) or []:
        if pair.claim:
            refs.append((f"pair '{pair.id}': field 'claim'", pair.claim, pair.answer, True))
    for option in getattr(question, "options", None) or []:
        cid = option.claim or (own if option.correct else None)
        if cid:
            stated = option.text if label_verdicts(option.text) is not None else prompt
            refs.append((f"option '{option.id}': field 'claim'", cid, stated, option.correct))
    for where, cid, stated, agree in refs:
        try:
            claim(cid)
        except UnknownClaimError as exc:
            found.append(f"{where}: {exc}")
            continue
        if stated is None:
            continue
        why = contradiction(cid, stated)
        if agree and why:
            found.append(f"{where}: {why}")
        elif not agree and why is None:
            found.append(
                f"{where}: keyed as not right, but claims.yaml agrees with {stated!r} for "
                f"claim '{cid}' ({claim(cid).label}), so it is right"
            )
        elif not agree and label_verdicts(stated) is None:
            found.append(f"{where}: {why}")
    return found


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
    problems: list[str] = []
    seen_q: dict[str, str] = {}
    seen_o: dict[str, str] = {}
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
