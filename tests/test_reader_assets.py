"""The build's reader assets without a browser: the favicon drawn from its SVG
(src/course/favicon.py) and the Font Awesome icons trimmed to those the book shows
(src/course/icons.py, docs/page-weight.md)."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from fontTools.ttLib import TTFont

from course import favicon, icons
from tests.support.paths import REPO

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}">{body}</svg>'


def png_pixels(data: bytes) -> tuple[int, bytes]:
    """Side and RGBA rows (filter bytes removed) of a PNG written by favicon.png."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    side = struct.unpack(">I", data[16:20])[0]
    idat_len = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41:41 + idat_len])
    stride = side * 4 + 1
    return side, b"".join(raw[y * stride + 1:(y + 1) * stride] for y in range(side))


def test_the_book_favicon_is_an_ico_of_three_pngs() -> None:
    data = favicon.ico((REPO / "book" / "assets" / "favicon.svg").read_text("utf-8"))
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, 3)
    for i, size in enumerate(favicon.ICO_SIZES):
        w, h, _, _, planes, bits, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i:22 + 16 * i])
        assert (w, h, planes, bits) == (size, size, 1, 32)
        side, pixels = png_pixels(data[offset:offset + length])
        assert side == size and len(pixels) == size * size * 4
        centre = (size // 2 * size + size // 2) * 4
        assert pixels[centre + 3] == 255  # the icon is opaque in the middle
        assert pixels[3] < 255  # and its rounded corner lets the tab show through


def test_rasterize_draws_the_rectangles_where_they_are() -> None:
    side, rects = favicon.read_svg(SVG.format(side=4, body=(
        '<rect width="2" height="4" fill="#ff0000"/>'
        '<rect x="1" y="0" width="1" height="1" fill="#00ff00"/>')))
    pixels = favicon.rasterize(side, rects, 4)
    px = [tuple(pixels[i:i + 4]) for i in range(0, len(pixels), 4)]
    assert px[0] == (255, 0, 0, 255) and px[1] == (0, 255, 0, 255)  # the later rect is on top
    assert px[4] == (255, 0, 0, 255) and px[2] == (0, 0, 0, 0) and px[15] == (0, 0, 0, 0)


@pytest.mark.parametrize(("body", "side", "message"), [
    ('<circle r="2" fill="#000000"/>', "4", "only <rect>"),
    ('<rect width="2" height="2" fill="red"/>', "4", "#rrggbb"),
    ('<rect width="2em" height="2" fill="#000000"/>', "4", "plain number"),
    ('<rect height="2" fill="#000000"/>', "4", "without width"),
    ("", "4", "no <rect>"),
])
def test_an_svg_the_rasterizer_cannot_draw_is_refused(body: str, side: str, message: str) -> None:
    with pytest.raises(favicon.FaviconError, match=re.escape(message)):
        favicon.read_svg(SVG.format(side=side, body=body))
    with pytest.raises(favicon.FaviconError, match="square"):
        favicon.read_svg('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 2"/>')


def test_prune_keeps_only_the_rules_of_the_names_given() -> None:
    css = icons.theme_css().read_text("utf-8")
    pruned = icons.prune_icon_map(css, {"bars", "sun"})
    assert re.search(r"\.fa-bars:before,\.fa-navicon:before\{content:", pruned)
    assert ".fa-sun:before" in pruned and ".fa-moon:before" not in pruned
    assert len(icons._MAP_RULE.findall(pruned)) == 2
    assert icons.codepoints(".fa-bars:before{content:\"\\f0c9\"}") == {0xF0C9}
    with pytest.raises(icons.IconTrimError, match="found 0"):
        icons.prune_icon_map("body{color:red}", {"bars"})


def test_names_are_found_in_pages_and_scripts() -> None:
    page = '<i class="theme-switch fa-solid fa-sun fa-lg"></i><span class="fa-solid fa-bars">'
    assert icons.names_in_html(page) == {"solid", "sun", "lg", "bars"}
    assert "xmark" in icons.names_in_script('r.classList="fa-solid fa-xmark"')


@pytest.mark.book
def test_every_icon_the_built_book_names_has_its_rule_and_glyph(built_book) -> None:
    """The trimmed stylesheet keeps a rule for every icon class in the built pages, and the
    subset font the stylesheet now names holds that rule's glyph."""
    html = built_book.html
    css = (html / icons.THEME_CSS).read_text("utf-8")
    assert "fa-solid-900.woff2" not in css and "fa-solid-900" + icons.SUBSET_SUFFIX in css
    rules = {name: content for names, content in icons._MAP_RULE.findall(css)
             for name in icons._MAP_NAME.findall(names)}
    original = icons.theme_css().read_text("utf-8")
    every = {name for names, _ in icons._MAP_RULE.findall(original)
             for name in icons._MAP_NAME.findall(names)}
    shown = set()
    for page in built_book.pages():
        shown |= icons.names_in_html((html / page).read_text("utf-8")) & every
    assert {"bars", "magnifying-glass", "list", "sun", "moon", "angle-right"} <= shown
    font = TTFont(html / "_static/vendor/fontawesome/webfonts" /
                  f"fa-solid-900{icons.SUBSET_SUFFIX}")
    cmap = font.getBestCmap()
    for name in shown:
        assert name in rules, name
        glyph = icons._CSS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), rules[name])
        assert all(ord(ch) in cmap for ch in glyph), name
    # the icons stylesheets draw directly (admonition titles) are kept too
    assert 0xF0F3 in cmap  # bell: the default admonition icon
