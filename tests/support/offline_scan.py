"""Finding what a built page would load from outside the book (the offline scan)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

LOADED_ATTRIBUTES = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}
# An <a href> is a link the reader may follow; a <link rel=...> of these kinds loads nothing.
NON_LOADING_LINK_RELS = {"canonical", "alternate", "author", "license", "next", "prev",
                         "index", "search", "help", "bookmark"}


def is_external(url: str) -> bool:
    url = url.strip()
    return url.startswith("//") or urlparse(url).scheme in {"http", "https", "ftp", "ws", "wss"}


class LoadedUrls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self._in_style = False
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and set((values.get("rel") or "").split()) <= NON_LOADING_LINK_RELS \
                and values.get("rel"):
            return
        for name in LOADED_ATTRIBUTES.get(tag, ()):
            value = values.get(name)
            if value:
                for part in value.split(","):  # srcset lists "url size" pairs
                    self.urls.append((tag, part.strip().split(" ")[0]))
        if values.get("style"):
            self.styles.append(values["style"] or "")
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")


def external_urls_in_page(path: Path) -> list[str]:
    parser = LoadedUrls()
    parser.feed(path.read_text(encoding="utf-8"))
    found = [f"<{tag}> {url}" for tag, url in parser.urls if is_external(url)]
    found += [f"style {url}" for css in parser.styles for url in CSS_URL.findall(css)
              if is_external(url)]
    return found
