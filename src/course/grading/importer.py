"""Import submissions from a folder or an LMS zip into nbgrader's submitted folder.

Accepted layouts:
- nbgrader's own: ``<student>/<notebook>.ipynb`` (or ``<student>/<assignment>/<notebook>.ipynb``);
- Canvas's download: ``lastname[_late]_<userid>_<submissionid>_<file>.ipynb``, where Canvas may
  add ``-1``, ``-2`` to the file name for resubmissions. The Canvas user id becomes the student
  id, unless a roster CSV (columns ``canvas_id,student_id``) maps it to another id.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# How nbgrader writes a submission time (timestamp.txt); feedback copies it in the same form.
NBGRADER_TIME = "%Y-%m-%d %H:%M:%S.%f %Z"

CANVAS_NAME = re.compile(
    r"^(?P<name>[a-z0-9-]+?)(?:_late)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$"
)
RESUBMISSION = re.compile(r"-\d+$")


@dataclass
class ImportReport:
    imported: dict[str, list[str]] = field(default_factory=dict)  # student -> notebooks
    unmapped: dict[str, str] = field(default_factory=dict)  # file -> why it was not imported


def read_roster(path: Path) -> dict[str, str]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"canvas_id", "student_id"} <= set(rows[0]):
        raise ValueError(f"{path}: the roster needs the columns canvas_id,student_id")
    return {row["canvas_id"].strip(): row["student_id"].strip() for row in rows}


def _notebook_name(filename: str, notebooks: set[str]) -> str | None:
    stem = Path(filename).stem
    for candidate in (stem, RESUBMISSION.sub("", stem)):
        if candidate in notebooks:
            return candidate
    return None


def _place(source: Path, dest_folder: Path, notebook: str) -> None:
    dest_folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, dest_folder / f"{notebook}.ipynb")
    # nbgrader reads the submission time from timestamp.txt (late penalties, release_feedback)
    submitted = datetime.fromtimestamp(source.stat().st_mtime, tz=UTC)
    stamp = dest_folder / "timestamp.txt"
    if not stamp.exists() or stamp.read_text().strip() < submitted.strftime(NBGRADER_TIME):
        stamp.write_text(submitted.strftime(NBGRADER_TIME))


def import_submissions(
    source: Path,
    submitted_dir: Path,
    assignment: str,
    notebooks: set[str],
    roster: dict[str, str] | None = None,
) -> ImportReport:
    """Copy every notebook under ``source`` (a folder or .zip) that maps to a student and a
    notebook of ``assignment``; the report lists what was imported and what was not, and why."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist")
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise ValueError(f"{source} is neither a folder nor a zip file")
        with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(source) as archive:
            for member in archive.namelist():  # refuse paths that would escape the folder
                if member.startswith("/") or ".." in Path(member).parts:
                    raise ValueError(f"{source}: unsafe path in the zip: {member}")
            archive.extractall(tmp)
            for info in archive.infolist():  # keep the submission times the LMS recorded
                when = time.mktime((*info.date_time, 0, 0, -1))
                os.utime(Path(tmp) / info.filename, (when, when))
            return import_submissions(Path(tmp), submitted_dir, assignment, notebooks, roster)
    report = ImportReport()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if path.suffix != ".ipynb" or "__MACOSX" in relative.parts:
            report.unmapped[str(relative)] = "not a notebook file (.ipynb)"
            continue
        canvas = CANVAS_NAME.match(path.name)
        if canvas:
            uid = canvas["uid"]
            student = (roster or {}).get(uid, uid if roster is None else "")
            filename = canvas["file"]
            if not student:
                report.unmapped[str(relative)] = f"Canvas user {uid} is not in the roster"
                continue
        elif len(relative.parts) >= 2:
            student, filename = relative.parts[0], path.name
        else:
            report.unmapped[str(relative)] = "cannot tell whose it is from the file name"
            continue
        notebook = _notebook_name(filename, notebooks)
        if notebook is None:
            report.unmapped[str(relative)] = (
                f"no notebook {Path(filename).stem!r} in {assignment} "
                f"(expected: {', '.join(sorted(notebooks))})"
            )
            continue
        _place(path, submitted_dir / student / assignment, notebook)
        report.imported.setdefault(student, []).append(notebook)
    return report
