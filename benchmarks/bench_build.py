"""Time a clean build of the book, a no-op rebuild and a rebuild after touching one page.

Run with `make bench`. Each figure is measured twice, side by side in one run, on a copy of
the working tree in a temporary folder (sharing this .venv):

- `make book`, the command a user runs: it skips Jupyter Book when no input changed;
- `jupyter-book build` itself, which always starts Sphinx (about 3 s of imports on its own).

Target: a no-op rebuild takes at most 15% of a clean build.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def copy_tree(dest: Path) -> None:
    """Copy the tracked and untracked (not ignored) files, keeping their times."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    (dest / ".venv").symlink_to(REPO / ".venv")
    for cache in ("lite/node_modules", "lite/.downloads"):  # the in-browser site's downloads
        if (REPO / cache).is_dir():
            (dest / cache).symlink_to(REPO / cache)


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return elapsed


def measure(command: list[str], tree: Path, page: Path) -> tuple[float, float, float]:
    shutil.rmtree(tree / "_build", ignore_errors=True)
    clean = timed(command, tree)
    noop = timed(command, tree)
    os.utime(page)  # a new mtime, the same content
    touched = timed(command, tree)
    return clean, noop, touched


def report(label: str, clean: float, noop: float, touched: float) -> None:
    print(f"\n{label}")
    print(f"  {'clean build':<28}{clean:8.2f} s")
    print(f"  {'no-op rebuild':<28}{noop:8.2f} s")
    print(f"  {'rebuild, one page touched':<28}{touched:8.2f} s")
    print(f"  {'no-op / clean':<28}{noop / clean:8.1%}   (target: at most 15%)")
    print(f"  {'one page / clean':<28}{touched / clean:8.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="book/index.md", help="the page to touch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-book-") as tmp:
        tree = Path(tmp)
        copy_tree(tree)
        page = tree / args.page
        print("measuring make book ...", flush=True)
        make = measure(["make", "--no-print-directory", "book"], tree, page)
        print("measuring jupyter-book build ...", flush=True)
        jb = measure([str(JUPYTER_BOOK), "build", ".", "-W", "-n", "--keep-going"], tree, page)
    report("make book (what a user runs)", *make)
    report("jupyter-book build (always starts Sphinx)", *jb)


if __name__ == "__main__":
    main()
