"""The gradebook on a real PostgreSQL server (Debian's package), with two grader processes
writing to it at once: what nbgrader advises for several graders."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.course import cell_scores, make_course, submit
from tests.support.ports import free_port


def as_postgres(*command: str) -> list[str]:
    # initdb refuses to run as root: run the server as the postgres system user
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


# The port is picked free, but the server binds it only later: another process (the other
# pytest-xdist worker's tests) may take it between. The server then exits saying so in its log.
BIND_FAILED = "could not bind"
STARTS = 3


def start_server(pg_bin: Path, data: Path, home: Path,
                 pick_port: Callable[[], int] = free_port) -> int:
    """Start the server of ``data`` on 127.0.0.1 and return its port: a port picked free, or
    another one if the server could not bind it; an error with the server's log otherwise."""
    log = home / "server.log"
    for _ in range(STARTS):
        port = pick_port()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {home}"
        started = subprocess.run(as_postgres(str(pg_bin / "pg_ctl"), "-D", str(data), "-o",
                                             options, "-w", "-l", str(log), "start"),
                                 capture_output=True, text=True)
        if started.returncode == 0:
            return port
        said = log.read_text(errors="replace") if log.exists() else started.stderr
        if BIND_FAILED not in said:
            raise AssertionError(f"PostgreSQL did not start:\n{said}")
    raise AssertionError(f"PostgreSQL found no free port in {STARTS} starts:\n{said}")


def stop_server(pg_bin: Path, data: Path) -> None:
    subprocess.run(as_postgres(str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                               "stop"), capture_output=True)


@contextlib.contextmanager
def server_home() -> Iterator[tuple[Path, Path]]:
    """A folder the server may write to, and its data folder made by initdb; removed after."""
    home = Path(tempfile.mkdtemp(prefix="pg-gradebook-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    data = home / "data"
    try:
        yield home, data
    finally:
        shutil.rmtree(home, ignore_errors=True)


def initdb(pg_bin: Path, data: Path) -> None:
    subprocess.run(as_postgres(str(pg_bin / "initdb"), "-D", str(data), "-A", "trust",
                               "-U", "postgres"), check=True, capture_output=True)


@pytest.fixture(scope="module")
def postgres(pg_bin: Path) -> Iterator[str]:
    """A throw-away server on 127.0.0.1 and a free port; yields the gradebook's db_url."""
    with server_home() as (home, data):
        initdb(pg_bin, data)
        port = start_server(pg_bin, data, home)
        try:
            subprocess.run(as_postgres(str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p",
                                       str(port), "-U", "postgres", "gradebook"),
                           check=True, capture_output=True)
            yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/gradebook"
        finally:
            stop_server(pg_bin, data)


def test_the_server_starts_on_another_port_when_its_port_is_taken(pg_bin: Path) -> None:
    with socket.socket() as taken, server_home() as (home, data):
        taken.bind(("127.0.0.1", 0))
        taken.listen()  # as a process that took the port between the pick and the start
        ports = [taken.getsockname()[1], free_port()]
        picks = iter(ports)
        initdb(pg_bin, data)
        port = start_server(pg_bin, data, home, lambda: next(picks))
        try:
            assert port == ports[1]
            assert BIND_FAILED in (home / "server.log").read_text()
        finally:
            stop_server(pg_bin, data)


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
