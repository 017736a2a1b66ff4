"""The in-browser site (JupyterLite, docs/lite.md): what it holds, the course package under
Pyodide (the same checks as under CPython), an exercise done in Chromium and graded on the
instructor's side, and the live quiz; all offline, every non-loopback request blocked.

The site is built once per session (or reused from COURSE_REUSE_BUILD=_build/html, whose
lite/ folder make book writes)."""

from __future__ import annotations

import functools
import http.server
import json
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from course import lite_build
from course.cli import main as course_cli
from course.lite_snapshot import EARLY_MARKER, MARKER, RANDOM_MARKER, snapshot_marker
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, accept_kernel_dialog, is_loopback
from tests.support.course import REPO_CONFIG, TEST_OVERRIDES
from tests.support.lite_checks import run_checks
from tests.support.offline_scan import external_urls_in_page
from tests.support.paths import REPO

LOAD_TIMEOUT = 90_000  # ms: Pyodide's first start on two busy cores
RUN_TIMEOUT = 180  # s: a whole notebook, imports included
ASSIGNMENT, NOTEBOOK = "ps3", "how_sure_does_it_sound"


# --------------------------------------------------------------------------------------------
# The site, served on loopback


@pytest.fixture(scope="session")
def lite_site(tmp_path_factory: pytest.TempPathFactory, node: Path) -> Path:
    # node: the site is built from npm's Pyodide, so its tests are `node` tests
    reuse = os.environ.get("COURSE_REUSE_BUILD")
    if reuse and (Path(reuse) / "lite" / "jupyter-lite.json").is_file():
        return Path(reuse).resolve() / "lite"
    if not shutil.which("npm") and not lite_build.PYODIDE_NPM.is_dir():
        pytest.skip("npm is missing (Debian package: npm); make test installs it")
    if not lite_build.PYODIDE_NPM.is_dir():
        pytest.fail("Pyodide's core is not installed: run make lite-deps (make test does)")
    base = tmp_path_factory.mktemp("lite")
    site = base / "html" / "lite"
    lite_build.build_site(site, base / "work")
    return site


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    # Python 3.11 does not know .mjs; browsers refuse modules and wasm of another type.
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".mjs": "text/javascript", ".js": "text/javascript",
                      ".wasm": "application/wasm"}  # fmt: skip

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def lite_url(lite_site: Path) -> Iterator[str]:
    handler = functools.partial(_SiteHandler, directory=str(lite_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def lite_browser(playwright: Any) -> Iterator[object]:
    """Chromium with name resolution cut off for every host but loopback, so nothing (the
    site's service worker included) can reach the network even past Playwright's routing."""
    args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
    instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield instance
    instance.close()

# Whether JupyterLite's storage (localforage: IndexedDB databases "JupyterLite Storage…", store
# "files", keyed by path) holds a file whose content contains a text.
SAVED_HOLDS = """async ([path, text]) => {
  const done = (request) => new Promise((ok, fail) => {
    request.onsuccess = () => ok(request.result);
    request.onerror = () => fail(request.error);
  });
  for (const info of await indexedDB.databases()) {
    if (!info.name.startsWith("JupyterLite Storage")) continue;
    const db = await done(indexedDB.open(info.name));
    try {
      if (!db.objectStoreNames.contains("files")) continue;
      const file = await done(db.transaction("files").objectStore("files").get(path));
      if (file && JSON.stringify(file.content).includes(text)) return true;
    } finally {
      db.close();
    }
  }
  return false;
}"""


class LitePage:
    """A page of the site in a fresh context (fresh browser storage), offline, that records
    every non-loopback request and console error."""

    def __init__(self, browser: object, base: str, downloads: Path) -> None:
        self.base = base
        self.context = browser.new_context(accept_downloads=True)
        self.page = self.context.new_page()
        self.external: list[str] = []
        self.errors: list[str] = []
        self.workers: list[str] = []  # the web workers the page created, by URL
        self.requests: list[str] = []  # every request of the page and its workers
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page.on("worker", lambda worker: self.workers.append(worker.url))
        self.warnings: list[str] = []  # the page's and its workers'
        self.page.on("console", lambda m: self.warnings.append(m.text) if m.type == "warning"
                     else None)  # fmt: skip
        self.downloads = downloads

        def route(request_route: object) -> None:
            if is_loopback(request_route.request.url):
                request_route.continue_()
            else:
                self.external.append(request_route.request.url)
                request_route.abort("blockedbyclient")

        self.context.route("**/*", route)
        self.context.on("request", lambda r: None if is_loopback(r.url)
                        else self.external.append(r.url))  # fmt: skip
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)  # fmt: skip
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def open(self, site_file: str) -> None:
        self.page.goto(f"{self.base}/notebooks/index.html?path={site_file}", wait_until="load")
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=LOAD_TIMEOUT)
        self.wait_for_kernel()

    def wait_for_kernel(self) -> float:
        start = time.monotonic()
        self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
            state="attached", timeout=LOAD_TIMEOUT)
        return time.monotonic() - start

    def cells(self) -> object:
        return self.page.locator(".jp-Notebook .jp-Cell")

    def click(self, target: Any) -> None:
        """Click ``target``. The kernel-choice dialog may open at any moment of a slow start and
        take the click: answer it, as a student would, and click again."""
        deadline = time.monotonic() + LOAD_TIMEOUT / 1000
        while True:
            accept_kernel_dialog(self.page)
            try:
                target.click(timeout=5_000)
                return
            except PlaywrightTimeout:
                if time.monotonic() > deadline:
                    raise

    def set_source(self, index: int, source: str) -> None:
        editor = self.cells().nth(index).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        self.click(editor)
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(source)
        self.page.keyboard.press("Escape")

    def menu(self, menu: str, item: str) -> None:
        self.click(self.page.get_by_role("menuitem", name=menu, exact=True))
        self.page.get_by_role("menuitem", name=item).first.click()

    def prompts(self) -> list[str]:
        return self.page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()

    def run_all(self) -> None:
        """Run → Run All Cells, until every code cell ran or one failed. A click made while
        the kernel is still starting may be dropped: then it is clicked again."""
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            self.menu("Run", "Run All Cells")
            clicked = time.monotonic()
            while time.monotonic() - clicked < 20:
                time.sleep(0.5)
                if any(re.search(r"\[[\d*]+\]", p) for p in self.prompts()):
                    self.wait_until_run()
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"Run All Cells ran nothing: {self.prompts()}")

    def wait_until_run(self) -> None:
        """Until no cell is running or queued ([*])."""
        deadline = time.monotonic() + RUN_TIMEOUT
        time.sleep(1)
        while time.monotonic() < deadline:
            if not any("*" in p for p in self.prompts()):
                return
            time.sleep(0.5)
        raise AssertionError(f"cells still running after {RUN_TIMEOUT} s")

    def run_cell(self, index: int, expect: str) -> str:
        """Run one cell (Shift+Enter) and wait until its output shows ``expect``. As with
        ``run_all``, a key pressed while the kernel is still starting may be dropped (the cell
        then shows neither [*] nor its number): then it is pressed again."""
        deadline = time.monotonic() + RUN_TIMEOUT
        prompt = self.cells().nth(index).locator(".jp-InputArea-prompt")
        before, pressed = prompt.inner_text(), -math.inf
        while time.monotonic() < deadline:
            if time.monotonic() - pressed > 20 and prompt.inner_text() == before:
                # not queued ([*]) nor run (a new number) since the last press: press again
                self.click(self.cells().nth(index))
                self.page.keyboard.press("Escape")
                self.page.keyboard.press("Shift+Enter")
                pressed = time.monotonic()
            text = self.output(index)
            if expect in text:
                return text
            time.sleep(0.5)
        raise AssertionError(f"cell {index} never showed {expect!r}: {self.output(index)!r}")

    def save(self, site_file: str, holding: str) -> None:
        """Save (Ctrl+S), then wait until the browser's storage holds ``holding`` in
        ``site_file``: the save is asynchronous, and a reload before it ends drops the edit
        without a word (the page's unsaved-changes prompt is accepted by Playwright)."""
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function(SAVED_HOLDS, arg=[site_file, holding],
                                    timeout=LOAD_TIMEOUT, polling=250)

    def output(self, index: int) -> str:
        area = self.cells().nth(index).locator(".jp-OutputArea")
        return area.inner_text() if area.count() else ""

    def close(self, name: str) -> None:
        if self.errors or self.external:
            self.page.screenshot(path=str(self.downloads / f"{name}.png"), full_page=True)
        self.context.close()


