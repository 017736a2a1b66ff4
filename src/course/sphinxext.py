"""Sphinx extension of the course book.

- ``article-text``: a directive that renders one article from the package data, every
  paragraph with its id as a visible number and as an HTML anchor.
- ``para``: a role that cites a paragraph, ``{para}`A7```, and links it to its reader page.
  An id that names no paragraph is a build warning, so a strict build fails on it.
- ``quote``: a role that quotes a paragraph, ``{quote}`quoted words <B12>```, and renders the
  words in quotation marks with a link to the paragraph. Words that are not in that paragraph
  are a build warning (docs/accuracy.md), so a strict build fails on a misquotation.
- ``claims-checked``: a directive that renders every claim of ``course/data/claims.yaml``
  (paragraph, words, verdict, reason, sources), each with an anchor ``claim-<id>``.
- ``verdict``: a role that states a claim's verdict from that file, ``{verdict}`b11-...```,
  or checks a page's own label against it, ``{verdict}`Failed <b11-...>```; a label that
  contradicts the file, or an unknown id, is a build warning (docs/accuracy.md).
- Pages never load the ipywidgets manager or its state: static pages have no kernel, and
  the quizzes carry their own script (see docs/architecture.md, decision 3).
- After an HTML build, the theme's icon stylesheet and fonts are trimmed to the icons the book
  shows (docs/page-weight.md) and the site root gets a favicon.ico (docs/reader-view.md).
- Every page that is a notebook opens in the in-browser site (``make book`` builds it into
  ``lite/``): a link at its top; ``exercise-notebooks`` lists the assignments with the same
  link (docs/lite.md).
"""

from __future__ import annotations

import html
import re
from importlib import resources
from pathlib import Path
from typing import Any, cast

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.parsers.rst.states import Inliner
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.domains.std import StandardDomain
from sphinx.roles import XRefRole
from sphinx.util import isurl, logging
from sphinx.util.docutils import SphinxDirective

from course import favicon, icons
from course.claims import (
    MEANINGS,
    OUTCOMES,
    VERDICT_ROLE_RE,
    VERDICTS,
    UnknownClaimError,
    claim,
    contradiction,
    load_claims,
)
from course.quotations import ROLE_RE, QuotationError, check_quotation
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
        std = cast(StandardDomain, self.env.get_domain("std"))
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


