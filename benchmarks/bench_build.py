"""Time a clean build of the book, a no-op rebuild and a rebuild after touching one page.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_build.py`). The three builds
run side by side in one process into a temporary folder, so the ratios are comparable even
on a noisy machine. Target: a no-op rebuild takes at most 15% of a clean build.
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


def build(output: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(REPO), "-W", "-n", "--keep-going",
         "--path-output", str(output)],
        capture_output=True, text=True, cwd=REPO,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"the build failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="book/index.md", help="the page to touch")
    args = parser.parse_args()
    page = REPO / args.page
    with tempfile.TemporaryDirectory(prefix="bench-book-") as tmp:
        output = Path(tmp)
        print("clean build ...", flush=True)
        clean = build(output)
        print("no-op rebuild ...", flush=True)
        noop = build(output)
        print(f"rebuild after touching {args.page} ...", flush=True)
        stat = page.stat()
        os.utime(page)  # a new mtime, the same content
        try:
            touched = build(output)
        finally:
            os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        shutil.rmtree(output, ignore_errors=True)
    print()
    print(f"{'clean build':<28}{clean:8.2f} s")
    print(f"{'no-op rebuild':<28}{noop:8.2f} s")
    print(f"{'rebuild, one page touched':<28}{touched:8.2f} s")
    print(f"{'no-op / clean':<28}{noop / clean:8.1%}   (target: at most 15%)")
    print(f"{'one page / clean':<28}{touched / clean:8.1%}")


if __name__ == "__main__":
    main()
