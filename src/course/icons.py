"""The book's Font Awesome icons, trimmed to the ones it shows (docs/page-weight.md).

pydata-sphinx-theme draws its icons twice over: ``fontawesome.js`` (1.5 MB, every icon as SVG,
left out by ``book/_templates/layout.html``) and its stylesheet, which maps ~1,900 icon classes
to glyphs of the Font Awesome webfonts (about 90 kB of rules, fonts of 25-160 kB). After a
build, :func:`trim_build` keeps the rules of the icon classes the built pages and scripts
name, and replaces each webfont by a WOFF subset holding only the glyphs the stylesheets can
still show (those rules plus icons that stylesheets draw directly, such as admonition titles).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

THEME_CSS = Path("_static/styles/pydata-sphinx-theme.css")
# One rule of the icon map: `.fa-bars:before,.fa-navicon:before{content:"\f0c9"}`.
_MAP_RULE = re.compile(r'((?:\.fa-[a-z0-9-]+:before,?)+)\{content:"([^"]*)"\}')
_MAP_NAME = re.compile(r"\.fa-([a-z0-9-]+):before")
_CLASS_ATTR = re.compile(r'class="([^"]*)"')
# Class names that scripts set, e.g. `classList="fa-solid fa-xmark"` in the theme's script.
_SCRIPT_NAME = re.compile(r"\bfa-([a-z0-9-]+)")
_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
_FONT_SRC = re.compile(r"src:url\(([^)]*?/webfonts/)([a-z0-9-]+)\.woff2\)[^;}]*")
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})")
SUBSET_SUFFIX = ".subset.woff"


class IconTrimError(RuntimeError):
    """The theme's files are not laid out as this module expects (a theme upgrade)."""


def _private_use(cp: int) -> bool:
    return 0xE000 <= cp <= 0xF8FF or 0xF0000 <= cp <= 0x10FFFD


def names_in_html(text: str) -> set[str]:
    """Icon names (``bars`` for ``fa-bars``) in the class attributes of an HTML page."""
    return {
        token[3:]
        for classes in _CLASS_ATTR.findall(text)
        for token in classes.split()
        if token.startswith("fa-")
    }


def names_in_script(text: str) -> set[str]:
    return set(_SCRIPT_NAME.findall(text))


def used_names(html: Path) -> set[str]:
    """Every icon name the built pages and their scripts can show."""
    names: set[str] = set()
    for page in html.rglob("*.html"):
        names |= names_in_html(page.read_text(encoding="utf-8", errors="replace"))
    for script in (html / "_static").rglob("*.js"):
        if script.name != "fontawesome.js":  # not loaded (layout.html); it names every icon
            names |= names_in_script(script.read_text(encoding="utf-8", errors="replace"))
    return names


def prune_icon_map(css: str, keep: set[str]) -> str:
    """The stylesheet without the icon-map rules of icons not in ``keep``."""
    def rule(match: re.Match[str]) -> str:
        return match.group(0) if set(_MAP_NAME.findall(match.group(1))) & keep else ""

    pruned, count = _MAP_RULE.subn(rule, css)
    if count < 100:
        raise IconTrimError(f"found {count} Font Awesome icon rules in the theme's stylesheet")
    return pruned


def codepoints(css: str) -> set[int]:
    """Characters a stylesheet can draw with an icon font: every private-use character,
    written as itself or as a CSS escape, and every character of an icon-map rule."""
    found = {ord(ch) for ch in css if _private_use(ord(ch))}
    found |= {cp for cp in (int(h, 16) for h in _CSS_ESCAPE.findall(css)) if _private_use(cp)}
    for _, content in _MAP_RULE.findall(css):
        text = _CSS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), content)
        found |= {ord(ch) for ch in text}
    return found


def subset_font(source: Path, target: Path, keep: set[int]) -> int:
    """Write a WOFF (zlib) font with only the glyphs of ``keep``; return its size."""
    font = TTFont(source)
    options = subset.Options()
    options.flavor = "woff"
    options.notdef_outline = True
    options.layout_features = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(keep & set(font.getBestCmap())))
    subsetter.subset(font)
    font.flavor = "woff"
    font.save(target)
    return target.stat().st_size


@dataclass
class TrimReport:
    names: set[str]
    codepoints: set[int]
    css_bytes: tuple[int, int]  # before, after
    fonts: dict[str, tuple[int, int]]  # woff2 name -> (its size, the subset's size)


def theme_css() -> Path:
    """The theme's own stylesheet, as installed: trimming always starts from it, because
    Sphinx does not copy static files again when no page was out of date."""
    return (Path(str(resources.files("pydata_sphinx_theme"))) / "theme" / "pydata_sphinx_theme"
            / "static" / "styles" / THEME_CSS.name)


def trim_build(html: Path, source: Path | None = None) -> TrimReport:
    """Trim the icon rules and fonts of a built book in place (its _static folder), from the
    theme's stylesheet ``source`` (by default the installed theme's)."""
    css_path = html / THEME_CSS
    source = source or theme_css()
    if not css_path.is_file() or not source.is_file():
        raise IconTrimError(f"{css_path} or {source} is missing")
    css = source.read_text(encoding="utf-8")
    names = used_names(html)
    pruned = prune_icon_map(css, names)
    keep = codepoints(pruned)
    for other in (html / "_static").rglob("*.css"):
        if other != css_path:
            keep |= codepoints(other.read_text(encoding="utf-8", errors="replace"))
    fonts: dict[str, tuple[int, int]] = {}

    def face(match: re.Match[str]) -> str:
        def src(m: re.Match[str]) -> str:
            folder, stem = m.group(1), m.group(2)
            webfonts = css_path.parent / folder
            ttf = webfonts / f"{stem}.ttf"
            if not ttf.is_file():
                raise IconTrimError(f"{ttf} is missing: the subset is made from it")
            size = subset_font(ttf, webfonts / f"{stem}{SUBSET_SUFFIX}", keep)
            fonts[f"{stem}.woff2"] = ((webfonts / f"{stem}.woff2").stat().st_size, size)
            return f'src:url({folder}{stem}{SUBSET_SUFFIX}) format("woff")'

        return _FONT_SRC.sub(src, match.group(0))

    pruned = _FONT_FACE.sub(face, pruned)
    if not fonts:
        raise IconTrimError("no Font Awesome @font-face found in the theme's stylesheet")
    css_path.write_text(pruned, encoding="utf-8")
    return TrimReport(names, keep, (len(css.encode()), len(pruned.encode())), fonts)
