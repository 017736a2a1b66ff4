"""What the grader does around the kernel, whatever the kernel does: it works in a copy of the
submission's folder, refuses a submission that holds links or FIFOs, checks for tampering with
words the student cannot know, and limits a notebook's total time and output
(docs/sandbox.md, pitfalls 11 and 12)."""

from __future__ import annotations

import ast
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from course.grading.execution import (
    canary_source,
    execute_notebook,
    shown_value_canary,
    working_copy,
)
from course.grading.integrity import read_submission, unsafe_entries
from course.settings import load_config


def test_the_kernel_works_in_a_copy_without_notebooks_links_or_fifos(tmp_path: Path) -> None:
    folder = tmp_path / "autograded"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "paragraphs.csv").write_text("A1,text\n")
    (folder / "questions.ipynb").write_text("{}")  # holds the hidden tests once sanitized
    (folder / "notes.txt").symlink_to("/etc/passwd")
    (folder / "linked-folder").symlink_to(tmp_path)
    os.mkfifo(folder / "pipe")
    work = working_copy(folder)
    try:
        copied = sorted(str(p.relative_to(work)) for p in work.rglob("*"))
        assert copied == ["data", "data/paragraphs.csv"]
        assert (work / "data/paragraphs.csv").read_text() == "A1,text\n"
        assert not work.is_relative_to(folder)
    finally:
        shutil.rmtree(work)


def test_a_submission_holding_a_link_or_a_fifo_is_refused_and_says_which(tmp_path: Path) -> None:
    (tmp_path / "questions.ipynb").write_text("{}")
    (tmp_path / "answers.txt").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "pipe")
    findings = unsafe_entries(tmp_path)
    assert {f.kind for f in findings} == {"unsafe-file"}
    details = " ".join(f.detail for f in findings)
    assert "answers.txt is a symbolic link" in details and "pipe is not a regular file" in details


def test_json_nested_too_deep_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "questions.ipynb"
    path.write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    nb, findings = read_submission(path)
    assert nb is None and [f.kind for f in findings] == ["unreadable"]
    assert "nested too deeply" in findings[0].detail


def test_the_tamper_check_fails_as_an_assert_and_is_never_the_same() -> None:
    sources = {canary_source() for _ in range(50)}
    assert len(sources) == 50 and not any("canary" in s for s in sources)
    for source in sources:
        assert isinstance(ast.parse(source).body[0], ast.Assert)
        with pytest.raises(AssertionError):
            exec(source, {})


def test_the_shown_value_check_is_plain_arithmetic_with_two_decimals_and_varies() -> None:
    draws = [shown_value_canary() for _ in range(50)]
    assert len({source for source, _ in draws}) > 25
    for source, value in draws:
        tree = ast.parse(source, mode="eval")
        # no name at all: an honest notebook may have rebound round, float or sum
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Name)], source
        assert abs(eval(source, {"__builtins__": {}}) - value) < 1e-9
        assert round(value, 2) == value and value > 0


def _run(cells: list[str], ps0_course: Path, tmp_path: Path):
    nb = nbformat.v4.new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "scored.ipynb"
    nbformat.write(nb, path)
    return execute_notebook(str(path), load_config(ps0_course, grading=True, sandbox=False))


# A partial-credit test's last line, as in the problem sets' hidden tests: nbgrader scores the
# value shown, and full marks when nothing is shown.
SCORE = "import builtins as _builtins\n_builtins.round(0.5 * 1, 2)"


@pytest.mark.parametrize("attack", [
    'get_ipython().ast_node_interactivity = "none"',  # no value shown: full marks
    'get_ipython().display_formatter.formatters["text/plain"].for_type('
    'float, lambda value, printer, cycle: printer.text("2.5"))',  # every score shown as 2.5
])
def test_a_kernel_that_shows_values_other_than_they_are_is_tampered(
    attack: str, ps0_course: Path, tmp_path: Path
) -> None:
    execution = _run([attack, SCORE], ps0_course, tmp_path)
    assert not execution.ok
    assert [f.kind for f in execution.findings] == ["tampered"]
    assert "showed a cell's value other than it is" in execution.findings[0].detail


