"""The book's quiz script in Chromium: it agrees with every test vector, works by mouse and by
keyboard alone, keeps answers over a reload, and passes axe (no serious/critical issues)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from course.quiz.bank import load_bank
from course.quiz.html_view import bank_html
from tests.support.browser import OfflinePage, serve_folder

HERE = Path(__file__).parent
BANKS = HERE / "fixtures" / "banks"
VECTORS = yaml.safe_load((HERE / "quiz-vectors.yaml").read_text(encoding="utf-8"))
# the summary counts follow the all-types bank, so a new type's question changes no test here
TOTAL = len(load_bank("all-question-types", BANKS).questions)
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Quiz test page</title></head>
<body><main><h1>Quiz test page</h1>
{quiz}
</main></body></html>
"""


@pytest.fixture(scope="module")
def quiz_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The HTML renderer's output for the test bank, in a minimal page on loopback."""
    folder = tmp_path_factory.mktemp("quiz-page")
    (folder / "book").mkdir()
    bank = load_bank("all-question-types", BANKS)
    (folder / "book" / "quiz.html").write_text(PAGE.format(quiz=bank_html(bank)), "utf-8")
    server, url = serve_folder(folder)
    yield f"{url}/book/quiz.html"
    server.shutdown()
    server.server_close()


def _open(offline_page: OfflinePage, url: str) -> object:
    offline_page.goto(url)
    return offline_page.page


def test_script_agrees_with_every_vector(offline_page: OfflinePage, quiz_url: str) -> None:
    page = _open(offline_page, quiz_url)
    results = page.evaluate(
        """vectors => {
          const key = JSON.parse(document.querySelector("script.cq-key").textContent);
          return vectors.map(v => {
            const r = window.courseQuiz.grade(key.find(q => q.id === v.question), v.response);
            return [r.verdict, r.score, r.feedback.length];
          });
        }""",
        VECTORS,
    )
    got = [(v, s) for v, s, _ in results]
    assert got == [(v["verdict"], v["score"]) for v in VECTORS]
    assert all(n >= 1 for _, _, n in results)
    assert offline_page.console_errors == [] and offline_page.external_requests == []


def _fill(page: object, question: object, response: object) -> bool:
    """Answer through the form as a student would; False if the form cannot express it."""
    qid, box = question.id, page.locator(f"#cq-{question.id}")
    box.locator(".cq-retry").click()
    if question.type in ("single_choice", "true_false"):
        value = str(response).lower() if isinstance(response, bool) else response
        if page.locator(f"#cq-{qid}-{value}").count() != 1:
            return False
        page.locator(f"#cq-{qid}-{value}").check()
    elif question.type == "multiple_select":
        for option in response:
            page.locator(f"#cq-{qid}-{option}").check()
    elif question.type in ("numeric", "short_text"):
        page.locator(f"#cq-{qid}-answer").fill(str(response))
    elif question.type == "ordering":
        if sorted(response) != sorted(i.id for i in question.items):
            return False
        for position, item in enumerate(response, 1):
            page.locator(f"#cq-{qid}-{item}").select_option(str(position))
    elif question.type == "matching":
        for pair, choice in response.items():
            page.locator(f"#cq-{qid}-{pair}").select_option(choice)
    else:
        raise AssertionError(f"no way to answer a {question.type!r} question through the form: "
                             "add one here (src/course/quiz/README.md, Adding a question type, "
                             "step 5)")
    box.locator(".cq-check").click()
    return True


def test_form_answers_get_the_vector_verdicts(offline_page: OfflinePage, quiz_url: str) -> None:
    """Every vector a student can enter, entered through the form and checked by click."""
    page = _open(offline_page, quiz_url)
    bank = load_bank("all-question-types", BANKS)
    answered = 0
    for v in VECTORS:
        question = bank.question(v["question"])
        if v["response"] in (None, "", [], {}) or not _fill(page, question, v["response"]):
            continue
        stored = page.evaluate(f"JSON.parse(localStorage.getItem('course-quiz:{question.id}'))")
        assert (stored["verdict"], stored["score"]) == (v["verdict"], v["score"]), v
        assert _feedback(page, question.id).strip()
        answered += 1
    assert answered >= 35
    assert offline_page.console_errors == [] and offline_page.external_requests == []


def _feedback(page: object, qid: str) -> str:
    return page.locator(f"#cq-{qid}-feedback").inner_text()


