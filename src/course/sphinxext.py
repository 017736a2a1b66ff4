"""Sphinx extension of the course book.

- ``article-text``: a directive that renders one article from the package data, every
  paragraph with its id as a visible number and as an HTML anchor.
- ``para``: a role that cites a paragraph, ``{para}`A7```, and links it to its reader page.
  An id that names no paragraph is a build warning, so a strict build fails on it.
- Pages never load the ipywidgets manager or its state: static pages have no kernel, and
  the quizzes carry their own script (see DESIGN.md, point 3).
- After an HTML build, the theme's icon stylesheet and fonts are trimmed to the icons the book
  shows (docs/page-weight.md) and the site root gets a favicon.ico (docs/reader-view.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.roles import XRefRole
from sphinx.util import isurl, logging
from sphinx.util.docutils import SphinxDirective

from course import favicon, icons
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


_SPHINX_DESIGN_CLASS = re.compile(r'class="(?:[^"]*\s)?sd-')


def _sphinx_design(asset: Any) -> bool:
    name = str(getattr(asset, "filename", asset))
    return "sphinx-design" in name or "design-tabs" in name


def _drop_unwanted_assets(app: Sphinx, pagename: str, templatename: str, context: dict,
                          doctree: Any) -> None:
    # myst-nb adds the widget manager and the saved widget state to every page with a
    # widget; the book shows the quizzes' text/html form instead, so neither is needed.
    # sphinx-thebe is switched off (see _disable_thebe) but its stylesheet is still listed.
    for key in ("script_files", "css_files"):
        if context.get(key):
            context[key] = [asset for asset in context[key] if not _unwanted(asset)]
    # Jupyter Book loads sphinx-design (55 kB of CSS and a script) on every page; a page
    # without a design component (no sd-* class) does not need them (docs/page-weight.md).
    if not _SPHINX_DESIGN_CLASS.search(context.get("body", "")):
        for key in ("script_files", "css_files"):
            if context.get(key):
                context[key] = [a for a in context[key] if not _sphinx_design(a)]
    # docutils marks each bibliography entry role="doc-biblioentry" inside a role="list";
    # ARIA 1.2 lets a list hold only listitems (axe: aria-required-children, critical).
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def _disable_thebe(app: Sphinx, config: Any) -> None:
    # Jupyter Book 1 always loads sphinx-thebe, whose page scripts name a CDN (unpkg) and
    # declare THEBE_JS_URL twice, a console error. The course runs code in Jupyter, not
    # through Binder, so thebe's listeners are removed before they add anything.
    for listeners in app.events.listeners.values():
        listeners[:] = [
            listener for listener in listeners
            if not getattr(listener.handler, "__module__", "").startswith("sphinx_thebe")
        ]


def _finish_html(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    report = icons.trim_build(outdir)
    logger.info("course: Font Awesome trimmed to %d icon names, %d glyphs",
                len(report.names), len(report.codepoints))
    if app.config.html_favicon and not isurl(app.config.html_favicon):
        # browsers that skip the page's icon link ask the site root for /favicon.ico
        favicon.write_ico(Path(app.confdir) / app.config.html_favicon, outdir / "favicon.ico")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _disable_thebe, priority=900)
    app.add_directive("article-text", ArticleText)
    app.add_role("para", ParagraphRole(innernodeclass=nodes.inline, warn_dangling=True))
    app.connect("html-page-context", _drop_unwanted_assets)
    app.connect("build-finished", _finish_html)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
