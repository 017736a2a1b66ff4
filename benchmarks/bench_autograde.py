"""Autograde N synthetic submissions with the course pipeline and with plain serial
`nbgrader autograde`, in the same run on the same files, and compare.

    .venv/bin/python -m benchmarks.bench_autograde [--n 40] [--workers CORES] [--no-sandbox]

(from the repository root, so the test helpers import as tests.support)

Prints both wall times, the speed-up, the per-submission overhead over bare kernel execution
(nbclient running the same notebooks, no nbgrader, no sandbox) and checks the scores are the
same cell by cell. The submissions are the grading-test fixtures (tests/fixtures/grading/honest),
cycled, in a temporary course."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course.grading.limits import LimitsUnavailable, detect
from course.grading.pipeline import autograde
from tests.support.course import cell_scores, make_course, submit

SCENARIOS = ["honest/full-marks", "honest/partial-marks", "honest/wrong-answers"]


def bare_seconds(root: Path) -> float:
    """Executing every submitted notebook with nbclient alone, one after the other."""
    start = time.perf_counter()
    for path in sorted((root / "autograder" / "submitted").glob("*/ps0/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=30, allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def cgroups_available() -> bool:
    try:
        detect().remove()
    except LimitsUnavailable:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="number of submissions")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        ours, plain = make_course(Path(tmp) / "ours"), make_course(Path(tmp) / "plain")
        for i in range(args.n):
            for root in (ours, plain):
                submit(root, f"s{i:03d}", SCENARIOS[i % len(SCENARIOS)])

        start = time.perf_counter()
        results = autograde(ours, "ps0", workers=args.workers, sandbox=not args.no_sandbox,
                            progress=False)
        ours_s = time.perf_counter() - start

        nbgrader = shutil.which("nbgrader", path=str(Path(sys.executable).parent))
        start = time.perf_counter()
        subprocess.run([nbgrader, "autograde", "ps0"], cwd=plain, check=True,
                       capture_output=True)
        plain_s = time.perf_counter() - start

        bare_s = bare_seconds(plain)
        same = cell_scores(ours) == cell_scores(plain)
        flagged = [r.student for r in results if r.findings]

    per_bare = bare_s / args.n
    overhead = (ours_s * args.workers - bare_s) / args.n
    print(f"submissions: {args.n}   cores: {os.cpu_count()}   workers: {args.workers}   "
          f"sandbox: {not args.no_sandbox}   per-submission cgroups: {cgroups_available()}")
    print(f"course autograde (parallel): {ours_s:7.1f} s  ({ours_s / args.n:.2f} s/submission)")
    print(f"plain nbgrader autograde   : {plain_s:7.1f} s  ({plain_s / args.n:.2f} s/submission)")
    print(f"speed-up: {plain_s / ours_s:.2f}x")
    print(f"bare kernel execution: {per_bare:.2f} s/submission; pipeline overhead over it: "
          f"{overhead:.2f} s/submission (wall time x workers, minus bare, per submission)")
    print(f"scores identical cell by cell: {same}; flagged: {len(flagged)}")
    if not same or flagged:
        raise SystemExit("the two gradings disagree")


if __name__ == "__main__":
    main()
