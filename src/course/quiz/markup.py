"""Pieces of the book's quiz form that question types build their controls from.

Text in a bank is plain, with **bold**, *italic*, paragraph ids and {quote} quotations; it is
escaped here once, for the book's form and for the widgets' HTML alike.
"""

from __future__ import annotations

import html
import re

from course.quotations import as_plain_text
from course.sources import PARAGRAPH_ID_RE, UnknownParagraphError, paragraph

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


def _link(match: re.Match[str], base: str) -> str:
    pid = match.group(0)
    try:
        page = paragraph(pid).href(base)
    except UnknownParagraphError:
        return pid
    return f'<a href="{page}" title="Paragraph {pid} of article {pid[0]}">{pid}</a>'


def inline(text: str, base: str | None = "") -> str:
    """Plain text with **bold**, *italic*, quotations and paragraph ids as links, escaped.
    ``base`` is the path from the page to the book/ folder ("" for a chapter page); None
    means no links (inside labels and legends, where a link would steal the click)."""
    out = html.escape(as_plain_text(text), quote=False)
    if base is not None:
        out = PARAGRAPH_ID_RE.sub(lambda m: _link(m, base), out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _ITALIC.sub(r"<em>\1</em>", out)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def choice(question_id: str, kind: str, value: str, label: str) -> str:
    """One radio button or checkbox with its label."""
    ident = f"cq-{question_id}-{value}"
    return (
        f'<div class="cq-choice"><input type="{kind}" name="cq-{attr(question_id)}" '
        f'id="{attr(ident)}" value="{attr(value)}"> '
        f'<label for="{attr(ident)}">{inline(label, None)}</label></div>'
    )


def select(ident: str, label: str, data: str, options: list[tuple[str, str]]) -> str:
    """A labelled drop-down; ``data`` is the attribute the script reads the line by."""
    opts = "".join(f'<option value="{attr(v)}">{html.escape(t)}</option>' for v, t in options)
    return (
        f'<div class="cq-row"><label for="{attr(ident)}">{inline(label, None)}</label>'
        f'<select id="{attr(ident)}" {data}>{opts}</select></div>'
    )


def text_input(question_id: str, label: str, kind: str) -> str:
    """A labelled one-line field; ``kind`` holds its type attributes."""
    ident = f"cq-{question_id}-answer"
    return (
        f'<div class="cq-row"><label for="{attr(ident)}">{html.escape(label)}'
        f'</label><input {kind} id="{attr(ident)}" autocomplete="off"></div>'
    )
