"""The live ipywidgets quiz, driven headless: set values, click buttons, read the outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.quiz import practice, show
from course.quiz.bank import load_bank
from course.quiz.progress import ProgressStore

BANKS = Path(__file__).parent / "fixtures" / "banks"
# the all-types bank has one question or more per type: counts follow it, so a new type's
# question changes no test here (src/course/quiz/README.md, Adding a question type)
TOTAL = len(load_bank("all-question-types", BANKS).questions)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProgressStore:
    monkeypatch.setenv("COURSE_PROGRESS_DIR", str(tmp_path))
    return ProgressStore()


@pytest.fixture
def quiz(store: ProgressStore):
    return show("all-question-types", BANKS)


def _view(quiz, qid: str):
    return next(v for v in quiz.questions if v.question.id == qid)


def test_check_shows_feedback_score_and_records(quiz, store: ProgressStore) -> None:
    view = _view(quiz, "aqt-identical-bio")
    view.controls[0].value = "b"
    view.check_button.click()
    assert "Not correct" in view.feedback.value and "A1 starts from recent" in view.feedback.value
    assert f"Score: 0 of {TOTAL} (1 of {TOTAL} questions checked)" in quiz.summary.value
    assert [a["question"] for a in store.attempts()] == ["aqt-identical-bio"]
    view.controls[0].value = "a"
    view.check_button.click()
    assert "Correct" in view.feedback.value and f"Score: 1 of {TOTAL}" in quiz.summary.value
    assert store.latest_scores() == {"aqt-identical-bio": 1.0}


def test_every_type_can_be_answered(quiz, store: ProgressStore) -> None:
    """Each type answered through its widgets as a student would; single choice is answered in
    test_check_shows_feedback_score_and_records."""
    from course.quiz.types import REGISTRY

    choice = _view(quiz, "aqt-identical-bio")
    choice.controls[0].value = "a"
    _view(quiz, "aqt-same-author").controls[0].value = True
    ms = _view(quiz, "aqt-b-no-intervention")
    wanted = {o.text for o in ms.question.options if o.id in {"b4", "b8"}}
    for box in ms.controls:  # tick by the label a student reads, whatever the order
        box.value = box.description in wanted
    _view(quiz, "aqt-paragraphs-a").controls[0].value = " 18 "
    _view(quiz, "aqt-realpolitik").controls[0].value = "Real-politik!"
    order = _view(quiz, "aqt-b-order")
    rank = {i.text: k for k, i in enumerate(order.question.items, 1)}
    for drop in order.controls:
        drop.value = rank[drop.description]
    match = _view(quiz, "aqt-which-article")
    for drop, pair in zip(match.controls, match.question.pairs, strict=True):
        drop.value = pair.answer
    answered = [choice, ms, *(_view(quiz, qid) for qid in (
        "aqt-same-author", "aqt-paragraphs-a", "aqt-realpolitik", "aqt-b-order",
        "aqt-which-article"))]
    untested = sorted(set(REGISTRY) - {view.question.type for view in answered})
    assert not untested, (f"answer a question of type(s) {untested} here through its widgets "
                          "(src/course/quiz/README.md, Adding a question type, step 5)")
    for view in answered:
        view.check_button.click()
    assert "Partly correct" in ms.feedback.value and "0.6667" in ms.feedback.value
    assert all("Correct" in v.feedback.value for v in answered if v is not ms)
    assert f"Score: 6.67 of {TOTAL}" in quiz.summary.value
    assert len(store.attempts()) == len(answered)


def test_explanation_and_retry(quiz) -> None:
    view = _view(quiz, "aqt-paragraphs-a")
    assert view.explanation.layout.display == "none"
    view.explain_button.click()
    assert view.explanation.layout.display is None and "A18" in view.explanation.value
    assert view.explain_button.description == "Hide explanation"
    view.controls[0].value = "16"
    view.check_button.click()
    assert "leaves out the author note" in view.feedback.value
    view.retry_button.click()
    assert view.controls[0].value == "" and view.result is None
    assert f"(0 of {TOTAL} questions checked)" in quiz.summary.value


def test_ordering_needs_each_position_once(quiz) -> None:
    order = _view(quiz, "aqt-b-order")
    for drop in order.controls:
        drop.value = 1
    order.check_button.click()
    assert "Give each item a different position" in order.feedback.value


def test_every_control_has_a_label(quiz) -> None:
    for view in quiz.questions:
        for control in view.controls:
            assert control.description
        for button in (view.check_button, view.explain_button, view.retry_button):
            assert button.description and button.tooltip


def test_mimebundle_carries_widget_and_book_form(quiz) -> None:
    bundle = quiz._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].startswith('<section class="cq-quiz" id="cq-quiz-all-question-')


def test_practice_mixes_banks_and_shows_mastery(tmp_path: Path, store: ProgressStore) -> None:
    bank = load_bank("all-question-types", BANKS)
    (tmp_path / "banks").mkdir()
    (tmp_path / "banks" / "all-question-types.yaml").write_bytes(
        (BANKS / "all-question-types.yaml").read_bytes()
    )
    view = practice(size=4, seed=3, folder=tmp_path / "banks")
    assert len(view.questions) == 4
    assert {v.question.id for v in view.questions} <= {q.id for q in bank.questions}
    html = view._repr_mimebundle_()["text/html"]
    assert "Mastery per learning objective" in html and "cq-reset-all" in html
    assert practice(size=4, seed=3, folder=tmp_path / "banks")._repr_mimebundle_()[
        "text/html"
    ] == html


def test_practice_without_banks_says_so(tmp_path: Path, store: ProgressStore) -> None:
    view = practice(folder=tmp_path)
    assert "No question banks yet" in view.value


def test_empty_check_is_neither_graded_nor_recorded(quiz, store: ProgressStore) -> None:
    view = _view(quiz, "aqt-realpolitik")
    view.controls[0].value = "   "
    assert view.check() is None
    number = _view(quiz, "aqt-paragraphs-a")
    for typed in ("nan", "inf", "eighteen"):
        number.controls[0].value = typed
        assert number.check() is None
    view.check_button.click()
    assert view.feedback.value == "Answer the question first, then check."
    assert store.attempts() == [] and f"(0 of {TOTAL} questions checked)" in quiz.summary.value


def test_practice_mastery_updates_and_resets_in_two_steps(
    tmp_path: Path, store: ProgressStore
) -> None:
    folder = tmp_path / "banks"
    folder.mkdir()
    (folder / "all-question-types.yaml").write_bytes(
        (BANKS / "all-question-types.yaml").read_bytes()
    )
    view = practice(size=TOTAL, seed=1, folder=folder)
    panel = view.children[1]
    structure = sum(q.objective == "aqt-structure"
                    for q in load_bank("all-question-types", BANKS).questions)
    assert f"<td>0 of {structure}</td><td>0%</td>" in panel.table.value
    q = _view(view, "aqt-b-order")
    rank = {i.text: k for k, i in enumerate(q.question.items, 1)}
    for drop in q.controls:
        drop.value = rank[drop.description]
    q.check_button.click()
    assert f"<td>1 of {structure}</td><td>{1 / structure:.0%}</td>" in panel.table.value
    assert [b.value for b in panel.bars.children if b.description == "aqt-structure:"] == [
        pytest.approx(1 / structure)]
    panel.reset_button.click()
    assert store.attempts() and panel.reset_button.description == "Click again to confirm"
    panel.reset_button.click()
    assert store.attempts() == [] and f"<td>0 of {structure}</td><td>0%</td>" in (
        panel.table.value)


def test_quotations_show_as_quotations_in_every_widget_and_in_the_book(quiz) -> None:
    """A {quote} in an option or a matching line reads “words” (B12), never as markup."""
    import json
    import re

    import ipywidgets as w

    def texts(widget: object) -> list[str]:
        found = [str(getattr(widget, "description", ""))]
        found += [str(label) for label, _ in getattr(widget, "options", []) or []
                  if isinstance(label, str)]
        found += [str(getattr(widget, "value", "")) for _ in [0] if isinstance(widget, w.HTML)]
        for child in getattr(widget, "children", []):
            found += texts(child)
        return found

    shown = "\n".join(texts(quiz))
    assert "{quote}" not in shown
    assert "\u201cIn conclusion\u201d (B17)" in shown
    assert "\u201cthe Six Party Talks\u201d (B5)" in shown
    page = quiz._repr_mimebundle_()["text/html"]
    key = json.loads(re.search(r'class="cq-key">(.*?)</script>', page, re.S).group(1))
    assert "{quote}" not in page.split('class="cq-key">')[0]  # the form
    prompts = [p["prompt"] for q in key if q["type"] == "matching" for p in q["pairs"]]
    assert "Names \u201cthe Six Party Talks\u201d (B5)" in prompts
