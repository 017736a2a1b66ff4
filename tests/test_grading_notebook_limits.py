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

from course.grading.execution import canary_source, execute_notebook, working_copy
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


# A cell that stops its kernel from ever saying "idle" after a cell has run
WITHHOLDS_IDLE = """\
kernel = get_ipython().kernel
send = kernel.session.send
def withheld(stream, kind, content=None, *args, **kwargs):
    if kind == "status" and (content or {}).get("execution_state") == "idle":
        return None
    return send(stream, kind, content, *args, **kwargs)
kernel.session.send = withheld"""


def test_a_kernel_that_never_says_idle_stops_its_notebook_after_one_wait(
    ps0_course: Path, tmp_path: Path
) -> None:
    """The course waits 30 s for a cell's last outputs (nbgrader_config.py; nbclient's 4 s
    failed sound work on a busy machine), and a kernel that withholds them costs that wait
    once, not once a cell (docs/sandbox.md, pitfall 15). Here with a 2 s wait."""
    assert load_config(ps0_course).Execute.iopub_timeout == 30
    nb = nbformat.v4.new_notebook(cells=[new_code_cell(WITHHOLDS_IDLE)]
                                  + [new_code_cell(f"print({i})") for i in range(10)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "withholds-idle.ipynb"
    nbformat.write(nb, path)
    config = load_config(ps0_course, grading=True, sandbox=False, timeout=5)
    config.Execute.iopub_timeout = 2
    execution = execute_notebook(str(path), config)
    assert not execution.ok
    assert [f.kind for f in execution.findings] == ["not-executed"]
    assert "CellTimeoutError" in execution.findings[0].detail  # its last outputs never came
    assert "after 2 seconds" in execution.findings[0].detail
    assert execution.seconds < 2 * 2 + 5  # one wait, and the kernel's start and end


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
