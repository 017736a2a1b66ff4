"""The browser kernel boots from a memory snapshot made when the site is built.

At each start, jupyterlite-pyodide-kernel's worker boots Pyodide, unpacks the kernel's wheels
and imports pyodide_kernel (IPython, its shell and the kernel object): CPU work in one thread,
most of a start (docs/lite.md, "Start-up"). The build does that once, under Node with the site's
own Pyodide and wheels, and saves Pyodide's memory (Pyodide's ``makeMemorySnapshot``). The
worker, patched by ``patch_workers``, then restores that memory instead: Python's state with
every module imported is back at once. A snapshot holds memory, not files, and unpacking the
packages' wheels again took 1.5-2 s of each start: so the build also writes the files those
wheels put in site-packages into one image (``files_name``), which the worker writes into
Pyodide's file system from a single buffer, and a module imported later is found as before.
(The page can also start all this before the kernel asks: ``lite_early_start.py``.)

Pyodide offers snapshots only through private ``loadPyodide`` options (``_makeSnapshot``,
``_loadSnapshot``), so both halves check what they rely on and fail loudly at build time: the
worker's call to ``loadPyodide`` must be where ``patch_workers`` looks for it, and every
JavaScript object the imports keep a reference to must be one ``_SNAPSHOT_JS`` knows how to
give back. In the browser, anything that goes wrong with the snapshot (an old browser without
``DecompressionStream``, a failed fetch of the snapshot) falls back to the plain start; without
the files image, the wheels are unpacked as before.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

# The variable a test reads to tell a kernel started from the snapshot: the snapshot's hash.
MARKER = "COURSE_LITE_SNAPSHOT"
# And the hash of the state `random` had when the snapshot was made, which the worker reseeds.
RANDOM_MARKER = "COURSE_LITE_SNAPSHOT_RANDOM"
# Set ("1") in a kernel whose Pyodide the page started before the kernel asked for it.
EARLY_MARKER = "COURSE_LITE_EARLY_START"
# What the worker imports at each start (piplite, which imports micropip; pyodide_kernel, which
# imports IPython and makes the kernel), and jedi, which IPython's completer imports at the
# first Tab.
IMPORTS = "import micropip, piplite.piplite, pyodide_kernel, jedi"


def snapshot_name(marker: str) -> str:
    """The snapshot's file name, named by what it is made from: a browser never restores a
    stale copy from its cache next to newer wheels."""
    return f"kernel-snapshot-{marker}.bin.gz"


def files_name(marker: str) -> str:
    """The name of the files image made with the snapshot ``marker`` names."""
    return f"kernel-files-{marker}.bin.gz"


def worker_settings(pyodide_dir: Path) -> dict[str, object]:
    """What `loadPyodideOptions.courseSnapshot` tells the patched worker, for the site's Pyodide
    in ``pyodide_dir``."""
    marker = snapshot_marker(pyodide_dir)
    return {"file": snapshot_name(marker), "files": files_name(marker)}


# Made under Node. Pyodide's check wants its record of loaded packages empty in a snapshot: the
# worker writes the packages' files and that record back from the files image (or, without it,
# loads the packages again, for their files). The image holds only pure-Python files: a shared
# library would need Pyodide's loader, so one fails the build. The JavaScript objects the
# imports hold (`from pyodide_js import loadPackagesFromImports` in pyodide_kernel; micropip's
# loadPackage, install and loadBinaryFile) are recorded by their path from the Pyodide object,
# and the worker gives them back from the Pyodide it loaded. Any other object fails the build.
_SNAPSHOT_JS = """
const [pyodideUrl, indexURL, out, filesOut, packages, code] = process.argv.slice(1);
const fs = await import("node:fs");
const zlib = await import("node:zlib");
const { loadPyodide } = await import(pyodideUrl);
const py = await loadPyodide({ indexURL, _makeSnapshot: true,
                               stdout: () => {}, stderr: (line) => console.error(line) });
