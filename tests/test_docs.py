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


def test_every_repository_path_a_page_names_exists() -> None:
    """A path in backticks in a Markdown page (`tests/support/page_weight.py`) names a file or
    folder of the repository: a page that names a moved file sends a newcomer nowhere. Paths
    of runtime folders (git-ignored) and patterns (`psN`, `<name>`) are not files to check."""
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    top = {name.split("/")[0] for name in names if "/" in name}
    token = re.compile(r"`([\w.\-/]+)`")
    candidates = {(page, n, word)
                  for page in names if page.endswith(".md")
                  for n, line in enumerate((ROOT / page).read_text(encoding="utf-8").splitlines(),
                                           start=1)
                  for word in token.findall(line)
                  if "/" in word and word.split("/")[0] in top and "psN" not in word}
    absent = {c for c in candidates if not (ROOT / c[2]).exists()}
    ignored = set(subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=ROOT,
                                 input="\n".join(c[2] for c in absent), capture_output=True,
                                 text=True).stdout.split())
    missing = sorted(f"{page}:{n}: {path}" for page, n, path in absent
                     if path not in ignored)
    assert not missing, "these pages name paths that do not exist:\n" + "\n".join(missing)
