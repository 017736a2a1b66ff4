"""The dating rule: no page states the present of current affairs without a date.

The rule and the detector are described in docs/accuracy.md; the detector is
``course.dating.undated_present``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course.dating import undated_present

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "dating"
PAGES = sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "book" / "articles").glob("*.md"))


def _paragraph_lines(text: str) -> set[int]:
    """The first line of every paragraph after the page's title (one planted case each)."""
    lines = text.splitlines()
    starts = {n for n, line in enumerate(lines, start=1)
              if line.strip() and (n == 1 or not lines[n - 2].strip())}
    return {n for n in starts if not lines[n - 1].startswith(("#", "```", "  "))}


def test_every_planted_undated_statement_is_flagged() -> None:
    text = (FIXTURES / "undated-present.md").read_text(encoding="utf-8")
    flagged = {f.line for f in undated_present(text)}
    assert flagged >= _paragraph_lines(text), undated_present(text)
    # each of the forms the issue named is among the reasons
    reasons = " ".join(f.why for f in undated_present(text))
    for form in ("'now'", "'So far'", "'is fighting'", "'Six years of events'", "'current'",
                 "'that limits'"):
        assert form in reasons


def test_dated_and_past_statements_quotations_and_code_are_not_flagged() -> None:
    text = (FIXTURES / "dated-present.md").read_text(encoding="utf-8")
    assert undated_present(text) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT / "book").as_posix())
def test_no_page_states_the_present_without_a_date(page: Path) -> None:
    findings = undated_present(page.read_text(encoding="utf-8"))
    assert not findings, "\n".join(
        [f"{page.relative_to(ROOT)}: {f}" for f in findings]
        + ["write 'as of <date>' or use the past tense (docs/accuracy.md)"]
    )


def test_the_stated_cut_off_is_the_latest_event_of_the_record() -> None:
    from course.timeline import load_events

    # the end of New START's term is a fixed date, not an event of the record
    latest = max(e.date for e in load_events() if e.id != "new-start-expired")
    stated = f"{latest.day} {latest:%B %Y}"
    for path in (ROOT / "book" / "index.md", ROOT / "book" / "claims.md",
                 ROOT / "docs" / "accuracy.md"):
        text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))
        assert stated in text, f"{path.relative_to(ROOT)} does not state the cut-off {stated}"