def quote_role(name: str, rawtext: str, text: str, lineno: int, inliner: Inliner,
               options: dict | None = None, content: list[str] | None = None,
               ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """``{quote}`words <B12>```: the words in quotation marks, then a link to their paragraph."""
    match = ROLE_RE.fullmatch(f"{{quote}}`{text}`")
    if not match:
        message = inliner.reporter.error(
            f"a quotation is written {{quote}}`quoted words <B12>`, not {rawtext}", line=lineno
        )
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    words, pid = match.group("words"), match.group("pid").upper()
    try:
        check_quotation(pid, words)
    except (QuotationError, UnknownParagraphError) as error:
        logger.warning("misquotation: %s", error, location=(inliner.document.settings.env.docname,
                                                              lineno),
                       type="course", subtype="quote")
    node = nodes.inline(rawtext, "", classes=["article-quotation"])
    node += nodes.Text(f"\u201c{words}\u201d (")
    ref = addnodes.pending_xref(
        "", refdomain="std", reftype="ref", reftarget=label_for(pid), refexplicit=True,
        refwarn=True, classes=["paragraph-citation"],
    )
    ref += nodes.inline(pid, pid)
    node += ref
    node += nodes.Text(")")
    return [node], []


def claim_label(claim_id: str) -> str:
    """The Sphinx label under which a claim is registered on the Claims checked page."""
    return f"claim-{claim_id}"


class ClaimsChecked(SphinxDirective):
    """Every checked claim of one article (argument ``A`` or ``B``), or the verdict scale."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        which = self.arguments[0].upper()
        if which == "SCALE":
            return [self._scale()]
        if which not in ("A", "B"):
            raise self.error("claims-checked takes A, B or scale")
        std = cast(StandardDomain, self.env.get_domain("std"))
        # a change to claims.yaml rebuilds the page
        self.env.note_dependency(str(resources.files("course") / "data" / "claims.yaml"))
        out: list[nodes.Node] = []
        for c in load_claims():
            if c.para[0] != which:
                continue
            box = nodes.container(ids=[c.anchor], classes=["checked-claim",
                                                           f"verdict-{c.verdict}"])
            head = nodes.paragraph(classes=["checked-claim-head"])
            head += self._para_ref(c.para)
            head += nodes.Text(" \u201c" + c.quote + "\u201d")
            box += head
            fields = nodes.field_list(classes=["claim-fields"])
            fields += self._field("Claim", nodes.Text(c.claim))
            fields += self._field("Kind", nodes.Text(c.kind))
            fields += self._field("Verdict", nodes.strong(c.verdict, c.verdict,
                                                          classes=["claim-verdict"]))
            if c.outcome:
                fields += self._field("Outcome", nodes.strong(c.outcome, c.outcome,
                                                              classes=["claim-outcome"]))
            fields += self._field("Why", nodes.Text(c.reason))
            if c.sources:
                items = nodes.bullet_list(classes=["claim-sources"])
                for src in c.sources:
                    para = nodes.paragraph()
                    para += nodes.reference(src.title, src.title, refuri=src.url)
                    items += nodes.list_item("", para)
                fields += self._field("Sources", items)
            else:
                fields += self._field("Sources", nodes.Text("no archived page (see Why)"))
            fields += self._field("Id", nodes.literal(c.id, c.id))
            box += fields
            std.note_hyperlink_target(claim_label(c.id), self.env.docname, c.anchor,
                                      f"claim {c.id}")
            out.append(box)
        return out

    @staticmethod
    def _para_ref(pid: str) -> nodes.Node:
        ref = addnodes.pending_xref(
            "", refdomain="std", reftype="ref", reftarget=label_for(pid), refexplicit=True,
            refwarn=True, classes=["paragraph-citation"],
        )
        ref += nodes.inline(pid, pid)
        return ref

    @staticmethod
    def _field(name: str, value: nodes.Node) -> nodes.field:
        body = nodes.field_body()
        if isinstance(value, nodes.Body):
            body += value
        else:
            para = nodes.paragraph()
            para += value
            body += para
        return nodes.field("", nodes.field_name(name, name), body)

    @staticmethod
    def _scale() -> nodes.Node:
        items = nodes.bullet_list(classes=["verdict-scale"])
        for word in (*VERDICTS, *OUTCOMES):
            item = nodes.list_item()
            para = nodes.paragraph()
            para += nodes.strong(word, word)
            para += nodes.Text(f": {MEANINGS[word]}.")
            item += para
            items += item
        return items


def verdict_role(name: str, rawtext: str, text: str, lineno: int, inliner: Inliner,
                 options: dict | None = None, content: list[str] | None = None,
                 ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """``{verdict}`id``` or ``{verdict}`Label <id>```: a verdict, checked, linked to its claim."""
    match = VERDICT_ROLE_RE.fullmatch(f"{{verdict}}`{text}`")
    if not match:
        message = inliner.reporter.error(
            f"a verdict is written {{verdict}}`claim-id` or {{verdict}}`Label <claim-id>`, "
            f"not {rawtext}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    cid = match.group("id") or match.group("bare")
    location = (inliner.document.settings.env.docname, lineno)
    label = match.group("label")
    try:
        found = claim(cid)
    except UnknownClaimError as error:
        logger.warning("%s", error, location=location, type="course", subtype="verdict")
        return [nodes.strong(rawtext, label or cid)], []
    if label is None:
        label = found.outcome or found.verdict
    else:
        why = contradiction(cid, label)
        if why:
            logger.warning("verdict: %s", why, location=location, type="course",
                           subtype="verdict")
    ref = addnodes.pending_xref(
        "", refdomain="std", reftype="ref", reftarget=claim_label(cid), refexplicit=True,
        refwarn=True, classes=["claim-verdict-link"],
    )
    ref += nodes.strong(label, label, classes=["claim-verdict"])
    return [ref], []


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


class ExerciseNotebooks(SphinxDirective):
    """The assignments of the release folder (exercises/), each with its title and a link that
    opens it in the in-browser site."""

    def run(self) -> list[nodes.Node]:
        from course.lite_build import (
            exercise_notebooks,
            exercise_site_path,
            notebook_title,
            open_url,
        )

        items = []
        prefix = "../" * self.env.docname.count("/")
        for path in exercise_notebooks():
            self.env.note_dependency(str(path))
            site_file = exercise_site_path(path)
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


def _finish_html(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    # the icon files to trim are the book theme's (pydata-sphinx-theme's Font Awesome)
    if app.config.html_theme in ("sphinx_book_theme", "pydata_sphinx_theme"):
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
    app.add_role("quote", quote_role)
    app.add_directive("claims-checked", ClaimsChecked)
    app.add_role("verdict", verdict_role)
    app.connect("html-page-context", _drop_unwanted_assets)
    app.connect("build-finished", _finish_html)
    app.add_directive("exercise-notebooks", ExerciseNotebooks)
    app.connect("html-page-context", _add_browser_link)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
