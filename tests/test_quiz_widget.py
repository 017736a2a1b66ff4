"""The live ipywidgets quiz, driven headless: set values, click buttons, read the outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.quiz import practice, show
from course.quiz.bank import load_bank
from course.quiz.progress import ProgressStore

BANKS = Path(__file__).parent / "fixtures" / "banks"


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
    assert "Score: 0 of 7 (1 of 7 questions checked)" in quiz.summary.value
    assert [a["question"] for a in store.attempts()] == ["aqt-identical-bio"]
    view.controls[0].value = "a"
    view.check_button.click()
    assert "Correct" in view.feedback.value and "Score: 1 of 7" in quiz.summary.value
    assert store.latest_scores() == {"aqt-identical-bio": 1.0}


def test_every_type_can_be_answered(quiz, store: ProgressStore) -> None:
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
    for view in quiz.questions[1:]:
        view.check_button.click()
    assert "Partly correct" in ms.feedback.value and "0.6667" in ms.feedback.value
    assert all("Correct" in v.feedback.value for v in quiz.questions[2:])
    assert "Score: 5.67 of 7" in quiz.summary.value
    assert len(store.attempts()) == 6


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
    assert "(0 of 7 questions checked)" in quiz.summary.value


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
    assert store.attempts() == [] and "(0 of 7 questions checked)" in quiz.summary.value


def test_practice_mastery_updates_and_resets_in_two_steps(
    tmp_path: Path, store: ProgressStore
) -> None:
    folder = tmp_path / "banks"
    folder.mkdir()
    (folder / "all-question-types.yaml").write_bytes(
        (BANKS / "all-question-types.yaml").read_bytes()
    )
    view = practice(size=7, seed=1, folder=folder)
    panel = view.children[1]
    assert "<td>0 of 4</td><td>0%</td>" in panel.table.value
    q = _view(view, "aqt-b-order")
    rank = {i.text: k for k, i in enumerate(q.question.items, 1)}
    for drop in q.controls:
        drop.value = rank[drop.description]
    q.check_button.click()
    assert "<td>1 of 4</td><td>25%</td>" in panel.table.value
    assert [b.value for b in panel.bars.children if b.description == "aqt-structure:"] == [0.25]
    panel.reset_button.click()
    assert store.attempts() and panel.reset_button.description == "Click again to confirm"
    panel.reset_button.click()
    assert store.attempts() == [] and "<td>0 of 4</td><td>0%</td>" in panel.table.value
