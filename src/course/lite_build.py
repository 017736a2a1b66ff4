"""Build the course's JupyterLite site: Python in the browser, offline (docs/lite.md).

``python -m course.lite_build OUTPUT`` writes the site into OUTPUT (``make book`` uses
``_build/html/lite``). Everything the site loads is inside it:

- Pyodide's core from the npm package ``pyodide`` (``lite/package-lock.json``, ``npm ci``);
- the wheels that Pyodide's lock names for the kernel and the course's own dependencies, from
  PyPI, pinned with their hashes in ``lite/wheels.lock`` (``python -m course.lite_build pin``
  writes it) and cached in ``lite/.downloads``; the copied lock is cut down to these wheels and
  its ``sha256`` rewritten, since PyPI's files are not Pyodide's builds;
- the course package as a wheel, with the question banks and the timeline as JSON: the
  browser has no PyYAML, and the package reads JSON where YAML is absent;
- for a faster start (docs/lite.md, "Start-up"): the kernel's own wheels in the same lock,
  fetched at once while Pyodide boots, and every wheel with its modules' bytecode, compiled by
  Pyodide's own Python under Node;
- the student notebooks of the release folder (``exercises/``), the chapters and the practice
  page of ``book/`` (converted by jupytext), read from their sources at every build. A cell
  that needs a package with no browser build is replaced by one that says so and what to do
  instead.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course.lite_early_start import EarlyStartError, add_early_start
from course.lite_snapshot import (
    SnapshotError,
    make_snapshot,
    patch_workers,
    snapshot_name,
    worker_settings,
)
from course.lite_workspace_wait import WorkspaceWaitError, unblock_routing
from course.settings import REPO_ROOT

REPO = REPO_ROOT
# The site's folder of student versions: part of its addresses, whatever the course's
# release folder is called.
SITE_EXERCISES = "exercises"
LITE = REPO / "lite"
PYODIDE_NPM = LITE / "node_modules" / "pyodide"
WHEELS_LOCK = LITE / "wheels.lock"
DOWNLOADS = LITE / ".downloads"
# The JupyterLab extensions installed in .venv, the site's two among them.
EXTENSIONS = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
# The files of the npm package that the kernel loads (the rest are docs and Node helpers).
PYODIDE_CORE = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
# Pyodide 314 is CPython 3.14 built for this platform tag (pyodide-lock.json, "info").
PYODIDE_PLATFORM = ("3.14", "cp314", "pyemscripten_2026_0_wasm32")

# What the kernel itself installs at start (jupyterlite-pyodide-kernel's worker) and micropip.
KERNEL_ROOTS = ("micropip", "ipython", "jedi")
# The course's dependencies in the browser, at the versions of requirements.lock; with the
# package names Pyodide's lock uses, what each one provides to import, and what it needs.
COURSE_DEPENDENCIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pydantic": (("pydantic",), ("typing-extensions", "pydantic-core", "annotated-types",
                                 "typing-inspection")),
    "pydantic-core": (("pydantic_core",), ("typing-extensions",)),
    "typing-extensions": (("typing_extensions",), ()),
    "annotated-types": (("annotated_types",), ()),
    "typing-inspection": (("typing_inspection",), ()),
    "platformdirs": (("platformdirs",), ()),
    "comm": (("comm",), ()),
    "ipywidgets": (("ipywidgets",), ("comm", "ipython", "traitlets")),
}  # fmt: skip
COURSE_WHEEL_NAME = "russia-nk-course"
# Importing ``course`` loads what its modules import, since Pyodide loads a cell's packages
# from the cell's own import lines only.
COURSE_DEPENDS = ("pydantic", "platformdirs", "ipywidgets")
# Parts of the package that run only on the instructor's machine (nbgrader, Sphinx, the CLI).
DESKTOP_ONLY = ("grading", "cli.py", "assignments.py", "sphinxext.py", "lite_build.py",
                "settings.py", "itemstats.py", "icons.py", "favicon.py")

# The kernel's own wheels, which jupyterlite-pyodide-kernel ships in its extension (its piplite
# index), with what each needs. The site lists them in its Pyodide lock too, so that Pyodide
# fetches them with the rest while it starts instead of piplite resolving them one by one.
KERNEL_WHEELS = {"piplite": ("micropip",), "ipykernel": ("pyodide-kernel",),
                 "pyodide-kernel": ("comm", "ipython")}  # fmt: skip
# What the kernel's worker loads at start ('micropip', 'piplite', then 'ipykernel', 'comm',
# 'pyodide-kernel', 'jedi', 'ipython'). The worker skips its sequential piplite installs of the
# ones given to loadPyodide as `packages`. Not the course: preloaded too, with pydantic-core's
# WebAssembly, it made the kernel ready 3-5 s later, more than its first import costs (about
# 0.6 s; docs/lite.md, "Start-up").
PRELOAD = ("micropip", "piplite", "ipykernel", "comm", "pyodide-kernel", "jedi", "ipython")

# Packages some cells import that have no wheel for Pyodide on any registry this site may use
# (docs/lite.md, pitfall 5: only Pyodide's CDN carries them): such cells are replaced.
NO_BROWSER_BUILD = ("matplotlib", "pandas", "numpy", "yaml", "nbgrader")
# The course's own functions that import one of them when called.
NEEDS_WHEN_CALLED = {"draw_timeline": "matplotlib"}


class LiteBuildError(RuntimeError):
    """The site cannot be built; the message says what is missing and how to get it."""


# ---------------------------------------------------------------------------------------------
# Wheels


@dataclass(frozen=True)
class Pin:
    name: str  # as Pyodide's lock names it
    version: str
    sha256: str


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyodide_lock() -> dict:
    path = PYODIDE_NPM / "pyodide-lock.json"
    if not path.is_file():
        raise LiteBuildError(
            f"{path} is missing: install Pyodide's core with `make lite-deps` (npm ci in lite/)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def requirements_versions(lock_file: Path = REPO / "requirements.lock") -> dict[str, str]:
    """name -> version of every package in requirements.lock."""
    found = re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", lock_file.read_text(), re.M)
    return {_normal(name): version for name, version in found}


def wanted_versions() -> dict[str, str]:
    """The wheels the site carries: the kernel's closure at the versions Pyodide's lock names,
    and the course's dependencies at the versions of requirements.lock."""
    packages = pyodide_lock()["packages"]
    wanted: dict[str, str] = {}
    todo = list(KERNEL_ROOTS)
    while todo:
        name = _normal(todo.pop())
        if name in wanted:
            continue
        wanted[name] = packages[name]["version"]
        todo += packages[name]["depends"]
    desktop = requirements_versions()
    for name in COURSE_DEPENDENCIES:
        if name not in desktop:
            raise LiteBuildError(f"{name} is not in requirements.lock; run make lock")
        wanted[name] = desktop[name]
    return dict(sorted(wanted.items()))


