"""The notebook page starts the kernel's Python while JupyterLite's front end is still loading.

JupyterLite creates the kernel's web worker only once its front end has loaded, shown the
notebook and started a session: on a warm start, about 5 s after navigation, and Pyodide's
boot (1.5-2 s, even from the memory snapshot of ``lite_snapshot.py``) follows, on the other
core, with the page's own start-up done. The notebook app always starts a kernel for the
notebook it opens, so its page can begin that boot at once (docs/lite.md, "Start-up"):

- ``notebooks/index.html`` loads ``course-early-kernel.<hash>.js`` as soon as the site's
  configuration is read. It creates the kernel's worker and sends it the kernel's Pyodide
  settings, as the kernel extension computes them from that configuration.
- The worker (its prelude in ``lite_snapshot.py``) begins the boot. The kernel's first
  ``loadPyodide`` takes it if it was made with the same settings, and starts afresh if not.
- The kernel extension's ``initWorker``, patched here, takes the page's worker instead of
  creating one: ``window.__courseTakeWorker``. Only the first kernel takes it; a page that
  starts no kernel in two minutes ends it.

Pages that are cross-origin isolated use the extension's other worker (coincident) and are
left as they were, as are the lab and tree apps, which need not open a notebook.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_PAGE_JS = """\
/* course: start the kernel's Python while the notebook app loads (course/lite_early_start.py,
   docs/lite.md "Start-up") */
(() => {
  const WORKER = "@WORKER@";
  const PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel";
  if (window.crossOriginIsolated || typeof Worker === "undefined") return;
  if (!/[?&]path=[^&#]*\\.ipynb(&|#|$)/.test(location.search)) return;
  const script = document.getElementById("jupyter-config-data");
  const config = JSON.parse(script.textContent);
  const settings = (config.litePluginSettings || {})[PLUGIN] || {};
  if (!settings.pyodideUrl) return;
  /* the settings as the kernel extension computes them (its plugin's activate) */
  const pyodideUrl = new URL(settings.pyodideUrl, document.baseURI).href;
  const base = new URL(config.baseUrl || "/", document.baseURI).href;
  const loadPyodideOptions = { ...(settings.loadPyodideOptions || {}) };
  for (const [key, value] of Object.entries(loadPyodideOptions)) {
    if (key.endsWith("URL") && typeof value === "string") {
      loadPyodideOptions[key] = new URL(value, base).href;
    }
  }
  const root = new URL(script.dataset.jupyterLiteRoot || ".", location.href);
  const url = new URL(WORKER, root).href;
  const worker = new Worker(url, { type: "module" });
  const indexUrl = pyodideUrl.slice(0, pyodideUrl.lastIndexOf("/") + 1);
  worker.postMessage({ courseEarlyStart: { pyodideUrl, indexUrl, loadPyodideOptions } });
  let taken = false;
  window.__courseTakeWorker = (asked) => {
    if (taken || String(asked) !== url) return null;
    taken = true;
    return worker;
  };
  /* a page that starts no kernel does not keep a Python running */
  setTimeout(() => {
    if (!taken) {
      taken = true;
      worker.terminate();
    }
  }, 120000);
})();
"""
# The kernel's `initWorker` in the extension's page code (minified): `let t=e=>new Worker(e,…)`.
_INIT_WORKER = re.compile(r'(initWorker\(\w+\)\{let \w+=)(\w+)=>new Worker\(\2,\{type:"module"\}\)')
# Where the notebook page has read the site's configuration.
_CONFIG_READ = re.compile(r"(await import\(\s*'\.\./config-utils\.js[^']*'\s*\);)")


class EarlyStartError(RuntimeError):
    """The site's files are not where or what the early start expects; the message says which."""


def _fail(what: str) -> EarlyStartError:
    return EarlyStartError(
        f"{what}: jupyterlite or jupyterlite-pyodide-kernel changed; see docs/lite.md, "
        '"Start-up", before updating course/lite_early_start.py'
    )


def patch_kernel_page(extension_static: Path) -> Path:
    """Make the kernel extension's ``initWorker`` take the page's early worker; returns the
    file patched."""
    found = []
    for path in sorted(extension_static.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        if "__courseTakeWorker" in text:
            raise EarlyStartError(f"{path} is patched already: build from a fresh copy")
        new, count = _INIT_WORKER.subn(
            r'\1\2=>globalThis.__courseTakeWorker&&globalThis.__courseTakeWorker(\2)'
            r'||new Worker(\2,{type:"module"})', text)  # fmt: skip
        if count:
            path.write_text(new, encoding="utf-8")
            found.append(path)
    if len(found) != 1:
        raise _fail(f"{len(found)} files in {extension_static} create the kernel's worker as "
                    f"`{_INIT_WORKER.pattern}`, not one")  # fmt: skip
    return found[0]


def write_early_start(site: Path, worker: Path) -> Path:
    """Write the page's script for ``worker`` (the kernel's comlink worker, in ``site``) and
    make the notebook app load it; returns the script."""
    code = _PAGE_JS.replace("@WORKER@", worker.relative_to(site).as_posix())
    # named by its content, so that no browser keeps an older one from its cache
    script = site / f"course-early-kernel.{hashlib.sha256(code.encode()).hexdigest()[:12]}.js"
    script.write_text(code, encoding="utf-8")
    page = site / "notebooks" / "index.html"
    html, count = _CONFIG_READ.subn(
        rf"\1\n        import('../{script.name}').catch((error) => console.warn(error));",
        page.read_text(encoding="utf-8"))  # fmt: skip
    if count != 1:
        raise _fail(f"{page} reads the configuration {count} times as "
                    f"`{_CONFIG_READ.pattern}`, not once")  # fmt: skip
    page.write_text(html, encoding="utf-8")
    return script


def add_early_start(site: Path, extension_static: Path, workers: list[Path]) -> Path:
    """Set up the early start in ``site`` for the patched ``workers`` of the kernel extension
    in ``extension_static``; returns the page's script."""
    comlink = [path for path in workers if path.name.startswith("comlink.worker.")]
    if len(comlink) != 1:
        raise _fail(f"the kernel has {len(comlink)} comlink workers ({workers}), not one")
    patch_kernel_page(extension_static)
    return write_early_start(site, comlink[0])
