"""Every hostile scenario graded in ONE batch with honest students: the batch finishes, each gets
its verdict, the gradebook stays intact and honest scores equal their scores graded alone."""

from __future__ import annotations

import hashlib
from pathlib import Path

from course.grading.pipeline import autograde
from tests.support.course import cell_scores, gradebook_is_sound, make_course, submit

HONEST = ["full-marks", "partial-marks"]
# s per cell: the infinite loop costs this much; every other cell finishes in milliseconds
LOOP_TIMEOUT = 3
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
}


def digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.rglob("*"))
                                   if p.is_file())).hexdigest()


def test_hostile_batch(ps0_course: Path, bwrap: None, tmp_path: Path) -> None:
    root = ps0_course
    solutions = digest(root / "solutions")
    for scenario in HONEST:
        submit(root, scenario, f"honest/{scenario}")
    for scenario in HOSTILE:
        submit(root, scenario, f"hostile/{scenario}")
    results = {r.student: r for r in autograde(root, "ps0", timeout=LOOP_TIMEOUT, memory="1GiB",
                                               progress=False)}
    scores = cell_scores(root)

    assert gradebook_is_sound(root) and digest(root / "solutions") == solutions
    assert set(results) == set(HONEST) | set(HOSTILE)
    for scenario, (verdict, double, count) in HOSTILE.items():
        assert {f.kind for f in results[scenario].findings} == verdict, scenario
        assert scores[scenario]["test_double"] == double, scenario
        assert scores[scenario]["test_count_words"] == count, scenario
    huge = (root / "autograder/autograded/huge-output/ps0/questions.ipynb").stat().st_size
    assert huge < 200_000  # nbgrader's output limit applied

    alone = make_course(tmp_path / "alone")
    for scenario in HONEST:
        submit(alone, scenario, f"honest/{scenario}")
        autograde(alone, "ps0", students=[scenario], workers=1, timeout=LOOP_TIMEOUT,
                  progress=False)
    for scenario in HONEST:
        assert results[scenario].findings == []
        assert scores[scenario] == cell_scores(alone)[scenario]
