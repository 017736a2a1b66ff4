"""The book's favicon: ``book/assets/favicon.svg`` is the drawing; the build writes a
``favicon.ico`` (PNG images of 16, 32 and 48 px) from it at the site root, for the browsers
and tools that ask for /favicon.ico instead of reading the page's icon link
(docs/reader-view.md). Made offline, with the standard library only.

The SVG may hold only ``<rect>`` elements (x, y, width, height, optional rx, a #rrggbb fill)
on a square viewBox: enough for a flat icon, and simple to draw exactly at any size.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from pathlib import Path

SVG_NS = "{http://www.w3.org/2000/svg}"
ICO_SIZES = (16, 32, 48)
SAMPLES = 4  # per pixel and axis: 16 samples give smooth edges


class FaviconError(ValueError):
    """The SVG uses something this rasterizer does not draw."""


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    rx: float
    rgb: tuple[int, int, int]

    def covers(self, px: float, py: float) -> bool:
        if not (self.x <= px < self.x + self.w and self.y <= py < self.y + self.h):
            return False
        r = min(self.rx, self.w / 2, self.h / 2)
        # inside a corner's square, the point must also be inside its quarter circle
        cx = min(max(px, self.x + r), self.x + self.w - r)
        cy = min(max(py, self.y + r), self.y + self.h - r)
        return (px - cx) ** 2 + (py - cy) ** 2 <= r * r


def _number(element: ET.Element, name: str, default: float | None = None) -> float:
    value = element.get(name)
    if value is None:
        if default is None:
            raise FaviconError(f"<rect> without {name}")
        return default
    try:
        return float(value)
    except ValueError as error:
        raise FaviconError(f"<rect> {name}={value!r} is not a plain number") from error


def _colour(value: str | None) -> tuple[int, int, int]:
    if value is None or len(value) != 7 or not value.startswith("#"):
        raise FaviconError(f"fill {value!r}: only #rrggbb colours are drawn")
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def read_svg(text: str) -> tuple[float, list[Rect]]:
    """The side of the square viewBox and the rectangles, in drawing order."""
    root = ET.fromstring(text)
    if root.tag != f"{SVG_NS}svg":
        raise FaviconError("not an SVG document (the root must be <svg> in the SVG namespace)")
    box = [float(v) for v in (root.get("viewBox") or "").replace(",", " ").split()]
    if len(box) != 4 or box[0] or box[1] or box[2] != box[3] or box[2] <= 0:
        raise FaviconError(f"viewBox {root.get('viewBox')!r}: a square from 0 0 is needed")
    rects = []
    for element in root:
        tag = element.tag.removeprefix(SVG_NS)
        if tag == "title":
            continue
        if tag != "rect":
            raise FaviconError(f"<{tag}>: only <rect> (and <title>) are drawn")
        rects.append(Rect(_number(element, "x", 0), _number(element, "y", 0),
                          _number(element, "width"), _number(element, "height"),
                          _number(element, "rx", 0), _colour(element.get("fill"))))
    if not rects:
        raise FaviconError("the SVG has no <rect>")
    return box[2], rects


def rasterize(side: float, rects: list[Rect], size: int) -> bytes:
    """RGBA pixels, row by row; the topmost rectangle at a sample gives its colour."""
    scale = side / size
    out = bytearray()
    for row in range(size):
        for col in range(size):
            total = [0, 0, 0]
            hits = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    px = (col + (sx + 0.5) / SAMPLES) * scale
                    py = (row + (sy + 0.5) / SAMPLES) * scale
                    top = next((r for r in reversed(rects) if r.covers(px, py)), None)
                    if top:
                        hits += 1
                        total = [t + c for t, c in zip(total, top.rgb, strict=True)]
            if hits:
                out += bytes(round(t / hits) for t in total) + bytes([hits * 255 // SAMPLES**2])
            else:
                out += b"\0\0\0\0"
    return bytes(out)


def png(rgba: bytes, size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + rgba[y * size * 4:(y + 1) * size * 4] for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def ico(svg_text: str, sizes: tuple[int, ...] = ICO_SIZES) -> bytes:
    """An ICO file holding one PNG image per size (the format browsers have read since 2007)."""
    side, rects = read_svg(svg_text)
    images = [png(rasterize(side, rects, s), s) for s in sizes]
    offset = 6 + 16 * len(images)
    entries = b""
    for s, image in zip(sizes, images, strict=True):
        entries += struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return struct.pack("<HHH", 0, 1, len(images)) + entries + b"".join(images)


def write_ico(svg: Path, target: Path) -> None:
    target.write_bytes(ico(svg.read_text(encoding="utf-8")))