def read_pins(path: Path = WHEELS_LOCK) -> list[Pin]:
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(\S+)==(\S+) --hash=sha256:([0-9a-f]{64})$", line)
        if match:
            pins.append(Pin(_normal(match[1]), match[2], match[3]))
    return pins


def _pip_download(requirements: Path, dest: Path) -> None:
    version, abi, platform = PYODIDE_PLATFORM
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--only-binary=:all:", "--python-version", version,
        "--implementation", "cp", "--abi", abi, "--platform", platform,
        "--dest", str(dest), "-r", str(requirements),
    ]  # fmt: skip
    if "--hash" in requirements.read_text():
        command.append("--require-hashes")
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        raise LiteBuildError(
            "pip could not download the site's wheels from PyPI:\n" + proc.stderr[-3000:]
        )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record_line(name: str, data: bytes) -> str:
    """A wheel RECORD line for one file (PEP 376/427: url-safe base64 sha256, no padding)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _wheel_for(pin_name: str, version: str, folder: Path) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", pin_name).lower()
    for path in folder.glob("*.whl"):
        name, file_version = path.name.split("-")[:2]
        if re.sub(r"[-_.]+", "_", name).lower() == stem and file_version == version:
            return path
    return None


def write_pins(path: Path = WHEELS_LOCK) -> list[Pin]:
    """Download the wanted wheels once and record their hashes in lite/wheels.lock."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    wanted = wanted_versions()
    request = DOWNLOADS / "wanted.txt"
    request.write_text("".join(f"{n}=={v}\n" for n, v in wanted.items()))
    _pip_download(request, DOWNLOADS)
    pins = []
    for name, version in wanted.items():
        wheel = _wheel_for(name, version, DOWNLOADS)
        if wheel is None:
            raise LiteBuildError(f"pip downloaded no wheel for {name}=={version}")
        pins.append(Pin(name, version, _sha256(wheel)))
    path.write_text(
        "# The PyPI wheels of the in-browser site (make book), pinned by hash. Written by\n"
        "# `python -m course.lite_build pin` from Pyodide's lock (the kernel's packages) and\n"
        "# requirements.lock (the course's); do not edit by hand (docs/lite.md).\n"
        + "".join(f"{p.name}=={p.version} --hash=sha256:{p.sha256}\n" for p in pins)
    )
    return pins


