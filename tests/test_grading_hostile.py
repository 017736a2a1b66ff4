"""Every hostile scenario graded in ONE batch with honest students: the batch finishes, each gets
its verdict, the gradebook stays intact and honest scores equal their scores graded alone.

The batch is graded with the warm kernel pool (the default) and again with every kernel
started cold (--no-pool): same verdicts, same scores cell by cell, same outputs and
tracebacks. The honest students are also graded alone by plain nbgrader: the same again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from course.grading.pipeline import StudentResult, autograde
from tests.support.course import (
    autograded_cells,
    cell_scores,
    gradebook_is_sound,
    make_course,
    plain_autograde,
    submit,
)

HONEST = ["full-marks", "partial-marks", "wrong-answers", "looks-for-leftovers"]
# s per cell: the infinite loop costs this much. attacks-its-neighbours needs 3 s of it and the
# fork bomb took up to 6 s on a loaded 2-core machine; every other cell takes milliseconds
CELL_TIMEOUT = 10
# scenario -> (verdict kinds, expected score of test_double, of test_count_words)
HOSTILE = {
    "infinite-loop": ({"timeout"}, 0, 2),
    "memory-hog": ({"memory-limit"}, 0, 2),
    "deleted-test-cell": ({"deleted-cell"}, 1, 0),
    "edited-test-cell": ({"edited-cell"}, 1, 0),  # nbgrader restored the test, which fails
    "corrupt-json": ({"unreadable"}, 0, 0),
    "empty-file": ({"unreadable"}, 0, 0),
    "syntax-error": (set(), 0, 2),
    "os-exit-kills-kernel": ({"kernel-died"}, 0, 0),
    "huge-output": (set(), 1, 2),
    "reads-solutions-and-writes-gradebook": (set(), 0, 2),
    "monkeypatches-assert-and-traceback": ({"tampered"}, 0, 0),
    "strips-asserts-with-ast-transformer": ({"tampered"}, 0, 0),
    "fork-bomb": ({"process-limit"}, 0, 2),
    # the children over the submission's memory are stopped; the kernel and its answers live
    "memory-hog-in-children": ({"memory-limit"}, 1, 2),
    # what a warm kernel pool must withstand (docs/warm-kernel-pool.md): nothing reached
    "attacks-its-neighbours": (set(), 0, 2),
    "fills-working-folder-and-tmp": (set(), 0, 2),
    "leaves-thread-atexit-and-patched-modules": (set(), 0, 2),
    "kills-its-parent-and-the-zygote": ({"kernel-died"}, 0, 0),
}


def digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.rglob("*"))
                                   if p.is_file())).hexdigest()


def grade_batch(root: Path, pool: bool) -> dict[str, StudentResult]:
    for scenario in HONEST:
        submit(root, scenario, f"honest/{scenario}")
    for scenario in HOSTILE:
        submit(root, scenario, f"hostile/{scenario}")
    return {r.student: r for r in autograde(root, "ps0", timeout=CELL_TIMEOUT, memory="1GiB",
                                            progress=False, pool=pool)}


def autograded(root: Path, student: str) -> list[dict]:
    return autograded_cells(root / f"autograder/autograded/{student}/ps0/questions.ipynb")


def test_hostile_batch(ps0_course: Path, bwrap: None, tmp_path: Path,
                       caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> None:
    root = ps0_course
    solutions = digest(root / "solutions")
    results = grade_batch(root, pool=True)
    # the pool graded the batch: no kernel of it fell back to a cold start (workers' notices
    # go to stderr, the parent's to the log)
    assert "NOTICE" not in caplog.text + capfd.readouterr().err
    scores = cell_scores(root)

    assert gradebook_is_sound(root) and digest(root / "solutions") == solutions
    assert set(results) == set(HONEST) | set(HOSTILE)
    for scenario, (verdict, double, count) in HOSTILE.items():
        assert {f.kind for f in results[scenario].findings} == verdict, scenario
        assert scores[scenario]["test_double"] == double, scenario
        assert scores[scenario]["test_count_words"] == count, scenario
    huge = (root / "autograder/autograded/huge-output/ps0/questions.ipynb").stat().st_size
    assert huge < 200_000  # nbgrader's output limit applied

    cold = make_course(tmp_path / "cold")
    cold_results = grade_batch(cold, pool=False)
    assert gradebook_is_sound(cold) and cell_scores(cold) == scores
    for student, result in results.items():
        # the kinds: a finding's detail counts what the kernel's OOM killer or task limit
        # stopped, which varies from run to run
        kinds = {f.kind for f in result.findings}
        assert {f.kind for f in cold_results[student].findings} == kinds, student
        assert autograded(cold, student) == autograded(root, student), student

    alone = make_course(tmp_path / "alone")
    for scenario in HONEST:
        submit(alone, scenario, f"honest/{scenario}")
    assert plain_autograde(alone, "ps0") is None
    for scenario in HONEST:
        assert results[scenario].findings == []
        assert scores[scenario] == cell_scores(alone)[scenario], scenario
        assert autograded(alone, scenario) == autograded(root, scenario), scenario


def test_plain_nbgrader_says_why_it_left_a_submission_ungraded(ps0_course: Path) -> None:
    # The reference the identity tests compare with (plain nbgrader) must name the cause when it
    # fails a submission: its own error says only "see the above traceback", and the round trip
    # grades in worker processes whose log is lost.
    submit(ps0_course, "corrupt-json", "hostile/corrupt-json")
    error = plain_autograde(ps0_course, "ps0")
    assert error is not None
    reported = error.splitlines()
    assert "traceback" in reported[0].lower()  # nbgrader's own message
    assert any(line.startswith("ERROR ") for line in reported[1:]), error
    assert "Traceback (most recent call last)" in error and "corrupt-json" in error, error
