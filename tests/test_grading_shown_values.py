"""A test's shown value is its score (nbgrader's partial credit), and student code runs inside
the tests: what it shows, or how the kernel shows values, must not raise a score
(src/course/grading/shown_values.py; docs/sandbox.md, "Tamper detection"). Found by an
independent attack on 4 December 2026: a function that called ``sys.displayhook("ok")`` before
its test failed got full marks on every problem set with no answers."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output
from nbgrader.utils import determine_grade

from course.grading import shown_values
from course.grading.execution import Execution, execute_notebook
from course.grading.shown_values import (
    check_key,
    plant_checks,
    settle_test_outputs,
    shown_value_canary,
    take_checks,
)
from course.settings import load_config

# A partial-credit test's last line, as in the problem sets' hidden tests.
SCORE = "import builtins as _builtins\n_builtins.round(0.5 * 1, 2)"


def graded(source: str, points: float = 2, grade_id: str = "score") -> nbformat.NotebookNode:
    return new_code_cell(source, metadata={"nbgrader": {
        "grade": True, "grade_id": grade_id, "points": points, "solution": False,
        "locked": True, "schema_version": 3}})


def _result(text: str) -> nbformat.NotebookNode:
    return new_output("execute_result", data={"text/plain": text}, execution_count=1)


def _error() -> nbformat.NotebookNode:
    return new_output("error", ename="AssertionError", evalue="", traceback=[])


def _settled(*outputs: nbformat.NotebookNode, points: float = 2):
    """The score nbgrader gives the test once settled (None once tampered), and the findings."""
    cell = graded("x", points)
    cell.outputs = list(outputs)
    nb = nbformat.v4.new_notebook(cells=[cell])
    kinds = [f.kind for f in settle_test_outputs(nb, "questions")]
    return (None if kinds else determine_grade(nb.cells[0])), kinds


def test_a_value_shown_before_a_failure_scores_nothing() -> None:
    forged = graded("x")
    forged.outputs = [_result("'ok'"), _error()]
    assert determine_grade(forged) == (2, 2)  # nbgrader's own reading: full marks
    assert _settled(_result("'ok'"), _error()) == ((0, 2), [])
    stderr = new_output("stream", name="stderr", text="Warning\n")
    assert _settled(_result("1.5"), stderr) == ((0, 2), [])


@pytest.mark.parametrize("text", ["nan", "-1", "-inf", "inf"])
def test_a_value_nbgrader_would_take_for_full_marks_scores_nothing(text: str) -> None:
    assert _settled(_result(text)) == ((0.0, 2), [])


def test_more_than_one_value_or_more_than_the_points_is_tampering() -> None:
    assert _settled(_result("'ok'"), _result("0.5"))[1] == ["tampered"]
    assert _settled(_result("2.5"), points=2)[1] == ["tampered"]


def test_an_honest_score_and_a_passed_test_are_left_as_nbgrader_scores_them() -> None:
    assert _settled(_result("1.5")) == ((1.5, 2), [])
    assert _settled(_result("0.0")) == ((0.0, 2), [])
    assert _settled() == ((2, 2), [])
    assert _settled(_error()) == ((0, 2), [])


def test_answer_cells_are_not_touched() -> None:
    cell = graded("x")
    cell.metadata.nbgrader["solution"] = True
    cell.outputs = [_result("nan"), _error()]
    nb = nbformat.v4.new_notebook(cells=[cell])
    before = copy.deepcopy(nb)
    assert settle_test_outputs(nb, "questions") == [] and nb == before


def test_the_shown_value_check_is_in_the_tests_form_and_is_drawn_anew() -> None:
    draws = [shown_value_canary() for _ in range(60)]
    assert len({source for source, _ in draws}) > 40
    for source, value in draws:
        tree = ast.parse(source)
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert names <= {"_builtins", "_m"}, source  # a student's names never count
        namespace: dict = {}
        exec(compile(ast.Module(tree.body[:-1], []), "check", "exec"), namespace)
        assert eval(ast.unparse(tree.body[-1]), namespace) == value
        assert round(value, 2) == value >= 0
        assert round(value * 4, 6) % 1, value  # never a score a forge would show (n/4)


def test_checks_are_planted_among_the_tests_at_random_and_leave_no_trace() -> None:
    answer, prose = new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("Text")
    tests = [graded("assert x", grade_id=f"t{i}") for i in range(4)]
    layouts = set()
    for _ in range(40):
        nb = nbformat.v4.new_notebook(cells=[answer, prose, *tests])
        key = check_key()
        plant_checks(nb, key)
        planted = [key in c.metadata for c in nb.cells]
        assert planted[-1] and not planted[0] and not planted[1]
        assert all(c is t for c, t in zip([c for c in nb.cells if key not in c.metadata],
                                          [answer, prose, *tests], strict=True))
        layouts.add(tuple(planted))
        code = [c for c in nb.cells if c.cell_type == "code"]
        for count, cell in enumerate(code, start=1):  # as the kernel numbers them, checks too
            cell.execution_count = count
            if key in cell.metadata:
                cell.outputs = [_result(repr(cell.metadata[key]))]
            else:
                cell.outputs = [new_output("error", ename="AssertionError", evalue="", traceback=[
                    f"Cell In[{count}], line 1", "Cell In[1], line 1, in double"])]
        assert take_checks(nb, key) is True
        assert nb.cells == [answer, prose, *tests]
        # numbered as plain nbgrader numbers them, tracebacks included
        assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2, 3, 4, 5]
        assert [c.outputs[0].traceback[0] for c in tests] == [
            f"Cell In[{n}], line 1" for n in (2, 3, 4, 5)]
        assert {c.outputs[0].traceback[1] for c in tests} == {"Cell In[1], line 1, in double"}
    assert len(layouts) > 4  # where the checks stand is not a pattern to learn


def _run(cells: list[nbformat.NotebookNode], ps0_course: Path, tmp_path: Path) -> Execution:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "scored.ipynb"
    nbformat.write(nb, path)
    return execute_notebook(str(path), load_config(ps0_course, grading=True, sandbox=False))


@pytest.mark.parametrize("attack", [
    'get_ipython().ast_node_interactivity = "none"',  # no value shown: full marks
    'get_ipython().display_formatter.formatters["text/plain"].for_type('
    'float, lambda value, printer, cycle: printer.text("2.5"))',  # every score shown as 2.5
    # builtins replaced where a test's last line calls them (a cell's top level) only
    "import builtins, sys\n_sum = builtins.sum\n"
    "def sum(*a, **k):\n"
    "    top = sys._getframe(1).f_code.co_name == '<module>'\n"
    "    return float('nan') if top else _sum(*a, **k)\n"
    "builtins.sum = sum",
])
def test_a_kernel_that_shows_values_other_than_they_are_is_tampered(
    attack: str, ps0_course: Path, tmp_path: Path
) -> None:
    execution = _run([new_code_cell(attack), graded(SCORE)], ps0_course, tmp_path)
    assert not execution.ok
    assert "tampered" in [f.kind for f in execution.findings]
    assert "showed a cell's value other than it is" in " ".join(
        f.detail for f in execution.findings)


def test_forging_the_values_shown_at_the_tests_execution_counts_meets_a_check(
    ps0_course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second attack's forge: a formatter that shows full marks at the count where the
    test would run, sparing the check after the last cell. A check planted before the test
    (one chance in two for each test) runs at that count instead, so it is the one forged."""
    monkeypatch.setattr(shown_values, "_plant_here", lambda: True)
    forge = ("_ip = get_ipython()\n_test = _ip.execution_count + 1\n"
             "_ip.display_formatter.formatters['text/plain'].for_type(float, lambda v, p, c: "
             "p.text('2.0' if _ip.execution_count == _test else repr(v)))")
    execution = _run([new_code_cell(forge), graded(SCORE)], ps0_course, tmp_path)
    assert not execution.ok and [f.kind for f in execution.findings] == ["tampered"]


