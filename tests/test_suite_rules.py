"""The rules of the suite itself (tests/support/plugin.py): markers follow the fixtures a test
uses, a missing system tool skips with a reason naming its package, `make test` fails on any
skip, test modules import only tests.support, and the fixture course is a copy per test."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from course.settings import load_config
from tests.support import cpu_report, plugin, system
from tests.support.course import ASSIGNMENT, NOTEBOOK, gradebook_is_sound, make_course
from tests.support.paths import REPO, TESTS

# A throwaway suite that uses the real hooks and fixtures: one test needs bubblewrap.
CONFTEST = """
from tests.support.plugin import (  # noqa: F401
    bwrap, pytest_collection_modifyitems, pytest_configure,
    pytest_sessionfinish, pytest_terminal_summary, pytest_xdist_make_scheduler,
)
"""
TESTS_NEEDING_BWRAP = """
def test_grades_in_the_sandbox(bwrap):
    pass

def test_reads_a_file():
    pass
"""


@pytest.fixture
def suite_without_bwrap(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                        tmp_path: Path) -> pytest.Pytester:
    """The throwaway suite, run where bwrap is not on PATH (as on a machine without
    Debian's bubblewrap)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv(system.NO_SKIPS_ENV, raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_throwaway=TESTS_NEEDING_BWRAP)
    return pytester


def test_a_missing_tool_skips_with_its_package_and_fails_make_test(
    suite_without_bwrap: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    working = suite_without_bwrap.runpytest_subprocess("-rs")
    working.assert_outcomes(passed=1, skipped=1)
    assert working.ret == pytest.ExitCode.OK
    working.stdout.fnmatch_lines(["SKIPPED*bubblewrap*install the Debian package bubblewrap*"])

    monkeypatch.setenv(system.NO_SKIPS_ENV, "1")  # as the Makefile's test target sets it
    full = suite_without_bwrap.runpytest_subprocess("-rs")
    full.assert_outcomes(passed=1, skipped=1)
    assert full.ret == pytest.ExitCode.TESTS_FAILED
    full.stdout.fnmatch_lines([
        "*skipped tests fail this run*",
        "*test_throwaway.py::test_grades_in_the_sandbox: *install the Debian package bubblewrap*",
    ])


def test_a_skip_in_an_xdist_worker_still_fails_make_test(
    suite_without_bwrap: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # make test runs the suite on two workers: the skip happens in one of them
    monkeypatch.setenv(system.NO_SKIPS_ENV, "1")
    full = suite_without_bwrap.runpytest_subprocess("-rs", "-n", "2", "--dist", "loadgroup")
    full.assert_outcomes(passed=1, skipped=1)
    assert full.ret == pytest.ExitCode.TESTS_FAILED
    full.stdout.fnmatch_lines([
        "*skipped tests fail this run*",
        "*test_throwaway.py::test_grades_in_the_sandbox: *install the Debian package bubblewrap*",
    ])


def test_tests_sharing_a_session_fixture_share_an_xdist_worker(pytester: pytest.Pytester,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    # Two modules use a fixture made once per session (as the built book is), directly or
    # through another fixture; a third uses none. On two workers, the fixture is made once.
    builds = tmp_path / "builds.log"
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("BUILDS_LOG", str(builds))
    monkeypatch.delenv(system.NO_SKIPS_ENV, raising=False)
    pytester.makeconftest(CONFTEST + """
import os
import pytest

@pytest.fixture(scope="session")
def expensive_build():
    with open(os.environ["BUILDS_LOG"], "a") as log:
        log.write(f"built in {os.getpid()}\\n")

@pytest.fixture
def page_of_the_build(expensive_build):
    return expensive_build
""")
    many = "import pytest\n\n@pytest.mark.parametrize('n', range(8))\ndef test_{}({}n):\n    pass\n"
    pytester.makepyfile(test_first=many.format("build", "expensive_build, "),
                        test_second=many.format("page", "page_of_the_build, "),
                        test_third=many.format("alone", ""))
    result = pytester.runpytest_subprocess("-v", "-n", "2", "--dist", "loadgroup")
    result.assert_outcomes(passed=24)
    assert len(builds.read_text().splitlines()) == 1
    workers = {line.split()[0] for line in result.outlines
               if "PASSED" in line and ("test_build" in line or "test_page" in line)}
    assert len(workers) == 1, workers


def test_a_test_using_a_slow_session_fixture_gets_the_time_to_make_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Whichever test makes the fixture (it depends on the order and the xdist worker) pays its
    # set-up, so each user of it, direct or through another fixture, gets that fixture's time.
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv(system.NO_SKIPS_ENV, raising=False)
    pytester.makeconftest(CONFTEST + """
import pytest

@pytest.fixture(scope="session")
def graded_assignments():
    return "graded"

@pytest.fixture
def scores(graded_assignments):
    return graded_assignments
""")
    pytester.makepyfile(test_timeouts="""
import pytest

def timeout(request):
    return request.node.get_closest_marker("timeout").args[0]

def test_direct(request, graded_assignments):
    assert timeout(request) == {graded}

def test_through_another_fixture(request, scores):
    assert timeout(request) == {graded}

@pytest.mark.timeout(7)
def test_its_own_timeout_wins(request, scores):
    assert timeout(request) == 7

def test_none(request):
    assert request.node.get_closest_marker("timeout") is None
""".format(graded=plugin.SLOW_FIXTURE_TIMEOUTS["graded_assignments"]))
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_markers_follow_the_fixtures_a_test_uses(suite_without_bwrap: pytest.Pytester) -> None:
    # No hand-written marker: the test asking for bwrap is a `sandbox` test, the other is not.
    result = suite_without_bwrap.runpytest_subprocess(
        "--collect-only", "-q", "-m", "not sandbox", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*test_reads_a_file"])
    result.stdout.no_fnmatch_line("*test_grades_in_the_sandbox")


def test_make_test_fails_on_skips_and_test_fast_leaves_out_every_marker() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^test: .*\n\t(.*)$", makefile, re.M)
    assert recipe and f"{system.NO_SKIPS_ENV}=1 " in recipe.group(1)
    fast = re.search(r"^FAST_MARKERS := not \((.*)\)$", makefile, re.M)
    assert fast, "the Makefile must define FAST_MARKERS"
    assert sorted(fast.group(1).split(" or ")) == system.FAST_EXCLUDES
    # the fast loop runs on xdist workers that keep a shared fixture's tests together
    fast_recipe = re.search(r"^test-fast: .*\n\t(.*)$", makefile, re.M)
    assert fast_recipe and "$(FAST_WORKERS)" in fast_recipe.group(1)
    assert re.search(r"^FAST_WORKERS \?= -n \d+ --dist loadgroup$", makefile, re.M)
    declared = ast.literal_eval(re.search(r"^markers = (\[.*?\])$", (REPO / "pyproject.toml")
                                          .read_text(), re.M | re.S).group(1))
    assert sorted(m.split(":")[0] for m in declared) == system.FAST_EXCLUDES  # none unused


def test_no_test_module_imports_another_test_module_or_conftest() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(REPO)} imports {name}" for name in names
                          if name.split(".")[0] in {"conftest", "throwaway_jupyter"}
                          or name.split(".")[0].startswith("test_")
                          or (name.startswith("tests.") and not name.startswith("tests.support"))]
    assert not offenders, "\n".join(offenders) + "\nshared helpers belong in tests/support"


def test_each_test_gets_its_own_copy_of_the_course(ps0_course: Path, tmp_path: Path) -> None:
    other = make_course(tmp_path / "other")
    for root in (ps0_course, other):
        assert (root / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").exists()
        assert gradebook_is_sound(root)
        # the copied config derives its folders from where it lies, not from the template
        assert str(root) in load_config(root).CourseDirectory.db_url
    (ps0_course / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").unlink()
    assert (other / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").exists()


def test_ran_from_the_repository_helpers() -> None:
    # a `tests` package installed in site-packages would shadow ours: pin where it comes from
    import tests.support

    assert Path(tests.support.__file__).resolve().parent == TESTS / "support"


CPU_REPORT_TESTS = """
import time

def test_spins_the_cpu():
    end = time.process_time() + 0.5
    while time.process_time() < end:
        pass

def test_sleeps():
    time.sleep(0.5)
"""


@pytest.fixture
def suite_for_the_cpu_report(pytester: pytest.Pytester,
                             monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makepyfile(test_throwaway=CPU_REPORT_TESTS)
    return pytester


def test_the_cpu_report_ranks_tests_by_the_cpu_they_cost(
    suite_for_the_cpu_report: pytest.Pytester,
) -> None:
    result = suite_for_the_cpu_report.runpytest_subprocess("-p", "tests.support.cpu_report")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "*CPU report*",
        "The machine was busy * CPU-s over * s (* cores: *",
        "*test_throwaway.py",
        f"The {cpu_report.TOP_TESTS} costliest tests*",
    ])
    rows = {line.split()[2].split("::")[1]: (float(line.split()[0]), float(line.split()[1]))
            for line in result.stdout.lines if "test_throwaway.py::" in line}
    assert sorted(rows) == ["test_sleeps", "test_spins_the_cpu"]
    cpu = [cpu for cpu, _ in rows.values()]
    # ranked by CPU; which test comes first is not asserted, since the counters are the
    # whole machine's and another process's burst during the sleep could rank it first
    assert cpu == sorted(cpu, reverse=True), rows
    # at least the half second spun, and the sleep's wall time
    assert rows["test_spins_the_cpu"][0] >= 0.4 and rows["test_sleeps"][1] >= 0.5, rows


def test_the_cpu_report_refuses_to_split_the_machine_between_xdist_workers(
    suite_for_the_cpu_report: pytest.Pytester,
) -> None:
    result = suite_for_the_cpu_report.runpytest_subprocess("-p", "tests.support.cpu_report",
                                                          "-n", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["No report: it needs one process (make test TEST_WORKERS=): "
                                "under pytest-xdist*"])
    assert "The machine was busy" not in result.stdout.str()
