"""Assignments grade source analysis, fairly: the judgement/mechanics split and the mutants.

Every autograded cell of every ``solutions/*/*.ipynb`` says in its metadata what its points
reward: ``{"course": {"points_kind": "judgement"}}`` (a judgement about the sources: who is
speaking, which paragraph supports a claim, what kind of claim it is, what the record shows,
when a text was written) or ``"mechanics"`` (programming). At least two thirds of each
assignment's autograded points must be judgement. The split is printed per assignment and
shown in ``autograder/README.md``, which this module checks so that it cannot go stale.

Each autograded function keeps at least five plausible wrong implementations as fixtures
(``psN-mutant-<what-it-gets-wrong>.ipynb``) and each assignment at least two alternative
correct ones (``psN-alt-...``), listed in ``expected.yaml`` under ``functions:``; the round trip
(tests/test_assignments_roundtrip.py) checks that each mutant loses points and each
alternative keeps full marks. See docs/judgement-and-mechanics.md.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import tokenize
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import nbformat
import pytest
import yaml

from course.assignments import REPO_ROOT, list_assignments
from tests.support import submissions

SOLUTIONS = REPO_ROOT / "solutions"
FIXTURES = REPO_ROOT / "tests" / "fixtures"
README = REPO_ROOT / "autograder" / "README.md"
KINDS = ("judgement", "mechanics")
MIN_JUDGEMENT = Fraction(2, 3)
MIN_MUTANTS, MIN_ALTERNATIVES = 5, 2
TABLE_BEGIN = "<!-- judgement-mechanics split: checked by tests/test_assignment_validity.py -->"
TABLE_END = "<!-- end of split -->"
ASSIGNMENTS = list_assignments()


@dataclass
class Split:
    """Autograded points of one notebook (or assignment) by kind, and what is wrong."""

    judgement: float = 0
    mechanics: float = 0
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.judgement + self.mechanics

    def add(self, other: Split) -> None:
        self.judgement += other.judgement
        self.mechanics += other.mechanics
        self.problems += other.problems

    def check(self, name: str) -> list[str]:
        """The problems, plus a too-small share of judgement."""
        found = list(self.problems)
        if self.total and Fraction(str(self.judgement)) / Fraction(str(self.total)) < MIN_JUDGEMENT:
            found.append(
                f"{name}: only {self.judgement:g} of {self.total:g} autograded points are "
                f"judgement; at least two thirds must be"
            )
        return found


def split_of(path: Path) -> Split:
    """The judgement/mechanics split of one source notebook's autograded cells."""
    split = Split()
    for cell in nbformat.read(path, as_version=4).cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not grading.get("grade"):
            continue  # hand-graded answers are Markdown cells; they count in neither
        kind = cell.metadata.get("course", {}).get("points_kind")
        if kind not in KINDS:
            split.problems.append(
                f"{path.name}: graded cell {grading.get('grade_id')} has no "
                f'{{"course": {{"points_kind": "judgement" | "mechanics"}}}} metadata'
                + (f" (it says {kind!r})" if kind is not None else "")
            )
            continue
        setattr(split, kind, getattr(split, kind) + float(grading.get("points", 0)))
    return split


def assignment_split(assignment: str, root: Path = SOLUTIONS) -> Split:
    total = Split()
    for path in sorted((root / assignment).glob("*.ipynb")):
        total.add(split_of(path))
    return total


def split_table() -> str:
    """The Markdown table for autograder/README.md."""
    rows = [
        "| assignment | judgement points | mechanics points | autograded | judgement share |",
        "|---|---|---|---|---|",
    ]
    for assignment in ASSIGNMENTS:
        s = assignment_split(assignment)
        share = f"{s.judgement / s.total:.0%}" if s.total else "n/a"
        rows.append(f"| {assignment} | {s.judgement:g} | {s.mechanics:g} | {s.total:g} | {share} |")
    return "\n".join(rows)


