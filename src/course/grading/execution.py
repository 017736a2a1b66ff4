"""What a grading worker does: execute one sanitized notebook in a fresh (sandboxed) kernel with
nbgrader's own Execute preprocessor. Workers never open the gradebook."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell
from nbgrader.preprocessors import Execute
from traitlets.config import Config

from .integrity import Finding

CANARY = "course-grader-canary"
# A failing assert run after the student's code: if no error is recorded for it, the kernel's
# error reporting was tampered with and no "passed" test of this notebook can be trusted.
CANARY_SOURCE = f"assert False, {CANARY!r}"


@dataclass
class Execution:
    path: str
    ok: bool
    seconds: float
    findings: list[Finding] = field(default_factory=list)


def _cell_findings(nb: nbformat.NotebookNode, name: str) -> list[Finding]:
    findings = []
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            if output.get("ename") in ("KeyboardInterrupt", "CellTimeoutError"):
                detail = "stopped by the per-cell timeout"
                findings.append(Finding("timeout", name, detail, grade_id))
            elif output.get("ename") == "MemoryError":
                findings.append(Finding("memory-limit", name, "hit the memory limit", grade_id))
    return findings


def execute_notebook(path: str, config: Config) -> Execution:
    """Run the notebook at ``path`` in place (its folder is the kernel's working folder)."""
    start = time.monotonic()
    name = Path(path).stem
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_code_cell(CANARY_SOURCE))
    resources = {"metadata": {"path": str(Path(path).parent)}}
    try:
        # the grading config ends the kernel as soon as the canary has answered
        # (settings.load_config; docs/nbgrader-boundary.md, "Speed"; docs/sandbox.md, pitfall 9)
        Execute(config=config).preprocess(nb, resources)
    except DeadKernelError:
        return Execution(path, False, time.monotonic() - start,
                         [Finding("kernel-died", name, "the kernel died while running the code")])
    except Exception as error:  # any other failure is this submission's verdict, not the batch's
        detail = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        return Execution(path, False, time.monotonic() - start,
                         [Finding("not-executed", name, detail)])
    canary = nb.cells.pop()
    findings = _cell_findings(nb, name)
    if not any(o.get("output_type") == "error" for o in canary.get("outputs", [])):
        findings.append(Finding("tampered", name,
                                "the code disabled error reporting, so tests cannot be trusted"))
        nbformat.write(nb, path)
        return Execution(path, False, time.monotonic() - start, findings)
    nbformat.write(nb, path)
    return Execution(path, True, time.monotonic() - start, findings)
