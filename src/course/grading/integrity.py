"""Integrity of a submitted notebook: can it be read, and are the grade and test cells the ones
that were released? nbgrader overwrites an edited test cell but silently skips a deleted one, so
both are detected here, from the released notebook (or, without it, the cells' own checksums)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.utils import compute_checksum


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a submission, as shown to instructor and student."""

    kind: str  # unreadable, unsafe-file, deleted-cell, edited-cell, timeout, memory-limit, ...
    notebook: str
    detail: str
    cell: str | None = None

    def __str__(self) -> str:
        where = f"{self.notebook}" + (f" [{self.cell}]" if self.cell else "")
        return f"{where}: {self.kind}: {self.detail}"


def read_submission(path: Path) -> tuple[nbformat.NotebookNode | None, list[Finding]]:
    """The notebook at ``path``, or None and the reason it cannot be graded."""
    name = path.stem

    def unreadable(detail: str) -> tuple[None, list[Finding]]:
        return None, [Finding("unreadable", name, detail)]

    try:
        raw = path.read_bytes()
    except OSError as error:
        return unreadable(f"cannot read the file ({error.strerror})")
    if not raw.strip():
        return unreadable("the file is empty")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return unreadable(f"not a notebook: the file is not valid JSON ({error})")
    except RecursionError:  # one file nested too deep must not stop the batch
        return unreadable("not a notebook: the JSON is nested too deeply to read")
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        return unreadable("not a notebook: JSON without notebook cells")
    if data.get("nbformat") != 4:
        return unreadable(
            f"wrong notebook format {data.get('nbformat')!r}: save it again with Jupyter "
            "(format 4)"
        )
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except (nbformat.ValidationError, ValueError, KeyError, TypeError) as error:
        return unreadable(f"not a valid notebook: {str(error).splitlines()[0]}")
    except RecursionError:
        return unreadable("not a valid notebook: it is nested too deeply to read")
    return nb, []


def regular_files(folder: Path) -> list[Path]:
    """The regular files under ``folder``, sorted; links and special files left out and links
    to folders not entered."""
    found = []
    for parent, _, files in os.walk(folder):
        for name in files:
            path = Path(parent) / name
            if stat.S_ISREG(path.lstat().st_mode):
                found.append(path)
    return sorted(found)


def unsafe_entries(folder: Path) -> list[Finding]:
    """Links, FIFOs, sockets and devices in a submission folder. nbgrader copies a submission
    as the grader, following links and blocking on a FIFO, so a submission that holds one is
    not graded at all (docs/sandbox.md, pitfall 11)."""
    findings = []
    for parent, folders, files in os.walk(folder):  # links to folders are listed, not entered
        for name in sorted([*folders, *files]):
            entry = Path(parent) / name
            mode = entry.lstat().st_mode
            if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
                continue
            what = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
            findings.append(Finding(
                "unsafe-file", "*", f"{entry.relative_to(folder)} is {what}, so nothing of this "
                "submission was run: collect it again as plain files"))
    return findings


def is_test(cell: nbformat.NotebookNode) -> bool:
    """A released test cell: graded code that is not an answer."""
    grading = cell.get("metadata", {}).get("nbgrader", {})
    return (cell.get("cell_type") == "code" and bool(grading.get("grade"))
            and not grading.get("solution"))


def _nbgrader_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    cells = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") and (meta.get("grade") or meta.get("locked")):
            cells[meta["grade_id"]] = cell
    return cells


def _is_fixed(meta: dict) -> bool:
    # Test cells and read-only text: the student must leave them exactly as released.
    return bool(meta.get("locked")) and not meta.get("solution")


def compare_with_release(
    nb: nbformat.NotebookNode, released: nbformat.NotebookNode, name: str
) -> list[Finding]:
    """Grade and test cells of ``released`` that ``nb`` deleted, edited or re-labelled."""
    findings = []
    submitted = _nbgrader_cells(nb)
    for grade_id, original in _nbgrader_cells(released).items():
        meta = original.metadata["nbgrader"]
        cell = submitted.get(grade_id)
        if cell is None:
            what = "graded cell" if meta.get("grade") else "read-only cell"
            findings.append(Finding("deleted-cell", name, f"the {what} was deleted", grade_id))
            continue
        their = cell.metadata["nbgrader"]
        if _is_fixed(meta) and (cell.source.strip() != original.source.strip()):
            findings.append(Finding("edited-cell", name, "the read-only cell was edited", grade_id))
        elif meta.get("grade") and (
            their.get("points") != meta.get("points") or not their.get("grade")
        ):
            findings.append(
                Finding("edited-cell", name, "the cell's grading metadata was changed", grade_id)
            )
    return findings


def compare_with_checksums(nb: nbformat.NotebookNode, name: str) -> list[Finding]:
    """Edited read-only cells found from the checksums nbgrader stored in the cells themselves
    (used when the released notebook is not at hand; it cannot see deleted cells)."""
    findings = []
    for grade_id, cell in _nbgrader_cells(nb).items():
        meta = cell.metadata["nbgrader"]
        if _is_fixed(meta) and meta.get("checksum") and compute_checksum(cell) != meta["checksum"]:
            findings.append(Finding("edited-cell", name, "the read-only cell was edited", grade_id))
    return findings


def check_submission(path: Path, released: Path | None) -> list[Finding]:
    """Everything that keeps ``path`` from being graded as released; empty when it is sound."""
    nb, findings = read_submission(path)
    if nb is None:
        return findings
    if released is None or not released.exists():
        return compare_with_checksums(nb, path.stem)
    reference, problems = read_submission(released)
    if reference is None:
        raise ValueError(f"the released notebook {released} is unreadable: {problems[0].detail}")
    return compare_with_release(nb, reference, path.stem)