def solution_functions(assignment: str) -> list[str]:
    """The functions students write: top-level ``def`` in the solution cells."""
    names = []
    for path in sorted((SOLUTIONS / assignment).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            grading = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and grading.get("solution"):
                tree = ast.parse(cell.source)
                names += [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    return names


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_judgement_earns_at_least_two_thirds(assignment: str) -> None:
    split = assignment_split(assignment)
    print(
        f"{assignment}: judgement {split.judgement:g}, mechanics {split.mechanics:g} "
        f"of {split.total:g} autograded points"
    )
    assert split.total > 0, f"{assignment} has no autograded points"
    problems = split.check(assignment)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("fixture", "complaint"),
    [
        ("mechanics-heavy.ipynb", "at least two thirds"),
        ("graded-cell-without-kind.ipynb", "has no"),
    ],
)
def test_the_split_rule_fails_when_broken(fixture: str, complaint: str) -> None:
    """Planted notebooks: too few judgement points, and a graded cell with no kind."""
    path = FIXTURES / "validity" / fixture
    problems = split_of(path).check(fixture)
    assert any(complaint in p for p in problems), problems


def test_readme_shows_the_current_split() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(re.escape(TABLE_BEGIN) + r"\n(.*?)\n" + re.escape(TABLE_END), text, re.S)
    assert match, (
        f"autograder/README.md needs the split table between {TABLE_BEGIN} and {TABLE_END}"
    )
    assert match.group(1).strip() == split_table(), (
        "autograder/README.md shows a stale judgement/mechanics split; replace the table with:\n"
        + split_table()
    )


# Names a hidden test may use bare: print shows, it decides nothing.
BARE_ALLOWED = {"print"}
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def bare_builtins(code: str) -> list[str]:
    """Builtins that ``code`` uses by their bare name (``sum(...)``, ``isinstance(x, dict)``),
    as "line N: name". In a hidden test such a name means whatever the student's notebook last
    bound to it: an answer cell with ``sum = 0`` at its top level made ps5's hidden tests fail
    for 9 of 12 points. Hidden tests use ``_builtins.sum`` (``import builtins as _builtins``)."""
    names = {n for n in dir(builtins) if not n.startswith("_")} - BARE_ALLOWED - set(keyword.kwlist)
    skip = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)
              if t.type not in skip]
    found = []
    for before, token, after in zip([None, *tokens[:-1]], tokens, [*tokens[1:], None], strict=True):
        if token.type != tokenize.NAME or token.string not in names:
            continue
        if before is not None and before.string in {".", "def", "class", "import", "as"}:
            continue  # an attribute, or a name being defined
        if after is not None and after.string == "=" and (
                before is None or before.string in {"(", ","}):
            continue  # a keyword argument's name, such as key=
        found.append(f"line {token.start[0]}: {token.string}")
    return found


def hidden_parts(path: Path) -> dict[str, str]:
    """The hidden test code of each test cell of a notebook: grade id -> code."""
    parts = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if HIDDEN_BEGIN in cell.source:
            code = cell.source.split(HIDDEN_BEGIN, 1)[1].split(HIDDEN_END, 1)[0]
            parts[cell.metadata.get("nbgrader", {}).get("grade_id", "?")] = code
    return parts


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_tests_call_the_real_builtins(assignment: str) -> None:
    problems = []
    for path in sorted((SOLUTIONS / assignment).glob("*.ipynb")):
        for grade_id, code in hidden_parts(path).items():
            problems += [f"{path.name} [{grade_id}] {where}" for where in bare_builtins(code)]
    assert not problems, (
        "hidden tests use builtins by their bare name, which a student's `sum = 0` (or "
        "`list = ...`) redefines; write `_builtins.<name>` after `import builtins as "
        "_builtins` (docs/judgement-and-mechanics.md):\n" + "\n".join(problems))


def test_bare_builtins_are_found_and_attributes_and_keywords_are_not() -> None:
    code = ("import builtins as _builtins\n"
            "total = sum(x for x in range(3))  # two bare calls\n"
            "assert isinstance(v, dict)\n"
            "ok = _builtins.len(v) and sorted(v, key=_builtins.repr)\n"
            "print(total)\n")
    assert bare_builtins(code) == ["line 2: sum", "line 2: range", "line 3: isinstance",
                                   "line 3: dict", "line 4: sorted"]


