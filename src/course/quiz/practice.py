"""Self-study practice: a mixed, seeded set from every bank, with mastery per objective."""

from __future__ import annotations

import html
import json
from pathlib import Path

import ipywidgets as w

from course.quiz.bank import Bank, load_all_banks, load_bank
from course.quiz.progress import Mastery, ProgressStore, practice_set
from course.quiz.widget_view import QuizView

DEFAULT_SIZE = 10
DEFAULT_SEED = 2026


def show(chapter_id: str, folder: Path | None = None, store: ProgressStore | None = None
         ) -> QuizView:  # fmt: skip
    """The quiz of one chapter (book/quizzes/<chapter_id>.yaml), for the chapter's last cell."""
    bank = load_bank(chapter_id, folder)
    return QuizView(bank.chapter, f"Quiz: {bank.title}",
                    [(bank.chapter, q) for q in bank.questions], store)  # fmt: skip


def book_mastery_html(banks: list[Bank]) -> str:
    """The book's mastery table: the script fills each row from localStorage."""
    rows = []
    for bank in banks:
        for o in bank.objectives:
            ids = bank.question_ids(o.id)
            rows.append(
                f"<tr data-questions='{html.escape(json.dumps(ids), quote=True)}'>"
                f"<td>{html.escape(bank.title)}</td><td>{html.escape(o.text)}</td>"
                f"<td><meter min='0' max='100' value='0' aria-label='Mastery: "
                f"{html.escape(o.text, quote=True)}'></meter> "
                f"<span class='cq-mastery-score'>0% (0 of {len(ids)} answered)</span></td></tr>"
            )
    return (
        "<div class='cq-mastery'><table><caption>Mastery per learning objective, from the "
        "answers kept in this browser</caption><thead><tr><th scope='col'>Chapter</th>"
        "<th scope='col'>Objective</th><th scope='col'>Mastery</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><button type='button' class='cq-reset-all cq-secondary'>"
        "Reset all my answers</button></div>"
    )


def _widget_mastery_html(rows: list[Mastery]) -> str:
    lines = "".join(
        f"<tr><td>{html.escape(m.chapter)}</td><td>{html.escape(m.text)}</td>"
        f"<td>{m.answered} of {m.questions}</td><td>{m.score:.0%}</td></tr>"
        for m in rows
    )
    return (
        "<table><caption>Mastery per learning objective</caption><thead><tr>"
        "<th>Chapter</th><th>Objective</th><th>Answered</th><th>Mastery</th></tr></thead>"
        f"<tbody>{lines}</tbody></table>"
    )


class MasteryPanel(w.VBox):
    """Table and bar chart of mastery per objective, with a two-step reset of all progress."""

    def __init__(self, banks: list[Bank], store: ProgressStore) -> None:
        self.banks, self.store = banks, store
        self.table = w.HTML()
        self.bars = w.VBox()
        self.reset_button = w.Button(
            description="Reset my progress", tooltip="Delete every recorded attempt"
        )
        self.reset_button.on_click(lambda _: self.reset())
        self.refresh()
        super().__init__([self.table, self.bars, self.reset_button])

    def refresh(self) -> None:
        rows = self.store.mastery(self.banks)
        self.table.value = _widget_mastery_html(rows)
        self.bars.children = [
            w.FloatProgress(value=m.score, min=0, max=1, description=f"{m.objective}:",
                            style={"description_width": "initial"})  # fmt: skip
            for m in rows
        ]

    def reset(self) -> None:
        # The first click only asks: deleting progress cannot be undone.
        if self.reset_button.description != "Click again to confirm":
            self.reset_button.description = "Click again to confirm"
            return
        self.store.reset()
        self.reset_button.description = "Reset my progress"
        self.refresh()


def practice(size: int = DEFAULT_SIZE, seed: int | str = DEFAULT_SEED,
             folder: Path | None = None, store: ProgressStore | None = None
             ) -> QuizView | w.HTML:  # fmt: skip
    """A mixed practice set from all banks, weighted towards questions answered wrong, with
    mastery per objective. The book's form is the unweighted set for the same seed, so the
    page is the same on every build; its mastery comes from the answers in the browser."""
    banks = load_all_banks(folder)
    if not banks:
        return w.HTML(
            "<p>No question banks yet: practice starts once the chapters' quizzes exist "
            "(book/quizzes/*.yaml).</p>"
        )
    store = store if store is not None else ProgressStore()
    chosen = practice_set(banks, store.latest_scores(), size, seed)
    return QuizView(
        "practice", "Practice: a mixed set from all chapters",
        [(bank.chapter, q) for bank, q in chosen], store,
        header=[MasteryPanel(banks, store)], html_extra=book_mastery_html(banks),
        book_questions=[q for _, q in practice_set(banks, {}, size, seed)],
    )  # fmt: skip
