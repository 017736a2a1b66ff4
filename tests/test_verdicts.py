"""No page, quiz key or exercise states a verdict on a claim that contradicts claims.yaml.

The verdicts live in ``course/data/claims.yaml`` (docs/accuracy.md); pages state them with the
``{verdict}`` role, banks with ``claim:`` keys, notebooks with ``course.claims`` metadata.
Each check is shown failing once on a planted fixture.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.claims import notebook_problems, page_problems
from course.quiz.bank import BankError, load_all_banks, load_bank

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PAGES = sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "book" / "articles").glob("*.md"))
NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb")) + sorted(
    (ROOT / "exercises").glob("*/*.ipynb")
)


# ---- pages


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT / "book").as_posix())
def test_no_page_states_a_verdict_that_contradicts_the_file(page: Path) -> None:
    problems = page_problems(page.read_text(encoding="utf-8"))
    assert not problems, "\n".join(f"{page.relative_to(ROOT)}: {p}" for p in problems)


def test_a_planted_page_with_contradicting_verdicts_is_caught() -> None:
    problems = page_problems(
        (FIXTURES / "claims" / "page-verdict-contradicts.md").read_text(encoding="utf-8")
    )
    text = "\n".join(problems)
    assert len(problems) == 4, text
    assert "'Failed' states failed, but claims.yaml gives claim 'a8-partnership-grow-stronger'" \
        in text
    assert "'supported' states supported" in text and "a2-moscow-june-2019-meeting" in text
    assert "there is no claim 'b4-no-such-claim'" in text
    assert "**Untested** states a verdict without naming its claim" in text


# ---- banks


def test_every_bank_key_agrees_with_the_file() -> None:
    # the loader checks every claim key (course.quiz.bank.verdict_problems)
    assert load_all_banks()


def test_a_planted_bank_with_contradicting_keys_is_rejected() -> None:
    with pytest.raises(BankError) as caught:
        load_bank("verdict-contradicts-claims", FIXTURES / "banks")
    problems = caught.value.problems
    text = "\n".join(problems)
    assert len(problems) == 6, text
    # a pair whose answer contradicts the claim
    assert "question 'verdict-contradicts-claims-q1': pair 'a8': field 'claim': 'Failed' " \
        "states failed, but claims.yaml gives claim 'a8-partnership-grow-stronger'" in text
    # a correct option that contradicts it, and a wrong option that is in fact right
    assert "option 'b11': field 'claim': 'Which forecast held?' states held" in text
    assert "option 'a8': field 'claim': keyed as not right, but claims.yaml agrees" in text
    # a true/false key that denies what the file says
    assert "question 'verdict-contradicts-claims-q3': field 'claim': keyed as not right" in text
    # a label that maps to no verdict, and an id that names no claim
    assert "'Rests on a misreading' states no verdict the course knows" in text
    assert "there is no claim 'b4-no-such-claim' in claims.yaml" in text


def test_a_bank_whose_keys_agree_loads() -> None:
    bank = load_bank("verdicts-agree-with-claims", FIXTURES / "banks")
    keyed = [p.claim for q in bank.questions for p in getattr(q, "pairs", [])]
    assert "a8-partnership-grow-stronger" in keyed


def test_claim_keys_are_not_shipped_to_the_page() -> None:
    bank = load_bank("verdicts-agree-with-claims", FIXTURES / "banks")
    def keys(value: object) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    assert "claim" not in keys([q.model_dump() for q in bank.questions])


# ---- notebooks


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_notebook_cell_states_a_verdict_that_contradicts_the_file(notebook: Path) -> None:
    problems = notebook_problems(json.loads(notebook.read_text(encoding="utf-8")))
    assert not problems, "\n".join(f"{notebook.relative_to(ROOT)}: {p}" for p in problems)


def test_a_planted_notebook_with_a_contradicting_cell_is_caught() -> None:
    notebook = json.loads(
        (FIXTURES / "claims" / "notebook-verdict-contradicts.ipynb").read_text(encoding="utf-8")
    )
    problems = notebook_problems(notebook)
    assert len(problems) == 2, problems
    assert problems[0].startswith("cell 1: 'failed' states failed, but claims.yaml gives claim "
                                  "'a8-partnership-grow-stronger'")
    assert problems[1].startswith("cell 3: there is no claim 'b4-no-such-claim'")


# ---- the strict build


@pytest.mark.slow  # a Sphinx build of its own
def test_a_contradicting_verdict_fails_a_strict_sphinx_build(tmp_path: Path) -> None:
    from tests.support.book import TinyBook

    book = TinyBook(tmp_path, {
        "page": "# Page\n\nA8 {verdict}`Failed <a8-partnership-grow-stronger>`.\n",
        "claims": "# Claims checked\n\n```{claims-checked} A\n```\n",
        "article-a": "# Article A\n\n```{article-text} A\n```\n",
    })
    failed = book.build()
    assert failed.returncode != 0
    assert "'Failed' states failed, but claims.yaml gives claim 'a8-partnership" in failed.stderr

    book.write("page", "# Page\n\nA8 {verdict}`Held <a8-partnership-grow-stronger>`; "
                       "A2 is {verdict}`a2-moscow-june-2019-meeting`.\n")
    passed = book.build()
    assert passed.returncode == 0, passed.stderr
    page = (tmp_path / "out" / "page.html").read_text()
    assert 'href="claims.html#claim-a8-partnership-grow-stronger"' in page
    # the bare role prints the file's verdict
    assert 'claim-a2-moscow-june-2019-meeting"><span class="std std-ref">false</span>' in page
    claims_page = (tmp_path / "out" / "claims.html").read_text()
    assert 'id="claim-a2-moscow-june-2019-meeting"' in claims_page
    assert 'href="article-a.html#A2"' in claims_page