def fetch_wheels() -> dict[str, Path]:
    """The pinned wheels, from the cache or else downloaded from PyPI with pip."""
    if not WHEELS_LOCK.is_file():
        raise LiteBuildError(f"{WHEELS_LOCK} is missing: run python -m course.lite_build pin")
    pins = read_pins()
    stale = {n: v for n, v in wanted_versions().items()
             if n not in {p.name: p for p in pins} or {p.name: p for p in pins}[n].version != v}
    if stale:
        raise LiteBuildError(
            f"lite/wheels.lock does not match the locks it is made from ({stale}): run "
            "python -m course.lite_build pin"
        )  # fmt: skip
    DOWNLOADS.mkdir(parents=True, exist_ok=True)

    def cached(pin: Pin) -> Path | None:
        wheel = _wheel_for(pin.name, pin.version, DOWNLOADS)
        return wheel if wheel is not None and _sha256(wheel) == pin.sha256 else None

    if any(cached(pin) is None for pin in pins):
        _pip_download(WHEELS_LOCK, DOWNLOADS)
    found = {}
    for pin in pins:
        wheel = cached(pin)
        if wheel is None:
            raise LiteBuildError(f"no wheel of {pin.name}=={pin.version} matches its pinned hash")
        found[pin.name] = wheel
    return found


# ---------------------------------------------------------------------------------------------
# The course package as a wheel for the browser


def _data_as_json(package: Path) -> dict[str, bytes]:
    """The banks, the timeline and the checked claims, parsed from their YAML, as JSON."""
    import yaml

    out: dict[str, bytes] = {}
    for bank in sorted((REPO / "book" / "quizzes").glob("*.yaml")):
        raw = yaml.safe_load(bank.read_text(encoding="utf-8"))
        out[f"course/data/quizzes/{bank.stem}.json"] = json.dumps(raw, indent=1).encode()
    timeline = yaml.safe_load((package / "data" / "timeline.yaml").read_text(encoding="utf-8"))
    out["course/data/timeline.json"] = json.dumps(timeline, indent=1, default=str).encode()
    claims = yaml.safe_load((package / "data" / "claims.yaml").read_text(encoding="utf-8"))
    out["course/data/claims.json"] = json.dumps(claims, indent=1, default=str).encode()
    return out


def course_wheel(dest: Path, version: str = "0.1.0") -> Path:
    """A pure-Python wheel of the parts of ``course`` that run in the browser."""
    package = REPO / "src" / "course"
    files: dict[str, bytes] = {}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if (not path.is_file() or "__pycache__" in relative.parts
                or relative.parts[0] in DESKTOP_ONLY or path.suffix == ".pyc"):
            continue
        if relative.parts[-1] in ("timeline.yaml", "claims.yaml"):
            continue  # carried as JSON
        files[f"course/{relative.as_posix()}"] = path.read_bytes()
    files.update(_data_as_json(package))
    dist = f"russia_nk_course-{version}.dist-info"
    files[f"{dist}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {COURSE_WHEEL_NAME}\nVersion: {version}\n"
    ).encode()
    files[f"{dist}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: course.lite_build\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    files[f"{dist}/top_level.txt"] = b"course\n"
    record = [_record_line(name, data) for name, data in files.items()]
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = dest / f"russia_nk_course-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():  # a fixed date: the same sources give the same file
            archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data)
    return wheel


