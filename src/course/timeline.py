"""Dated events around the two articles, loaded from ``course/data/timeline.yaml``.

The data records events and their sources only; what they mean for the articles' predictions
is left to the chapters and to the students. ``draw_timeline`` turns a list of events into a
matplotlib figure that the book computes at build time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

try:
    import yaml
except ModuleNotFoundError:  # in the browser: Pyodide has no PyYAML (docs/lite.md)
    yaml = None  # type: ignore[assignment]

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = [
    "CATEGORIES",
    "Event",
    "TimelineDataError",
    "draw_timeline",
    "events_between",
    "load_events",
    "parse_events",
]

Category = Literal["diplomacy", "sanctions", "military", "treaty", "economy"]
Precision = Literal["day", "month"]
CATEGORIES: tuple[str, ...] = ("diplomacy", "sanctions", "military", "treaty", "economy")
PRECISIONS: tuple[str, ...] = ("day", "month")

# Okabe-Ito colours (told apart with the common colour-vision deficiencies), a black edge on
# every marker for contrast against white, and a distinct marker per category so that colour
# is never the only cue.
STYLE: dict[str, tuple[str, str]] = {
    "diplomacy": ("#0072B2", "o"),
    "sanctions": ("#E69F00", "s"),
    "military": ("#D55E00", "^"),
    "treaty": ("#009E73", "D"),
    "economy": ("#CC79A7", "P"),
}


class TimelineDataError(ValueError):
    """The timeline data is malformed; the message names the event and the field."""


class Event(BaseModel):
    """One dated event of the record, validated like the question banks (pydantic)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    date: dt.date
    precision: Precision
    title: str
    detail: str
    category: Category
    sources: tuple[str, ...]
    end_date: dt.date | None = None
    confirmed: StrictBool = True

    @field_validator("date", "end_date", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> dt.date | None:
        return None if value is None else _parse_date(value)

    @field_validator("title", "detail")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be non-empty text")
        return " ".join(value.split())

    @field_validator("sources", mode="before")
    @classmethod
    def _urls(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or not value:
            raise ValueError("must list at least one URL")
        for url in value:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ValueError(f"holds {url!r}, which is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Event:
        if self.end_date is not None and self.end_date < self.date:
            raise ValueError(f"end_date ({self.end_date}) is before the date ({self.date})")
        return self

    @property
    def date_label(self) -> str:
        """The date as a reader should see it: "13 Sep 2023", "Jul 2022", "9–11 Apr 2018"."""
        return _date_range_label(self.date, self.end_date, self.precision)


def _date_label(day: dt.date, precision: str) -> str:
    return f"{day:%b %Y}" if precision == "month" else f"{day.day} {day:%b %Y}"


def _date_range_label(start: dt.date, end: dt.date | None, precision: str) -> str:
    if end is None or end == start:
        return _date_label(start, precision)
    if start.year == end.year and (precision == "month" or start.month != end.month):
        first = f"{start:%b}" if precision == "month" else f"{start.day} {start:%b}"
        return f"{first}–{_date_label(end, precision)}"
    if precision == "day" and start.year == end.year:
        return f"{start.day}–{end.day} {end:%b %Y}"
    return f"{_date_label(start, precision)} – {_date_label(end, precision)}"


def _fail(where: str, field: str, problem: str) -> TimelineDataError:
    return TimelineDataError(f"{where}: field '{field}' {problem}")


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"must be a date without a time, not {value!r}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"must be an ISO date such as 2024-06-19, not {value!r}")


def _as_date(value: Any, where: str, field: str) -> dt.date:
    try:
        return _parse_date(value)
    except ValueError as exc:
        raise _fail(where, field, str(exc)) from None


def _problem(error: ErrorDetails) -> tuple[str, str]:
    """The field and the words of pydantic's first complaint about an event."""
    field = str(error["loc"][0]) if error["loc"] else "end_date"
    kind = error["type"]
    if kind == "missing":
        return field, "is missing"
    if kind == "extra_forbidden":
        return field, f"is not a timeline field (fields: {', '.join(Event.model_fields)})"
    if kind == "literal_error":
        choices = CATEGORIES if field == "category" else PRECISIONS
        return field, f"must be one of {', '.join(choices)}"
    if kind == "bool_type":
        return field, "must be true or false"
    message = error["msg"].removeprefix("Value error, ")
    return field, message.removeprefix("end_date ") if not error["loc"] else message


def _event(raw: Any, index: int) -> Event:
    if not isinstance(raw, Mapping):
        raise TimelineDataError(f"event #{index + 1}: must be a mapping of fields")
    raw_id = raw.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise _fail(f"event #{index + 1}", "id", "is missing or empty")
    try:
        return Event.model_validate(dict(raw))
    except ValidationError as exc:
        field, problem = _problem(exc.errors()[0])
        raise _fail(f"event {raw_id!r}", field, problem) from None


def parse_events(text: str, origin: str = "timeline data") -> list[Event]:
    """Validate timeline YAML (JSON, its subset, where PyYAML is absent) and return its events
    sorted by date."""
    if yaml is None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TimelineDataError(f"{origin}: not valid JSON ({exc})") from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise TimelineDataError(f"{origin}: not valid YAML ({exc})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("events"), list):
        raise TimelineDataError(f"{origin}: must hold a list under the key 'events'")
    try:
        events = [_event(raw, i) for i, raw in enumerate(data["events"])]
    except TimelineDataError as exc:
        raise TimelineDataError(f"{origin}: {exc}") from None
    seen: set[str] = set()
    for event in events:
        if event.id in seen:
            raise TimelineDataError(f"{origin}: event {event.id!r}: field 'id' is used twice")
        seen.add(event.id)
    return sorted(events, key=lambda e: (e.date, e.end_date or e.date, e.id))


@cache
def _packaged_events() -> tuple[Event, ...]:
    # The in-browser site's build writes timeline.json from timeline.yaml (docs/lite.md).
    name = "timeline.yaml" if yaml is not None else "timeline.json"
    path = resources.files("course") / "data" / name
    return tuple(parse_events(path.read_text(encoding="utf-8"), name))


def load_events(path: str | Path | None = None) -> list[Event]:
    """The course's events (or those in ``path``), validated and sorted by date."""
    if path is None:
        return list(_packaged_events())
    path = Path(path)
    return parse_events(path.read_text(encoding="utf-8"), str(path))


def events_between(
    start: dt.date | str,
    end: dt.date | str,
    events: Iterable[Event] | None = None,
) -> list[Event]:
    """Events that begin between ``start`` and ``end`` inclusive (ISO strings accepted)."""
    first = _as_date(start, "events_between", "start")
    last = _as_date(end, "events_between", "end")
    pool = load_events() if events is None else sorted(events, key=lambda e: e.date)
    return [e for e in pool if first <= e.date <= last]


def _spaced_labels(positions: list[float], gap: float) -> list[float]:
    """Label positions as close as possible to ``positions`` (sorted) yet ``gap`` apart.

    Least-squares placement under the spacing constraints: shifting label i by i * gap turns
    them into "stay in order", solved by pooling adjacent violators (isotonic regression).
    """
    blocks: list[list[float]] = []  # [mean, size] of pooled labels
    for i, value in enumerate(positions):
        blocks.append([value - i * gap, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, size = blocks.pop()
            prev_mean, prev_size = blocks[-1]
            blocks[-1] = [
                (prev_mean * prev_size + mean * size) / (prev_size + size),
                prev_size + size,
            ]
    shifted = [mean for mean, size in blocks for _ in range(int(size))]
    return [z + i * gap for i, z in enumerate(shifted)]


def draw_timeline(events: Iterable[Event], ax: Axes | None = None) -> Figure | SubFigure:
    """Draw events on a vertical time axis, earliest at the top, one label per event.

    Each event is a marker whose colour and shape give its category; events with an end date
    also get a bar. Labels ("13 Sep 2023  Kim–Putin summit at Vostochny") sit to the right,
    evenly spaced in date order, with a thin line to their date. Unconfirmed events are left
    out. Returns the figure (the one ``ax`` belongs to, if given).
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    shown = sorted((e for e in events if e.confirmed), key=lambda e: e.date)
    if not shown:
        raise ValueError("draw_timeline needs at least one confirmed event")
    fig: Figure | SubFigure
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, max(4.0, 0.36 * len(shown) + 1.2)), layout="constrained")
    else:
        fig = ax.figure

    nums = [mdates.date2num(e.date) for e in shown]
    span = max(nums[-1] - nums[0], 1.0)
    # Labels keep at least 80% of an even spacing between them, so they never overlap however
    # close the dates; a thin leader line joins each label to its true date on the axis.
    step = 0.8 * span / (len(shown) - 1) if len(shown) > 1 else 0.0
    label_pos = _spaced_labels(nums, step)

    ax.axvline(0, color="#555555", linewidth=1.2, zorder=1)
    for event, num, label_y in zip(shown, nums, label_pos, strict=True):
        colour, marker = STYLE[event.category]
        if event.end_date is not None:
            ax.plot([0, 0], [num, mdates.date2num(event.end_date)], color=colour, linewidth=5)
        ax.plot(
            0,
            num,
            marker=marker,
            color=colour,
            markersize=9,
            markeredgecolor="black",
            markeredgewidth=0.6,
            zorder=3,
        )
        ax.plot([0.05, 0.3], [num, label_y], color="#888888", linewidth=0.6, zorder=2)
        ax.text(0.32, label_y, f"{event.date_label}   {event.title}", va="center", fontsize=10)

    ax.set_xlim(-0.25, 3.2)
    pad = max(step, 30.0)
    top, bottom = min(nums[0], label_pos[0]), max(nums[-1], label_pos[-1])
    ax.set_ylim(bottom + pad, top - pad)  # earliest at the top
    ax.yaxis.set_major_locator(mdates.YearLocator())
    ax.yaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.tick_params(axis="y", labelsize=10)

    used = [c for c in CATEGORIES if any(e.category == c for e in shown)]
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker=STYLE[c][1],
            color=STYLE[c][0],
            markeredgecolor="black",
            markeredgewidth=0.6,
            markersize=9,
            label=c.capitalize(),
        )
        for c in used
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=len(handles),
        frameon=False,
        fontsize=10,
    )
    return fig
