"""What a grading worker does: execute one sanitized notebook in a fresh (sandboxed) kernel with
nbgrader's own Execute preprocessor. Workers never open the gradebook."""

from __future__ import annotations

import math
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell
from nbgrader.preprocessors import Execute
from traitlets.config import Config

from .integrity import Finding, is_test, regular_files
from .limits import MAX_OUTPUT_BYTES, NOTEBOOK_TIMEOUT_CELLS
from .shown_values import check_key, plant_checks, settle_test_outputs, take_checks

# An error's message and each traceback entry are cut to this many characters, and its
# traceback to its last ERROR_ENTRIES entries: far beyond any real error, so only a submission
# that raises a huge one is changed.
ERROR_CHARS = 65536
ERROR_ENTRIES = 200
# A score shown by a test past the output limit is kept, cut to this many characters.
SHOWN_VALUE_CHARS = 100


def canary_source() -> str:
    """A failing check run after the student's code: if no error is recorded for it, the
    kernel's error reporting was tampered with and no "passed" test of this notebook can be
    trusted. Its words and form are drawn anew for every notebook, so that code cannot let
    this one cell fail by its text (docs/sandbox.md, "Tamper detection")."""
    token = secrets.token_hex(8)
    a, b = secrets.randbelow(10**6), secrets.randbelow(10**6) + 10**6
    # always an assert statement: what strips or patches asserts must reach it too
    return secrets.choice([f"assert {a} == {b}, {token!r}",
                           f"assert not {token!r}",
                           f"assert {token!r} in {[secrets.token_hex(8)]!r}"])


class NotebookTimeout(Exception):
    """The notebook as a whole ran over its time."""


class GradingExecute(Execute):
    """nbgrader's Execute with two limits a notebook's cells cannot escape one by one: the
    whole notebook's time (many cells that each stay under the cell timeout), and the bytes of
    output the grader keeps in memory and writes to disk (docs/sandbox.md, pitfall 12). Error
    outputs are always kept, cut short if need be: they are what fails a test."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        # widget state is kept in the notebook's metadata, outside any output limit
        self.store_widget_state = False
        cell = self.timeout or 0
        self.notebook_seconds = NOTEBOOK_TIMEOUT_CELLS * cell if cell > 0 else None
        self.deadline = (math.inf if self.notebook_seconds is None
                         else time.monotonic() + self.notebook_seconds)
        self.output_bytes = 0
        self.outputs_dropped = 0
        self.errors_cut = 0
        self.check_key = ""  # marks the grader's own cells (shown_values.check_key)

    def _get_timeout(self, cell: nbformat.NotebookNode | None) -> int | None:
        timeout = super()._get_timeout(cell)
        if self.deadline == math.inf:
            return timeout
        left = max(1, math.ceil(self.deadline - time.monotonic()))
        return left if timeout is None else min(timeout, left)

    def preprocess_cell(self, cell: nbformat.NotebookNode, resources: dict,
                        index: int) -> tuple[nbformat.NotebookNode, dict]:
        if time.monotonic() > self.deadline:
            raise NotebookTimeout(f"the notebook ran for more than {self.notebook_seconds} s "
                                  f"in all ({NOTEBOOK_TIMEOUT_CELLS} times the cell timeout)")
        return super().preprocess_cell(cell, resources, index)

    def on_cell_executed(self, **kwargs: Any) -> None:
        super().on_cell_executed(**kwargs)  # nbgrader adds the reply's error if none was shown
        for output in kwargs["cell"].outputs:
            if output.output_type == "error":
                _shorten_error(output, self.output_bytes > MAX_OUTPUT_BYTES)

    def _over(self, size: int) -> bool:
        self.output_bytes += size
        return self.output_bytes > MAX_OUTPUT_BYTES

    def output(self, outs: list, msg: dict, display_id: str | None,
               cell_index: int) -> nbformat.NotebookNode | None:
        over = self._over(_size(msg))
        if over and msg.get("msg_type") == "execute_result" and self._scores(cell_index):
            # kept: a partial-credit test's value is its score, and nbgrader gives full marks
            # to a test that shows none; past the limit, as plain text of a few characters
            text = msg["content"].get("data", {}).get("text/plain", "")
            msg["content"]["data"] = {"text/plain": str(text)[:SHOWN_VALUE_CHARS]}
        elif over and msg.get("msg_type") != "error":
            self.outputs_dropped += 1
            return None
        if msg.get("msg_type") == "error":  # kept: it fails the test; past the limit, short
            _shorten_error(msg["content"], over)
            self.errors_cut += over
        return super().output(outs, msg, display_id, cell_index)

    def _scores(self, cell_index: int) -> bool:
        """Whether the value a cell shows is read as a score: a released test cell (nbgrader
        takes the grade id from any cell the release does not know) or the grader's checks."""
        cell = self.nb.cells[cell_index]
        if self.check_key in cell.get("metadata", {}):
            return True
        return is_test(cell) and bool(cell.metadata["nbgrader"].get("grade_id"))

    def _update_display_id(self, display_id: str, msg: dict) -> None:
        # an update rewrites every output shown under its id: each copy counts
        copies = sum(len(i) for i in self._display_id_map.get(display_id, {}).values())
        if self._over(_size(msg) * copies):
            self.outputs_dropped += 1
            return
        super()._update_display_id(display_id, msg)


