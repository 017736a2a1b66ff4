"""What every LMS format shares: stable idents, text rendering, what each format carries of
each question type, and the notices the export prints. The table of type x format lives in
``CARRY`` and is written out in src/course/quiz/README.md (tests/test_lms_export.py keeps the
two in step); the per-question checks (``carry``) add what depends on the question itself (a
regular expression with no finite set of matches, numeric near-misses that Canvas cannot give
feedback on)."""

from __future__ import annotations

import html
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter

from course.quiz.bank import (
    Bank,
    Matching,
    MultipleSelect,
    Numeric,
    Ordering,
    Question,
    ShortText,
)
from course.quiz.html_view import inline

with warnings.catch_warnings():  # deprecated aliases, but the stable way to walk a pattern
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants
    import sre_parse

Format = Literal["cc", "qti", "moodle", "gift"]
FORMATS: tuple[Format, ...] = ("cc", "qti", "moodle", "gift")
Level = Literal["exact", "approximate", "not carried"]
POINTS = 1.0  # every question of the bank is worth 1 point (book/quizzes/README.md)

# Why an LMS compares short answers differently from the book (engine.normalise).
_SHORT_TEXT = ("the LMS compares answers case-insensitively but does not, as the book does, "
               "drop punctuation or make curly quotes and dashes plain")
_MATCH_FEEDBACK = "each pair's feedback goes into the general feedback (no per-pair feedback)"
_ORDER = ("no ordering type: given as matching of each item to its position; the LMS scores "
          "the share of items in place, the book the share of pairs in the right order; "
          "each item's feedback goes into the general feedback")
_CC_ONLY = ("Common Cartridge 1.1's QTI profile has no {what} type, and Moodle's importer "
            "skips items of other profiles (backup/cc/entity11.quiz.class.php, "
            "get_question_type); use the qti or moodle format for it")

# (type, format) -> (level, how). Per-question refinements are in ``carry``.
CARRY: dict[tuple[str, Format], tuple[Level, str]] = {}
for _fmt in FORMATS:
    CARRY["single_choice", _fmt] = ("exact", "")
    CARRY["true_false", _fmt] = ("exact", "")
    CARRY["short_text", _fmt] = ("approximate", _SHORT_TEXT)
CARRY["multiple_select", "moodle"] = ("exact", "")
CARRY["multiple_select", "gift"] = ("exact", "")
CARRY["multiple_select", "qti"] = (
    "approximate", "Canvas applies its own multiple-answer rule; in New Quizzes choose "
    "'Partial credit with penalty', which equals the book's rule")
CARRY["multiple_select", "cc"] = (
    "approximate", "Moodle's Common Cartridge importer gives each correct option 1/n and "
    "wrong options 0, so wrong choices cost nothing; Canvas applies its own rule")
CARRY["numeric", "moodle"] = ("exact", "")
CARRY["numeric", "gift"] = ("exact", "")
CARRY["numeric", "qti"] = ("exact", "")
CARRY["numeric", "cc"] = ("not carried", _CC_ONLY.format(what="numeric"))
CARRY["matching", "moodle"] = ("approximate", _MATCH_FEEDBACK)
CARRY["matching", "gift"] = ("approximate", _MATCH_FEEDBACK)
CARRY["matching", "qti"] = ("approximate", _MATCH_FEEDBACK)
CARRY["matching", "cc"] = ("not carried", _CC_ONLY.format(what="matching"))
CARRY["ordering", "moodle"] = ("approximate", _ORDER)
CARRY["ordering", "gift"] = ("approximate", _ORDER)
CARRY["ordering", "qti"] = ("approximate", _ORDER + " (QTI 1.2 has no ordering that Canvas "
                                                   "imports)")
CARRY["ordering", "cc"] = ("not carried", _CC_ONLY.format(what="ordering"))


