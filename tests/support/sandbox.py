"""Cells run in a bubblewrap-sandboxed kernel (course.grading.sandbox), without nbgrader, and in
a per-submission cgroup (course.grading.limits; the fixture `group_tree` in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from course.grading.limits import ResourceGroup
from course.grading.sandbox import SandboxedKernelManager

MiB = 1024**2

# Four children of 250 MiB each: every one is under the kernel's per-process limit, so only a
# cap on the group's memory together (600 MiB in the tests) stops them. Prints their exit codes.
MEMORY_HOGS_CELL = (
    "import subprocess, sys\n"
    "hogs = [subprocess.Popen([sys.executable, '-c', \"import time; "
    "b = b'x' * (250 * 2**20); time.sleep(2)\"]) for _ in range(4)]\n"
    "print(sorted(hog.wait() for hog in hogs))"
)
# Forks until refused (at most 1000), the children left sleeping in ``kids``. Prints how many
# started and the error that stopped it (BlockingIOError under a process cap).
FORK_BOMB_CELL = (
    "import os, time\nkids = []\ntry:\n    while len(kids) < 1000:\n"
    "        kids.append(os.fork())\n        if kids[-1] == 0:\n"
    "            time.sleep(60)\n            os._exit(0)\n"
    "except OSError as error:\n    print(len(kids), type(error).__name__)"
)


def run_in_sandbox(cells: list[str], course: Path, workdir: Path, timeout: int = 3,
                   cgroup_join: list[str] | None = None,
                   manager: type = SandboxedKernelManager, font_list: str = "") -> list[str]:
    """The first output of each cell, as text (error name and value for errors), run in a
    sandboxed kernel, in the cgroup of ``cgroup_join`` when given (limits.py); ``manager``
    may be the warm pool's (pool.py), ``font_list`` matplotlib's (fonts.py). ``timeout`` is per
    cell."""
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    # coalesce_streams: ipykernel flushes stdout on a timer, so under load one print can
    # arrive in two messages ("True", " True\n"), which a test would read as two outputs
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, interrupt_on_timeout=True,
                            coalesce_streams=True,
                            kernel_manager_class=manager,
                            resources={"metadata": {"path": str(workdir)}})
    client.km = client.create_kernel_manager()
    client.km.course_root = str(course)
    client.km.memory_limit = "1GiB"
    client.km.cgroup_join = cgroup_join or []
    client.km.font_list = font_list
    client.execute()
    texts = []
    for cell in nb.cells:
        out = cell.outputs[0] if cell.outputs else {}
        texts.append(out.get("text") or f"{out.get('ename')}: {out.get('evalue')}")
    return texts


def run_in_group(cells: list[str], group: ResourceGroup, workdir: Path,
                 manager: type = SandboxedKernelManager) -> list[str]:
    """:func:`run_in_sandbox` with every process of the kernel in ``group``, 60 s a cell."""
    return run_in_sandbox(cells, workdir, workdir, timeout=60, cgroup_join=group.join_files(),
                          manager=manager)
