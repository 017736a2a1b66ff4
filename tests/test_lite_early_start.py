"""The notebook page starts the kernel's Python while JupyterLite loads (lite_early_start.py).

The build patches the kernel extension's minified ``initWorker`` and the notebook app's page, so
these tests pin both: against the extension installed in .venv and the app in jupyterlite-core's
own archive, and with files that changed. What the browser does with them is checked in
tests/test_lite.py."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from course import lite_build
from course.lite_early_start import (
    EarlyStartError,
    add_early_start,
    patch_kernel_page,
    write_early_start,
)
from course.lite_snapshot import patch_workers
from tests.support.jupyterlite_app import extract_app_files

KERNEL = (
    'class K{constructor(e){this._worker=this.initWorker(e)}initWorker(e){let t=e=>new Worker(e,'
    '{type:"module"});return crossOriginIsolated?t(new URL(s(831),s.b)):t(new URL(s(932),s.b))}}'
)
PAGE = """<script>
  (async function () {
    await import(
      '../config-utils.js?_=c1d836f'
    );
  }.call(this));
</script>"""


def _app_page(tmp_path: Path) -> Path:
    """The notebook app's page as jupyterlite-core ships it, in a site folder of its own."""
    site = tmp_path / "site"
    assert extract_app_files(site, lambda name: name == "notebooks/index.html")
    return site


def test_the_kernel_takes_the_pages_worker_before_making_one(tmp_path: Path) -> None:
    (tmp_path / "393.abcd.js").write_text(KERNEL)
    (tmp_path / "style.js").write_text("/* no kernel here */")
    assert patch_kernel_page(tmp_path) == tmp_path / "393.abcd.js"
    assert ('let t=e=>globalThis.__courseTakeWorker&&globalThis.__courseTakeWorker(e)'
            '||new Worker(e,{type:"module"});') in (tmp_path / "393.abcd.js").read_text()
    assert (tmp_path / "style.js").read_text() == "/* no kernel here */"


def test_a_kernel_that_makes_its_worker_otherwise_fails_the_build_and_says_where_to_look(
        tmp_path: Path) -> None:  # fmt: skip
    (tmp_path / "393.abcd.js").write_text(KERNEL.replace("new Worker(e,", "new SharedWorker(e,"))
    with pytest.raises(EarlyStartError, match=r"changed.*docs/lite\.md"):
        patch_kernel_page(tmp_path)


def test_the_kernel_is_never_patched_twice(tmp_path: Path) -> None:
    (tmp_path / "393.abcd.js").write_text(KERNEL)
    patch_kernel_page(tmp_path)
    with pytest.raises(EarlyStartError, match="patched already"):
        patch_kernel_page(tmp_path)


def test_the_page_loads_the_early_start_once_it_has_read_the_configuration(
        tmp_path: Path) -> None:  # fmt: skip
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "index.html").write_text(PAGE)
    worker = tmp_path / "extensions" / "k" / "static" / "comlink.worker.0123.js"
    script = write_early_start(tmp_path, worker)
    assert re.fullmatch(r"course-early-kernel\.[0-9a-f]{12}\.js", script.name)
    assert 'const WORKER = "extensions/k/static/comlink.worker.0123.js";' in script.read_text()
    page = (tmp_path / "notebooks" / "index.html").read_text()
    config, early = page.index("config-utils.js"), page.index(f"import('../{script.name}')")
    assert config < early, "the script reads the configuration that config-utils.js writes"


def test_a_page_that_reads_its_configuration_otherwise_fails_the_build(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "index.html").write_text(PAGE.replace("config-utils", "settings"))
    with pytest.raises(EarlyStartError, match=r"0 times.*changed"):
        write_early_start(tmp_path, tmp_path / "comlink.worker.0123.js")


def test_the_installed_kernel_and_app_have_what_the_early_start_patches(tmp_path: Path) -> None:
    site = _app_page(tmp_path)
    static = lite_build.EXTENSIONS / "@jupyterlite" / "pyodide-kernel-extension" / "static"
    copy = Path(shutil.copytree(static, site / "extensions" / "kernel" / "static"))
    script = add_early_start(site, copy, patch_workers(copy))
    worker = re.search(r'const WORKER = "([^"]+)";', script.read_text())
    assert worker and (site / worker[1]).is_file() and "/comlink.worker." in worker[1]
    assert f"import('../{script.name}')" in (site / "notebooks" / "index.html").read_text()
    assert sum("__courseTakeWorker" in p.read_text() for p in copy.glob("*.js")) == 1
