"""The repository explains itself: design notes live in docs/, and code cites them by path.

A clone has no copy of the material the project was started from, so nothing may point outside
the repository, and every "docs/<page>.md" a file cites must exist.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"\.\./shared|/work/shared|DESIGN\.md|sandbox-notes|lite-notes|fact-check\.md")
DOC_CITATION = re.compile(r"docs/([\w-]+\.md)")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    files = []
    for name in names:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".yml", ".yaml", ".toml", ".js", ".css", ".sh", ".cfg",
                           ".ipynb", ".j2"} or path.name in {"Makefile", "run"}:
            files.append(path)
    return files


def test_nothing_points_outside_the_repository() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in tracked_text_files() if path.name != "test_docs.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if OUTSIDE.search(line)]
    assert not found, "these lines point outside the repository:\n" + "\n".join(found)


def test_every_cited_docs_page_exists() -> None:
    missing = sorted({f"{path.relative_to(ROOT)} cites docs/{page}"
                      for path in tracked_text_files()
                      for page in DOC_CITATION.findall(path.read_text(encoding="utf-8"))
                      if not (ROOT / "docs" / page).is_file()})
    assert not missing, "\n".join(missing)


def test_readme_links_the_design_pages() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in ("docs/architecture.md", "docs/sandbox.md"):
        assert page in readme