# ---------------------------------------------------------------------------------------------
# Pyodide's core and its lock, cut down to what the site carries


def kernel_wheels() -> dict[str, Path]:
    """The kernel's own wheels (KERNEL_WHEELS), from jupyterlite-pyodide-kernel in .venv."""
    pypi = EXTENSIONS / "@jupyterlite" / "pyodide-kernel-extension" / "static" / "pypi"
    found = {}
    for name in KERNEL_WHEELS:
        matches = sorted(pypi.glob(f"{name.replace('-', '_')}-*-py3-none-any.whl"))
        if len(matches) != 1:
            raise LiteBuildError(
                f"expected one {name} wheel in {pypi}, found {len(matches)}: is "
                "jupyterlite-pyodide-kernel installed in .venv (make setup)?"
            )
        found[name] = matches[0]
    return found


# Runs CPython 3.14 (Pyodide's own, from npm) under Node to compile the wheels' sources: the
# browser's Python then reads bytecode instead of compiling every module of IPython, jedi,
# pydantic... at each start, as Pyodide's own builds of these packages do. Unchecked-hash .pyc
# files (PEP 552): the browser unpacks the wheels with fresh file times, which a timestamp .pyc
# would take for a change of source.
_COMPILE_JS = """
const [pyodideUrl, tree] = process.argv.slice(1);
const { loadPyodide } = await import(pyodideUrl);
const py = await loadPyodide({ stdout: () => {}, stderr: (line) => console.error(line) });
py.FS.mkdirTree("/tree");
py.FS.mount(py.FS.filesystems.NODEFS, { root: tree }, "/tree");
py.runPython(`
import compileall, py_compile, warnings
warnings.simplefilter("ignore")  # old escapes in some packages' tests: not the site's concern
compileall.compile_dir("/tree", quiet=2, workers=1,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
`);
"""
BYTECODE_TAG = "cpython-314"


def add_bytecode(wheels: list[Path], cache: Path = DOWNLOADS / "bytecode") -> None:
    """Rewrite each wheel in place with the bytecode of its modules next to their sources.

    Compiled wheels are kept in ``cache``, named by the hash of the wheel they come from and
    Pyodide's version (which fixes the bytecode's format), so a rebuild compiles only what
    changed: the course's own wheel, as a rule."""
    version = json.loads((PYODIDE_NPM / "package.json").read_text(encoding="utf-8"))["version"]
    cached = {wheel: cache / f"{_sha256(wheel)}-pyodide{version}.whl" for wheel in wheels}
    todo = [wheel for wheel in wheels if not cached[wheel].is_file()]
    if todo:
        node = shutil.which("node")
        if node is None:
            raise LiteBuildError("node is needed to build the site (Debian package: nodejs)")
        with tempfile.TemporaryDirectory(prefix="lite-bytecode-") as folder:
            _compile_into(todo, Path(folder), node)
        cache.mkdir(parents=True, exist_ok=True)
        for wheel in todo:
            shutil.copyfile(wheel, cached[wheel])
    for wheel in wheels:
        shutil.copyfile(cached[wheel], wheel)


