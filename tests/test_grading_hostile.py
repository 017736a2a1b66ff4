"""Every hostile scenario graded in ONE batch with honest students: the batch finishes, each gets
its verdict, the gradebook stays intact and honest scores equal their scores graded alone.

The batch is graded with the warm kernel pool (the default) and again with every kernel
started cold (--no-pool): same verdicts, same scores cell by cell, same outputs and
tracebacks. The honest students are also graded alone by plain nbgrader: the same again."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

import pytest

from course.grading.limits import MAX_OUTPUT_BYTES
from course.grading.outputs import write_feedback
from course.grading.pipeline import StudentResult, autograde
from course.settings import load_config
from tests.support.course import (
    HIDDEN_TESTS,
    autograded_cells,
    cell_scores,
    gradebook_is_sound,
    make_course,
    plain_autograde,
    submit,
)

HONEST = ["full-marks", "partial-marks", "wrong-answers", "looks-for-leftovers"]
# s per cell: the infinite loop costs this much. attacks-its-neighbours needs 3 s of it; every
# other cell takes milliseconds, the fork bomb too under PROCESSES
CELL_TIMEOUT = 10
# processes and threads of a submission: the fork bomb forked up to the default 256 in 0.7-1 s
# on an idle machine and up to 6 s on a loaded one, too close to CELL_TIMEOUT (a timeout
# would join its verdict); a quarter of that is still far above what any other scenario runs.
# test_grading_limits tests the cap itself.
PROCESSES = 64
# scenario -> (verdict kinds, expected score of test_double, of test_count_words)
HOSTILE = {
    "infinite-loop": ({"timeout"}, 0, 2),
    "memory-hog": ({"memory-limit"}, 0, 2),
    "deleted-test-cell": ({"deleted-cell"}, 1, 0),
    "edited-test-cell": ({"edited-cell"}, 1, 0),  # nbgrader restored the test, which fails
    "corrupt-json": ({"unreadable"}, 0, 0),
    "empty-file": ({"unreadable"}, 0, 0),
    "syntax-error": (set(), 0, 2),
    "os-exit-kills-kernel": ({"kernel-died"}, 0, 0),
    "huge-output": (set(), 1, 2),
    "reads-solutions-and-writes-gradebook": (set(), 0, 2),
    "monkeypatches-assert-and-traceback": ({"tampered"}, 0, 0),
    "strips-asserts-with-ast-transformer": ({"tampered"}, 0, 0),
    "fork-bomb": ({"process-limit"}, 0, 2),
    # the children over the submission's memory are stopped; the kernel and its answers live
    "memory-hog-in-children": ({"memory-limit"}, 1, 2),
    # what a warm kernel pool must withstand (docs/warm-kernel-pool.md): nothing reached
    "attacks-its-neighbours": (set(), 0, 2),
    "fills-working-folder-and-tmp": (set(), 0, 2),
    "fills-the-disk-with-many-files": (set(), 0, 2),
    "leaves-thread-atexit-and-patched-modules": (set(), 0, 2),
    "kills-its-parent-and-the-zygote": ({"kernel-died"}, 0, 0),
    # what the kernel's working folder must withstand (docs/sandbox.md, pitfalls 11 and 12)
    "swaps-its-notebook-for-a-link": (set(), 0, 2),
    "swaps-its-notebook-for-a-fifo": (set(), 0, 2),
    "leaves-links-for-the-feedback": (set(), 1, 2),
    "prints-the-hidden-tests-from-a-hook": (set(), 1, 2),
    "spares-the-canary-by-its-words": ({"tampered"}, 0, 0),
    "floods-its-output": ({"output-limit"}, 1, 2),
    "writes-a-script-into-its-output": (set(), 1, 2),
    "nested-too-deep-to-read": ({"unreadable"}, 0, 0),
    # a full-marks notebook beside a link to the solutions (made by grade_batch): not run
    "links-a-file-into-its-submission": ({"unsafe-file"}, 0, 0),
    # a second review of the fixes (docs/sandbox.md)
    "floods-its-output-through-display-updates": ({"output-limit"}, 1, 2),
    "floods-its-output-with-errors": ({"output-limit"}, 1, 2),
    "names-its-error-after-the-hidden-tests": (set(), 1, 0),
    "shows-the-hidden-tests-disguised": (set(), 1, 2),
    # made by grade_batch: a full-marks notebook beside an empty extra notebook; wrong answers
    # beside a kernel launcher of its own that strips the tests' asserts
    "brings-an-extra-empty-notebook": ({"extra-notebook"}, 1, 2),
    "brings-its-own-kernel-launcher": (set(), 0, 0),
}
LINKED = "links-a-file-into-its-submission"
# imported by a cold kernel in place of ipykernel's, were the working folder first on its path
LAUNCHER = """import ast, os, sys
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]
from IPython.core.interactiveshell import InteractiveShell
original = InteractiveShell.transform_ast
class Strip(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
def transform_ast(self, node):
    node = original(self, node)
    if "double(" in ast.unparse(node) or "count_words(" in ast.unparse(node):
        node = ast.fix_missing_locations(Strip().visit(node))
    return node
InteractiveShell.transform_ast = transform_ast
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


def digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.rglob("*"))
                                   if p.is_file())).hexdigest()