def test_a_value_shown_by_the_code_a_test_calls_earns_nothing(
    ps0_course: Path, tmp_path: Path
) -> None:
    answer = new_code_cell("import sys\ndef double(x):\n    sys.displayhook('ok')\n    return x")
    execution = _run([answer, graded("assert double(2) == 4"),
                      graded("double(1)\n" + SCORE, grade_id="partial")], ps0_course, tmp_path)
    assert not execution.ok
    assert [(f.kind, f.cell) for f in execution.findings] == [("tampered", "partial")]
    cells = nbformat.read(execution.path, as_version=4).cells
    assert determine_grade(cells[1]) == (0, 2)  # the failed test's 'ok' is gone


def test_an_honest_display_setting_and_a_reused_name_are_not_tampering(
    ps0_course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shown_values, "_plant_here", lambda: True)  # a check before the test
    execution = _run([new_code_cell("%precision 2"),
                      new_code_cell("round = sum = 0  # names reused by a beginner"),
                      graded(SCORE)], ps0_course, tmp_path)
    assert execution.ok and execution.findings == []
    cells = nbformat.read(execution.path, as_version=4).cells
    assert [o["data"]["text/plain"] for o in cells[-1].outputs] == ["0.50"]
    assert len(cells) == 3  # the grader's checks are gone, and the numbering is plain nbgrader's
    assert [c.execution_count for c in cells] == [1, 2, 3]
    assert cells[-1].outputs[0]["execution_count"] == 3
    assert determine_grade(cells[-1]) == (0.5, 2)


def test_a_failed_tests_traceback_names_cells_as_plain_nbgrader_does(
    ps0_course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shown_values, "_plant_here", lambda: True)  # a check before the test
    answer = new_code_cell("def double(x):\n    assert x < 0\n    return 2 * x")
    execution = _run([answer, graded("assert double(2) == 4")], ps0_course, tmp_path)
    assert execution.ok
    error = nbformat.read(execution.path, as_version=4).cells[1].outputs[0]
    text = "".join(error["traceback"])
    assert "In[2]" in text and "In[1]" in text and "In[3]" not in text


def test_a_tests_score_is_kept_past_the_output_limit(ps0_course: Path, tmp_path: Path) -> None:
    """nbgrader gives full marks to a partial-credit test that shows no value: flooding the
    output before the tests must not get their scores dropped with the rest."""
    execution = _run([new_code_cell('print("x" * (17 * 2**20))'), graded(SCORE, points=1)],
                     ps0_course, tmp_path)
    assert execution.ok and [f.kind for f in execution.findings] == ["output-limit"]
    cells = nbformat.read(execution.path, as_version=4).cells
    assert cells[0].outputs == []
    assert determine_grade(cells[1]) == (0.5, 1)
