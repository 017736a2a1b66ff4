"""The gradebook on a real PostgreSQL server (Debian's package), with two grader processes
writing to it at once: what nbgrader advises for several graders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.course import cell_scores, make_course, submit
from tests.support.ports import free_port


def as_postgres(*command: str) -> list[str]:
    # initdb refuses to run as root: run the server as the postgres system user
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture(scope="module")
def postgres(pg_bin: Path) -> Iterator[str]:
    """A throw-away server on 127.0.0.1 and a free port; yields the gradebook's db_url."""
    home = Path(tempfile.mkdtemp(prefix="pg-gradebook-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    data, port = home / "data", free_port()
    subprocess.run(as_postgres(str(pg_bin / "initdb"), "-D", str(data), "-A", "trust",
                               "-U", "postgres"), check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {home}"
    subprocess.run(as_postgres(str(pg_bin / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                               "-l", str(home / "server.log"), "start"),
                   check=True, capture_output=True)
    try:
        subprocess.run(as_postgres(str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                                   "-U", "postgres", "gradebook"), check=True, capture_output=True)
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(as_postgres(str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                                   "stop"), capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_two_graders_at_once_on_postgres(postgres: str, bwrap: None, tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", db_url=postgres)
    students = {"ann": "honest/full-marks", "ben": "honest/partial-marks",
                "cat": "honest/wrong-answers", "dan": "hostile/deleted-test-cell"}
    for student, scenario in students.items():
        submit(root, student, scenario)
    graders = [
        subprocess.Popen([sys.executable, "-m", "course.cli", "--root", str(root), "autograde",
                          "ps0", "--workers", "1", *[f"--student={s}" for s in group]],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for group in (["ann", "ben"], ["cat", "dan"])
    ]
    outputs = [grader.communicate(timeout=300)[0] for grader in graders]
    assert [g.returncode for g in graders] == [0, 0], outputs
    assert all("2 graded" in out for out in outputs), outputs

    scores = cell_scores(root, postgres)
    assert set(scores) == set(students)
    assert scores["ann"] == {"test_double": 1, "test_count_words": 2, "why_date": 0}
    assert scores["ben"]["test_count_words"] == 0 and scores["cat"]["test_double"] == 0
    assert scores["dan"] == {"test_double": 1, "test_count_words": 0, "why_date": 0}