@dataclass(frozen=True)
class Notice:
    """One question a format cannot carry exactly: printed on the terminal by the export."""

    question: str
    format: Format
    level: Level
    reason: str

    def __str__(self) -> str:
        what = "NOT CARRIED" if self.level == "not carried" else "APPROXIMATE"
        return f"{what}: {self.format}: question '{self.question}': {self.reason}"


@dataclass
class Carry:
    level: Level
    reasons: list[str] = field(default_factory=list)


def finite_matches(pattern: str, limit: int = 200) -> list[str] | None:
    """Every string the regular expression matches in full, if they are finitely many (at
    most ``limit``), else None. Used to give an LMS without regular expressions the same set
    of answers as a list."""
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, sre_constants.error):
        return None

    def expand(items: Any) -> list[str] | None:
        out = [""]
        for op, arg in items:
            options: list[str] | None
            if op is sre_constants.LITERAL:
                options = [chr(arg)]
            elif op is sre_constants.SUBPATTERN:
                options = expand(arg[-1])
            elif op is sre_constants.BRANCH:
                options = []
                for branch in arg[1]:
                    sub = expand(branch)
                    if sub is None:
                        return None
                    options += sub
            elif op is sre_constants.IN:
                options = []
                for kind, value in arg:
                    if kind is sre_constants.LITERAL:
                        options.append(chr(value))
                    elif kind is sre_constants.RANGE and value[1] - value[0] < 64:
                        options += [chr(c) for c in range(value[0], value[1] + 1)]
                    else:
                        return None
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                low, high, sub = arg
                if high == sre_constants.MAXREPEAT:
                    return None
                inner = expand(sub)
                if inner is None:
                    return None
                options = []
                for n in range(low, high + 1):
                    options += ["".join(p) for p in product(inner, repeat=n)]
            else:
                return None
            if options is None:
                return None
            out = [a + b for a in out for b in options]
            if len(out) > limit:
                return None
        return out

    found = expand(parsed)
    return None if found is None else list(dict.fromkeys(found))


def accepted_answers(q: ShortText) -> list[str]:
    """The bank's accepted answers, then the pattern's finite matches (when it has them)."""
    extra = finite_matches(q.pattern) if q.pattern else []
    return list(dict.fromkeys([*q.accept, *(extra or [])]))


def carry(q: Question, fmt: Format) -> Carry:
    """How far ``fmt`` carries this question, with every reason it is not exact."""
    # A type without its row is left out with a notice, not a crash: the export still serves
    # the instructor, and the table test names the missing row (src/course/quiz/README.md).
    level, how = CARRY.get((q.type, fmt), (
        "not carried", f"the LMS export has no {q.type} questions yet (no row for it in CARRY, "
                       "src/course/quiz/lms/mapping.py)"))
    result = Carry(level, [how] if how else [])
    if level == "not carried":
        return result
    if isinstance(q, ShortText) and q.pattern and finite_matches(q.pattern) is None:
        result.reasons.append(f"the pattern {q.pattern!r} matches endlessly many answers and "
                              "no LMS format here takes a regular expression: only the listed "
                              "answers are accepted")
    if isinstance(q, ShortText) and q.mistakes and fmt == "qti":
        result.reasons.append("Canvas short answers are all correct answers: the feedback on "
                              "known wrong answers goes into the general feedback")
    if isinstance(q, ShortText) and fmt == "cc":
        result.reasons.append("Moodle's Common Cartridge reader has no feedback for other wrong "
                              "answers: it is added to the general feedback")
    if isinstance(q, Numeric) and q.mistakes and fmt == "qti":
        result.level = "approximate"
        result.reasons.append("Canvas numeric answers are all correct answers: the feedback on "
                              "known near-misses goes into the general feedback")
    if isinstance(q, MultipleSelect) and fmt == "gift" and sum(o.correct for o in q.options) < 2:
        # format.php's weight pattern takes at most two digits before the point.
        result.level = "approximate"
        result.reasons.append("GIFT weights have at most two digits before the point, so one "
                              "correct option is weighted 99.99999% and a wrong one -99.99999%")
    return result