@pytest.fixture
def lite_page(lite_browser: object, lite_url: str, tmp_path: Path,
              request: pytest.FixtureRequest) -> Iterator[LitePage]:  # fmt: skip
    page = LitePage(lite_browser, lite_url, tmp_path)
    yield page
    page.close(request.node.name)


def site_notebook(site: Path, site_file: str) -> nbformat.NotebookNode:
    return nbformat.read(site / "files" / site_file, as_version=4)


# --------------------------------------------------------------------------------------------
# What the site holds (no browser)


def test_site_holds_every_notebook_from_its_source(lite_site: Path) -> None:
    files = lite_site / "files"
    for source in lite_build.exercise_notebooks():
        copy = files / "exercises" / source.parent.name / source.name
        assert copy.is_file(), copy
        original = nbformat.read(source, as_version=4)
        shown = nbformat.read(copy, as_version=4)
        assert [c.metadata.get("nbgrader") for c in shown.cells] == [
            c.metadata.get("nbgrader") for c in original.cells
        ], f"{copy}: the nbgrader cells must be those of {source}"
    for page in lite_build.chapter_notebooks():
        assert (files / lite_build.site_path(page)).is_file(), page
    assert (files / "practice.ipynb").is_file()
    assert len(lite_build.chapter_notebooks()) >= 8  # seven chapters and the practice page