def test_answer_by_mouse_and_survive_reload(offline_page: OfflinePage, quiz_url: str) -> None:
    page = _open(offline_page, quiz_url)
    page.get_by_label("A1 and B1").check()
    page.locator("#cq-aqt-identical-bio .cq-check").click()
    text = _feedback(page, "aqt-identical-bio")
    assert "Not correct" in text and "A1 starts from recent actions" in text
    page.locator("#cq-aqt-b-no-intervention").get_by_label("B4", exact=True).check()
    page.locator("#cq-aqt-b-no-intervention").get_by_label("B8", exact=True).check()
    page.locator("#cq-aqt-b-no-intervention .cq-check").click()
    assert "Partly correct (score 0.6667 of 1)" in _feedback(page, "aqt-b-no-intervention")
    for item, position in [("cold-war", "1"), ("six-party", "2"), ("sanctions", "3"),
                           ("conclusion", "4")]:  # fmt: skip
        page.locator(f"#cq-aqt-b-order-{item}").select_option(position)
    page.locator("#cq-aqt-b-order .cq-check").click()
    assert "Correct (score 1 of 1)" in _feedback(page, "aqt-b-order")
    summary = f"Score: 1.67 of {TOTAL} (3 of {TOTAL} questions checked)"
    assert page.locator(".cq-summary").inner_text() == summary
    # Explanations link to the paragraph on the reader page, relative to the chapter page.
    page.locator("#cq-aqt-identical-bio .cq-explain").click()
    link = page.locator("#cq-aqt-identical-bio-explanation a", has_text="A17")
    assert link.get_attribute("href") == "articles/article-a.html#A17"
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator(".cq-summary").inner_text() == summary
    assert page.get_by_label("A1 and B1").is_checked()
    assert "Not correct" in _feedback(page, "aqt-identical-bio")
    assert page.locator("#cq-aqt-b-order-sanctions").input_value() == "3"
    page.locator("#cq-aqt-realpolitik .cq-check").click()  # empty: a slip, not graded
    assert _feedback(page, "aqt-realpolitik") == "Answer the question first, then check."
    assert page.locator(".cq-summary").inner_text() == summary
    page.locator("#cq-aqt-identical-bio .cq-retry").click()
    assert not page.get_by_label("A1 and B1").is_checked()
    assert page.locator(".cq-summary").inner_text().startswith(
        f"Score: 1.67 of {TOTAL} (2 of {TOTAL}")
    assert offline_page.console_errors == [] and offline_page.external_requests == []


def test_answer_by_keyboard_alone(offline_page: OfflinePage, quiz_url: str) -> None:
    page = _open(offline_page, quiz_url)
    kb = page.keyboard
    page.locator("body").focus()
    kb.press("Tab")  # first radio of question 1 (options are shown in a seeded order)
    kb.press("Space")  # selects the first option shown
    shown = page.locator("#cq-aqt-identical-bio input[type=radio]").evaluate_all(
        "inputs => inputs.map(i => i.value)")
    for _ in range(shown.index("a")):
        kb.press("ArrowDown")  # arrow keys move the choice within the radio group
    assert page.locator("#cq-aqt-identical-bio-a").is_checked()
    kb.press("Tab")  # Check answer
    kb.press("Enter")
    assert "Correct (score 1 of 1)" in _feedback(page, "aqt-identical-bio")
    kb.press("Tab")  # Show explanation
    kb.press("Enter")
    assert page.locator("#cq-aqt-identical-bio-explanation").is_visible()
    explain = page.locator("#cq-aqt-identical-bio .cq-explain")
    assert explain.get_attribute("aria-expanded") == "true"
    # The numeric question: focus moves there by Tab only.
    for _ in range(40):
        kb.press("Tab")
        if page.evaluate("document.activeElement.id") == "cq-aqt-paragraphs-a-answer":
            break
    kb.type("16")
    kb.press("Tab")
    kb.press("Enter")
    text = _feedback(page, "aqt-paragraphs-a")
    assert "Not correct" in text and "leaves out the author note" in text
    # Matching: one select per pair, set with the arrow keys (Choose, Article A, B, Both).
    for _ in range(40):
        kb.press("Tab")
        if page.evaluate("document.activeElement.id") == "cq-aqt-which-article-six-party":
            break
    for presses in (2, 1, 3):
        for _ in range(presses):
            kb.press("ArrowDown")
        kb.press("Tab")
    kb.press("Enter")  # focus is on Check answer
    assert "Correct (score 1 of 1)" in _feedback(page, "aqt-which-article")
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator("#cq-aqt-paragraphs-a-answer").input_value() == "16"
    assert page.locator(".cq-summary").inner_text() == (
        f"Score: 2 of {TOTAL} (3 of {TOTAL} questions checked)")


