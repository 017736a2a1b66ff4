"""What a test cell shows is its score: nbgrader scores a test by the first value it shows
(partial credit), 0 on an error, and full marks when it shows nothing. Student code runs inside
the tests (the tests call it), so it can show values of its own or change how values are shown.
This module makes the tests' outputs safe to score and checks that the kernel shows values as
they are (docs/sandbox.md, "Tamper detection")."""

from __future__ import annotations

import math
import re
import secrets

import nbformat
from nbformat.v4 import new_code_cell

from .integrity import Finding, is_test

# The score-like values the check draws: a partial-credit test's own forms.
FACTORS = (0.5, 0.6, 0.75, 0.8, 1.0)


def shown_value_canary() -> tuple[str, float]:
    """A cell in the form of a partial-credit hidden test (``_builtins``, a sum of marks, a
    round, at a cell's top level) and the value it must show. A kernel that shows values other
    than they are, or none (which nbgrader scores as full marks), or whose builtins were
    replaced, shows another. Drawn anew for every notebook; at most two decimals, as a score
    has, so a display rounded to two places (``%precision 2``) still reads true, and never a
    multiple of a quarter, so a forged score (whole, half or quarter points) never matches it."""
    while True:
        marks = [bool(secrets.randbelow(2)) for _ in range(secrets.randbelow(10) + 3)]
        factor = secrets.choice(FACTORS)
        source, value = secrets.choice([
            (f"_builtins.round({factor} * _builtins.sum(_builtins.bool(_m) for _m in {marks!r}), "
             "2)", round(factor * sum(marks), 2)),
            (f"_builtins.round({factor} * _builtins.sum({marks!r}) / _builtins.len({marks!r}), 2)",
             round(factor * sum(marks) / len(marks), 2)),
        ])
        if round(value * 4, 6) % 1:
            return "import builtins as _builtins\n" + source, value


def check_key() -> str:
    """The metadata key that marks the grader's own cells in one run: drawn anew, so a
    submission cannot mark a cell of its own as the grader's. The kernel never sees metadata."""
    return "course-check-" + secrets.token_hex(8)


def plant_checks(nb: nbformat.NotebookNode, key: str) -> None:
    """Shown-value checks among the tests: before each test at random (one chance in two) and
    after the student's last cell, each marked with ``key``. Code that forges the values shown
    at the tests' execution counts, as it would number them, meets a check wherever one was
    planted before a test: from there on every count is one further along."""
    cells = []
    for cell in nb.cells:
        if is_test(cell) and _plant_here():
            cells.append(_check_cell(key))
        cells.append(cell)
    nb.cells = [*cells, _check_cell(key)]


def _plant_here() -> bool:
    return secrets.randbelow(2) == 1


def _check_cell(key: str) -> nbformat.NotebookNode:
    source, value = shown_value_canary()
    return new_code_cell(source, metadata={key: value})


def take_checks(nb: nbformat.NotebookNode, key: str) -> bool:
    """Remove the checks ``plant_checks`` planted, and number the other cells as plain nbgrader
    numbers them, their tracebacks' "Cell In[7]" included; whether every check showed its
    value. The checks ran as cells like any other, in the kernel's history: run outside it, a
    check can be told from a test without reading either (a pre_run_cell hook sees
    ``store_history``, and a formatter sees the test's value already in ``Out``)."""
    planted = [c for c in nb.cells if key in c.get("metadata", {})]
    shown = all(shows_value(c, c.metadata[key]) for c in planted)
    ran = [c for c in nb.cells if c.get("cell_type") == "code"
           and c.get("execution_count") is not None]
    nb.cells = [c for c in nb.cells if key not in c.get("metadata", {})]
    kept = [c for c in ran if key not in c.get("metadata", {})]
    first = min((c.execution_count for c in ran), default=1)
    numbers = {c.execution_count: first + i for i, c in enumerate(kept)}
    for cell in kept:
        cell.execution_count = numbers[cell.execution_count]
        for output in cell.get("outputs", []):
            if output.get("output_type") == "execute_result":
                output["execution_count"] = cell.execution_count
            elif output.get("output_type") == "error":
                output["traceback"] = [_renumbered(line, numbers)
                                       for line in output.get("traceback", [])]
    return shown


# How IPython names a cell in a traceback: "Cell In[7], line 2" (older: "<ipython-input-7-...>")
CELL_NAME = re.compile(r"(In\[|ipython-input-)(\d+)(\]|-)")


def _renumbered(line: str, numbers: dict[int, int]) -> str:
    return CELL_NAME.sub(lambda m: f"{m[1]}{numbers.get(int(m[2]), int(m[2]))}{m[3]}", line)


def _results(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "execute_result"]


def _failed(cell: nbformat.NotebookNode) -> bool:
    # nbgrader's own rule: an error, or anything written to stderr, scores 0
    return any(o.get("output_type") == "error"
               or (o.get("output_type") == "stream" and o.get("name") == "stderr")
               for o in cell.get("outputs", []))


def _number(output: nbformat.NotebookNode) -> float | None:
    text = output.get("data", {}).get("text/plain", "")
    try:
        return float("".join(text))
    except ValueError:
        return None


def shows_value(cell: nbformat.NotebookNode, value: float) -> bool:
    """Whether ``cell`` shows ``value`` as its one result, without an error."""
    results = _results(cell)
    if _failed(cell) or len(results) != 1:
        return False
    shown = _number(results[0])
    return shown is not None and math.isclose(shown, value, abs_tol=1e-9)


def settle_test_outputs(nb: nbformat.NotebookNode, name: str) -> list[Finding]:
    """The released test cells' outputs made safe to score, and what showed tampering.

    - A test that failed keeps no shown value: nbgrader would score the first value shown
      even when it came before the error, and code the test calls can show one
      (``sys.displayhook("ok")``: full marks on every problem set with no answers).
    - A test that shows more than one value was given one by the code it called: tampered.
    - A value that reads as nan, infinite or below zero scores 0 (nbgrader gives it full
      marks); one above the test's points is tampered (nbgrader stops scoring at it).
    """
    findings = []
    for cell in nb.cells:
        if not is_test(cell):
            continue
        grading = cell.metadata["nbgrader"]
        results, grade_id = _results(cell), grading.get("grade_id")
        if _failed(cell) and results:
            cell["outputs"] = [o for o in cell["outputs"] if o not in results]
        elif len(results) > 1:
            findings.append(Finding("tampered", name, "a test showed more than one value: the "
                                    "code it called showed one of its own", grade_id))
        elif results:
            shown = _number(results[0])
            if shown is None:
                continue  # not a score: nbgrader's full marks for a test that passed
            if not math.isfinite(shown) or shown < 0:
                results[0]["data"] = {"text/plain": "0.0"}
            elif shown > float(grading.get("points", 0)):
                findings.append(Finding("tampered", name, f"a test showed {shown:g}, more than "
                                        "its points", grade_id))
    return findings