def _compile_into(wheels: list[Path], tree: Path, node: str) -> None:
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.endswith(".py") and ".dist-info/" not in name:
                    archive.extract(name, tree / wheel.stem)
    proc = subprocess.run(
        [node, "--input-type=module", "-e", _COMPILE_JS,
         (PYODIDE_NPM / "pyodide.mjs").as_uri(), str(tree)],
        capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        raise LiteBuildError("compiling the wheels with Pyodide failed:\n" + proc.stderr[-3000:])
    for wheel in wheels:
        _repack_with_bytecode(wheel, tree / wheel.stem)


def _repack_with_bytecode(wheel: Path, compiled: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    added: dict[str, bytes] = {}
    for info, _ in members:
        if info.filename.endswith(".py") and ".dist-info/" not in info.filename:
            folder, _, module = info.filename.rpartition("/")
            pyc = f"{folder}/__pycache__/{module[:-3]}.{BYTECODE_TAG}.pyc".lstrip("/")
            if (compiled / pyc).is_file():  # a file that does not compile is left as it is
                added[pyc] = (compiled / pyc).read_bytes()
    record_lines = [_record_line(name, data) + "\n" for name, data in added.items()]
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            if info.filename.endswith(".dist-info/RECORD"):
                data = data.rstrip(b"\n") + b"\n" + "".join(record_lines).encode()
            archive.writestr(info, data)
        for name, data in added.items():  # a fixed date: the same sources give the same file
            archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data,
                             zipfile.ZIP_DEFLATED)  # fmt: skip


def write_pyodide(dest: Path, wheels: dict[str, Path]) -> None:
    """Pyodide's core, every wheel (with bytecode) and the lock naming them, into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_CORE:
        source = PYODIDE_NPM / name
        if not source.is_file():
            raise LiteBuildError(f"{source} is missing: run `make lite-deps` (npm ci in lite/)")
        shutil.copy2(source, dest / name)
    lock = pyodide_lock()
    carried = {**wheels, **kernel_wheels(), COURSE_WHEEL_NAME: course_wheel(dest)}
    for name, wheel in carried.items():
        if wheel.parent != dest:
            shutil.copy2(wheel, dest / wheel.name)
        carried[name] = dest / wheel.name
    add_bytecode(list(carried.values()))
    packages = {}
    for name, wheel in carried.items():
        entry = dict(lock["packages"].get(name, {}))
        if name in COURSE_DEPENDENCIES:
            entry["imports"], entry["depends"] = map(list, COURSE_DEPENDENCIES[name])
        elif name in KERNEL_WHEELS:
            entry["imports"], entry["depends"] = [name.replace("-", "_")], list(KERNEL_WHEELS[name])
        elif name == COURSE_WHEEL_NAME:
            entry["imports"], entry["depends"] = ["course"], list(COURSE_DEPENDS)
        entry.update(
            name=name, version=wheel.name.split("-")[1], file_name=wheel.name,
            install_dir="site", package_type="package", unvendored_tests=False,
            sha256=_sha256(wheel),
        )  # fmt: skip
        packages[name] = entry
    missing = {d for e in packages.values() for d in e["depends"] if _normal(d) not in packages}
    missing |= {p for p in PRELOAD if p not in packages}
    if missing:
        raise LiteBuildError(f"the site's Pyodide lock needs packages it does not carry: {missing}")
    lock["packages"] = dict(sorted(packages.items()))
    (dest / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True))


# ---------------------------------------------------------------------------------------------
# Notebooks


def _imported_roots(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics and the like: leave the cell as it is
        return set()
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in NEEDS_WHEN_CALLED:
                roots.add(NEEDS_WHEN_CALLED[name])
    return roots


def _names(source: str) -> tuple[set[str], set[str]]:
    """The names a cell binds and the names it reads."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(), set()
    bound: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else read).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return bound, read


def browser_version(source: str, student_answer: bool, lost: Iterable[str] = ()) -> str | None:
    """A replacement for a cell that imports a package with no browser build, or that reads a
    name only such a cell defines (``lost``), or None when the cell can run as it is.

    The replacement runs without an error, says why the original cannot run here and what to
    do instead, and keeps the original as comments.
    """
    missing = sorted(_imported_roots(source) & set(NO_BROWSER_BUILD))
    bound, read = _names(source)
    needed = sorted((read - bound) & set(lost))
    if missing:
        why = (f"This cell needs {' and '.join(missing)}, which the in-browser Python (Pyodide) "
               "of this site does not have: it has no build for the browser that the site can "
               "carry.")  # fmt: skip
    elif needed:
        why = (f"This cell uses {', '.join(needed)}, which a cell above computes with a package "
               "that the in-browser Python (Pyodide) of this site does not have.")  # fmt: skip
    else:
        return None
    instead = (
        "Answer the question below without the chart, or draw the chart in desktop Jupyter "
        "(see the course README); the chart is not graded."
        if student_answer
        else "Its result is on this chapter's page in the book; to run it, open the chapter in "
        "desktop Jupyter (see the course README)."
    )
    commented = "\n".join(f"# {line}" if line else "#" for line in source.splitlines())
    return (
        f"# Not run in the browser. The cell as written for desktop Jupyter:\n{commented}\n\n"
        f"print({why + ' ' + instead!r})\n"
    )


