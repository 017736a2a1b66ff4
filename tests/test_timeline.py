"""course.timeline: the dated events behind the "What happened next" chapter."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import matplotlib
import pytest

from course.timeline import (
    CATEGORIES,
    TimelineDataError,
    draw_timeline,
    events_between,
    load_events,
    parse_events,
)

matplotlib.use("Agg")

VALID_EVENT = """\
  - id: treaty-signed
    date: 2024-06-19
    precision: day
    title: Treaty signed
    detail: The two leaders sign the treaty.
    category: treaty
    sources: [https://example.org/treaty]
"""


def _events_yaml(*bodies: str) -> str:
    return "events:\n" + "".join(bodies)


def test_events_are_sorted_by_date() -> None:
    dates = [e.date for e in load_events()]
    assert dates == sorted(dates)


def test_event_ids_are_unique() -> None:
    ids = [e.id for e in load_events()]
    assert len(ids) == len(set(ids))


def test_every_event_has_an_http_source_and_a_known_category() -> None:
    for event in load_events():
        assert event.sources, event.id
        assert all(url.startswith(("http://", "https://")) for url in event.sources), event.id
        assert event.category in CATEGORIES, event.id


@pytest.mark.parametrize(
    ("event_id", "date"),
    [
        ("treaty-signed", dt.date(2024, 6, 19)),
        ("treaty-in-force", dt.date(2024, 12, 4)),
        ("vostochny-summit", dt.date(2023, 9, 13)),
        ("panel-of-experts-veto", dt.date(2024, 3, 28)),
        ("russia-acknowledges-troops", dt.date(2025, 4, 26)),
        ("north-korea-acknowledges-troops", dt.date(2025, 4, 28)),
        ("vladivostok-summit", dt.date(2019, 4, 25)),
        ("ri-yong-ho-in-moscow", dt.date(2018, 4, 9)),
        ("lavrov-in-pyongyang-2018", dt.date(2018, 5, 31)),
        ("resolution-2397", dt.date(2017, 12, 22)),
        ("khasan-rajin-reopened", dt.date(2013, 9, 22)),
        ("new-start-expired", dt.date(2026, 2, 5)),
    ],
)
def test_key_dates_are_exact(event_id: str, date: dt.date) -> None:
    by_id = {e.id: e for e in load_events()}
    assert by_id[event_id].date == date


def test_ratification_chain_runs_from_duma_to_entry_into_force() -> None:
    chain = [
        "treaty-signed",
        "duma-ratifies",
        "federation-council-ratifies",
        "putin-signs-ratification",
        "kim-ratifies",
        "treaty-in-force",
    ]
    by_id = {e.id: e for e in load_events()}
    dates = [by_id[i].date for i in chain]
    assert dates == sorted(dates)
    assert by_id["duma-ratifies"].date == dt.date(2024, 10, 24)


def test_date_labels_follow_precision_and_ranges() -> None:
    by_id = {e.id: e for e in load_events()}
    assert by_id["vostochny-summit"].date_label == "13 Sep 2023"
    assert by_id["ri-yong-ho-in-moscow"].date_label == "9–11 Apr 2018"
    assert by_id["donbas-recognition"].date_label == "Jul 2022"
    assert by_id["ri-yong-ho-replaced"].date_label == "Jan–Feb 2020"


def test_events_between_is_inclusive_and_accepts_iso_strings() -> None:
    chosen = events_between("2024-06-19", dt.date(2024, 12, 4))
    ids = [e.id for e in chosen]
    assert ids[0] == "treaty-signed"
    assert ids[-1] == "treaty-in-force"
    assert all(dt.date(2024, 6, 19) <= e.date <= dt.date(2024, 12, 4) for e in chosen)


def test_events_between_rejects_a_bad_date_clearly() -> None:
    with pytest.raises(TimelineDataError, match="start.*ISO date"):
        events_between("June 2024", "2025-01-01")


def test_parse_sorts_events_written_out_of_order() -> None:
    later = VALID_EVENT.replace("treaty-signed", "in-force").replace("2024-06-19", "2024-12-04")
    events = parse_events(_events_yaml(later, VALID_EVENT))
    assert [e.id for e in events] == ["treaty-signed", "in-force"]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (VALID_EVENT.replace("2024-06-19", "19 June 2024"), r"'treaty-signed'.*'date'.*ISO"),
        (VALID_EVENT.replace("category: treaty", "category: war"), r"'treaty-signed'.*'category'"),
        (VALID_EVENT.replace("precision: day", "precision: year"), r"'treaty-signed'.*'precision'"),
        (VALID_EVENT.replace("[https://example.org/treaty]", "[]"), r"'treaty-signed'.*'sources'"),
        (VALID_EVENT.replace("https://example.org/treaty", "example.org"), r"'sources'.*URL"),
        (VALID_EVENT.replace("    title: Treaty signed\n", ""), r"'title'.*missing"),
        (VALID_EVENT + "    end_date: 2024-01-01\n", r"'treaty-signed'.*'end_date'.*before"),
        (VALID_EVENT + "    verdict: failed\n", r"'treaty-signed'.*'verdict'.*not a timeline"),
        (VALID_EVENT + "    confirmed: maybe\n", r"'treaty-signed'.*'confirmed'"),
    ],
)
def test_bad_event_is_rejected_naming_the_event_and_field(broken: str, message: str) -> None:
    with pytest.raises(TimelineDataError, match=message):
        parse_events(_events_yaml(broken), "bad.yaml")


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(TimelineDataError, match=r"'treaty-signed'.*'id' is used twice"):
        parse_events(_events_yaml(VALID_EVENT, VALID_EVENT))


def test_missing_events_list_and_bad_yaml_are_rejected_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(TimelineDataError, match="bad.yaml: must hold a list"):
        parse_events("title: no events here\n", "bad.yaml")
    path = tmp_path / "broken.yaml"
    path.write_text("events: [unclosed\n")
    with pytest.raises(TimelineDataError, match="broken.yaml: not valid YAML"):
        load_events(path)


def test_draw_timeline_labels_every_confirmed_event_and_leaves_out_unconfirmed() -> None:
    unconfirmed = (
        VALID_EVENT.replace("treaty-signed", "rumour").replace(
            "Treaty signed", "Unconfirmed rumour"
        )
        + "    confirmed: false\n"
    )
    events = parse_events(_events_yaml(VALID_EVENT, unconfirmed))
    fig = draw_timeline(events)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["19 Jun 2024   Treaty signed"]


def test_draw_timeline_shows_category_by_marker_shape_as_well_as_colour() -> None:
    fig = draw_timeline(events_between("2019-01-01", "2025-12-31"))
    legend = fig.axes[0].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [c.capitalize() for c in CATEGORIES]
    markers = {h.get_marker() for h in legend.legend_handles}
    assert len(markers) == len(CATEGORIES)
    assert len(fig.axes[0].texts) == len(events_between("2019-01-01", "2025-12-31"))


def test_draw_timeline_keeps_labels_apart_even_for_events_days_apart() -> None:
    fig = draw_timeline(events_between("2024-10-14", "2024-12-04"))
    ys = sorted(t.get_position()[1] for t in fig.axes[0].texts)
    gaps = [b - a for a, b in zip(ys, ys[1:], strict=False)]
    assert min(gaps) > 0.5 * (ys[-1] - ys[0]) / (len(ys) - 1)


def test_draw_timeline_on_given_axes_returns_that_figure() -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert draw_timeline(load_events()[:3], ax=ax) is fig


def test_draw_timeline_without_events_says_so() -> None:
    with pytest.raises(ValueError, match="at least one confirmed event"):
        draw_timeline([])


def test_event_texts_pass_no_verdict_on_the_articles() -> None:
    # A graded exercise asks students to judge the predictions from these events themselves.
    verdict_words = re.compile(
        r"\b(held|failed|untested|borne out|prediction|forecast|article [ab]|[AB]\d{1,2})\b",
        re.IGNORECASE,
    )
    for event in load_events():
        for text in (event.title, event.detail):
            assert not verdict_words.search(
                text.replace("Article 4", "").replace("Article 22", "")
            ), f"{event.id}: {text}"
