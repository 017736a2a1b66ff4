"""Every shell command of the instructor's guide (autograder/README.md) runs, in order, in a
temporary copy of the test course: there the guide's `ps1` is the test assignment `ps0`, its
notebook `who_is_speaking` is `questions`, and the exchange and the LMS download are in the
temporary folder. The guide's Python config snippets are applied to the course's config first."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from test_grading_support import FIXTURES, make_course

GUIDE = Path(__file__).resolve().parent.parent / "autograder" / "README.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(), re.S | re.M)


def for_test_course(text: str, exchange: Path) -> str:
    return (text.replace("ps1", "ps0").replace("who_is_speaking", "questions")
            .replace("/srv/nbgrader/exchange", str(exchange)))


def test_every_guide_command_runs(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    for snippet in blocks("python"):
        if "db_url" not in snippet:  # PostgreSQL has its own test (test_postgres_gradebook.py)
            with open(root / "nbgrader_config.py", "a") as config:
                config.write("\n" + for_test_course(snippet, exchange))
    with zipfile.ZipFile(root / "submissions.zip", "w") as archive:
        archive.write(FIXTURES / "honest/full-marks.ipynb", "doe_1001_5501_questions-1.ipynb")
        archive.write(FIXTURES / "honest/partial-marks.ipynb", "roe_1002_5502_questions.ipynb")
    (root / "submissions" / "1003").mkdir(parents=True)
    shutil.copy(FIXTURES / "honest/wrong-answers.ipynb", root / "submissions/1003/questions.ipynb")

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    commands = [line for block in blocks("sh") for line in block.splitlines() if line.strip()]
    assert len(commands) >= 15
    outputs = {}
    for command in commands:
        result = subprocess.run(for_test_course(command, exchange), shell=True, cwd=root, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        outputs[command] = result.stdout + result.stderr

    assert "imported 1001: questions" in outputs["course import ps1 submissions.zip"]
    assert "3 graded, 0 flagged" in outputs["course autograde ps1 --workers 2 --timeout 30 "
                                            "--memory 2GiB --processes 256 --cpus 1"]
    assert (root / "autograder/feedback/1002/ps0/questions.html").exists()
    assert (root / "autograder/export/canvas-ps0.csv").exists()
    assert (root / "autograder/reports/ps0-report.png").exists()
    assert list(exchange.glob("*/outbound/ps0/questions.ipynb"))
