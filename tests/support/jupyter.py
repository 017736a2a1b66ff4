"""A throwaway Jupyter server on loopback for the browser tests: its own config, data and
runtime folders (so the user's settings never leak in), a port the system gives it, and a clean
stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# s: the server must answer within STALL_TIMEOUT of its last log line, and at the latest after
# START_TIMEOUT. Importing the server extensions alone took 20 s on two cores with other jobs
# running, so a fixed 60 s failed servers that were still starting.
STALL_TIMEOUT = 60
START_TIMEOUT = 240


def isolated_env(base: Path, **extra: str) -> dict[str, str]:
    """The environment with Jupyter's per-user folders moved under ``base``, and the venv's
    bin first on PATH (the guide's commands are written as if it were activated)."""
    for name in ("config", "data", "runtime", "ipython"):
        (base / name).mkdir(parents=True, exist_ok=True)
    venv_bin = str(Path(sys.executable).parent)
    return dict(
        os.environ,
        PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        IPYTHONDIR=str(base / "ipython"),
        **extra,
    )


def root_flag() -> list[str]:
    # CI containers run as root; Jupyter refuses that without the flag.
    return ["--allow-root"] if os.geteuid() == 0 else []


def _wait_until_up(proc: subprocess.Popen, runtime: Path, token: str, log: Path) -> str:
    """Until the server answers /api/status, while it lives and keeps logging its start-up:
    its URL, read from the file it writes in its ``runtime`` folder once it listens (it is
    started on port 0, so the system picks a port no other process holds)."""
    start = time.monotonic()
    info = runtime / f"jpserver-{proc.pid}.json"
    last_size, last_progress = -1, start
    while True:
        assert proc.poll() is None, f"Jupyter server exited:\n{log.read_text()[-4000:]}"
        try:
            url = json.loads(info.read_text())["url"].rstrip("/")
            request = urllib.request.Request(
                f"{url}/api/status", headers={"Authorization": f"token {token}"} if token else {})
            with urllib.request.urlopen(request, timeout=2) as r:
                if r.status == 200:
                    return url
        except (OSError, ValueError, KeyError):  # not written yet, half written, not up yet
            pass
        now = time.monotonic()
        size = log.stat().st_size if log.exists() else 0
        if size != last_size:
            last_size, last_progress = size, now
        assert now - last_progress < STALL_TIMEOUT and now - start < START_TIMEOUT, (
            f"server never answered ({now - start:.0f} s):\n{log.read_text()[-4000:]}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    """Terminate the server and wait for it; kill it if it does not stop in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# A port picked free in the test and bound by the server seconds later (after it imported its
# extensions) could be taken in between; port 0 has the system pick one as the server binds.
ANY_PORT = "--ServerApp.port=0"


@contextmanager
def running_server(command: list[str], cwd: Path, env: dict[str, str], log: Path,
                   token: str = "") -> Iterator[str]:
    """Run ``command`` (a Jupyter server given ANY_PORT, with ``env`` from isolated_env) until
    it answers; its URL. Stop it on leaving, also when the body or the start-up fails. (No
    shell: terminate() must reach the server itself.)"""
    assert ANY_PORT in command, "start the server on port 0 (ANY_PORT)"
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield _wait_until_up(proc, Path(env["JUPYTER_RUNTIME_DIR"]), token, log)
    finally:
        stop(proc)


@dataclass
class JupyterServer:
    url: str
    root: Path  # the server's root_dir (notebooks go here)
    progress_dir: Path  # COURSE_PROGRESS_DIR of every kernel the server starts
    log: Path


@contextmanager
def run_jupyter_server(base: Path, extra_args: Sequence[str] = ()) -> Iterator[JupyterServer]:
    """A Jupyter server (JupyterLab and Notebook 7 installed) on 127.0.0.1, no token, with its
    config, data, runtime and progress folders under ``base``; stopped on exit."""
    root, progress = base / "root", base / "progress"
    for d in (root, progress):
        d.mkdir(parents=True, exist_ok=True)
    env = isolated_env(base, COURSE_PROGRESS_DIR=str(progress))
    log = base / "server.log"
    jupyter_bin = Path(sys.executable).with_name("jupyter")
    command = [str(jupyter_bin), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", ANY_PORT,
               "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
               *root_flag(), *extra_args]
    with running_server(command, cwd=root, env=env, log=log) as url:
        yield JupyterServer(url, root, progress, log)