def grade_batch(root: Path, pool: bool) -> dict[str, StudentResult]:
    for scenario in HONEST:
        submit(root, scenario, f"honest/{scenario}")
    for scenario in HOSTILE:
        folder = root / "autograder/submitted" / scenario / "ps0"
        if scenario == LINKED:
            submit(root, scenario, "honest/full-marks")
            (folder / "notes.txt").symlink_to(root / "solutions/ps0/questions.ipynb")
        elif scenario == "brings-an-extra-empty-notebook":
            submit(root, scenario, "honest/full-marks")
            (folder / "notes.ipynb").write_text("")
        elif scenario == "brings-its-own-kernel-launcher":
            submit(root, scenario, "honest/wrong-answers")
            (folder / "ipykernel_launcher.py").write_text(LAUNCHER)
        else:
            submit(root, scenario, f"hostile/{scenario}")
    return {r.student: r for r in autograde(root, "ps0", timeout=CELL_TIMEOUT, memory="1GiB",
                                            processes=PROCESSES, progress=False, pool=pool)}


def not_plain_files(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_symlink() or not (p.is_file() or p.is_dir())]


def feedback_shows_nothing_hidden(root: Path) -> None:
    """The feedback of the batch: no hidden test in any page (a hook printed them while they
    ran), no link copied out of a working folder, no script of a student's in a page."""
    write_feedback(load_config(root), "ps0")
    feedback = root / "autograder/feedback"
    assert not_plain_files(feedback) == []
    pages = {p.parent.parent.name: p.read_text(encoding="utf-8") for p in feedback.rglob("*.html")}
    assert set(pages) >= {"full-marks", "prints-the-hidden-tests-from-a-hook",
                          "writes-a-script-into-its-output"}
    for student, page in pages.items():
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        assert not [test for test in HIDDEN_TESTS if test in text], student
    # the student's own answers are shown (they differ from the released stubs)
    full = html.unescape(re.sub(r"<[^>]+>", "", pages["full-marks"]))
    assert "return 2 * x" in full and "return len(text.split())" in full
    hook = pages["prints-the-hidden-tests-from-a-hook"]
    assert "SEEN" in hook and "hidden tests are not shown" in hook  # it printed; hidden lines cut
    script = pages["writes-a-script-into-its-output"]
    # its source is shown escaped; its output is shown as HTML without the script or handler,
    # in feedback and on Formgrader's grading page, rendered as Formgrader renders it
    grading_page = formgrade_page(root, "writes-a-script-into-its-output")
    for page in (script, grading_page):
        assert "<b>bold</b>" in page and "<script>document.title" not in page
        assert not re.search(r"<img[^>]*onerror", page)
        # the table's header shows as a bold cell, not as escaped markup or its style's text
        assert "<td><b>paragraph</b></td>" in page and "<td>A1</td>" in page
        shown = re.sub(r'<div class="highlight[^"]*"><pre>.*?</pre></div>', "", page, flags=re.S)
        assert "&lt;th" not in shown and "color: red" not in shown  # (the source has both)