def _size(msg: dict) -> int:
    return sum(len(str(v)) for v in msg.get("content", {}).values())


def _shorten_error(error: dict, over_limit: bool = False) -> None:
    """An error cut to ERROR_CHARS and ERROR_ENTRIES, and to a few hundred characters once the
    notebook's outputs are over their limit: its size is the student's to choose."""
    chars, entries = (500, 2) if over_limit else (ERROR_CHARS, ERROR_ENTRIES)
    for key in ("ename", "evalue"):
        if len(str(error.get(key, ""))) > chars:
            error[key] = str(error[key])[:chars]
    traceback = error.get("traceback", [])
    if len(traceback) > entries or any(len(str(t)) > chars for t in traceback):
        error["traceback"] = [str(t)[:chars] for t in traceback[-entries:]]


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


def working_copy(folder: Path) -> Path:
    """A new folder for the kernel to work in, holding the regular files of ``folder`` and no
    notebook. The kernel never sees the folder the grader reads and writes, so it cannot put a
    link or a FIFO where the grader will write the notebook, leave files for the feedback, or
    read the hidden tests from the autograded notebooks (docs/sandbox.md, pitfall 11). It lives
    in the temporary folder, which every other kernel's sandbox covers."""
    work = Path(tempfile.mkdtemp(prefix="course-work-"))
    for source in regular_files(folder):
        relative = source.relative_to(folder)
        if source.suffix == ".ipynb" or ".ipynb_checkpoints" in relative.parts:
            continue
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target, follow_symlinks=False)
    return work


def execute_notebook(path: str, config: Config) -> Execution:
    """Run the notebook at ``path`` in a working copy of its folder (``working_copy``); the
    executed notebook is written back to ``path``."""
    start = time.monotonic()
    nb = nbformat.read(path, as_version=4)
    key = check_key()
    plant_checks(nb, key)
    nb.cells.append(new_code_cell(canary_source(), metadata={key: "canary"}))
    work = working_copy(Path(path).parent)
    try:
        return _execute(nb, path, work, config, start, key)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _execute(nb: nbformat.NotebookNode, path: str, work: Path, config: Config,
             start: float, key: str) -> Execution:
    name = Path(path).stem
    resources = {"metadata": {"path": str(work)}}
    executor = GradingExecute(config=config)
    executor.check_key = key
    try:
        # the grading config ends the kernel as soon as the canary has answered
        # (settings.load_config; docs/nbgrader-boundary.md, "Speed"; docs/sandbox.md, pitfall 9)
        executor.preprocess(nb, resources)
    except NotebookTimeout as error:
        return Execution(path, False, time.monotonic() - start,
                         [Finding("timeout", name, str(error))])
    except DeadKernelError:
        return Execution(path, False, time.monotonic() - start,
                         [Finding("kernel-died", name, "the kernel died while running the code")])
    except Exception as error:  # any other failure is this submission's verdict, not the batch's
        detail = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        return Execution(path, False, time.monotonic() - start,
                         [Finding("not-executed", name, detail)])
    canary = nb.cells.pop()
    shown_as_computed = take_checks(nb, key)
    findings = _cell_findings(nb, name)
    if executor.outputs_dropped or executor.errors_cut:
        findings.append(Finding(
            "output-limit", name, f"its outputs went over {MAX_OUTPUT_BYTES // 2**20} MiB; "
            f"{executor.outputs_dropped} later outputs were not kept and {executor.errors_cut} "
            "errors were cut short (errors are always kept)"))
    tampered = settle_test_outputs(nb, name)
    if not any(o.get("output_type") == "error" for o in canary.get("outputs", [])):
        tampered.append(Finding("tampered", name,
                                "the code disabled error reporting, so tests cannot be trusted"))
    if not shown_as_computed:
        tampered.append(Finding(
            "tampered", name, "the kernel showed a cell's value other than it is, or not at all, "
            "so tests scored by the value they show cannot be trusted"))
    if tampered:
        nbformat.write(nb, path)
        return Execution(path, False, time.monotonic() - start, findings + tampered)
    nbformat.write(nb, path)
    return Execution(path, True, time.monotonic() - start, findings)
