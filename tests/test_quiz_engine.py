"""The Python engine against the shared test vectors, plus shuffling and normalising."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from course.quiz.bank import load_bank
from course.quiz.engine import attempt, grade, normalise, shuffled

HERE = Path(__file__).parent
BANKS = HERE / "fixtures" / "banks"
VECTORS = yaml.safe_load((HERE / "quiz-vectors.yaml").read_text(encoding="utf-8"))


def test_vectors_cover_every_verdict() -> None:
    assert len(VECTORS) >= 40
    assert {v["verdict"] for v in VECTORS} == {"correct", "partial", "incorrect"}


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v['question']}={v['response']}")
def test_vector(vector: dict) -> None:
    question = load_bank(vector["bank"], BANKS).question(vector["question"])
    result = grade(question, vector["response"])
    assert (result.verdict, result.score) == (vector["verdict"], vector["score"])
    assert result.feedback, "every graded answer gets feedback"


def test_wrong_choice_gets_its_own_feedback() -> None:
    q = load_bank("all-question-types", BANKS).question("aqt-identical-bio")
    assert grade(q, "b").feedback == [q.options[1].feedback]


def test_multiple_select_explains_chosen_and_missed_options() -> None:
    q = load_bank("all-question-types", BANKS).question("aqt-b-no-intervention")
    feedback = grade(q, ["b5"]).feedback
    assert feedback == [o.feedback for o in q.options if o.correct or o.id == "b5"]


def test_numeric_known_mistake_gets_its_feedback() -> None:
    q = load_bank("all-question-types", BANKS).question("aqt-paragraphs-a")
    assert grade(q, 16).feedback == [q.mistakes[0].feedback]
    assert grade(q, 19.4).feedback == [q.mistakes[1].feedback]
    assert grade(q, 3).feedback == [q.feedback_incorrect]


def test_ordering_names_the_misplaced_items() -> None:
    q = load_bank("all-question-types", BANKS).question("aqt-b-order")
    result = grade(q, ["six-party", "cold-war", "sanctions", "conclusion"])
    assert result.feedback == [q.items[0].feedback, q.items[1].feedback]


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("  Don\u2019t  STOP\u2014now! ", "don't stop-now"),
        ("U.S.", "us"),
        ("well-known 'quote'", "well-known quote"),
        ("-dash- and -", "dash and"),
        ("\uff21\uff22", "ab"),
    ],
)
def test_normalise(raw: str, plain: str) -> None:
    assert normalise(raw) == plain


def test_shuffled_is_repeatable_and_seed_dependent() -> None:
    items = list(range(20))
    assert shuffled(items, "q1") == shuffled(items, "q1")
    assert shuffled(items, "q1") != shuffled(items, "q2")
    assert sorted(shuffled(items, 7)) == items
    assert items == list(range(20))


def test_attempt_is_plain_data() -> None:
    q = load_bank("all-question-types", BANKS).question("aqt-same-author")
    result, record = attempt("all-question-types", q, True)
    data = record.to_dict()
    assert data["question"] == "aqt-same-author" and data["score"] == result.score == 1
    assert set(data) == {"question", "objective", "chapter", "response", "verdict", "score", "time"}


def test_choice_options_are_shown_in_a_seeded_order_that_hides_the_answer() -> None:
    from collections import Counter

    from course.quiz.bank import load_all_banks
    from course.quiz.engine import presented_options

    banks = load_all_banks()
    questions = [q for b in banks for q in b.questions if q.type == "single_choice"]
    positions = Counter()
    for q in questions:
        shown = presented_options(q)
        assert sorted(o.id for o in shown) == sorted(o.id for o in q.options)
        assert [o.id for o in presented_options(q)] == [o.id for o in shown]  # repeatable
        positions[[o.correct for o in shown].index(True)] += 1
    # no single position holds most right answers, so "always pick the first" cannot win
    assert max(positions.values()) < 0.5 * len(questions)


RULES = yaml.safe_load((HERE / "quiz-rule-vectors.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", RULES["empty"], ids=lambda v: repr(v["response"]))
def test_empty_answer_rule(vector: dict) -> None:
    from course.quiz.scoring import is_empty

    assert is_empty(vector["response"]) is vector["empty"]


@pytest.mark.parametrize("vector", RULES["order"], ids=lambda v: repr(v["positions"]))
def test_ordering_completeness_rule(vector: dict) -> None:
    from course.quiz.scoring import order_from_positions

    assert order_from_positions(vector["items"], vector["positions"]) == vector["order"]


def _step(n: int) -> str:
    return f"(src/course/quiz/README.md, Adding a question type, step {n})"


def test_the_registry_is_the_only_list_of_types() -> None:
    """The book's script, the vectors, the all-types bank and the README cover exactly the
    registered types; each miss names the step of the recipe that adds it."""
    from course.quiz.types import REGISTRY

    script = (HERE.parent / "src/course/quiz/assets/quiz.js").read_text(encoding="utf-8")
    handlers = script[script.index("var TYPES = {"):script.index("function grade(q, r)")]
    assert set(re.findall(r"^    (\w+): \{$", handlers, re.M)) == set(REGISTRY), (
        f"assets/quiz.js's TYPES needs one handler per registered type {_step(2)}")
    bank = load_bank("all-question-types", BANKS)
    banks = {v["bank"]: load_bank(v["bank"], BANKS) for v in VECTORS}
    vector_types = {banks[v["bank"]].question(v["question"]).type for v in VECTORS}
    assert vector_types == set(REGISTRY), f"tests/quiz-vectors.yaml {_step(3)}"
    assert {q.type for q in bank.questions} == set(REGISTRY), (
        f"tests/fixtures/banks/all-question-types.yaml {_step(3)}")
    readme = (HERE.parent / "book" / "quizzes" / "README.md").read_text(encoding="utf-8")
    undocumented = [name for name in REGISTRY if f"`{name}`" not in readme]
    assert not undocumented, f"book/quizzes/README.md's type table {_step(4)}"


def test_the_quizzes_words_are_written_in_one_place() -> None:
    """No word of strings.json is written again in the widget view or the book's script."""
    from course.quiz.scoring import strings

    sources = [(HERE.parent / "src" / "course" / "quiz" / name).read_text(encoding="utf-8")
               for name in ("widget_view.py", "html_view.py", "assets/quiz.js")]
    flat = [v for v in strings().values() if isinstance(v, str)]
    flat += list(strings()["verdict"].values())
    for text in flat:
        fixed = text.split("{")[0].strip()  # the part before any placeholder
        if " " in fixed:  # single words ("Retry") also name code, not only show text
            assert not any(fixed in source for source in sources), fixed
