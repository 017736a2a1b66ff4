"""Where a test run's CPU goes: an opt-in pytest plugin, for whoever makes the full run shorter.

    make test TEST_WORKERS= PYTEST_ARGS="-p tests.support.cpu_report"

At the end it prints the machine's busy CPU-seconds and the wall time of the whole run, of
each test file and of the costliest tests, set-up and teardown included (so a session
fixture counts in the test that made it). Why machine-wide (/proc/stat) and not this
process's own use: most of the run's CPU is spent outside pytest, in grading kernels and
their sandboxes, Chromium, Jupyter servers and PostgreSQL, some of which are not our
children. So run it alone on the machine. Under pytest-xdist each worker's tests run at once
and share the machine's counters, so the report needs one process and says so otherwise.
docs/test-suite.md gives what it showed for the full suite.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import pytest

STAT = Path("/proc/stat")
TOP_TESTS = 25


def machine_busy_seconds() -> float:
    """CPU-seconds all the machine's cores have spent busy since boot (idle and iowait
    left out)."""
    fields = [int(v) for v in STAT.read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Cost:
    cpu: float = 0.0
    wall: float = 0.0
    tests: int = 0

    def add(self, cpu: float, wall: float) -> None:
        self.cpu, self.wall, self.tests = self.cpu + cpu, self.wall + wall, self.tests + 1


@dataclass
class Ledger:
    start_cpu: float
    start_wall: float
    per_test: dict[str, Cost]


_ledger: Ledger | None = None


def _single_process(config: pytest.Config) -> bool:
    return getattr(config.option, "dist", "no") == "no"


def pytest_configure(config: pytest.Config) -> None:
    global _ledger
    if _single_process(config) and STAT.is_file():
        _ledger = Ledger(machine_busy_seconds(), time.monotonic(), {})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    if _ledger is None:
        yield
        return
    cpu, wall = machine_busy_seconds(), time.monotonic()
    yield
    _ledger.per_test.setdefault(item.nodeid, Cost()).add(machine_busy_seconds() - cpu,
                                                         time.monotonic() - wall)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    write = terminalreporter.write_line
    terminalreporter.section("CPU report (tests/support/cpu_report.py)")
    if _ledger is None:
        why = ("needs one process (make test TEST_WORKERS=): under pytest-xdist the workers' "
               "tests share the machine's counters" if not _single_process(config)
               else f"needs {STAT}")
        write(f"No report: it {why}.")
        return
    cpu = machine_busy_seconds() - _ledger.start_cpu
    wall = time.monotonic() - _ledger.start_wall
    cores = os.cpu_count() or 1
    write(f"The machine was busy {cpu:.0f} CPU-s over {wall:.0f} s ({cores} cores: "
          f"{cpu / (wall * cores):.0%} of what they could give); whole machine, so run alone.")
    files: dict[str, Cost] = {}
    for nodeid, cost in _ledger.per_test.items():
        files.setdefault(nodeid.split("::")[0], Cost()).add(cost.cpu, cost.wall)
    write(f"{'CPU-s':>8} {'wall s':>8} {'share':>6} {'tests':>6}  test file")
    for name, cost in sorted(files.items(), key=lambda kv: -kv[1].cpu):
        write(f"{cost.cpu:8.1f} {cost.wall:8.1f} {cost.cpu / max(cpu, 1e-9):6.1%} "
              f"{cost.tests:6d}  {name}")
    write(f"The {TOP_TESTS} costliest tests (set-up and teardown included):")
    write(f"{'CPU-s':>8} {'wall s':>8}  test")
    ranked = sorted(_ledger.per_test.items(), key=lambda kv: -kv[1].cpu)[:TOP_TESTS]
    for nodeid, cost in ranked:
        write(f"{cost.cpu:8.1f} {cost.wall:8.1f}  {nodeid}")
