"""matplotlib's font list, built once per grading run and copied into each sandboxed kernel.

Every sandboxed kernel has its own empty `MPLCONFIGDIR` (sandbox.kernel_environment), so a
submission that plots made matplotlib scan the machine's fonts again: 0.25-0.3 s of every
plotting kernel, and a warning in the cell's output when the scan passed 5 s on a busy machine,
which plain nbgrader (with the grader's own cache) never prints. The grading run builds the
list once, with an empty home folder as a kernel has, and each kernel gets its own copy
(docs/warm-kernel-pool.md, "Plotting assignments"). A copy, never a shared file: what one
kernel writes there reaches no other.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("course.grading")

# matplotlib names its cache after its format version (fontlist-v390.json)
FONT_LIST_GLOB = "fontlist-v*.json"
BUILD_TIMEOUT = 300  # s; a scan of many system fonts on a loaded machine


def uses_matplotlib(notebooks: Iterable[Path]) -> bool:
    """Whether any of the assignment's notebooks mentions matplotlib (and it is installed):
    only then is a font list worth building. A student who plots anyway still gets a correct,
    only slower, kernel."""
    if importlib.util.find_spec("matplotlib") is None:
        return False
    return any("matplotlib" in path.read_text(encoding="utf-8", errors="replace")
               for path in notebooks)


def build_font_list(folder: Path) -> Path | None:
    """matplotlib's font list built into ``folder`` as a sandboxed kernel would build it (an
    empty home folder, so no user fonts), or None, with a NOTICE, where that failed: each
    kernel then builds its own, as without this step."""
    home, config = folder / "home", folder / "mpl"
    home.mkdir(parents=True, exist_ok=True)
    env = {"HOME": str(home), "MPLCONFIGDIR": str(config), "LANG": "C.UTF-8",
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    try:
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                       check=True, capture_output=True, timeout=BUILD_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as error:
        log.warning(f"NOTICE: matplotlib's font list could not be built once for the run "
                    f"({error}); each plotting kernel builds its own, more slowly.")
        return None
    found = sorted(config.glob(FONT_LIST_GLOB))
    return found[-1] if found else None


def give_font_list(font_list: str, mpl_config_dir: Path) -> None:
    """A kernel's own copy of the run's font list, in its (still empty) MPLCONFIGDIR."""
    if not font_list:
        return
    mpl_config_dir.mkdir(exist_ok=True)
    source = Path(font_list)
    (mpl_config_dir / source.name).write_bytes(source.read_bytes())