def test_site_carries_the_banks_and_timeline_as_the_yaml_says(lite_site: Path) -> None:
    import zipfile

    import yaml

    wheel = next((lite_site / "static" / "pyodide").glob("russia_nk_course-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for bank in (REPO / "book" / "quizzes").glob("*.yaml"):
            carried = json.loads(archive.read(f"course/data/quizzes/{bank.stem}.json"))
            assert carried == yaml.safe_load(bank.read_text(encoding="utf-8")), bank.name
        assert "course/sources.py" in names and "course/data/articles/article-a.txt" in names
        assert not any(n.startswith("course/grading/") for n in names)


def test_site_loads_nothing_from_outside_it(lite_site: Path) -> None:
    config = json.loads((lite_site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.mjs"
    assert kernel["disablePyPIFallback"] is True
    lock = json.loads((lite_site / "static" / "pyodide" / "pyodide-lock.json").read_text())
    for name, entry in lock["packages"].items():
        wheel = lite_site / "static" / "pyodide" / entry["file_name"]
        assert wheel.is_file(), f"{name}: {entry['file_name']} is not in the site"
        assert lite_build._sha256(wheel) == entry["sha256"], f"{name}: hash differs"
    pages = [p for p in lite_site.rglob("*.html")]
    assert pages
    assert {str(p): external_urls_in_page(p) for p in pages if external_urls_in_page(p)} == {}


def test_kernel_and_course_packages_load_with_pyodide_from_the_sites_lock(lite_site: Path) -> None:
    """Start-up speed (docs/lite.md): what the kernel's worker would install one by one with
    piplite is given to Pyodide to fetch at once, from the site's own lock."""
    config = json.loads((lite_site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    preload = kernel["loadPyodideOptions"]["packages"]
    # the names the worker checks before it falls back to piplite (worker.js initKernel)
    assert {"micropip", "piplite", "ipykernel", "comm", "pyodide-kernel", "jedi",
            "ipython"} <= set(preload)  # fmt: skip
    # the course is not preloaded (it made the start slower), but its lock entry still brings
    # its dependencies at its first import
    assert lite_build.COURSE_WHEEL_NAME not in preload
    lock = json.loads((lite_site / "static" / "pyodide" / "pyodide-lock.json").read_text())
    assert set(preload) <= set(lock["packages"])
    assert lock["packages"]["pyodide-kernel"]["depends"] == ["comm", "ipython"]
    assert set(lock["packages"][lite_build.COURSE_WHEEL_NAME]["depends"]) == set(
        lite_build.COURSE_DEPENDS)


def test_every_module_of_the_sites_wheels_carries_its_bytecode(lite_site: Path) -> None:
    """Each .py of each wheel has an unchecked-hash .pyc (PEP 552) for Pyodide's CPython 3.14,
    so the browser does not compile IPython, jedi, pydantic... at every start."""
    import zipfile

    folder = lite_site / "static" / "pyodide"
    magics = set()
    for wheel in folder.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
            sources = [n for n in names if n.endswith(".py") and ".dist-info/" not in n]
            assert sources, wheel.name
            for source in sources:
                directory, _, module = source.rpartition("/")
                pyc = f"{directory}/__pycache__/{module[:-3]}.cpython-314.pyc".lstrip("/")
                assert pyc in names, f"{wheel.name}: {source} has no bytecode"
                header = archive.read(pyc)[:8]
                magics.add(header[:4])
                assert int.from_bytes(header[4:8], "little") == 0b01, f"{pyc}: not unchecked-hash"
            record = archive.read(next(n for n in names if n.endswith(".dist-info/RECORD")))
            assert all(f"{n},sha256=".encode() in record for n in names if n.endswith(".pyc"))
    assert len(magics) == 1, "every .pyc is for the same Python"


def test_bytecode_is_compiled_once_and_then_taken_from_the_cache(
    node: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not lite_build.PYODIDE_NPM.is_dir():
        pytest.fail("Pyodide's core is not installed: run make lite-deps (make test does)")
    stub = lite_build.kernel_wheels()["ipykernel"]  # the smallest wheel at hand
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        shutil.copy(stub, folder / stub.name)
    cache = tmp_path / "cache"
    lite_build.add_bytecode([first / stub.name], cache)
    assert len(list(cache.glob("*.whl"))) == 1
    # without node, only the cache can give the compiled wheel
    monkeypatch.setattr(lite_build.shutil, "which", lambda name: None)
    lite_build.add_bytecode([second / stub.name], cache)
    assert (second / stub.name).read_bytes() == (first / stub.name).read_bytes()
    assert (first / stub.name).read_bytes() != stub.read_bytes()
    with pytest.raises(lite_build.LiteBuildError, match="node is needed"):
        lite_build.add_bytecode([second / stub.name], tmp_path / "empty-cache")


@pytest.mark.book
def test_every_notebook_page_and_exercise_links_into_the_site(built_book, lite_site: Path) -> None:
    from urllib.parse import parse_qs, urljoin, urlparse

    from bs4 import BeautifulSoup

    expected = {f"book/{p.stem}.html": lite_build.site_path(p)
                for p in lite_build.chapter_notebooks()}  # fmt: skip
    exercises = {f"exercises/{p.parent.name}/{p.name}" for p in lite_build.exercise_notebooks()}
    found: dict[str, list[str]] = {}
    for page in [*expected, "book/exercises.html"]:
        soup = BeautifulSoup((built_book.html / page).read_text(encoding="utf-8"), "html.parser")
        for link in soup.select("a.lite-open, .lite-open a"):
            target = urlparse(urljoin(f"http://site/{page}", link["href"]))
            assert target.path == "/lite/notebooks/index.html", link["href"]
            site_file = parse_qs(target.query)["path"][0]
            assert (lite_site / "files" / site_file).is_file(), site_file
            found.setdefault(page, []).append(site_file)
    assert {p: found.get(p) for p in expected} == {p: [f] for p, f in expected.items()}
    assert set(found["book/exercises.html"]) == exercises


def test_pyodide_is_pinned_by_its_own_npm_lock() -> None:
    wanted = json.loads((REPO / "lite" / "package.json").read_text())["dependencies"]
    locked = json.loads((REPO / "lite" / "package-lock.json").read_text())["packages"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", wanted["pyodide"]), "pin an exact version"
    assert locked["node_modules/pyodide"]["version"] == wanted["pyodide"]
    pins = {p.name: p.version for p in lite_build.read_pins()}
    desktop = lite_build.requirements_versions()
    for name in lite_build.COURSE_DEPENDENCIES:  # the browser runs the desktop's versions
        assert pins[name] == desktop[name], name


def test_a_no_op_make_book_does_not_rebuild_the_site(tmp_path: Path) -> None:
    """The Makefile's rule, on a tree of empty stand-in files: with the stamp newest, make has
    nothing to do for the site; after an exercise changes, it rebuilds it."""
    import subprocess

    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    inputs = ["requirements.lock", "pyproject.toml", "scripts/setup-venv.sh", "_toc.yml",
              "lite/wheels.lock", "lite/package.json", "lite/package-lock.json",
              "exercises/ps1/a.ipynb", "book/a.md", "book/quizzes/a.yaml", "src/course/a.py",
              ".venv/.installed", "lite/node_modules/.installed", "_build/.lite-built"]
    for age, name in enumerate(reversed(inputs)):  # listed oldest first
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
        os.utime(tmp_path / name, (1e9 - age * 10, 1e9 - age * 10))

    def plan() -> str:
        proc = subprocess.run(["make", "-n", "_build/.lite-built"], cwd=tmp_path,
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert "course.lite_build" not in plan()
    os.utime(tmp_path / "exercises/ps1/a.ipynb", (2e9, 2e9))
    assert "course.lite_build" in plan()


def test_cells_without_a_browser_build_are_replaced_and_say_why() -> None:
    source = "import matplotlib.pyplot as plt\n\nplt.plot([1, 2])"
    replaced = lite_build.browser_version(source, student_answer=True)
    assert replaced is not None and "matplotlib" in replaced and "print(" in replaced
    assert "# import matplotlib.pyplot as plt" in replaced  # the original, as comments
    compile(replaced, "cell", "exec")
    assert lite_build.browser_version("from course.sources import paragraph", True) is None
    assert lite_build.browser_version("%pip install x", True) is None
    # a course function that imports matplotlib when it runs
    drawn = lite_build.browser_version("from course.timeline import draw_timeline\n"
                                       "fig = draw_timeline([])", student_answer=False)
    assert drawn is not None and "matplotlib" in drawn
    # a cell that reads what a replaced cell computed, and one that does not
    assert "uses rates" in lite_build.browser_version("print(rates)", False, lost={"rates"})
    assert lite_build.browser_version("rates = 1\nprint(rates)", False, lost={"rates"}) is None


def test_chapter_notebooks_of_the_site_run_without_the_missing_packages(
    lite_site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A CPython twin of opening each chapter (and the practice page) in the browser and
    running all its cells: every import of a package the browser lacks fails, as there, and no
    cell may raise."""
    import builtins

    monkeypatch.setenv("COURSE_PROGRESS_DIR", str(tmp_path))
    real_import = builtins.__import__

    def browser_import(name: str, *args: object, **kwargs: object) -> object:
        if name.split(".")[0] in lite_build.NO_BROWSER_BUILD:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the browser)")
        return real_import(name, *args, **kwargs)

    failures = {}
    for path in sorted((lite_site / "files").glob("**/*.ipynb")):
        if "exercises" in path.parts:  # their answer cells are empty: test_exercise_done...
            continue
        namespace = {"__builtins__": {**vars(builtins), "__import__": browser_import}}
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type != "code":
                continue
            try:
                exec(compile(cell.source, f"{path.name}[{index}]", "exec"), namespace)
            except Exception as error:
                failures[f"{path.name}[{index}]"] = f"{type(error).__name__}: {error}"
    assert failures == {}


def test_every_cell_the_site_keeps_needs_only_what_the_browser_has(lite_site: Path) -> None:
    """The cells left as written import only the standard library and the course package."""
    import ast
    import sys

    carried = {"course", "math", "datetime", "json", "re", "random", "collections"}
    problems = []
    for path in (lite_site / "files").rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) else [])
                for name in names:
                    root = name.split(".")[0]
                    if root not in carried and root not in sys.stdlib_module_names:
                        problems.append(f"{path.name}: {name}")
                if isinstance(node, ast.Name) and node.id in lite_build.NEEDS_WHEN_CALLED:
                    problems.append(f"{path.name}: {node.id}")
    assert problems == []


# --------------------------------------------------------------------------------------------
# In Chromium




@pytest.mark.browser
def test_course_package_gives_the_same_answers_in_pyodide(lite_page: LitePage,
                                                          lite_site: Path) -> None:
    expected = run_checks()
    expected.pop("yaml_free")
    lite_page.open("practice.ipynb")
    # a new cell under the first: the checks' own source, then their report
    lite_page.click(lite_page.cells().first)
    lite_page.page.keyboard.press("Escape")
    lite_page.page.keyboard.press("b")
    index = 1
    # and whether the bytecode the build put in the wheels is for this very Python (magic
    # number, unchecked hash), so that imports read it instead of compiling the sources
    bytecode = ("import importlib.util, IPython.core.interactiveshell as m, course.sources as c\n"
                "print('PYC=' + str([open(x.__cached__, 'rb').read(8) == importlib.util."
                "MAGIC_NUMBER + bytes([1, 0, 0, 0]) for x in (m, c)]))\n"
                # and whether the kernel started from the build's memory snapshot, with jedi
                # (imported there, its files written from the image) completing as it should
                "import hashlib, os, random, micropip\n"
                f"print('SNAPSHOT=' + str(os.environ.get({MARKER!r})))\n"
                # and whether its Pyodide is the one the page started before the kernel asked
                f"print('EARLY=' + str(os.environ.get({EARLY_MARKER!r})))\n"
                # micropip (imported in the snapshot) asks the Pyodide it was given back
                "print('MICROPIP=' + str('ipython' in micropip.list()))\n"
                # reseeded at the start, not the build's state
                "state = hashlib.sha256(repr(random.getstate()).encode()).hexdigest()\n"
                f"print('RESEEDED=' + str(state != os.environ[{RANDOM_MARKER!r}]))\n"
                "from IPython.core.completer import provisionalcompleter\n"
                "with provisionalcompleter():\n"
                "    found = get_ipython().Completer.completions('import json; json.dum', 21)\n"
                "    print('COMPLETE=' + str(sorted({c.text for c in found})))\n")  # fmt: skip
    code = ((Path(__file__).parent / "support" / "lite_checks.py").read_text(encoding="utf-8")
            + "\n" + bytecode + "print(report())\n")  # fmt: skip
    lite_page.set_source(index, code)
    text = lite_page.run_cell(index, "CHECKS=")
    match = re.search(r"CHECKS=(\{.*\})", text, re.S)
    assert match, text[-3000:]
    found = json.loads(match[1])
    assert found.pop("yaml_free") is True, "the browser must run without PyYAML"
    assert found == expected
    assert "PYC=[True, True]" in text, "the wheels' bytecode must be for this Python"
    marker = snapshot_marker(lite_site / "static" / "pyodide")
    assert f"SNAPSHOT={marker}" in text, "the kernel must start from the site's memory snapshot"
    assert "COMPLETE=['dump', 'dumps']" in text
    assert "RESEEDED=True" in text, "each start must draw its own random numbers"
    assert "MICROPIP=True" in text
    assert "EARLY=1" in text, "the kernel must take the boot the page started"
    assert not any(IPYTHON_WHEEL.match(url) for url in lite_page.requests), \
        "the packages' files must come from the build's image, not their wheels"
    kernels = [url for url in lite_page.workers if "/comlink.worker." in url]
    assert len(kernels) == 1, f"one worker for the kernel, the page's own: {lite_page.workers}"
    assert lite_page.external == []


SNAPSHOT_URLS = re.compile(r".*/static/pyodide/kernel-snapshot-[0-9a-f]+\.bin\.gz$")
FILES_URLS = re.compile(r".*/static/pyodide/kernel-files-[0-9a-f]+\.bin\.gz$")
BOTH_URLS = re.compile(r".*/static/pyodide/kernel-(snapshot|files)-[0-9a-f]+\.bin\.gz$")
IPYTHON_WHEEL = re.compile(r".*/static/pyodide/ipython-[^/]+\.whl$")


def _snapshot_of_the_kernel(lite_page: LitePage) -> str:
    """Open the practice notebook and print, from a new cell, which snapshot its kernel started
    from and whether it took the page's early start; the cell's output. (The indicator may say
    idle before the kernel starts: a cell's output is what shows the kernel running.)"""
    lite_page.open("practice.ipynb")
    lite_page.click(lite_page.cells().first)
    lite_page.page.keyboard.press("Escape")
    lite_page.page.keyboard.press("b")
    lite_page.set_source(1, f"import os\nprint('SNAPSHOT=' + str(os.environ.get({MARKER!r})), "
                            f"'EARLY=' + str(os.environ.get({EARLY_MARKER!r})))")  # fmt: skip
    return lite_page.run_cell(1, "EARLY=")


@pytest.mark.browser
def test_the_kernel_starts_without_its_snapshot_when_it_cannot_be_fetched(
        lite_page: LitePage) -> None:
    # a host that lost the file, or a browser that cannot gunzip: the plain start, no error
    lite_page.context.route(SNAPSHOT_URLS, lambda route: route.abort("failed"))
    assert "SNAPSHOT=None" in _snapshot_of_the_kernel(lite_page)
    assert lite_page.external == []


@pytest.mark.browser
def test_the_kernel_unpacks_its_wheels_when_the_files_image_cannot_be_fetched(
        lite_page: LitePage, lite_site: Path) -> None:  # fmt: skip
    # the snapshot still serves; the packages' files come from their wheels, as before the image
    lite_page.context.route(FILES_URLS, lambda route: route.abort("failed"))
    marker = snapshot_marker(lite_site / "static" / "pyodide")
    assert f"SNAPSHOT={marker}" in _snapshot_of_the_kernel(lite_page)
    assert any(IPYTHON_WHEEL.match(url) for url in lite_page.requests), \
        "without the image, IPython's files come from its wheel"
    lite_page.set_source(1, "import micropip, IPython.core.magics.namespace as n\n"
                            "print('FOUND=' + str('ipython' in micropip.list()))")  # fmt: skip
    assert "FOUND=True" in lite_page.run_cell(1, "FOUND=")


@pytest.mark.browser
def test_a_later_start_takes_the_snapshot_from_the_browsers_storage(
        lite_page: LitePage, lite_site: Path) -> None:  # fmt: skip
    fetched: list[str] = []

    def count(route: Any) -> None:
        fetched.append(route.request.url)
        route.continue_()

    def started_from_the_snapshot() -> bool:
        marker = snapshot_marker(lite_site / "static" / "pyodide")
        return f"SNAPSHOT={marker}" in _snapshot_of_the_kernel(lite_page)

    lite_page.context.route(BOTH_URLS, count)
    assert started_from_the_snapshot()
    assert len(fetched) == 2  # the snapshot and the files image
    kept = ("async () => (await (await caches.open('course-kernel-snapshot')).keys())"
            ".map(request => request.url)")  # fmt: skip
    lite_page.page.wait_for_function(f"({kept})().then(urls => urls.length === 2)")
    # kept gunzipped, under their own names
    assert sorted(lite_page.page.evaluate(kept)) == sorted(fetched)
    assert started_from_the_snapshot()  # a second visit, in the same browser
    assert len(fetched) == 2, "the second start must not fetch and gunzip them again"


EARLY_START_URLS = re.compile(r".*/course-early-kernel\.[0-9a-f]+\.js$")


@pytest.mark.browser
def test_the_kernel_starts_by_itself_when_the_page_cannot_start_it_early(
        lite_page: LitePage, lite_site: Path) -> None:  # fmt: skip
    # a host or proxy that drops the script: the notebook and its kernel start as JupyterLite's
    lite_page.context.route(EARLY_START_URLS, lambda route: route.abort("failed"))
    text = _snapshot_of_the_kernel(lite_page)
    assert f"SNAPSHOT={snapshot_marker(lite_site / 'static' / 'pyodide')} EARLY=None" in text
    assert len([url for url in lite_page.workers if "/comlink.worker." in url]) == 1
    assert lite_page.external == []


@pytest.mark.browser
def test_an_early_start_with_other_settings_than_the_kernels_is_not_taken(
        lite_page: LitePage, lite_site: Path) -> None:  # fmt: skip
    # the kernel extension computed its settings otherwise (an upgrade): the kernel must not run
    # on a Python booted with other options, but boot its own in the same worker
    def other_settings(route: Any) -> None:
        body = route.fetch().text()
        changed = body.replace("indexUrl, loadPyodideOptions }",
                               "indexUrl, loadPyodideOptions: { ...loadPyodideOptions, x: 1 } }")
        assert changed != body, "the test no longer matches the early start's script"
        route.fulfill(body=changed, content_type="text/javascript")

    lite_page.context.route(EARLY_START_URLS, other_settings)
    text = _snapshot_of_the_kernel(lite_page)
    assert f"SNAPSHOT={snapshot_marker(lite_site / 'static' / 'pyodide')} EARLY=None" in text
    assert len([url for url in lite_page.workers if "/comlink.worker." in url]) == 1
    assert any("other settings than the kernel's" in w for w in lite_page.warnings)


# Every save of the workspace (a write to the app's state store) is begun and never ends, as in
# a browser whose storage stalls: its transaction's completion is never reported.
STALLED_SAVES = """
(() => {
  window.__workspaceSaves = 0;
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (stores, mode) {
    const made = transaction.apply(this, arguments);
    if (String(stores) === "statedb" && mode === "readwrite") {
      window.__workspaceSaves += 1;
      Object.defineProperty(made, "oncomplete", { set() {}, get() { return null; } });
    }
    return made;
  };
})();
"""


@pytest.mark.browser
def test_the_notebook_opens_without_waiting_for_the_workspaces_save(
        lite_page: LitePage, lite_site: Path) -> None:  # fmt: skip
    # JupyterLab's first route waited for a debounced save of the workspace before it opened
    # the notebook (about 1 s of every start); the site does not (lite_workspace_wait.py). With
    # that save stalled, the old front end never showed the notebook.
    lite_page.context.add_init_script(STALLED_SAVES)
    text = _snapshot_of_the_kernel(lite_page)
    assert f"SNAPSHOT={snapshot_marker(lite_site / 'static' / 'pyodide')}" in text
    # the workspace is still saved: the save was begun, only not waited for
    assert lite_page.page.evaluate("window.__workspaceSaves") >= 1


def _reference_answers() -> dict[str, str]:
    """grade_id -> the reference solution of each code answer cell of the assignment."""
    nb = nbformat.read(REPO / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    answers = {}
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and grading.get("solution"):
            lines = [line for line in cell.source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
            answers[grading["grade_id"]] = "\n".join(lines)
    return answers


def _course_root(base: Path) -> Path:
    """A course with the assignment generated (released and in a gradebook of its own)."""
    from nbgrader.apps import NbGraderAPI

    from course.settings import load_config

    root = base / "course"
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, root / "solutions" / ASSIGNMENT)
    (root / "nbgrader_config.py").write_text(REPO_CONFIG.read_text() + TEST_OVERRIDES)
    result = NbGraderAPI(config=load_config(root)).generate_assignment(ASSIGNMENT)
    assert result["success"], result.get("log")
    return root


@pytest.mark.browser
@pytest.mark.slow
def test_exercise_done_in_the_browser_scores_as_on_the_desktop(
    lite_page: LitePage, lite_site: Path, tmp_path: Path
) -> None:
    """Fill in the reference answers of ps3 in Lite, run every cell, download the notebook
    from the File menu, import it with `course import`, autograde it, and compare with the
    same answers completed in desktop Jupyter; then a wrong answer fails a visible test with
    the test's own message, and the saved work survives a reload."""
    site_file = f"exercises/{ASSIGNMENT}/{NOTEBOOK}.ipynb"
    answers = _reference_answers()
    shown = site_notebook(lite_site, site_file)
    replaced = set(json.loads((lite_site / "replaced-cells.json").read_text())[site_file])
    assert replaced == {"ps3-plot-answer"}
    grade_ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in shown.cells]

    lite_page.open(site_file)
    for grade_id, answer in answers.items():
        if grade_id not in replaced:
            lite_page.set_source(grade_ids.index(grade_id), answer)
    lite_page.run_all()
    lite_page.page.keyboard.press("Control+s")
    time.sleep(2)
    with lite_page.page.expect_download() as download:
        lite_page.menu("File", "Download")
    lms = tmp_path / "lms"
    (lms / "lite-student").mkdir(parents=True)
    done = lms / "lite-student" / f"{NOTEBOOK}.ipynb"
    download.value.save_as(done)

    # What the student saw, as the downloaded notebook holds it
    downloaded = nbformat.read(done, as_version=4)
    outputs = {}
    for cell in downloaded.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id and cell.cell_type == "code":
            outputs[grade_id] = "".join(o.get("text", "") + o.get("ename", "")
                                        for o in cell.outputs)  # fmt: skip
    assert "Task 1 visible tests passed." in outputs["ps3-count-phrase-visible"], outputs
    assert "Task 2 visible test passed." in outputs["ps3-rate-visible"]
    assert "Task 3: visible tests passed." in outputs["ps3-uses-visible"]
    assert "Task 4: visible tests passed." in outputs["ps3-supported-visible"]
    assert "needs matplotlib" in outputs["ps3-plot-answer"]
    assert not [c for c in downloaded.cells if c.cell_type == "code"
                and any(o.output_type == "error" for o in c.outputs)]  # fmt: skip

    # The same answers, completed in desktop Jupyter (the plot cell as the solution has it).
    desktop = nbformat.read(REPO / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    for cell in desktop.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    (lms / "desktop-student").mkdir()
    nbformat.write(desktop, lms / "desktop-student" / f"{NOTEBOOK}.ipynb")

    root = _course_root(tmp_path)
    runner = CliRunner()
    result = runner.invoke(course_cli, ["--root", str(root), "import", ASSIGNMENT, str(lms)])
    assert result.exit_code == 0 and "2 students imported" in result.output, result.output
    result = runner.invoke(course_cli, ["--root", str(root), "autograde", ASSIGNMENT,
                                        "--workers", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    # (the progress bar may share a line with a score: no ^ anchor)
    scores = dict(re.findall(r"\b((?:lite|desktop)-student)\s+(\S+) /", result.output))
    full = sum(c.metadata["nbgrader"].get("points", 0) for c in desktop.cells
               if c.metadata.get("nbgrader", {}).get("grade"))
    full -= sum(c.metadata["nbgrader"].get("points", 0) for c in desktop.cells
                if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "markdown")
    assert scores.get("lite-student") == scores.get("desktop-student") == f"{full:g}", (
        result.output)

    # A wrong answer: substring matching counts 'mayor' as 'may'.
    index = grade_ids.index("ps3-count-phrase-answer")
    lite_page.set_source(index, "def count_phrase(text, phrase):\n"
                                "    return text.lower().count(phrase.lower())")  # fmt: skip
    lite_page.run_cell(index, "")
    lite_page.wait_until_run()
    failed = lite_page.run_cell(grade_ids.index("ps3-count-phrase-visible"), "AssertionError")
    assert "'mayor' is a different word from 'may'" in failed

    # Saved work is still there after a reload (the browser's storage), wrong answer included.
    lite_page.save(site_file, "text.lower().count(phrase.lower())")
    lite_page.page.reload(wait_until="load")
    lite_page.cells().first.wait_for(timeout=LOAD_TIMEOUT)
    assert "text.lower().count(phrase.lower())" in lite_page.cells().nth(index).inner_text()
    assert lite_page.external == []


@pytest.mark.browser
def test_quiz_answers_and_keeps_progress_in_the_browser(lite_page: LitePage) -> None:
    lite_page.open("chapters/sanctions_and_un.ipynb")
    lite_page.run_all()
    check = lite_page.page.get_by_role("button", name="Check answer").first
    check.wait_for(timeout=LOAD_TIMEOUT)
    radio = lite_page.page.locator("label", has=lite_page.page.locator("input[type=radio]"))
    radio.first.click()
    check.click()
    status = lite_page.page.locator(".jupyter-widgets [role='status']").first
    status.wait_for(timeout=LOAD_TIMEOUT)
    assert any(w in status.inner_text() for w in ("Correct", "Partly correct", "Not correct"))
    # The kernel kept the attempt in the browser's storage (/drive), not in its memory
    quiz_cell = lite_page.cells().count() - 1
    lite_page.click(lite_page.cells().nth(quiz_cell))
    lite_page.page.keyboard.press("Escape")
    lite_page.page.keyboard.press("b")
    lite_page.set_source(quiz_cell + 1, "from course.quiz.progress import ProgressStore\n"
                         "store = ProgressStore()\n"
                         "print('ATTEMPTS', len(store.attempts()), store.path)")  # fmt: skip
    kept = lite_page.run_cell(quiz_cell + 1, "ATTEMPTS")
    assert "ATTEMPTS 1 /drive/.course-progress/progress.json" in kept, kept
    # axe on the quiz (the notebook's outputs): JupyterLite's own interface is not ours
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(lite_page.page, context=".jp-Notebook .jp-OutputArea")
    serious = [f"{v['id']}: {v['help']}" for v in results.response["violations"]
               if v.get("impact") in {"serious", "critical"}]
    assert serious == []

    # Another notebook, another kernel, after a reload: the attempt was kept in the browser.
    lite_page.page.goto(f"{lite_page.base}/notebooks/index.html?path=practice.ipynb")
    lite_page.cells().first.wait_for(timeout=LOAD_TIMEOUT)
    lite_page.wait_for_kernel()
    lite_page.run_all()
    table = lite_page.page.locator(".jupyter-widgets table").first
    table.wait_for(timeout=LOAD_TIMEOUT)
    assert re.search(r"\b1 of \d+", table.inner_text()), table.inner_text()
    assert lite_page.external == []
