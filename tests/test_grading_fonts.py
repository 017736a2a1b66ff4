"""matplotlib's font list, built once per grading run and copied into each sandboxed kernel
(src/course/grading/fonts.py; docs/warm-kernel-pool.md, "Plotting assignments")."""

from __future__ import annotations

import json
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
    "import glob, os\nfound = glob.glob(os.environ['MPLCONFIGDIR'] + '/fontlist-v*.json')\n"
    "print(len(found))",
    "seen = os.stat(found[0]).st_mtime_ns if found else None\n"
    "import matplotlib.font_manager as fm\n"
    "after = glob.glob(os.environ['MPLCONFIGDIR'] + '/fontlist-v*.json')\n"
    "print(bool(found) and os.stat(after[0]).st_mtime_ns == seen, len(fm.fontManager.ttflist) > 0)",
    "open(found[0], 'w').write('spoilt') if found else None\nprint('done')",
]


@pytest.fixture(scope="module")
def font_list(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = fonts.build_font_list(tmp_path_factory.mktemp("fonts"))
    assert built is not None and built.name.startswith("fontlist-v")
    assert json.loads(built.read_text())["ttflist"]  # matplotlib's own format, with fonts
    return built


@pytest.mark.parametrize("manager", [SandboxedKernelManager, PooledKernelManager],
                         ids=["cold", "pooled"])
def test_a_plotting_kernel_reads_its_copy_of_the_runs_font_list(
        bwrap: None, tmp_path: Path, font_list: Path, manager: type) -> None:
    seed = font_list.read_bytes()
    outputs = run_in_sandbox(FONT_CELLS, tmp_path, tmp_path, timeout=60, manager=manager,
                             font_list=str(font_list))
    assert outputs == ["1\n", "True True\n", "done\n"]
    assert font_list.read_bytes() == seed  # the kernel spoilt its own copy, not the run's


def test_without_the_font_list_a_kernel_builds_its_own(bwrap: None, tmp_path: Path) -> None:
    outputs = run_in_sandbox(FONT_CELLS[:2], tmp_path, tmp_path, timeout=60)
    assert outputs == ["0\n", "False True\n"]


def test_the_list_is_built_only_for_assignments_that_mention_matplotlib(tmp_path: Path) -> None:
    plotting, plain = tmp_path / "plotting.ipynb", tmp_path / "plain.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("import matplotlib.pyplot as plt")]),
                   plotting)
    nbformat.write(new_notebook(cells=[new_markdown_cell("No figures here.")]), plain)
    assert fonts.uses_matplotlib([plain, plotting])
    assert not fonts.uses_matplotlib([plain])
    assert not fonts.uses_matplotlib([])


def test_a_kernel_without_a_list_gets_an_empty_folder(tmp_path: Path) -> None:
    fonts.give_font_list("", tmp_path / "mpl")
    assert not (tmp_path / "mpl").exists()  # matplotlib makes it, as before


def test_a_failed_build_says_so_and_grading_goes_on(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(fonts.sys, "executable", str(tmp_path / "no-python-here"))
    assert fonts.build_font_list(tmp_path / "fonts") is None
    assert "NOTICE" in caplog.text and "each plotting kernel builds its own" in caplog.text


def test_autograde_gives_a_plotting_assignments_kernels_the_list_and_removes_it(
        bwrap: None, ps0_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Path] = []

    def build(folder: Path) -> Path | None:
        built.append(fonts.build_font_list(folder))  # type: ignore[arg-type]
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
        assert graded.cells[1].outputs[0]["text"] == "1\n", pool
    assert len(built) == 2 and all(built)
    assert not any(path.exists() for path in built)  # each run's folder went with the run