def test_an_honest_display_setting_and_a_reused_name_are_not_tampering(
    ps0_course: Path, tmp_path: Path
) -> None:
    execution = _run(["%precision 2", "round = sum = 0  # names reused by a beginner", SCORE],
                     ps0_course, tmp_path)
    assert execution.ok and execution.findings == []
    shown = nbformat.read(execution.path, as_version=4).cells[-1].outputs
    assert [o["data"]["text/plain"] for o in shown] == ["0.50"]
    assert len(nbformat.read(execution.path, as_version=4).cells) == 3  # the checks are gone


def test_a_tests_score_is_kept_past_the_output_limit(ps0_course: Path, tmp_path: Path) -> None:
    """nbgrader gives full marks to a partial-credit test that shows no value: flooding the
    output before the tests must not get their scores dropped with the rest."""
    from nbgrader.utils import determine_grade

    nb = nbformat.v4.new_notebook(cells=[
        new_code_cell('print("x" * (17 * 2**20))'),
        new_code_cell(SCORE, metadata={"nbgrader": {"grade": True, "grade_id": "score",
                                                    "points": 1, "solution": False,
                                                    "locked": True, "schema_version": 3}}),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "flooded.ipynb"
    nbformat.write(nb, path)
    execution = execute_notebook(str(path), load_config(ps0_course, grading=True, sandbox=False))
    assert execution.ok and [f.kind for f in execution.findings] == ["output-limit"]
    graded = nbformat.read(path, as_version=4)
    assert graded.cells[0].outputs == []
    assert determine_grade(graded.cells[1]) == (0.5, 1)


def test_a_notebook_of_many_cells_under_the_cell_timeout_stops_at_its_total(
    ps0_course: Path, tmp_path: Path
) -> None:
    """With a 1 s cell timeout a notebook has 10 s in all: twelve cells of 0.9 s each are
    each under their own limit, and the notebook is stopped after about ten of them."""
    nb = nbformat.v4.new_notebook(cells=[new_code_cell("import time\ntime.sleep(0.9)")
                                         for _ in range(12)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    config = load_config(ps0_course, grading=True, sandbox=False, timeout=1)
    execution = execute_notebook(str(path), config)
    assert not execution.ok
    assert [f.kind for f in execution.findings] == ["timeout"]
    assert "more than 10 s in all" in execution.findings[0].detail
    assert execution.seconds < 20


def test_grading_keeps_no_widget_state(ps0_course: Path) -> None:
    """nbclient would keep widget state in the notebook's metadata, outside the output limit
    (a second attack made a 126 MB notebook of it)."""
    from course.grading.execution import GradingExecute

    config = load_config(ps0_course, grading=True, sandbox=False)
    assert GradingExecute(config=config).store_widget_state is False


def test_kernel_folders_are_in_memory_where_the_machine_has_room(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a kernel writes in its own folder counts to its cgroup in /dev/shm; on the disk it
    did not (3 GB in 13 s). A small /dev/shm, as in many containers, is left alone."""
    from course.grading.sandbox import SandboxedKernelManager

    class Shm:
        def __init__(self, size: int) -> None:
            self.f_frsize, self.f_blocks = 4096, size // 4096

    monkeypatch.setattr(os, "access", lambda path, mode: True)
    monkeypatch.setattr(os, "statvfs", lambda path: Shm(24 * 2**30))
    assert SandboxedKernelManager().kernel_dir_base == "/dev/shm"
    monkeypatch.setattr(os, "statvfs", lambda path: Shm(64 * 2**20))
    assert SandboxedKernelManager().kernel_dir_base == "/tmp"
