"""jupyterlite-core's front end as it ships it (its ``jupyterlite-app-*.tgz``), so that the
build's patches of it (course/lite_early_start.py, course/lite_workspace_wait.py) are pinned
against the installed version, not only against samples."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path


def app_archive() -> Path:
    """The archive of the front end that ``jupyter lite build`` copies into a site."""
    import jupyterlite_core

    return next(Path(jupyterlite_core.__file__).parent.glob("jupyterlite-app-*.tgz"))


def extract_app_files(site: Path, wanted: Callable[[str], bool]) -> list[Path]:
    """Write the archive's files whose path in the site (``build/…``, ``notebooks/…``) is
    ``wanted`` under ``site``, as a site holds them; returns them."""
    written = []
    with tarfile.open(app_archive()) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("package/")
            if not member.isfile() or not wanted(name):
                continue
            data = tar.extractfile(member)
            assert data is not None
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            (site / name).write_bytes(data.read())
            written.append(site / name)
    return written