# JupyterLite's only kernel is named "python"; with desktop Jupyter's "python3" the notebook
# opens with no kernel. nbgrader puts the assignment's own kernelspec back when it autogrades.
LITE_KERNELSPEC = {"display_name": "Python (Pyodide)", "language": "python", "name": "python"}


def adapt_notebook(nb: nbformat.NotebookNode) -> list[str]:
    """Make a notebook ready for the browser, in place: the Lite kernel, and the cells that
    cannot run there replaced; returns the ids of those cells."""
    nb.metadata["kernelspec"] = dict(LITE_KERNELSPEC)
    replaced, lost = [], set[str]()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grading = cell.metadata.get("nbgrader", {})
        # nbgrader's test cells stay as they are: autograding puts them back anyway
        new = browser_version(cell.source, bool(grading.get("solution")),
                              () if grading.get("grade") or grading.get("locked") else lost)
        if new is not None:
            lost |= _names(cell.source)[0]
            cell.source = new
            cell.outputs, cell.execution_count = [], None
            replaced.append(grading.get("grade_id") or f"cell {index}")
    return replaced


def chapter_notebooks() -> list[Path]:
    """The MyST notebooks of the book's table of contents (chapters and practice)."""
    import yaml

    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    pages = [REPO / f"{f}.md" for f in files]
    return [p for p in pages if p.is_file() and p.read_text(encoding="utf-8").startswith("---\n")
            and "\nkernelspec:" in p.read_text(encoding="utf-8").split("\n---\n", 1)[0]]


def site_path(page: Path) -> str:
    """Where the site keeps the notebook of a book page (chapters/x.ipynb, practice.ipynb)."""
    return f"{page.stem}.ipynb" if page.stem == "practice" else f"chapters/{page.stem}.ipynb"


def exercise_notebooks() -> list[Path]:
    """The student versions of the assignments (the course's release folder)."""
    from course.settings import folder, load_config

    return sorted(folder(load_config(REPO), "release").glob("ps*/*.ipynb"))


def exercise_site_path(notebook: Path) -> str:
    """Where the site keeps the student version ``notebook`` (the site's own layout)."""
    return f"{SITE_EXERCISES}/{notebook.parent.name}/{notebook.name}"


def notebook_title(path: Path) -> str:
    """The first heading of a notebook's first markdown cell."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def open_url(site_file: str) -> str:
    """The address, inside the site, that opens a notebook in JupyterLite's notebook app."""
    return f"lite/notebooks/index.html?path={site_file}"


def write_contents(dest: Path) -> dict[str, list[str]]:
    """The notebooks of the site, from their sources; returns the cells that were replaced."""
    import jupytext

    replaced: dict[str, list[str]] = {}
    for source in exercise_notebooks():
        nb = nbformat.read(source, as_version=4)
        target = dest / exercise_site_path(source)
        replaced[target.relative_to(dest).as_posix()] = adapt_notebook(nb)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
    for page in chapter_notebooks():
        nb = jupytext.read(page)
        nb.metadata.pop("jupytext", None)
        target = dest / site_path(page)
        replaced[target.relative_to(dest).as_posix()] = adapt_notebook(nb)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
    return {k: v for k, v in replaced.items() if v}


# ---------------------------------------------------------------------------------------------
# The site


def lite_config(contents: Path, output: Path) -> dict:
    return {
        "LiteBuildConfig": {
            "apps": ["lab", "notebooks", "tree"],
            "contents": [str(contents)],
            "output_dir": str(output),
            "no_sourcemaps": True,
            "settings_overrides": [str(contents.parent / "overrides.json")],
            # Only the two extensions the site needs, not every one installed in .venv
            # (jupytext's, for one, would ask a server that does not exist).
            "ignore_sys_prefix": ["federated_extensions"],
            "federated_extensions": [
                str(EXTENSIONS / "@jupyter-widgets" / "jupyterlab-manager"),
                str(EXTENSIONS / "@jupyterlite" / "pyodide-kernel-extension"),
            ],
        },
    }


