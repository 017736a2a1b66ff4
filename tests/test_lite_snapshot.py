"""The build patches jupyterlite-pyodide-kernel's worker to boot from the site's memory snapshot
(course/lite_snapshot.py). The patch relies on the shape of a minified call, so these tests pin
it: against the kernel extension installed in .venv, and with a worker that changed. The
snapshot itself is checked in the browser (tests/test_lite.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from course import lite_build
from course.lite_snapshot import WORKER_PRELUDE, SnapshotError, patch_workers

WORKER = (
    "async initRuntime(e){let{pyodideUrl:t,indexUrl:s}=e,{loadPyodide:n}=await zo(t);"
    "this._pyodide=await n({indexURL:s,stdout:e=>{},...e.loadPyodideOptions})}"
)


def test_the_workers_call_to_loadpyodide_goes_through_the_snapshot_loader(tmp_path: Path) -> None:
    (tmp_path / "comlink.worker.0123.js").write_text(WORKER)
    (tmp_path / "style.js").write_text("/* no kernel here */")
    assert patch_workers(tmp_path) == [tmp_path / "comlink.worker.0123.js"]
    patched = (tmp_path / "comlink.worker.0123.js").read_text()
    assert patched.startswith(WORKER_PRELUDE)
    assert "this._pyodide=await __courseLoadPyodide(n,{indexURL:s,stdout:" in patched
    assert (tmp_path / "style.js").read_text() == "/* no kernel here */"


def test_a_worker_that_changed_fails_the_build_and_says_where_to_look(tmp_path: Path) -> None:
    (tmp_path / "comlink.worker.0123.js").write_text(WORKER.replace("this._pyodide=", "this.py="))
    with pytest.raises(SnapshotError, match=r"jupyterlite-pyodide-kernel changed.*docs/lite\.md"):
        patch_workers(tmp_path)


def test_a_worker_is_never_patched_twice(tmp_path: Path) -> None:
    (tmp_path / "comlink.worker.0123.js").write_text(WORKER)
    patch_workers(tmp_path)
    with pytest.raises(SnapshotError, match="patched already"):
        patch_workers(tmp_path)


def test_the_installed_kernel_extensions_workers_have_the_call_the_patch_expects(
    tmp_path: Path,
) -> None:
    static = lite_build.EXTENSIONS / "@jupyterlite" / "pyodide-kernel-extension" / "static"
    copy = Path(shutil.copytree(static, tmp_path / "static"))
    workers = {
        re.sub(r"\.[0-9a-f]+\.js$", "", p.name) for p in patch_workers(copy) if ".worker." in p.name
    }
    # both of the kernel's workers: comlink (the default) and coincident (when cross-origin
    # isolated), so the snapshot is used whatever headers the host sends
    assert workers == {"comlink.worker", "coincident.worker"}
