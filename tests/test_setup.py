"""The set-up is reproducible and idempotent: .venv matches the lock, and once it is
installed no target sets it up again."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker

REPO = Path(__file__).resolve().parent.parent


def locked_versions(here_only: bool = False) -> dict[str, str]:
    """Every pin of the lock; with ``here_only``, those whose marker holds on this machine."""
    text = (REPO / "requirements.lock").read_text()
    return {m.group(1).lower(): m.group(2)
            for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)(?: ; ([^\\\n]+))?", text, re.M)
            if not here_only or not m.group(3) or Marker(m.group(3).strip()).evaluate()}


def test_lock_resolves_for_every_python_the_project_claims() -> None:
    # one universal lock (markers instead of one file per Python), as `make lock` writes it
    makefile = (REPO / "Makefile").read_text()
    assert "--universal" in makefile
    claimed = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert claimed == ">=3.11,<3.14"
    assert "python_full_version" in (REPO / "requirements.lock").read_text()


def test_lock_pins_every_package_with_hashes() -> None:
    text = (REPO / "requirements.lock").read_text()
    pins = locked_versions()
    assert len(pins) > 100
    assert text.count("--hash=sha256:") >= len(pins)
    assert pins["jupyter-book"].startswith("1.")
    assert pins["nbgrader"].startswith("0.9.")
    assert pins["ipywidgets"].startswith("8.")


def test_installed_environment_matches_the_lock() -> None:
    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    # Only the venv's own site-packages: setuptools puts its vendored copies (older
    # platformdirs, importlib-metadata...) on sys.path once it is imported.
    site_packages = [p for p in sys.path if p.endswith("site-packages") and ".venv" in p]
    installed = {norm(d.metadata["Name"]): d.version
                 for d in metadata.distributions(path=site_packages)}
    mismatched = {name: (version, installed.get(norm(name)))
                  for name, version in locked_versions(here_only=True).items()
                  if installed.get(norm(name)) != version}
    assert mismatched == {}


def test_a_second_run_does_not_set_up_the_environment_again() -> None:
    # `make -q` exits 0 only when the target is up to date: nothing would be run.
    proc = subprocess.run(["make", "-q", "setup"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, "make setup would reinstall .venv although nothing changed"
    # -W: as if a page had just been edited; the book is rebuilt, the environment is not
    dry = subprocess.run(["make", "-n", "-W", "book/index.md", "book"], cwd=REPO,
                         capture_output=True, text=True)
    assert "setup-venv.sh" not in dry.stdout
    assert "jupyter-book build" in dry.stdout


def test_tests_run_in_the_project_environment() -> None:
    assert Path(sys.executable).parent == REPO / ".venv" / "bin"


def test_npm_packages_are_pinned_and_installed_once(node: Path) -> None:
    harness = node  # tests/vscode_widgets, with its npm packages installed
    wanted = json.loads((harness / "package.json").read_text())["devDependencies"]
    locked = json.loads((harness / "package-lock.json").read_text())["packages"]
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version} is not exact"
        assert locked[f"node_modules/{name}"]["version"] == version
    assert locked["node_modules/@vscode/jupyter-ipywidgets8"]["version"] == "1.0.9"
    # Once installed, make test's set-up path does not run npm ci again.
    dry = subprocess.run(["make", "-n", "node-deps"], cwd=REPO, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "npm ci" not in dry.stdout


def test_the_makefile_names_the_release_folder_as_the_config_does() -> None:
    """make rebuilds the book and the site when a student version changes: it must watch the
    folder nbgrader_config.py releases into."""
    from course.settings import folder, load_config

    release = folder(load_config(REPO), "release").relative_to(REPO).as_posix()
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^RELEASE := {re.escape(release)}$", makefile, re.M), (
        f"nbgrader_config.py releases into {release}/: set RELEASE in the Makefile to match")
