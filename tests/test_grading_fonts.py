"""matplotlib's font list, built once per grading run and copied into each sandboxed kernel
(src/course/grading/fonts.py; docs/warm-kernel-pool.md, "Plotting assignments")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.grading import fonts, pipeline
from course.grading.pool import PooledKernelManager
from course.grading.sandbox import SandboxedKernelManager
from tests.support.course import submit
from tests.support.sandbox import run_in_sandbox

# What a plotting kernel finds in its MPLCONFIGDIR, and whether importing matplotlib's font
# manager rewrote it (a rebuild writes the file again); then it spoils its own copy.
FONT_CELLS = [
    f"import glob, os\nfound = glob.glob(os.environ['MPLCONFIGDIR'] + '/{fonts.FONT_LIST_GLOB}')\n"
    "print(len(found))",
    "seen = os.stat(found[0]).st_mtime_ns if found else None\n"
    "import matplotlib.font_manager as fm\n"
    f"after = glob.glob(os.environ['MPLCONFIGDIR'] + '/{fonts.FONT_LIST_GLOB}')\n"
    "print(bool(found) and os.stat(after[0]).st_mtime_ns == seen, len(fm.fontManager.ttflist) > 0)",
    "open(found[0], 'w').write('spoilt') if found else None\nprint('done')",
]


@pytest.fixture(scope="module")
def font_list(bwrap: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = fonts.build_font_list(tmp_path_factory.mktemp("fonts"),
                                  SandboxedKernelManager().sandboxed_in)
    assert built is not None and built.name.startswith("fontlist-v")
    assert json.loads(built.read_text())["ttflist"]  # matplotlib's own format, with fonts
    return built


def font_order(font_list: Path) -> list[str]:
    return [font["fname"] for font in json.loads(font_list.read_text())["ttflist"]]


@pytest.mark.parametrize("manager", [SandboxedKernelManager, PooledKernelManager],
                         ids=["cold", "pooled"])
def test_a_plotting_kernel_reads_its_copy_of_the_runs_font_list(
        bwrap: None, tmp_path: Path, font_list: Path, manager: type) -> None:
    seed = font_list.read_bytes()
    outputs = run_in_sandbox(FONT_CELLS, tmp_path, tmp_path, timeout=60, manager=manager,
                             font_list=str(font_list))
    assert outputs == ["1\n", "True True\n", "done\n"]
    assert font_list.read_bytes() == seed  # the kernel spoilt its own copy, not the run's


def test_without_the_font_list_a_kernel_builds_the_same_list_itself(
        bwrap: None, tmp_path: Path, font_list: Path) -> None:
    # the same fonts in the same order: the run's list is built in a kernel's sandbox, with its
    # environment and hash seed (matplotlib gathers the font files in a set)
    outputs = run_in_sandbox([*FONT_CELLS[:2], "import json\nprint(json.dumps([font['fname'] "
                              "for font in json.load(open(after[0]))['ttflist']]))"],
                             tmp_path, tmp_path, timeout=60)
    assert outputs[:2] == ["0\n", "False True\n"]
    assert json.loads(outputs[2]) == font_order(font_list)


def test_the_build_runs_in_the_sandbox_not_in_the_graders_folder(
        bwrap: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a grader who runs `course autograde` from a student's folder: a matplotlib.py there
    # must not be imported by the build
    student = tmp_path / "submitted" / "mallory"
    student.mkdir(parents=True)
    (student / "matplotlib.py").write_text(
        f"open({str(tmp_path / 'ran')!r}, 'w').write('outside the sandbox')\n")
    monkeypatch.chdir(student)
    built = fonts.build_font_list(tmp_path / "fonts", SandboxedKernelManager().sandboxed_in)
    assert built is not None and not (tmp_path / "ran").exists()


def test_the_list_is_built_only_for_assignments_that_mention_matplotlib(tmp_path: Path) -> None:
    plotting, plain = tmp_path / "plotting.ipynb", tmp_path / "plain.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("import matplotlib.pyplot as plt")]),
                   plotting)
    nbformat.write(new_notebook(cells=[new_markdown_cell("No figures here.")]), plain)
    assert fonts.uses_matplotlib([plain, plotting])
    assert not fonts.uses_matplotlib([plain])
    assert not fonts.uses_matplotlib([])


def test_a_copy_that_fails_leaves_the_kernel_to_scan_the_fonts_itself(tmp_path: Path) -> None:
    fonts.give_font_list(str(tmp_path / "gone" / "fontlist-v3.json"), tmp_path / "mpl")
    assert list((tmp_path / "mpl").iterdir()) == []  # no error: the kernel starts as before


@pytest.mark.parametrize("command", [["false"], ["true"]], ids=["fails", "writes-nothing"])
def test_a_failed_build_says_so_and_grading_goes_on(tmp_path: Path, command: list[str],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    assert fonts.build_font_list(tmp_path / "fonts", lambda *_: command) is None
    assert "NOTICE" in caplog.text and "each plotting kernel builds its own" in caplog.text


def test_only_a_sandboxed_run_of_a_plotting_assignment_builds_the_list(
        released_course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the repository's assignments, found from their released notebooks; nobody submitted,
    # so no kernel starts
    root = Path(shutil.copytree(released_course, tmp_path / "course"))
    built: list[str] = []
    monkeypatch.setattr(pipeline, "build_font_list",
                        lambda folder, sandboxed: built.append(folder.name))
    for assignment, sandbox in (("ps1", True), ("ps3", True), ("ps5", True), ("ps3", False)):
        pipeline.autograde(root, assignment, progress=False, sandbox=sandbox)
        built.append(f"after {assignment}")
    assert built[0] == "after ps1" and built[-1] == "after ps3"
    assert len(built) == 6  # one list for ps3 and one for ps5, sandboxed; none otherwise


def test_autograde_gives_a_plotting_assignments_kernels_the_list_and_removes_it(
        bwrap: None, ps0_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Path] = []

    def build(folder: Path, sandboxed: fonts.Sandboxed) -> Path | None:
        built.append(fonts.build_font_list(folder, sandboxed))  # type: ignore[arg-type]
        return built[-1]

    monkeypatch.setattr(pipeline, "uses_matplotlib", lambda notebooks: True)  # ps0 plots not
    monkeypatch.setattr(pipeline, "build_font_list", build)
    # full marks, with an answer cell that also says how many font lists its kernel found
    submit(ps0_course, "full-marks", "honest/full-marks")
    path = ps0_course / "autograder/submitted/full-marks/ps0/questions.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += "\n" + FONT_CELLS[0]
    nbformat.write(nb, path)
    for pool in (True, False):
        [result] = pipeline.autograde(ps0_course, "ps0", workers=1, progress=False, pool=pool)
        assert result.score == 3 and not result.findings  # both tests pass (1 + 2 points)
        graded = nbformat.read(ps0_course / "autograder/autograded/full-marks/ps0/questions.ipynb",
                               as_version=4)
        # the graded notebook keeps a print as the kernel sent it, in pieces under load
        printed = "".join(o.get("text", "") for o in graded.cells[1].outputs
                          if o.get("name") == "stdout")
        assert printed == "1\n", pool
    assert len(built) == 2 and all(built)
    assert not any(path.exists() for path in built)  # each run's folder went with the run
