"""The question bank exported for LMSs: Common Cartridge 1.1 (`cc`), Canvas's QTI 1.2 zip
(`qti`), Moodle XML (`moodle`) and GIFT (`gift`). One file per format, one quiz or category
per chapter named by its title; item idents come from the question ids (mapping.ident), so a
re-import matches the same questions. Beside the file goes its ident map (lms/idents.py), which
`course report quiz` needs to match an LMS download to bank questions. What each format
carries: docs/lms-export.md."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course.quiz.bank import Bank, BankError, load_all_banks
from course.quiz.lms import gift, idents, moodle_xml, qti
from course.quiz.lms.mapping import (
    FORMATS,
    Format,
    Notice,
    Render,
    atomic_file,
    carry,
    slug,
)
from course.quotations import as_plain_text

FILE_NAMES: dict[Format, str] = {
    "cc": "course-quizzes.imscc",
    "qti": "course-quizzes-qti.zip",
    "moodle": "course-quizzes-moodle.xml",
    "gift": "course-quizzes-gift.txt",
}
CC_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
CC_ASSESSMENT = "imsqti_xmlv1p2/imscc_xmlv1p1/assessment"


class ExportError(ValueError):
    """Bad input to the export: unknown chapter, unwritable folder, a malformed bank."""


@dataclass
class Export:
    path: Path
    format: Format
    idents: Path  # the ident map beside it
    exact: list[str] = field(default_factory=list)
    approximate: list[str] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


def _written_out(value: Any) -> Any:
    if isinstance(value, str):
        return as_plain_text(value)
    if isinstance(value, dict):
        return {k: _written_out(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_written_out(v) for v in value]
    return value


def select_banks(chapters: list[str] | None = None, folder: Path | None = None) -> list[Bank]:
    """The banks to export, in file order; every chapter asked for must exist. Quotations are
    written out as “words” (B12): an LMS has no {quote} role."""
    try:
        banks = [Bank.model_validate(_written_out(b.model_dump())) for b in load_all_banks(folder)]
    except BankError as error:
        raise ExportError(f"the question bank does not pass its checks:\n{error}") from None
    if not chapters:
        return banks
    known = {b.chapter: b for b in banks}
    unknown = [c for c in chapters if c not in known]
    if unknown:
        raise ExportError(f"unknown chapter {', '.join(map(repr, unknown))}; the chapters are: "
                          f"{', '.join(known)}")
    return [known[c] for c in dict.fromkeys(chapters)]


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"cannot create the output folder {out_dir}: {error.strerror}") from None
    if not out_dir.is_dir() or not os.access(out_dir, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write into the output folder {out_dir}")


def _cc_manifest(banks: list[Bank]) -> ET.Element:
    """imsmanifest.xml of a CC 1.1 package: each chapter an assessment resource, listed in the
    organization (Moodle's cc112moodle makes a quiz of each organization item that points at
    an assessment)."""
    ET.register_namespace("", CC_NS)
    n = f"{{{CC_NS}}}"
    root = ET.Element(f"{n}manifest", identifier="russia-nk-course-quizzes")
    meta = ET.SubElement(root, f"{n}metadata")
    ET.SubElement(meta, f"{n}schema").text = "IMS Common Cartridge"
    ET.SubElement(meta, f"{n}schemaversion").text = "1.1.0"
    orgs = ET.SubElement(root, f"{n}organizations")
    org = ET.SubElement(orgs, f"{n}organization", identifier="org",
                        structure="rooted-hierarchy")
    top = ET.SubElement(org, f"{n}item", identifier="LearningModules")
    resources = ET.SubElement(root, f"{n}resources")
    for bank in banks:
        rid = f"quiz-{bank.chapter}"
        entry = ET.SubElement(top, f"{n}item", identifier=f"item-{bank.chapter}",
                              identifierref=rid)
        ET.SubElement(entry, f"{n}title").text = bank.title
        res = ET.SubElement(resources, f"{n}resource", identifier=rid, type=CC_ASSESSMENT)
        ET.SubElement(res, f"{n}file", href=f"{rid}/assessment.xml")
    return root


def _qti_manifest(banks: list[Bank]) -> ET.Element:
    """imsmanifest.xml of Canvas's QTI zip: one imsqti_xmlv1p2 resource per quiz."""
    ET.register_namespace("", CC_NS)
    n = f"{{{CC_NS}}}"
    root = ET.Element(f"{n}manifest", identifier="russia-nk-course-qti")
    meta = ET.SubElement(root, f"{n}metadata")
    ET.SubElement(meta, f"{n}schema").text = "IMS Content"
    ET.SubElement(meta, f"{n}schemaversion").text = "1.1.3"
    ET.SubElement(root, f"{n}organizations")
    resources = ET.SubElement(root, f"{n}resources")
    for bank in banks:
        rid = f"quiz-{bank.chapter}"
        res = ET.SubElement(resources, f"{n}resource", identifier=rid, type="imsqti_xmlv1p2")
        ET.SubElement(res, f"{n}file", href=f"{rid}/{rid}.xml")
    return root


def export(fmt: Format, out_dir: Path, chapters: list[str] | None = None,
           book_url: str | None = None, folder: Path | None = None) -> Export:
    """Write one file of ``fmt`` into ``out_dir``; nothing is left behind on failure."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    banks = select_banks(chapters, folder)
    _writable(out_dir)
    render = Render(book_url)
    path = out_dir / FILE_NAMES[fmt]
    result = Export(path, fmt, idents.map_path(path))
    carried: list[tuple[Bank, list]] = []
    for bank in banks:
        keep = []
        for q in bank.questions:
            c = carry(q, fmt)
            {"exact": result.exact, "approximate": result.approximate,
             "not carried": result.not_carried}[c.level].append(q.id)
            result.notices += [Notice(q.id, fmt, c.level, r) for r in c.reasons]
            if c.level != "not carried":
                keep.append(q)
        carried.append((bank, keep))
    # The map lists the questions in the order the file writes them (GIFT: by objective).
    written = [(b, [q for g in gift.by_objective(qs).values() for q in g]) for b, qs in carried
               ] if fmt == "gift" else carried
    # Both files or neither: the map is replaced only once the export is written.
    with atomic_file(result.idents) as map_tmp, atomic_file(result.path) as tmp:
        map_tmp.write_text(idents.dump(idents.build(fmt, path.name, written, render)),
                           encoding="utf-8")
        if fmt == "moodle":
            tmp.write_bytes(_xml_bytes(moodle_xml.document(carried, render)))
        elif fmt == "gift":
            tmp.write_text(gift.document(carried, render), encoding="utf-8")
        else:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
                manifest = _cc_manifest if fmt == "cc" else _qti_manifest
                archive.writestr("imsmanifest.xml", _xml_bytes(manifest(banks)))
                for bank, _ in carried:
                    rid = f"quiz-{bank.chapter}"
                    name = f"{rid}/assessment.xml" if fmt == "cc" else f"{rid}/{rid}.xml"
                    archive.writestr(name, _xml_bytes(qti.assessment(bank, fmt, render)))
    return result


__all__ = ["FILE_NAMES", "FORMATS", "Export", "ExportError", "export", "select_banks", "slug"]
