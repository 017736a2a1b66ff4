"""Student code runs in the bubblewrap sandbox: what it must not read or write, no network, and
limits on memory and time that stop the cell but not the batch."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from course.grading.sandbox import (
    HASH_SEED,
    SandboxedKernelManager,
    SandboxUnavailable,
    check_bwrap,
    format_size,
    parse_size,
)
from tests.support.sandbox import run_in_sandbox


def test_student_code_is_confined_to_its_own_folder(bwrap: None, tmp_path: Path) -> None:
    course = tmp_path / "course"
    mine = course / "autograder" / "autograded" / "alice" / "ps0"
    theirs = course / "autograder" / "autograded" / "bob" / "ps0"
    for folder in (mine, theirs, course / "solutions" / "ps0"):
        folder.mkdir(parents=True)
    (course / "solutions" / "ps0" / "key.txt").write_text("the answers")
    (theirs / "answers.ipynb").write_text("{}")
    gradebook = course / "autograder" / "gradebook.db"
    sqlite3.connect(gradebook).execute("create table t (x)").connection.commit()
    outputs = run_in_sandbox([
        "print(open('../../../../solutions/ps0/key.txt').read())",
        f"print(open({str(course / 'solutions/ps0/key.txt')!r}).read())",
        f"open({str(gradebook)!r}, 'w')",
        "print(open('../../bob/ps0/answers.ipynb').read())",
        "open('/tmp/escape.txt', 'w')",
        "open('scratch.txt', 'w').write('mine'); print('wrote')",
        "import socket; socket.create_connection(('127.0.0.1', 22), timeout=2)",
        "x = bytearray(4 * 1024**3)",
        "while True: pass",
        "print('still running')",
    ], course, mine)
    assert outputs[0].startswith("FileNotFoundError")
    assert outputs[1].startswith("FileNotFoundError")
    assert outputs[2].startswith(("OSError", "FileNotFoundError", "PermissionError"))
    assert outputs[3].startswith("FileNotFoundError")
    assert outputs[4].startswith("OSError") and "Read-only" in outputs[4]
    # it may write in its folder; that is its sandbox's own tmpfs, which the grader never reads
    assert outputs[5] == "wrote\n" and not (mine / "scratch.txt").exists()
    assert outputs[6].startswith(("ConnectionRefusedError", "OSError"))
    assert outputs[7].startswith("MemoryError")
    assert outputs[8].startswith("KeyboardInterrupt")
    assert outputs[9] == "still running\n"
    assert sqlite3.connect(gradebook).execute("select count(*) from t").fetchone() == (0,)
    assert not Path("/tmp/escape.txt").exists()


def test_missing_bubblewrap_fails_loudly_with_the_way_out() -> None:
    with pytest.raises(SandboxUnavailable, match="--no-sandbox"):
        check_bwrap("no-such-bwrap-here")


def test_sizes_are_read_in_binary_units() -> None:
    assert parse_size("2GiB") == 2 * 1024**3
    assert parse_size("512M") == 512 * 1024**2
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")
    assert [format_size(parse_size(t)) for t in ("2GiB", "600MiB", "1536M", "100")] == [
        "2 GiB", "600 MiB", "1.5 GiB", "100 B"]


@pytest.mark.slow  # starts a kernel
def test_unsandboxed_kernel_manager_runs_plainly(tmp_path: Path) -> None:
    nb = new_notebook(cells=[new_code_cell("import os\nprint(6 * 7, os.getuid())")])
    client = NotebookClient(nb, timeout=10, kernel_manager_class=SandboxedKernelManager,
                            coalesce_streams=True,  # a print may come in pieces under load
                            resources={"metadata": {"path": str(tmp_path)}})
    client.km = client.create_kernel_manager()
    client.km.sandbox = False
    client.execute()
    # the sandbox maps the user to nobody (65534); a plain kernel runs as the grader
    assert nb.cells[0].outputs[0]["text"] == f"42 {os.getuid()}\n"


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "no-sandbox"])
def test_grading_kernels_hash_with_the_grading_seed_and_show_figures(
        bwrap: None, tmp_path: Path, sandbox: bool) -> None:
    """The same submission prints the same sets every time (docs/sandbox.md, pitfall 8), and a
    figure shows in the graded notebook as under plain nbgrader (pitfall 10)."""
    nb = new_notebook(cells=[new_code_cell("print(hash('grading'))"), new_code_cell(
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")])
    client = NotebookClient(nb, timeout=60, kernel_manager_class=SandboxedKernelManager,
                            coalesce_streams=True,  # a print may come in pieces under load
                            resources={"metadata": {"path": str(tmp_path)}})
    client.km = client.create_kernel_manager()
    client.km.course_root, client.km.sandbox = str(tmp_path), sandbox
    client.execute()
    seeded = subprocess.run([sys.executable, "-c", "print(hash('grading'))"], text=True,
                            env={**os.environ, "PYTHONHASHSEED": HASH_SEED},
                            capture_output=True, check=True)
    assert nb.cells[0].outputs[0].text == seeded.stdout
    assert [o.output_type for o in nb.cells[1].outputs] == ["display_data"]
    assert "image/png" in nb.cells[1].outputs[0].data