def test_axe_finds_no_serious_violations(offline_page: OfflinePage, quiz_url: str, axe) -> None:
    page = _open(offline_page, quiz_url)
    for button in page.locator(".cq-check").all():
        button.click()  # show every kind of feedback box too
    for button in page.locator(".cq-explain").all():
        button.click()
    assert axe(page) == []


def _first_single_choice(page: object) -> tuple[str, str]:
    """The id of the page's first single-choice question and of its correct option."""
    return page.evaluate(
        """() => {
          const key = JSON.parse(document.querySelector("script.cq-key").textContent);
          const q = key.find(q => q.type === "single_choice");
          return [q.id, q.options.find(o => o.correct).id];
        }"""
    )


def test_chapter_quiz_counts_towards_practice_mastery(built_book, book_url, offline_page) -> None:
    chapters = [p for p in built_book.pages() if 'class="cq-quiz"' in
                (built_book.html / p).read_text("utf-8") and p.name != "practice.html"]  # fmt: skip
    assert chapters, "no chapter page of the built book shows a quiz"
    offline_page.goto(f"{book_url}/{chapters[0].as_posix()}")
    page = offline_page.page
    qid, correct = _first_single_choice(page)
    page.locator(f"#cq-{qid}-{correct}").check()
    page.locator(f"#cq-{qid} .cq-check").click()
    assert _feedback(page, qid).startswith("Correct")
    # The explanation's paragraph links lead to existing paragraphs of the reader pages.
    page.locator(f"#cq-{qid} .cq-explain").click()
    link = page.locator(f"#cq-{qid}-explanation a").first
    link.click()
    page.wait_for_load_state("load")
    assert page.locator(":target").count() == 1
    offline_page.goto(f"{book_url}/book/practice.html")
    row = page.locator(f".cq-mastery tr[data-questions*='\"{qid}\"']")
    assert "(1 of " in row.locator(".cq-mastery-score").inner_text()
    assert offline_page.external_requests == [] and offline_page.console_errors == []


def test_practice_page_grades_keeps_mastery_and_resets(book_url, offline_page, axe) -> None:
    offline_page.goto(f"{book_url}/book/practice.html")
    page = offline_page.page
    assert page.locator(".cq-question").count() == 10
    qid, correct = _first_single_choice(page)
    page.locator(f"#cq-{qid}-{correct}").check()
    page.locator(f"#cq-{qid} .cq-check").click()
    assert page.locator(".cq-summary").inner_text().startswith("Score: 1 of 10")
    row = page.locator(f".cq-mastery tr[data-questions*='\"{qid}\"']")
    before = row.locator(".cq-mastery-score").inner_text()
    assert not before.startswith("0%")
    page.reload()
    page.wait_for_load_state("networkidle")
    assert row.locator(".cq-mastery-score").inner_text() == before
    page.locator(".cq-reset-all").click()
    page.wait_for_load_state("networkidle")
    assert row.locator(".cq-mastery-score").inner_text().startswith("0% (0 of")
    assert page.locator(".cq-summary").inner_text().startswith("Score: 0 of 10")
    assert offline_page.external_requests == [] and offline_page.console_errors == []
    assert axe(page) == []


RULES = yaml.safe_load((HERE / "quiz-rule-vectors.yaml").read_text(encoding="utf-8"))


def test_script_shares_the_empty_and_ordering_rules(offline_page: OfflinePage,
                                                    quiz_url: str) -> None:
    page = _open(offline_page, quiz_url)
    empty = page.evaluate("vs => vs.map(v => window.courseQuiz.isEmpty(v.response))",
                          RULES["empty"])
    assert empty == [v["empty"] for v in RULES["empty"]]
    orders = page.evaluate(
        "vs => vs.map(v => window.courseQuiz.orderFromPositions(v.items, v.positions))",
        RULES["order"])
    assert orders == [v["order"] for v in RULES["order"]]


def test_script_has_one_handler_per_registered_type(offline_page: OfflinePage,
                                                    quiz_url: str) -> None:
    from course.quiz.types import REGISTRY

    page = _open(offline_page, quiz_url)
    handlers = page.evaluate("Object.keys(window.courseQuiz.types).sort()")
    assert handlers == sorted(REGISTRY)
    # each handler grades, reads the form and writes it back
    assert page.evaluate("""Object.values(window.courseQuiz.types).every(
        h => ['grade', 'read', 'write'].every(k => typeof h[k] === 'function'))""")
