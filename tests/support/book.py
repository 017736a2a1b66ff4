"""The strict book build (warnings are errors) into a folder of its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.paths import REPO

BUILD_LOG_NAME = "build.log"
BUILD_TIMEOUT = 1200  # s: a clean build executes every notebook; slow on two shared cores


@dataclass
class BuiltBook:
    root: Path  # the folder build output went to
    html: Path  # root / "_build" / "html"
    log: str
    returncode: int

    def pages(self) -> list[Path]:
        """Every content page, relative to ``html``, without Sphinx's generated ones (nor the
        in-browser site that make book adds in lite/, which test_lite.py checks)."""
        skip = {"genindex.html", "search.html"}
        return sorted(
            p.relative_to(self.html)
            for p in self.html.rglob("*.html")
            if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts
            and p.relative_to(self.html).parts[0] != "lite"
        )


def build_book(output: Path) -> BuiltBook:
    """Build the book strictly (warnings are errors) into ``output`` from a clean state."""
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [str(jb), "build", str(REPO), "-W", "-n", "--keep-going", "--path-output", str(output)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=BUILD_TIMEOUT,
    )
    log = proc.stdout + proc.stderr
    (output / BUILD_LOG_NAME).write_text(log)
    return BuiltBook(output, output / "_build" / "html", log, proc.returncode)


def toc_pages() -> list[str]:
    """Every page of the table of contents, as a path relative to the site root."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f"{name}.html" for name in files]


class TinyBook:
    """A book of a few pages with the course's Sphinx extension, built strictly (-W), for the
    tests that show a build failing when a rule of the pages is broken."""

    def __init__(self, folder: Path, pages: dict[str, str]) -> None:
        self.src, self.out = folder / "src", folder / "out"
        self.src.mkdir(parents=True)
        (self.src / "conf.py").write_text(
            "extensions = ['myst_parser', 'course.sphinxext']\nexclude_patterns = ['_build']\n")
        toctree = "\n".join(pages)
        (self.src / "index.md").write_text(f"# Book\n\n```{{toctree}}\n{toctree}\n```\n")
        for name, text in pages.items():
            self.write(name, text)

    def write(self, name: str, text: str) -> None:
        (self.src / f"{name}.md").write_text(text, encoding="utf-8")

    def build(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html",
                               str(self.src), str(self.out)], capture_output=True, text=True)
