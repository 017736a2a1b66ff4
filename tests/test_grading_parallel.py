"""Parallel grading gives nbgrader's own serial result, student by student and cell by cell."""

from __future__ import annotations

from pathlib import Path

from nbgrader.apps import NbGraderAPI

from course.grading.pipeline import autograde
from course.settings import load_config
from tests.support.course import cell_scores, make_course, submit

HONEST = {
    "ann": "honest/full-marks",
    "ben": "honest/partial-marks",
    "cat": "honest/wrong-answers",
    "dan": "honest/full-marks",
}


def test_parallel_equals_serial_nbgrader(ps0_course: Path, bwrap: None, tmp_path: Path) -> None:
    ours, theirs = ps0_course, make_course(tmp_path / "theirs")
    for student, scenario in HONEST.items():
        submit(ours, student, scenario)
        submit(theirs, student, scenario)

    results = autograde(ours, "ps0", workers=2, progress=False)
    api = NbGraderAPI(config=load_config(theirs, grading=True, sandbox=False))
    for student in HONEST:
        assert api.autograde("ps0", student)["success"]

    assert [r.findings for r in results] == [[]] * len(HONEST)
    assert cell_scores(ours) == cell_scores(theirs)
    assert cell_scores(ours)["ann"] == {"test_double": 1, "test_count_words": 2, "why_date": 0}
    assert cell_scores(ours)["cat"]["test_double"] == 0