def formgrade_page(root: Path, student: str) -> str:
    """The HTML Formgrader's submission view serves (nbgrader's formgrader.py configures its
    HTMLExporter so, on top of the course's settings)."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    config = load_config(root)
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [
        *config.HTMLExporter.extra_template_basedirs, handlers.template_path]
    resources = {"assignment_id": "ps0", "notebook_id": "questions", "submission_id": "x",
                 "index": 0, "total": 1, "base_url": "/", "student": student,
                 "last_name": "", "first_name": "", "notebook_path": "/x"}
    page, _ = HTMLExporter(config=config).from_filename(
        str(root / f"autograder/autograded/{student}/ps0/questions.ipynb"), resources=resources)
    return page


def autograded(root: Path, student: str) -> list[dict]:
    return autograded_cells(root / f"autograder/autograded/{student}/ps0/questions.ipynb")


def test_hostile_batch(ps0_course: Path, bwrap: None, tmp_path: Path,
                       caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> None:
    root = ps0_course
    solutions = digest(root / "solutions")
    results = grade_batch(root, pool=True)
    submitted = digest(root / "autograder/submitted")
    # the pool graded the batch: no kernel of it fell back to a cold start (workers' notices
    # go to stderr, the parent's to the log)
    assert "NOTICE" not in caplog.text + capfd.readouterr().err
    scores = cell_scores(root)

    assert gradebook_is_sound(root) and digest(root / "solutions") == solutions
    assert set(results) == set(HONEST) | set(HOSTILE)
    for scenario, (verdict, double, count) in HOSTILE.items():
        assert {f.kind for f in results[scenario].findings} == verdict, scenario
        assert scores[scenario]["test_double"] == double, scenario
        assert scores[scenario]["test_count_words"] == count, scenario
    huge = (root / "autograder/autograded/huge-output/ps0/questions.ipynb").stat().st_size
    assert huge < 200_000  # nbgrader's output limit applied
    for flood in ("floods-its-output", "floods-its-output-through-display-updates",
                  "floods-its-output-with-errors"):  # ours: 16 MiB kept at most
        notebook = root / f"autograder/autograded/{flood}/ps0/questions.ipynb"
        assert notebook.stat().st_size < MAX_OUTPUT_BYTES, flood
    # nothing the kernels left behind reached the grader's folders, and no submission changed
    assert digest(root / "autograder/submitted") == submitted
    assert not_plain_files(root / "autograder/autograded") == []
    assert {p.name for p in (root / "autograder/autograded").rglob("*") if p.is_file()} == {
        "questions.ipynb", "ipykernel_launcher.py"}  # the one file a submission brought
    feedback_shows_nothing_hidden(root)

    cold = make_course(tmp_path / "cold")
    cold_results = grade_batch(cold, pool=False)
    assert gradebook_is_sound(cold) and cell_scores(cold) == scores
    for student, result in results.items():
        # the kinds: a finding's detail counts what the kernel's OOM killer or task limit
        # stopped, which varies from run to run
        kinds = {f.kind for f in result.findings}
        assert {f.kind for f in cold_results[student].findings} == kinds, student
        assert autograded(cold, student) == autograded(root, student), student

    alone = make_course(tmp_path / "alone")
    for scenario in HONEST:
        submit(alone, scenario, f"honest/{scenario}")
    assert plain_autograde(alone, "ps0") is None
    for scenario in HONEST:
        assert results[scenario].findings == []
        assert scores[scenario] == cell_scores(alone)[scenario], scenario
        assert autograded(alone, scenario) == autograded(root, scenario), scenario


def test_plain_nbgrader_says_why_it_left_a_submission_ungraded(ps0_course: Path) -> None:
    # The reference the identity tests compare with (plain nbgrader) must name the cause when it
    # fails a submission: its own error says only "see the above traceback", and the round trip
    # grades in worker processes whose log is lost.
    submit(ps0_course, "corrupt-json", "hostile/corrupt-json")
    error = plain_autograde(ps0_course, "ps0")
    assert error is not None
    reported = error.splitlines()
    assert "traceback" in reported[0].lower()  # nbgrader's own message
    assert any(line.startswith("ERROR ") for line in reported[1:]), error
    assert "Traceback (most recent call last)" in error and "corrupt-json" in error, error
