"""The code base stays ruff clean and type-checked (mypy, configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_ruff_reports_nothing() -> None:
    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run([str(ruff), "check", "."], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture
def mypy_run() -> subprocess.CompletedProcess[str]:
    """mypy over the configured files (pyproject.toml): seconds of CPU, so a `slow` test."""
    mypy = Path(sys.executable).with_name("mypy")
    return subprocess.run([str(mypy)], cwd=REPO, capture_output=True, text=True)


def test_mypy_reports_nothing(mypy_run: subprocess.CompletedProcess[str]) -> None:
    assert mypy_run.returncode == 0, mypy_run.stdout + mypy_run.stderr