def _expected(assignment: str) -> dict:
    path = FIXTURES / "submissions" / assignment / "expected.yaml"
    assert path.is_file(), f"{assignment} has no {path.relative_to(REPO_ROOT)}"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_function_has_mutants_and_the_assignment_alternatives(assignment: str) -> None:
    """expected.yaml lists >= 5 mutants per function that lose points, >= 2 full-mark alts."""
    spec = _expected(assignment)
    scores = spec.get("submissions") or {}
    full = float(spec["max_autograded"])
    listed = spec.get("functions") or {}
    problems = []
    for name in solution_functions(assignment):
        mutants = listed.get(name) or []
        if len(mutants) < MIN_MUTANTS:
            problems.append(f"{name}: {len(mutants)} mutants listed, at least {MIN_MUTANTS} needed")
        for fixture in mutants:
            if not fixture.startswith(f"{assignment}-mutant-") or fixture not in scores:
                problems.append(f"{name}: {fixture} is not a listed {assignment}-mutant-* fixture")
            elif sum(scores[fixture].values()) >= full:
                problems.append(f"{name}: {fixture} is expected to keep full marks")
    unknown = sorted(set(listed) - set(solution_functions(assignment)))
    problems += [f"functions: {n} is not a function of the solution" for n in unknown]
    alternatives = [f for f in scores if f.startswith(f"{assignment}-alt-")]
    if len(alternatives) < MIN_ALTERNATIVES:
        problems.append(f"{len(alternatives)} alternatives, at least {MIN_ALTERNATIVES} needed")
    problems += [
        f"{f} is an alternative correct answer but is expected to lose points"
        for f in alternatives
        if sum(scores[f].values()) != full
    ]
    assert not problems, f"{assignment}:\n" + "\n".join(problems)


def test_chapter_and_ps3_count_with_one_word_list() -> None:
    """The hedge and certainty lists live in course.textkit only (docs/word-lists.md)."""
    literal = re.compile(r"^\s*(HEDGES|CERTAINTY)\s*=\s*[\[(]", re.M)
    chapter = (REPO_ROOT / "book" / "weighing_the_sources.md").read_text(encoding="utf-8")
    notebook = "\n".join(
        c.source
        for p in (SOLUTIONS / "ps3").glob("*.ipynb")
        for c in nbformat.read(p, as_version=4).cells
    )
    for name, text in (("book/weighing_the_sources.md", chapter), ("solutions/ps3", notebook)):
        assert "from course.textkit import CERTAINTY, HEDGES" in text, name
        assert not literal.search(text), f"{name} defines its own word list again"


def _stated_verdicts() -> list[tuple[str, str, str, str]]:
    """(notebook, cell, claim id, stated verdict) from cells' ``course.claims`` metadata."""
    found = []
    for path in sorted(SOLUTIONS.glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for claim_id, stated in cell.metadata.get("course", {}).get("claims", {}).items():
                found.append((path.relative_to(REPO_ROOT).as_posix(), cell.id, claim_id, stated))
    return found


def test_reference_answers_agree_with_the_claims_file() -> None:
    """A reference answer that states a verdict names the claim, and claims.yaml agrees."""
    from course.claims import contradiction

    stated = _stated_verdicts()
    assert stated, "no notebook cell names the claims it states a verdict on"
    problems = [
        f"{notebook} cell {cell}: {problem}"
        for notebook, cell, claim_id, verdict in stated
        if (problem := contradiction(claim_id, verdict))
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_fixtures_are_what_the_generator_writes(assignment: str, tmp_path: Path) -> None:
    """The fixture notebooks and expected.yaml are generated (psN/fixtures.py), never edited by
    hand: a solution or exercise change without a rerun of the generator shows up here."""
    submissions.write(submissions.load(assignment), tmp_path)
    committed = FIXTURES / "submissions" / assignment
    wanted = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    have = {p.name: p.read_bytes() for p in committed.iterdir() if p.suffix in (".ipynb", ".yaml")}
    stale = sorted(n for n in wanted.keys() | have.keys() if wanted.get(n) != have.get(n))
    assert not stale, (
        f"{assignment}: these fixtures differ from what the generator writes: {stale}; run\n"
        f"    .venv/bin/python tests/fixtures/submissions/make_fixtures.py {assignment}"
    )
