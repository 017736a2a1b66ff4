"""The book's HTML form: repeatable, labelled, self-contained, links to paragraphs."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from course.quiz.bank import load_bank
from course.quiz.html_view import bank_html, inline

BANKS = Path(__file__).parent / "fixtures" / "banks"


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []
        self.label_for: set[str] = set()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag in {"input", "select"}:
            self.controls.append(a.get("id") or "")
        if tag == "label":
            self.label_for.add(a.get("for") or "")


def test_form_is_repeatable_labelled_and_offline() -> None:
    bank = load_bank("all-question-types", BANKS)
    page = bank_html(bank)
    assert page == bank_html(load_bank("all-question-types", BANKS))
    form = _Form()
    form.feed(page)
    assert form.controls and set(form.controls) <= form.label_for
    assert len(form.ids) == len(set(form.ids))
    assert page.count("<fieldset") == len(bank.questions)
    assert page.count('aria-live="polite"') == len(bank.questions) + 1
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_inline_markup_escapes_and_links() -> None:
    assert inline("**A7** and *B12* <b>") == (
        '<strong><a href="articles/article-a.html#A7" title="Paragraph A7 of article A">A7</a>'
        '</strong> and <em><a href="articles/article-b.html#B12" '
        'title="Paragraph B12 of article B">B12</a></em> &lt;b&gt;'
    )
    assert inline("B42 stays text") == "B42 stays text"
    assert inline("A7", None) == "A7"
    assert 'href="../articles/article-a.html#A1"' in inline("A1", "../")


def test_key_cannot_close_the_script_early(tmp_path: Path) -> None:
    text = (BANKS / "all-question-types.yaml").read_text()
    text = text.replace("Right, realpolitik (A4).", "Right, realpolitik (A4). </script>")
    (tmp_path / "all-question-types.yaml").write_text(text)
    page = bank_html(load_bank("all-question-types", tmp_path))
    assert page.count("</script>") == 3  # the key, the words and the script
