"""Autograde N synthetic submissions three ways, in the same run on the same files, and compare:
plain serial `nbgrader autograde`, `course autograde` with every kernel started cold
(--no-pool), and `course autograde` with the warm kernel pool (docs/warm-kernel-pool.md).

    .venv/bin/python -m benchmarks.bench_autograde [--n 40 200] [--workers 2] [--starts 10]

(from the repository root, so the test helpers import as tests.support)

Prints, per N: the three wall times and speed-ups over plain nbgrader; the per-submission
overhead of each over bare execution (the same notebooks run one after the other in ONE
already running kernel); where the time of one submission goes (in its worker: kernel start,
execution and the rest of the notebook's time there; in the grading process: nbgrader's own
processing and gradebook writes); and whether the three gradings agree cell by
cell. Before that, the median cost of one fork-start against one cold start of a sandboxed
kernel. The submissions are the grading-test fixtures (tests/fixtures/grading/honest),
cycled, in temporary courses."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager
from nbgrader.preprocessors import SaveAutoGrades

from course.grading import pipeline
from course.grading.limits import LimitsUnavailable, detect
from course.grading.pool import PooledKernelManager, check_pool
from course.grading.sandbox import SandboxedKernelManager
from tests.support.course import cell_scores, make_course, submit

SCENARIOS = ["honest/full-marks", "honest/partial-marks", "honest/wrong-answers"]
TIMES: dict[str, float] = defaultdict(float)


def timed(name: str, function: Callable) -> Callable:
    """``function``, adding its seconds to TIMES[name] (the parent's serial steps)."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            TIMES[name] += time.perf_counter() - start
    return wrapper


SANITIZE, SCORE, WRITE = ("nbgrader sanitizing", "nbgrader scoring", "gradebook write")
pipeline._prepare = timed(SANITIZE, pipeline._prepare)
pipeline._finish = timed(SCORE, pipeline._finish)
NOTEBOOK_SECONDS: list[float] = []  # each notebook in its worker, from the call to the return
_outcome = pipeline._outcome


def _timed_outcome(future: Any, path: str) -> Any:
    execution = _outcome(future, path)
    NOTEBOOK_SECONDS.append(execution.seconds)
    return execution


pipeline._outcome = _timed_outcome
SaveAutoGrades.preprocess = timed(WRITE, SaveAutoGrades.preprocess)


def kernel_start_seconds(manager: type, starts: int, course: Path) -> float:
    """Median seconds from asking for a sandboxed kernel to its first kernel_info reply."""
    async def one(workdir: Path) -> float:
        km = manager(course_root=str(course))
        start = time.perf_counter()
        await km.start_kernel(cwd=str(workdir))
        client = km.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        seconds = time.perf_counter() - start
        client.stop_channels()
        await km.shutdown_kernel(now=True)
        return seconds

    workdir = Path(tempfile.mkdtemp(prefix="bench-kernel-"))
    # the first start also starts the zygote (pooled) or fills the disk cache: not counted
    samples = [asyncio.run(one(workdir)) for _ in range(starts + 1)][1:]
    shutil.rmtree(workdir, ignore_errors=True)
    return statistics.median(samples)


def bare_seconds(root: Path) -> float:
    """Every submitted notebook's cells run one after the other in ONE running kernel."""
    # over ipc, as the grading kernels talk: over tcp ipykernel warns about plain-text traffic
    sockets = Path(tempfile.mkdtemp(prefix="bench-bare-"))
    km = KernelManager(transport="ipc", ip=str(sockets / "kernel"))
    km.start_kernel()
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    start = time.perf_counter()
    for path in sorted((root / "autograder" / "submitted").glob("*/ps0/*.ipynb")):
        client.execute_interactive(f"import os; os.chdir({str(path.parent)!r})", timeout=30,
                                   output_hook=ignore)
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                client.execute_interactive(cell.source, timeout=30, output_hook=ignore)
    seconds = time.perf_counter() - start
    client.stop_channels()
    km.shutdown_kernel(now=True)
    shutil.rmtree(sockets, ignore_errors=True)
    return seconds


def ignore(message: dict) -> None:
    """Outputs of the bare run are not looked at."""


def cgroups_available() -> bool:
    try:
        detect().remove()
    except LimitsUnavailable:
        return False
    return True


def run_size(n: int, workers: int, tmp: Path, starts: dict[str, float]) -> bool:
    roots = {name: make_course(tmp / f"{name}-{n}") for name in ("plain", "cold", "pool")}
    for i in range(n):
        for root in roots.values():
            submit(root, f"s{i:04d}", SCENARIOS[i % len(SCENARIOS)])

    wall, parts, cpu, in_worker = {}, {}, {}, {}
    for name, pooled in (("pool", True), ("cold", False)):
        TIMES.clear()
        NOTEBOOK_SECONDS.clear()
        start, start_cpu = time.perf_counter(), time.process_time()
        results = pipeline.autograde(roots[name], "ps0", workers=workers, progress=False,
                                     pool=pooled)
        wall[name] = time.perf_counter() - start
        cpu[name] = time.process_time() - start_cpu  # the grading process only, not its workers
        parts[name] = dict(TIMES)
        in_worker[name] = statistics.mean(NOTEBOOK_SECONDS)
        parts[name][SCORE] -= parts[name][WRITE]  # the write is timed inside the scoring
        if any(r.findings for r in results):
            print(f"  {name}: flagged {[r.student for r in results if r.findings]}")

    nbgrader = shutil.which("nbgrader", path=str(Path(sys.executable).parent))
    start = time.perf_counter()
    subprocess.run([nbgrader, "autograde", "ps0"], cwd=roots["plain"], check=True,
                   capture_output=True)
    wall["plain"] = time.perf_counter() - start
    bare = bare_seconds(roots["plain"])
    same = cell_scores(roots["pool"]) == cell_scores(roots["cold"]) == cell_scores(roots["plain"])

    print(f"\n{n} submissions, {workers} workers")
    labels = {"plain": "plain nbgrader autograde (serial)",
              "cold": "course autograde --no-pool",
              "pool": "course autograde (warm pool)"}
    for name in ("plain", "cold", "pool"):
        # overhead: the time all workers were busy, minus bare execution, per submission
        busy = wall[name] * (1 if name == "plain" else workers)
        print(f"  {labels[name]:<36} {wall[name]:7.1f} s  {wall[name] / n:6.3f} s/subm.  "
              f"speed-up {wall['plain'] / wall[name]:5.2f}x  "
              f"overhead over bare {(busy - bare) / n:6.3f} s/subm.")
    print(f"  bare execution in one running kernel: {bare / n:.3f} s/submission")
    for name in ("cold", "pool"):
        # Beyond the kernel's start and the code: reading and writing the notebook, the
        # client's set-up, the kernel's end, waiting for a core. The start was timed apart, on
        # its own, so under the run's load it may take longer than that figure.
        print(f"  {labels[name]}: one submission costs, in the workers: "
              f"{in_worker[name]:.3f} s from call to return (a kernel start alone: "
              f"{starts[name]:.3f} s; the code in a running kernel: {bare / n:.3f} s); in the "
              "parent, one after the other: " + ", ".join(
                  f"{part} {seconds / n:.3f} s" for part, seconds in parts[name].items())
              + f" (CPU {cpu[name] / n:.3f} s)")
    print(f"  scores identical cell by cell (pool, cold, plain): {same}")
    load = os.getloadavg()
    print(f"  load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[40, 200])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--starts", type=int, default=10, help="kernel starts to time")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"cores: {os.cpu_count()}   load average before: {load[0]:.1f} {load[1]:.1f} "
          f"{load[2]:.1f}   per-submission cgroups: {cgroups_available()}")
    check_pool()  # the pool must run here: this benchmark is about it
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        course = make_course(Path(tmp) / "starts")
        cold = kernel_start_seconds(SandboxedKernelManager, args.starts, course)
        fork = kernel_start_seconds(PooledKernelManager, args.starts, course)
        print(f"one sandboxed kernel, asked for until its first reply (median of {args.starts}):"
              f" cold start {cold:.3f} s, fork-start {fork:.3f} s ({cold / fork:.1f}x)")
        starts = {"cold": cold, "pool": fork}
        agree = [run_size(n, args.workers, Path(tmp), starts) for n in args.n]
    if not all(agree):
        raise SystemExit("the gradings disagree")


if __name__ == "__main__":
    main()
