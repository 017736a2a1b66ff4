"""A grading kernel is ended once its last cell has answered (course.grading.execution): it is
not asked to shut down and waited for, so nothing it would do on its way out (an atexit hook)
reaches the autograded folder, and its score is the same. Its end is noticed at once."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from course.grading.pipeline import autograde
from course.grading.sandbox import SandboxedKernelManager
from tests.support.course import ASSIGNMENT, FIXTURES, NOTEBOOK, cell_scores, make_course

LEAVES_AN_EXIT_HOOK = (
    "import atexit, pathlib\n"
    "atexit.register(pathlib.Path('exit-hook-ran').write_text, 'ran')\n\n"
    "def double(x):\n    return 2 * x")


def _submit_with_exit_hook(root: Path, student: str) -> None:
    nb = nbformat.read(FIXTURES / "honest" / "full-marks.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "double"]
    cell.source = LEAVES_AN_EXIT_HOOK
    folder = root / "autograder" / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{NOTEBOOK}.ipynb")


@pytest.mark.parametrize("pool", [False, True], ids=["cold", "pooled"])
def test_a_kernel_is_ended_without_running_its_exit_hooks(bwrap: None, tmp_path: Path,
                                                          pool: bool) -> None:
    root = make_course(tmp_path / "course")
    _submit_with_exit_hook(root, "eve")

    (result,) = autograde(root, ASSIGNMENT, workers=1, timeout=10, progress=False, pool=pool)

    assert result.findings == []
    assert cell_scores(root)["eve"] == {"test_double": 1, "test_count_words": 2, "why_date": 0}
    autograded = root / "autograder" / "autograded" / "eve" / ASSIGNMENT
    assert (autograded / f"{NOTEBOOK}.ipynb").exists()
    assert not (autograded / "exit-hook-ran").exists()


def test_a_stopped_kernel_is_noticed_within_milliseconds_not_jupyter_clients_tenth() -> None:
    """jupyter_client checks every 0.1 s whether a stopped kernel has gone, so each notebook
    waited about 0.1 s after its kernel was killed. The grading kernels' manager checks after
    1 ms, then backs off to jupyter_client's interval for a kernel that takes its time."""
    slept: list[float] = []
    checks = iter([True] * 9 + [False])

    class Watched(SandboxedKernelManager):
        async def _async_is_alive(self) -> bool:
            return next(checks)

    async def record(delay: float) -> None:
        slept.append(delay)

    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(1) as thread:
        patch.setattr(asyncio, "sleep", record)
        # a loop of its own, in a thread: the browser tests' Playwright keeps an event loop
        # running in this one for the whole session
        thread.submit(asyncio.run, Watched(sandbox=False)._async_wait(pollinterval=0.1)).result(
            timeout=60)
    assert slept[:3] == [0.001, 0.002, 0.004], "the first check must come after 1 ms"
    assert len(slept) == 9 and max(slept) == 0.1, "then back off to jupyter_client's 0.1 s"
