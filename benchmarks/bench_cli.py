"""How long `course --help` takes: the figure an instructor feels on every command.

Imports are lazy (each command imports what it needs), so the help answers without loading
nbgrader, Jupyter or the sandbox. Prints the median of 10 runs beside a bare Python start, measured
in the same run, so the figure can be read on a noisy machine. Target: under 0.5 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

COURSE = Path(sys.executable).with_name("course")
RUNS = 10


def median_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    bare = median_seconds([sys.executable, "-c", "pass"])
    helped = median_seconds([str(COURSE), "--help"])
    print(f"course --help: {helped:.3f} s (median of {RUNS}); bare Python start {bare:.3f} s; "
          f"the course's own imports {helped - bare:.3f} s; target 0.5 s: "
          f"{'met' if helped < 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