def jupyter_lite_json(snapshot: dict[str, object]) -> dict:
    """The site's settings; ``snapshot`` tells the patched worker its memory snapshot."""
    return {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "Would Russia Defend North Korea? Exercises in the browser",
            "litePluginSettings": {
                "@jupyterlite/pyodide-kernel-extension:kernel": {
                    # never fall back to pypi.org: the site works with no network at all
                    "disablePyPIFallback": True,
                    # fetched in parallel while Pyodide starts, from the site's lock
                    "loadPyodideOptions": {
                        "packages": list(PRELOAD),
                        # the kernel's memory after its imports, made by the build
                        # (lite_snapshot.py)
                        "courseSnapshot": snapshot,
                    },
                }
            },
        },
    }


# Every cell stays rendered (no windowing): a notebook here is short, and the browser's own
# find-in-page and screen readers then see all of it.
SETTINGS_OVERRIDES = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}


def build_site(output: Path, work: Path) -> dict[str, list[str]]:
    """Build the site into ``output``, staging in ``work``; returns the replaced cells."""
    output, work = output.resolve(), work.resolve()
    wheels = fetch_wheels()
    if work.exists():
        shutil.rmtree(work)  # jupyter lite build remembers done steps (docs/lite.md, pitfall 3)
    work.mkdir(parents=True)
    write_pyodide(work / "static" / "pyodide", wheels)
    replaced = write_contents(work / "files")
    settings = worker_settings(work / "static" / "pyodide")
    (work / "jupyter-lite.json").write_text(json.dumps(jupyter_lite_json(settings), indent=1))
    (work / "overrides.json").write_text(json.dumps(SETTINGS_OVERRIDES, indent=1))
    if output.exists():
        shutil.rmtree(output)
    (work / "jupyter_lite_config.json").write_text(
        json.dumps(lite_config(work / "files", output.resolve()), indent=1)
    )
    jupyter = Path(sys.executable).with_name("jupyter")
    proc = subprocess.run(
        [str(jupyter), "lite", "build", "--lite-dir", str(work)],
        cwd=work, capture_output=True, text=True,
        env={**os.environ, "JUPYTERLITE_NO_LIBARCHIVE": "1"},
    )  # fmt: skip
    if proc.returncode != 0 or not (output / "jupyter-lite.json").is_file():
        raise LiteBuildError("jupyter lite build failed:\n" + (proc.stdout + proc.stderr)[-5000:])
    made = snapshot_name(make_snapshot(output / "static" / "pyodide", list(PRELOAD)))
    if made != settings["file"]:
        raise LiteBuildError(f"the site names the snapshot {settings['file']}, not {made}")
    kernel_static = output / "extensions" / "@jupyterlite" / "pyodide-kernel-extension" / "static"
    add_early_start(output, kernel_static, patch_workers(kernel_static))
    unblock_routing(output / "build")
    check_offline(output)
    (output / "replaced-cells.json").write_text(json.dumps(replaced, indent=1))
    return replaced


def check_offline(site: Path) -> None:
    """The kernel must load Pyodide from the site, not from a CDN."""
    config = json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    settings = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    if not str(settings.get("pyodideUrl", "")).startswith("./"):
        raise LiteBuildError(f"pyodideUrl is {settings.get('pyodideUrl')!r}, not in the site")


def main(argv: Iterable[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["pin"]:
            pins = write_pins()
            print(f"lite/wheels.lock: {len(pins)} wheels pinned")
            return 0
        if len(args) != 1:
            print("usage: python -m course.lite_build OUTPUT | pin", file=sys.stderr)
            return 2
        output = Path(args[0])
        replaced = build_site(output, output.parent.parent / ".lite-work")
    except (LiteBuildError, SnapshotError, EarlyStartError, WorkspaceWaitError) as error:
        print(f"lite build: {error}", file=sys.stderr)
        return 1
    print(f"The in-browser site is built: {output}/")
    for notebook, cells in replaced.items():
        print(f"  not run in the browser (needs a package it lacks): {notebook}: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