/* the files the packages add, in one image: [index length][index JSON][contents...] */
const walk = (root) => py.FS.readdir(root).filter((name) => name !== "." && name !== "..")
  .flatMap((name) => {
    const path = `${root}/${name}`;
    const dir = py.FS.isDir(py.FS.stat(path).mode);
    return dir ? [{ path, dir }, ...walk(path)] : [{ path, dir }];
  });
const site = py.runPython("import sysconfig; sysconfig.get_path('purelib')").replace(/^[/]+/, "/");
const before = new Set(walk(site).map(({ path }) => path));
await py.loadPackage(JSON.parse(packages));
const added = walk(site).filter(({ path }) => !before.has(path));
const paths = added.filter(({ dir }) => !dir).map(({ path }) => path);
const library = paths.find((path) => /[.]so([.]|$)/.test(path));
if (library) throw new Error(`a preloaded package has a shared library: ${library}`);
const contents = paths.map((path) => py.FS.readFile(path));
const index = new TextEncoder().encode(JSON.stringify({
  packages: { ...py.loadedPackages },
  dirs: added.filter(({ dir }) => dir).map(({ path }) => path),
  files: paths.map((path, i) => [path, contents[i].length]),
}));
const length = new Uint8Array(new Uint32Array([index.length]).buffer);
const image = Buffer.concat([length, index, ...contents]);
fs.writeFileSync(filesOut, zlib.gzipSync(image, { level: 9 }));
py.runPython(code);
for (const name of Object.keys(py.loadedPackages)) delete py.loadedPackages[name];
const known = new Map([[py, ""], [py.loadPackage, "loadPackage"],
                       [py.loadPackagesFromImports, "loadPackagesFromImports"],
                       [py._api.install, "_api.install"],
                       [py._api.loadBinaryFile, "_api.loadBinaryFile"]]);