_QUESTION: TypeAdapter[Question] = TypeAdapter(Question)


def question_from(data: dict[str, Any]) -> Question:
    """A question read back from an export, checked by the bank's own model."""
    return _QUESTION.validate_python(data)


def ident(question_id: str) -> str:
    """The stable item ident of a question in every format (a valid XML name)."""
    return "q-" + re.sub(r"[^A-Za-z0-9_.-]", "_", question_id)


def category_name(title: str) -> str:
    """A chapter title as one level of a Moodle category path, where "/" separates levels and
    "//" stands for a slash in a name."""
    return title.replace("/", "//")


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "quiz"


def position_label(n: int) -> str:
    return f"Position {n}"


def ordering_pairs(q: Ordering) -> list[tuple[str, str, str]]:
    """(item text, its position label, feedback) for ordering given as matching."""
    return [(i.text, position_label(k), i.feedback) for k, i in enumerate(q.items, 1)]


@dataclass(frozen=True)
class Render:
    """Text of the bank as a format shows it: HTML with paragraph links to the published book
    when a book URL is given, else HTML without links ("A14" stays plain)."""

    book_url: str | None = None

    @property
    def base(self) -> str | None:
        return f"{self.book_url.rstrip('/')}/book/" if self.book_url else None

    def html(self, text: str) -> str:
        return inline(text, self.base)

    def chapter_link(self, bank: Bank) -> str | None:
        page = chapter_pages().get(bank.chapter)
        if not self.book_url or page is None:
            return None
        return f"{self.book_url.rstrip('/')}/book/{page}.html"


def question_text(q: Question, render: Callable[[str], str]) -> str:
    """The question's text as every format writes it (``render``: the format's markup): the
    prompt, and a numeric answer's unit in brackets. The ident map's LMS texts are made from
    it too (lms/idents.py)."""
    unit = f" ({render(q.unit)})" if isinstance(q, Numeric) and q.unit else ""
    return render(q.prompt) + unit


def chapter_pages() -> dict[str, str]:
    """bank id -> chapter page (book/<page>.md shows the bank's quiz)."""
    from course.quiz.bank import quizzes_dir

    pages = {}
    for page in sorted(quizzes_dir().parent.glob("*.md")):
        for found in re.findall(r"""show\(["']([\w-]+)["']\)""", page.read_text("utf-8")):
            pages[found] = page.stem
    return pages


def general_feedback(q: Question, fmt: Format, render: Callable[[str], str]) -> list[str]:
    """The explanation, then what a format keeps no other place for (as rendered parts)."""
    parts = [render(q.explanation)]
    level = carry(q, fmt)
    if isinstance(q, Matching) and level.level != "not carried":
        parts += [render(f"{p.prompt}: {p.answer}. {p.feedback}") for p in q.pairs]
    if isinstance(q, Ordering) and level.level != "not carried":
        parts += [render(f"{k}. {i.text}: {i.feedback}") for k, i in enumerate(q.items, 1)]
    if fmt == "cc" and isinstance(q, ShortText):
        parts.append(render(f"Any other answer: {q.feedback_incorrect}"))
    if fmt == "qti" and isinstance(q, ShortText):
        parts += [render(f"If you answered {m.answer}: {m.feedback}") for m in q.mistakes]
    if fmt == "qti" and isinstance(q, Numeric):
        parts += [render(f"If you answered {m.value:g}: {m.feedback}") for m in q.mistakes]
    return parts


_TAG = re.compile(r"<(/?)(strong|em|a)\b[^>]*>")


def html_to_text(markup: str) -> str:
    """The bank's text back from ``Render.html``: links dropped, emphasis as Markdown."""
    out = _TAG.sub(lambda m: {"strong": "**", "em": "*", "a": ""}[m.group(2)], markup)
    return html.unescape(out)


@contextmanager
def atomic_file(dest: Path) -> Iterator[Path]:
    """A temporary path beside ``dest`` that replaces it only if the block succeeds, so that a
    failed export leaves no partial file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
