"""Sphinx extension of the course book.

- ``article-text``: a directive that renders one article from the package data, every
  paragraph with its id as a visible number and as an HTML anchor.
- ``para``: a role that cites a paragraph, ``{para}`A7```, and links it to its reader page.
  An id that names no paragraph is a build warning, so a strict build fails on it.
- Pages never load the ipywidgets manager or its state: static pages have no kernel, and
  the quizzes carry their own script (see DESIGN.md, point 3).
- Every page that is a notebook opens in the in-browser site (``make book`` builds it into
  ``lite/``): a link at its top; ``exercise-notebooks`` lists the assignments with the same
  link (docs/lite.md).
"""

from __future__ import annotations

import html
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.roles import XRefRole
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from course.sources import UnknownParagraphError, load_article, paragraph

logger = logging.getLogger(__name__)


def label_for(pid: str) -> str:
    """The Sphinx label under which a paragraph is registered."""
    return f"para-{pid.lower()}"


class ArticleText(SphinxDirective):
    """Render an article verbatim, with numbered and anchored paragraphs."""

    required_arguments = 1
    option_spec = {"class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        try:
            article = load_article(self.arguments[0])
        except UnknownParagraphError as error:
            raise self.error(str(error)) from error
        std = self.env.get_domain("std")
        out: list[nodes.Node] = []
        for index, section in enumerate(article.sections, start=1):
            section_id = f"{article.slug}-section-{index}"
            sec = nodes.section(ids=[section_id], classes=["article-section"])
            sec += nodes.title(section.heading, section.heading)
            for para in section.paragraphs:
                node = nodes.paragraph(
                    ids=[para.anchor], classes=["article-paragraph", f"article-{para.role}"]
                )
                number = nodes.reference(
                    "", para.id, refuri=f"#{para.anchor}", classes=["paragraph-number"]
                )
                node += number
                node += nodes.Text(" ")
                node += nodes.inline(para.text, para.text, classes=["paragraph-text"])
                sec += node
                std.note_hyperlink_target(
                    label_for(para.id), self.env.docname, para.anchor, f"paragraph {para.id}"
                )
            out.append(sec)
        return out


class ParagraphRole(XRefRole):
    """``{para}`A7``` or ``{para}`the meeting <A7>```: a link to a paragraph."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        # resolve through the standard domain's labels, which ArticleText registers
        self.refdomain, self.reftype = "std", "ref"
        self.classes = ["xref", "std", "std-ref", "paragraph-citation"]
        return self.create_xref_node()

    def process_link(
        self, env: Any, refnode: nodes.Element, has_explicit_title: bool, title: str, target: str
    ) -> tuple[str, str]:
        try:
            found = paragraph(target)
        except UnknownParagraphError as error:
            logger.warning("%s", error, location=refnode, type="course", subtype="para")
            return title, label_for(target)
        refnode["refexplicit"] = True  # the link text is the id, not the label's title
        refnode["reftitle"] = found.text[:120]
        return (title if has_explicit_title else found.id), label_for(found.id)


def _unwanted(asset: Any) -> bool:
    name = str(getattr(asset, "filename", asset))
    attributes = str(getattr(asset, "attributes", ""))
    return "ipywidgets" in name or "thebe" in name or "widget-state" in attributes


def _drop_unwanted_assets(app: Sphinx, pagename: str, templatename: str, context: dict,
                          doctree: Any) -> None:
    # myst-nb adds the widget manager and the saved widget state to every page with a
    # widget; the book shows the quizzes' text/html form instead, so neither is needed.
    # sphinx-thebe is switched off (see _disable_thebe) but its stylesheet is still listed.
    for key in ("script_files", "css_files"):
        if context.get(key):
            context[key] = [asset for asset in context[key] if not _unwanted(asset)]
    # docutils marks each bibliography entry role="doc-biblioentry" inside a role="list";
    # ARIA 1.2 lets a list hold only listitems (axe: aria-required-children, critical).
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


class ExerciseNotebooks(SphinxDirective):
    """The assignments of ``exercises/``, each with its title and a link that opens it in the
    in-browser site."""

    def run(self) -> list[nodes.Node]:
        from course.lite_build import exercise_notebooks, notebook_title, open_url

        items = []
        prefix = "../" * self.env.docname.count("/")
        for path in exercise_notebooks():
            self.env.note_dependency(str(path))
            site_file = f"exercises/{path.parent.name}/{path.name}"
            items.append(
                f"<li><strong>{html.escape(path.parent.name)}</strong>: "
                f"{html.escape(notebook_title(path))}. <a class='lite-open' "
                f"href='{html.escape(prefix + open_url(site_file), quote=True)}'>Open "
                f"{html.escape(path.parent.name)} in the browser</a></li>"
            )
        return [nodes.raw("", "<ul class='exercise-notebooks'>" + "".join(items) + "</ul>",
                          format="html")]


def _add_browser_link(app: Sphinx, pagename: str, templatename: str, context: dict,
                      doctree: Any) -> None:
    # A chapter or the practice page is a notebook: the in-browser site carries it, converted
    # from the same source, and this link opens it there with the Python kernel.
    from course.lite_build import REPO, chapter_notebooks, open_url, site_path

    pages = {p.relative_to(REPO).with_suffix("").as_posix(): p for p in chapter_notebooks()}
    if pagename not in pages or "body" not in context:
        return
    href = "../" * pagename.count("/") + open_url(site_path(pages[pagename]))
    context["body"] = (
        f"<p class='lite-open'><a href='{html.escape(href, quote=True)}'>Open this page in "
        "the browser</a> as a notebook: its code runs in your browser, with nothing to "
        "install.</p>" + context["body"]
    )


def _disable_thebe(app: Sphinx, config: Any) -> None:
    # Jupyter Book 1 always loads sphinx-thebe, whose page scripts name a CDN (unpkg) and
    # declare THEBE_JS_URL twice, a console error. The course runs code in Jupyter, not
    # through Binder, so thebe's listeners are removed before they add anything.
    for listeners in app.events.listeners.values():
        listeners[:] = [
            listener for listener in listeners
            if not getattr(listener.handler, "__module__", "").startswith("sphinx_thebe")
        ]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _disable_thebe, priority=900)
    app.add_directive("article-text", ArticleText)
    app.add_role("para", ParagraphRole(innernodeclass=nodes.inline, warn_dangling=True))
    app.connect("html-page-context", _drop_unwanted_assets)
    app.add_directive("exercise-notebooks", ExerciseNotebooks)
    app.connect("html-page-context", _add_browser_link)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