const snapshot = py.makeMemorySnapshot({ serializer: (object) => {
  if (known.has(object)) return known.get(object);
  throw new Error(`the kernel's imports keep a JavaScript object the worker cannot give back: ${
    object?.name ?? object?.constructor?.name ?? typeof object}`);
} });
fs.writeFileSync(out, zlib.gzipSync(snapshot, { level: 9 }));
"""

# Put at the top of each worker file that starts Pyodide; the worker's `loadPyodide(options)`
# becomes `__courseLoadPyodide(loadPyodide, options)`.
WORKER_PRELUDE = """\
/* course: boot from the site's memory snapshot (docs/lite.md, "Start-up") */
async function __courseSnapshot(url, keep) {
  /* Kept gunzipped in the browser's Cache Storage, so that a later start skips the gunzip
     (about 0.5 s). The file's name changes with its content: those not in `keep` are
     dropped. */
  let cache = null;
  try {
    cache = await caches.open("course-kernel-snapshot");
    const kept = await cache.match(url);
    if (kept) return new Uint8Array(await kept.arrayBuffer());
  } catch (error) {
    cache = null;
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.url}: ${response.status}`);
  const gunzip = response.body.pipeThrough(new DecompressionStream("gzip"));
  const snapshot = new Uint8Array(await new Response(gunzip).arrayBuffer());
  if (cache) {
    const body = new Response(snapshot);
    (async () => {
      for (const old of await cache.keys()) if (!keep.includes(old.url)) await cache.delete(old);
      await cache.put(url, body);
    })().catch((error) => console.warn("The kernel's snapshot is not kept:", error));
  }
  return snapshot;
}

/* The page may have started this worker's boot before the kernel asked for it
   (lite_early_start.py): the kernel's first loadPyodide then takes that boot, if it was made
   with the kernel's own settings. */
let __courseEarly = null;
if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  self.addEventListener("message", (event) => {
    const start = event.data && event.data.courseEarlyStart;
    if (!start) return;
    event.stopImmediatePropagation(); /* not a message for comlink */
    if (__courseEarly) return;
    const sinks = { stdout: (text) => console.log(text), stderr: (text) => console.error(text) };
    const pyodide = import(start.pyodideUrl).then(({ loadPyodide }) => __courseBoot(loadPyodide, {
      indexURL: start.indexUrl,
      stdout: (text) => sinks.stdout(text),
      stderr: (text) => sinks.stderr(text),
      ...start.loadPyodideOptions,
    }));
    pyodide.catch(() => {}); /* reported when the kernel takes it */
    __courseEarly = { start, sinks, pyodide };
  });
}

async function __courseLoadPyodide(loadPyodide, options) {
  const early = __courseEarly;
  __courseEarly = { taken: true }; /* one boot per worker; a later message starts nothing */
  if (early && early.pyodide) {
    const { indexURL, stdout, stderr, ...rest } = options;
    if (indexURL === early.start.indexUrl &&
        JSON.stringify(rest) === JSON.stringify(early.start.loadPyodideOptions)) {
      early.sinks.stdout = stdout;
      early.sinks.stderr = stderr;
      try {
        const pyodide = await early.pyodide;
        pyodide.runPython('import os\\nos.environ["@EARLY_MARKER@"] = "1"');
        return pyodide;
      } catch (error) {
        console.warn("The early start of Python failed; starting again:", error);
      }
    } else {
      console.warn("The early start of Python used other settings than the kernel's; ignored");
    }
  }
  return __courseBoot(loadPyodide, options);
}

function __courseWriteFiles(pyodide, image) {
  /* The packages' files, as Pyodide's loadPackage left them at build time, written from one
     buffer: unpacking their wheels took 1.5-2 s of each start (docs/lite.md, "Start-up"). */
  const length = new DataView(image.buffer, image.byteOffset).getUint32(0, true);
  const index = JSON.parse(new TextDecoder().decode(image.subarray(4, 4 + length)));
  for (const dir of index.dirs) pyodide.FS.mkdirTree(dir);
  let offset = 4 + length;
  for (const [path, size] of index.files) {
    pyodide.FS.writeFile(path, image.subarray(offset, offset + size), { canOwn: true });
    offset += size;
  }
  Object.assign(pyodide.loadedPackages, index.packages);
  pyodide.runPython("import importlib\\nimportlib.invalidate_caches()");
}

async function __courseBoot(loadPyodide, options) {
  const { courseSnapshot, ...plain } = options;
  if (!courseSnapshot || typeof DecompressionStream === "undefined") return loadPyodide(plain);
  let pyodide;
  try {
    const base = new URL(plain.indexURL, self.location.href);
    const urls = [courseSnapshot.file, courseSnapshot.files].map((name) =>
      new URL(name, base).href);
    /* without the files image (a host that lost it), the packages are unpacked from their
       wheels as before */
    const [snapshot, files] = await Promise.all([
      __courseSnapshot(urls[0], urls),
      __courseSnapshot(urls[1], urls).catch((error) => console.warn(error)),
    ]);
    const memory = snapshot.length - new Uint32Array(snapshot.buffer, 0, 2)[1];
    const { default: create } = await import(new URL("pyodide.asm.mjs", base).href);
    pyodide = await loadPyodide({
      ...plain,
      packages: files ? [] : plain.packages,
      _loadSnapshot: snapshot,
      /* the objects the snapshot recorded by their path, from the Pyodide being loaded */
      _snapshotDeserializer: (path) => {
        const find = () => path.split(".").reduce((object, key) => object[key], pyodide);
        return path === ""
          ? new Proxy({}, { get: (_, key) => Reflect.get(pyodide, key),
                            has: (_, key) => key in pyodide })
          : (...args) => find()(...args);
      },
      /* this Pyodide ignores INITIAL_MEMORY: grow the memory to the snapshot's size first,
         in small steps, so that it grows no further than that */
      createPyodideModule: async (settings) => {
        const module = await create(settings);
        const blocks = [];
        while (module.HEAP8.length < memory) {
          const block = module._malloc(1 << 20);
          if (!block) throw new Error("the memory cannot grow to the snapshot's size");
          blocks.push(block);
        }
        blocks.forEach((block) => module._free(block));
        return module;
      },
    });
    if (files) __courseWriteFiles(pyodide, files);
    /* every start would draw the same numbers from the seed random had at build time */
    pyodide.runPython("import random\\nrandom.seed()");
    return pyodide;
  } catch (error) {
    console.warn("Booting Python without the site's snapshot:", error);
    return loadPyodide(plain);
  }
}
""".replace("@EARLY_MARKER@", EARLY_MARKER)
_CALL = re.compile(r"(this\._pyodide=await )(\w+)\(\{indexURL:")


class SnapshotError(RuntimeError):
    """The snapshot cannot be made or used; the message says what changed."""


def snapshot_marker(pyodide_dir: Path) -> str:
    """The hash of what a snapshot of the site's Pyodide in ``pyodide_dir`` is made from (its
    core, its lock naming every wheel by hash, the imports and the script that makes it):
    ``os.environ[MARKER]`` in it."""
    inputs = hashlib.sha256()
    for name in ("pyodide.asm.wasm", "pyodide-lock.json"):
        inputs.update((pyodide_dir / name).read_bytes())
    inputs.update(IMPORTS.encode() + _SNAPSHOT_JS.encode())
    return inputs.hexdigest()[:16]


def make_snapshot(pyodide_dir: Path, packages: list[str]) -> str:
    """Write the snapshot (``snapshot_name``) into ``pyodide_dir`` from the site's Pyodide and
    lock there, with ``packages`` loaded; returns its marker (``snapshot_marker``)."""
    node = shutil.which("node")
    if node is None:
        raise SnapshotError("node is needed to build the site (Debian package: nodejs)")
    marker = snapshot_marker(pyodide_dir)
    code = (f"import os\nos.environ[{MARKER!r}] = {marker!r}\n{IMPORTS}\n"
            # the state of random that every start would share if the worker did not reseed it
            f"import hashlib, random\nos.environ[{RANDOM_MARKER!r}] = "
            "hashlib.sha256(repr(random.getstate()).encode()).hexdigest()\n")  # fmt: skip
    out, files = pyodide_dir / snapshot_name(marker), pyodide_dir / files_name(marker)
    proc = subprocess.run(
        [node, "--input-type=module", "-e", _SNAPSHOT_JS, (pyodide_dir / "pyodide.mjs").as_uri(),
         f"{pyodide_dir}/", str(out), str(files), json.dumps(packages), code],
        capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0 or not out.is_file() or not files.is_file():
        raise SnapshotError("making the kernel's memory snapshot failed:\n" + proc.stderr[-3000:])
    return marker


def patch_workers(extension_static: Path) -> list[Path]:
    """Make each of the kernel extension's files that starts Pyodide use the snapshot; returns
    them. jupyterlite-pyodide-kernel's worker bundle is minified, so the call is found by its
    shape; if no file has it, the kernel changed and the build says so."""
    patched = []
    for path in sorted(extension_static.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        if "__courseLoadPyodide" in text:
            raise SnapshotError(f"{path} is patched already: build from a fresh copy")
        new, count = _CALL.subn(r"\1__courseLoadPyodide(\2,{indexURL:", text)
        if count:
            path.write_text(WORKER_PRELUDE + new, encoding="utf-8")
            patched.append(path)
    if not any(".worker." in path.name for path in patched):
        raise SnapshotError(
            f"no kernel worker in {extension_static} calls loadPyodide as "
            f"`{_CALL.pattern}`: jupyterlite-pyodide-kernel changed; see docs/lite.md, "
            '"Start-up", before updating course/lite_snapshot.py'
        )
    return patched
