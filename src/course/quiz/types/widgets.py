"""Widget pieces that question types share (imported only when a live quiz is shown)."""

from __future__ import annotations

import ipywidgets as w

WIDE = {"description_width": "initial"}


def layout() -> w.Layout:
    return w.Layout(width="auto", max_width="100%")


def dropdown(description: str, options: list[tuple[str, object]]) -> w.Dropdown:
    return w.Dropdown(options=options, value=None, description=description, style=WIDE,
                      layout=layout())  # fmt: skip
