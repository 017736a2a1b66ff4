"""The course package's checks that must give the same answers under CPython and in the
browser (Pyodide). test_lite.py runs ``run_checks`` in this Python and, as the source of this
file pasted into a notebook cell, in the JupyterLite site; the two results must be equal.
Standard library and the course package only: the file runs as it is in both."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path


def run_checks() -> dict:
    from course.quiz import load_all_banks, load_bank, practice, show
    from course.quiz.engine import attempt, grade
    from course.quiz.progress import ProgressStore, practice_set
    from course.sources import load_article, paragraph
    from course.textkit import quotations, sentences, words
    from course.timeline import events_between, load_events

    out: dict = {}
    a, b = load_article("A"), load_article("B")
    out["paragraphs"] = [len(a.paragraphs), len(b.paragraphs)]
    out["A2"] = paragraph("A2").text
    out["headings_B"] = list(b.headings)
    out["words_A"] = len(words(a.body_text()))
    out["sentences_A3"] = sentences(paragraph("A3").text)
    out["quotes_A3"] = [q.text for q in quotations(paragraph("A3").text)]
    events = load_events()
    out["events"] = [len(events), events[0].id, events[-1].date.isoformat()]
    out["events_2024"] = [e.id for e in events_between("2024-01-01", "2024-12-31")]
    banks = load_all_banks()
    out["banks"] = {bank.chapter: len(bank.questions) for bank in banks}
    sanctions = load_bank("sanctions")
    question = sanctions.questions[0]
    right = {"single_choice": lambda q: next(o.id for o in q.options if o.correct),
             "true_false": lambda q: q.answer}.get(question.type)
    if right is not None:
        out["grade_right"] = grade(question, right(question)).score
    folder = Path(tempfile.mkdtemp())
    store = ProgressStore(folder)
    result, record = attempt("sanctions", question, None)
    store.record(record)
    out["stored"] = [len(store.attempts()), store.attempts()[0]["question"], result.score]
    out["practice"] = [q.id for _, q in practice_set(banks, {}, 5, 2026)]
    out["show"] = type(show("sanctions")).__name__
    out["practice_view"] = type(practice(size=3, seed=1, store=store)).__name__
    out["yaml_free"] = "yaml" not in sys.modules if sys.platform == "emscripten" else None
    return out


def report() -> str:
    """One line the browser test finds in the cell's output."""
    return "CHECKS=" + json.dumps(run_checks(), sort_keys=True)
