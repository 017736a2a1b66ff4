"""Cells run in a bubblewrap-sandboxed kernel (course.grading.sandbox), without nbgrader."""

from __future__ import annotations

from pathlib import Path

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from course.grading.sandbox import SandboxedKernelManager


def run_in_sandbox(cells: list[str], course: Path, workdir: Path, timeout: int = 3,
                   cgroup_join: list[str] | None = None,
                   manager: type = SandboxedKernelManager) -> list[str]:
    """The first output of each cell, as text (error name and value for errors), run in a
    sandboxed kernel, in the cgroup of ``cgroup_join`` when given (limits.py); ``manager``
    may be the warm pool's (pool.py). ``timeout`` is per cell."""
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, interrupt_on_timeout=True,
                            kernel_manager_class=manager,
                            resources={"metadata": {"path": str(workdir)}})
    client.km = client.create_kernel_manager()
    client.km.course_root = str(course)
    client.km.memory_limit = "1GiB"
    client.km.cgroup_join = cgroup_join or []
    client.execute()
    texts = []
    for cell in nb.cells:
        out = cell.outputs[0] if cell.outputs else {}
        texts.append(out.get("text") or f"{out.get('ename')}: {out.get('evalue')}")
    return texts
