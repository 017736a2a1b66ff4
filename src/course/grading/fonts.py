"""matplotlib's font list, built once per grading run and copied into each sandboxed kernel.

Every sandboxed kernel has its own empty `MPLCONFIGDIR` (sandbox.kernel_environment), so a
submission that plots made matplotlib scan the machine's fonts again: about 0.3 s of every
plotting kernel, and a warning in the cell's output when the scan passed 5 s on a busy machine,
which plain nbgrader (with the grader's own cache) never prints. The grading run builds the
list once, in a sandbox and environment such as a kernel gets (so the same fonts are visible,
the same hash seed orders them, and no file of the grader's working folder is imported), and
each kernel gets its own copy before it starts (docs/warm-kernel-pool.md, "Plotting
assignments"). A copy, never a shared file: what one kernel writes there reaches no other.
The copy only saves time: wherever a step fails, a kernel scans the fonts itself, as before.
"""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger("course.grading")

# matplotlib names the file after its version (fontlist-v3.11.0.json) and checks that version
# when it reads it, so a list built by another matplotlib is ignored, not misread
FONT_LIST_GLOB = "fontlist-v*.json"
BUILD_TIMEOUT = 300  # s; a scan of many system fonts on a loaded machine

# (command, working folder, kernel folder) -> the command in a kernel's sandbox
Sandboxed = Callable[[list[str], Path, Path], list[str]]


def uses_matplotlib(notebooks: Iterable[Path]) -> bool:
    """Whether any of the assignment's released notebooks mentions matplotlib (and it is
    installed): only then is a font list worth building. A student who plots anyway still
    gets a correct kernel, only a slower one."""
    if importlib.util.find_spec("matplotlib") is None:
        return False
    for path in notebooks:
        try:
            if "matplotlib" in path.read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:  # unreadable here: grading reports the notebook, not this step
            continue
    return False


def build_font_list(folder: Path, sandboxed: Sandboxed) -> Path | None:
    """matplotlib's font list, built in ``folder`` by the grader's Python inside a kernel's
    sandbox (``sandboxed``) with an empty working folder; or None, with a NOTICE, where that
    failed: each kernel then builds its own, as without this step."""
    workdir, kernel_dir = folder / "work", folder / "kernel"
    workdir.mkdir(parents=True, exist_ok=True)
    kernel_dir.mkdir(exist_ok=True)
    command = sandboxed([sys.executable, "-c", "import matplotlib.font_manager"], workdir,
                        kernel_dir)
    try:
        subprocess.run(command, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True,
                       check=True, timeout=BUILD_TIMEOUT)
        found = sorted((kernel_dir / "mpl").glob(FONT_LIST_GLOB))
        if not found:
            raise FileNotFoundError(f"matplotlib wrote no {FONT_LIST_GLOB}")
    except (OSError, subprocess.SubprocessError) as error:
        log.warning(f"NOTICE: matplotlib's font list could not be built once for the run "
                    f"({error}); each plotting kernel builds its own, more slowly.")
        return None
    return found[-1]


def give_font_list(font_list: str, mpl_config_dir: Path) -> None:
    """A kernel's own copy of the run's font list, in its (still empty) MPLCONFIGDIR. Where
    the copy fails, the kernel starts without it and scans the fonts itself."""
    if not font_list:
        return
    source = Path(font_list)
    try:
        mpl_config_dir.mkdir(exist_ok=True)
        (mpl_config_dir / source.name).write_bytes(source.read_bytes())
    except OSError as error:
        log.debug(f"no font list for this kernel ({error}); it scans the fonts itself")
