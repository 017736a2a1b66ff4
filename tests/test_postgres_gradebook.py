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
# pytest-xdist worker's tests) may take it between. The server then exits saying so in its log,
# in English since it is started with lc_messages=C.
BIND_FAILED = "could not bind"
STARTS = 3


def pg_ctl(pg_bin: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pg_ctl on the server of ``data``, waiting until it is done; its output kept."""
    return subprocess.run(as_postgres(str(pg_bin / "pg_ctl"), "-D", str(data), "-w", *args),
                          capture_output=True, text=True)


def start_server(pg_bin: Path, data: Path, home: Path,
                 pick_port: Callable[[], int] = free_port) -> int:
    """Start the server of ``data`` on 127.0.0.1 and return its port: a port picked free, or
    another one if the server could not bind it; an error with what it said otherwise."""
    log = home / "server.log"  # pg_ctl appends: each start's lines come after the last's
    for _ in range(STARTS):
        port, before = pick_port(), log.stat().st_size if log.exists() else 0
        options = f"-c listen_addresses=127.0.0.1 -c lc_messages=C -p {port} -k {home}"
        started = pg_ctl(pg_bin, data, "-o", options, "-l", str(log), "start")
        if started.returncode == 0:
            return port
        with log.open(errors="replace") as lines:
            lines.seek(before)
            said = lines.read() + started.stdout + started.stderr
        if BIND_FAILED not in said:
            raise AssertionError(f"PostgreSQL did not start:\n{said}")
    raise AssertionError(f"PostgreSQL found no free port in {STARTS} starts:\n{said}")


@contextlib.contextmanager
def server_home() -> Iterator[tuple[Path, Path]]:
    """A folder the server may write to, and its data folder; removed after."""
    home = Path(tempfile.mkdtemp(prefix="pg-gradebook-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    try:
        yield home, home / "data"
    finally:
        shutil.rmtree(home, ignore_errors=True)


def initdb(pg_bin: Path, data: Path) -> None:
    """A new database cluster in ``data``, its superuser postgres, trusted on this machine."""
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
            pg_ctl(pg_bin, data, "-m", "fast", "stop")


def test_the_server_starts_on_another_port_when_its_port_is_taken(pg_bin: Path) -> None:
    with socket.socket() as taken, server_home() as (home, data):
        taken.bind(("127.0.0.1", 0))
        taken.listen()  # as a process that took the port between the pick and the start
        picks = iter([taken.getsockname()[1]])
        initdb(pg_bin, data)
        port = start_server(pg_bin, data, home, lambda: next(picks, None) or free_port())
        try:
            assert port != taken.getsockname()[1]
            assert BIND_FAILED in (home / "server.log").read_text()
        finally:
            pg_ctl(pg_bin, data, "-m", "fast", "stop")


def test_a_start_that_fails_for_another_reason_says_why_and_is_not_retried(
        pg_bin: Path) -> None:
    with server_home() as (home, data):
        initdb(pg_bin, data)
        (data / "postgresql.conf").write_text("no_such_setting = 1\n")  # the server refuses it
        ports: list[int] = []
        with pytest.raises(AssertionError, match="did not start") as failed:
            start_server(pg_bin, data, home, lambda: ports.append(free_port()) or ports[-1])
        assert len(ports) == 1
        assert "no_such_setting" in str(failed.value)


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
