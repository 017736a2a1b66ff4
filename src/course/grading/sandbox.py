"""A jupyter_client kernel manager that starts each kernel inside a bubblewrap sandbox.

The kernel sees the whole system read-only, but the course root, the temp and runtime folders and
the home folder are covered by empty read-only tmpfs mounts; only the submission's working
folder (read-write), the Python environment (read-only) and the kernel's own folder for its
ZMQ ipc sockets are mounted on top. See docs/sandbox.md for the pitfalls
each option below avoids.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from queue import Empty
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from traitlets import Bool, Integer, List, Unicode, default

from .fonts import give_font_list
from .integrity import regular_files
from .limits import DEFAULT_MEMORY, join_prefix

NOBODY = "65534"
# The string hash seed of every grading kernel, cold or forked from the warm pool's zygote
# (which starts with it): a set of strings prints in the same order every time the same
# submission is graded, and grading paths can be compared output for output
# (docs/sandbox.md, pitfall 8).
HASH_SEED = "0"
UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
# How soon ZMQ tries again to connect to a kernel socket that is not bound yet: every 5-10 ms
# (ZMQ adds up to one interval of jitter) instead of its default 100-200 ms. The client
# connects as soon as the kernel is asked for, a forked kernel binds its ipc sockets some tens
# of milliseconds later, and its start waited out one default interval with nobody on the CPU
# (docs/warm-kernel-pool.md, "What one kernel start costs").
RECONNECT_MS = 5


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a sandbox on this machine."""


def parse_size(text: str | int) -> int:
    """Bytes in a size such as ``2GiB``, ``512M`` or ``1073741824``."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 512MiB or 2GiB)")
    return int(float(match.group(1)) * UNITS[match.group(2)])


def format_size(size: int) -> str:
    """``size`` bytes as people read it, in the units :func:`parse_size` takes: ``2 GiB``."""
    for unit in "tgmk":
        if size >= UNITS[unit]:
            return f"{size / UNITS[unit]:.3g} {unit.upper()}iB"
    return f"{size} B"


@functools.cache  # one probe per process, not one per kernel: the answer does not change
def check_bwrap(bwrap: str = "bwrap") -> str:
    """The path of a bubblewrap that can build our sandbox, or SandboxUnavailable saying why."""
    path = shutil.which(bwrap)
    if path is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so student code cannot be isolated. "
            "Install it (Debian: apt-get install bubblewrap), or pass --no-sandbox to run "
            "student code with the grader's own rights (only for code you trust)."
        )
    probe = [path, *_isolation_args(), "--ro-bind", "/", "/", "--", "true"]
    result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap cannot create a sandbox here ({result.stderr.strip()}); user "
            "namespaces may be disabled. Enable them, or pass --no-sandbox to run student "
            "code with the grader's own rights (only for code you trust)."
        )
    return path


def _isolation_args() -> list[str]:
    # Every namespace, including the network; nobody's uid and no capabilities, so a cell cannot
    # unmount the tmpfs that hides the course (docs/sandbox.md, pitfall 3).
    return [
        "--unshare-all",
        "--unshare-user",
        "--uid", NOBODY,
        "--gid", NOBODY,
        "--cap-drop", "ALL",
        "--die-with-parent",
        "--new-session",
    ]


def _outermost(paths: list[Path]) -> list[Path]:
    """Drop paths that lie inside another path of the list (one tmpfs covers them)."""
    unique = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in unique:
        if not any(path.is_relative_to(outer) for outer in kept):
            kept.append(path)
    return kept


def sandbox_command(
    kernel_cmd: list[str],
    workdir: Path,
    kernel_dir: Path,
    hidden: list[Path],
    memory_bytes: int,
    file_bytes: int,
    bwrap: str = "bwrap",
    threads: int = 1,
    extra_bwrap_args: tuple[str, ...] = (),
) -> list[str]:
    """The kernel command wrapped in bwrap and prlimit (``extra_bwrap_args`` go before the
    command: the warm pool's holder adds ``--as-pid-1`` and ``--info-fd``, pool.py)."""
    env_prefix = Path(sys.prefix).resolve()
    # The virtualenv's python is a symlink into the base interpreter's prefix: mount both.
    # ...and the course package's own source folder (an editable install lives in the project,
    # which is hidden): exercises import course.sources. It holds no answers.
    prefixes = _outermost([env_prefix, Path(sys.base_prefix).resolve(), package_root()])
    cover = _outermost([p.resolve() for p in hidden])
    args = [bwrap, *_isolation_args(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for path in cover:
        args += ["--size", str(file_bytes), "--tmpfs", str(path)]
    for prefix in prefixes:
        args += ["--ro-bind", str(prefix), str(prefix)]
    args += ["--bind", str(kernel_dir), str(kernel_dir)]
    # The working folder is a tmpfs of its own: what the kernel writes there is capped in
    # total, not only file by file, and is charged to its cgroup's memory; the files it was
    # given are bound read-only into it (docs/sandbox.md, pitfall 13).
    args += ["--size", str(file_bytes), "--tmpfs", str(workdir)]
    for given in regular_files(workdir):
        args += ["--ro-bind", str(given), str(given)]
    args += ["--chdir", str(workdir)]
    for path in cover:
        args += ["--remount-ro", str(path)]
    # A clean environment: no grader secrets, and no JPY_PARENT_PID, which would make ipykernel
    # quit because its parent looks dead from inside the pid namespace (docs/sandbox.md, pitfall 2).
    args += ["--clearenv", "--unsetenv", "JPY_PARENT_PID"]
    for key, value in kernel_environment(workdir, kernel_dir, threads).items():
        args += ["--setenv", key, value]
    # prlimit inside the sandbox: --as caps the kernel's memory (it gets MemoryError, the next
    # cell still runs), --fsize caps any file it writes (docs/sandbox.md, pitfall 6).
    args += [*extra_bwrap_args, "--", "prlimit", f"--as={memory_bytes}",
             f"--fsize={file_bytes}", "--", *kernel_cmd]
    return args


def kernel_environment(workdir: Path, kernel_dir: Path, threads: int = 1) -> dict[str, str]:
    """The whole environment of a sandboxed kernel (cold or forked by the warm pool)."""
    env_prefix = Path(sys.prefix).resolve()
    return {
        "HOME": str(workdir),
        # IPython and matplotlib write settings at start-up: keep them out of the submission
        "IPYTHONDIR": str(kernel_dir / "ipython"),
        "MPLCONFIGDIR": str(kernel_dir / "mpl"),
        "TMPDIR": str(workdir),
        "PATH": f"{env_prefix / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        # no MPLBACKEND: ipykernel picks its inline backend, so a figure shows in the autograded
        # notebook as under plain nbgrader (docs/sandbox.md, pitfall 10)
        "PYTHONDONTWRITEBYTECODE": "1",
        # `python -m ipykernel_launcher` would put the working folder first on the path, and a
        # submission's own ipykernel_launcher.py would start instead of the kernel
        # (docs/sandbox.md, pitfall 14); IPython adds the folder once the kernel runs
        "PYTHONSAFEPATH": "1",
        # as ipykernel's own kernel spec sets it: debugpy's warning about frozen modules (it
        # concerns breakpoints) would otherwise reach the grader's terminal from every kernel
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PYTHONHASHSEED": HASH_SEED,
        "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION", "autograde"),
        # numerical libraries start a thread per core by default: as many as the submission's
        # CPU share, so they neither hit its task limit nor spin against its CPU quota
        **dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"),
                        str(threads)),
    }


def package_root() -> Path:
    """The folder the ``course`` package is imported from."""
    import course

    return Path(course.__file__).resolve().parent.parent


def hidden_paths(course_root: Path | None) -> list[Path]:
    """What a kernel must not see: the course, temp and runtime folders, the home folder, and
    the project folder that holds the Python environment."""
    paths = [
        Path(tempfile.gettempdir()),
        Path("/var/tmp"),
        Path("/dev/shm"),
        Path(jupyter_runtime_dir()),
        Path.home(),
    ]
    if course_root is not None:
        paths.append(Path(course_root))
    if sys.prefix != sys.base_prefix:  # a virtualenv: hide the project it lives in
        paths.append(Path(sys.prefix).resolve().parent)
    return [p for p in paths if p.resolve() != Path("/")]


def grading_context() -> zmq.asyncio.Context:
    """A ZMQ context whose sockets retry a kernel that has not bound yet after RECONNECT_MS."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
    return context


class GradingKernelClient(AsyncKernelClient):
    """The grading kernels' client: jupyter_client's, but ready as soon as the kernel has
    answered kernel_info with IOPub connected."""

    @default("context")
    def _grading_context(self) -> zmq.asyncio.Context:
        self._created_context = True  # so that jupyter_client destroys it with the client
        return grading_context()

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        # jupyter_client's steps, less the last: waiting until IOPub has been quiet for 0.2 s.
        # nbclient takes only the IOPub messages whose parent is its own request, so what that
        # wait dropped is ignored anyway; it was half of a forked kernel's start
        # (docs/warm-kernel-pool.md, "What one kernel start costs").
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:  # a first IOPub message shows that IOPub is connected
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    wait_for_ready = _async_wait_for_ready  # as AsyncKernelClient binds its own


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel under bubblewrap, talking to it over ipc sockets in a private folder."""

    @default("client_factory")  # what client() makes; AsyncKernelManager ignores client_class
    def _grading_client(self) -> type[GradingKernelClient]:
        return GradingKernelClient

    @default("context")  # the control socket, which shuts the kernel down
    def _grading_context(self) -> zmq.asyncio.Context:
        self._created_context = True
        return grading_context()

    memory_limit = Unicode(DEFAULT_MEMORY, help="Memory limit: of each kernel process, and of a "
                           "submission's processes together (limits.py).").tag(
        config=True
    )
    file_size_limit = Unicode(
        "256MiB", help="Largest file the kernel may write, and size of each hiding tmpfs."
    ).tag(config=True)
    course_root = Unicode("", help="Course folder to hide from the kernel.").tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)
    kernel_dir_base = Unicode(
        help="Where per-kernel folders are made (short: socket paths < 108 chars)."
    ).tag(config=True)

    @default("kernel_dir_base")
    def _memory_backed_base(self) -> str:
        # the kernel writes in its folder (it must, for its sockets): in memory, what it writes
        # counts to its cgroup, where on the disk only each file was capped (docs/sandbox.md,
        # pitfall 14); a small /dev/shm (64 MiB in many containers) could fill for everyone
        with contextlib.suppress(OSError):
            shm = os.statvfs("/dev/shm")
            if shm.f_frsize * shm.f_blocks >= 2**30 and os.access("/dev/shm", os.W_OK):
                return "/dev/shm"
        return "/tmp"
    sandbox = Bool(True, help="False runs the kernel without isolation (--no-sandbox).").tag(
        config=True
    )
    compute_threads = Integer(1, help="Threads numerical libraries (OpenMP, OpenBLAS, MKL) "
                              "may start: the submission's CPU share.").tag(config=True)
    cgroup_join = List(Unicode(), help="cgroup.procs files of the submission's resource group "
                       "(limits.py) that the kernel joins before it starts.").tag(config=True)
    font_list = Unicode("", help="matplotlib's font list built for the run (fonts.py), copied "
                        "into the kernel's own MPLCONFIGDIR; empty: none.").tag(config=True)

    _kernel_dir: Path | None = None
    _workdir: Path | None = None

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.sandbox:
            check_bwrap(self.bwrap)
        # ipc sockets in a folder of the kernel's own, with or without the sandbox: over TCP,
        # two workers could pick the same free port (docs/sandbox.md, pitfall 15). It stays
        # 0700: the sandbox maps our own uid to nobody, so the kernel can use it.
        self._kernel_dir = Path(tempfile.mkdtemp(prefix="ck-", dir=self.kernel_dir_base))
        # a kernel that died skips the normal clean-up: remove its folder when we go
        weakref.finalize(self, shutil.rmtree, self._kernel_dir, True)
        self.transport = "ipc"
        self.ip = str(self._kernel_dir / "s")
        self.connection_file = str(self._kernel_dir / "kernel.json")
        if self.sandbox:
            give_font_list(self.font_list, self._kernel_dir / "mpl")  # before any student code
            self._workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
            # SIGINT to the process group would kill bwrap and so the kernel
            # (docs/sandbox.md, pitfall 1).
            spec = self.kernel_spec
            assert spec is not None, "jupyter_client found no kernel spec to start"
            spec.interrupt_mode = "message"
            # without JPY_PARENT_PID ipykernel prints its connection banner: keep it quiet
            kw.setdefault("stdout", subprocess.DEVNULL)
        else:  # no sandbox to set the environment: the grader's, with the grading hash seed
            kw["env"] = {**kw.get("env", os.environ), "PYTHONHASHSEED": HASH_SEED}
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        prefix = join_prefix(list(self.cgroup_join))
        if not self.sandbox:
            return prefix + cmd
        return prefix + self.sandboxed(cmd)

    def sandboxed(self, cmd: list[str], extra_bwrap_args: tuple[str, ...] = ()) -> list[str]:
        """``cmd`` in this kernel's sandbox (no cgroup prefix)."""
        assert self._kernel_dir is not None and self._workdir is not None
        return self.sandboxed_in(cmd, self._workdir, self._kernel_dir, extra_bwrap_args)

    def sandboxed_in(self, cmd: list[str], workdir: Path, kernel_dir: Path,
                     extra_bwrap_args: tuple[str, ...] = ()) -> list[str]:
        """``cmd`` in a sandbox such as this manager's kernels get, with ``workdir`` and
        ``kernel_dir`` as their working and kernel folders (also for the grader's own one-off
        commands that must see what a kernel sees: fonts.py)."""
        return sandbox_command(
            cmd,
            workdir=workdir,
            kernel_dir=kernel_dir,
            hidden=hidden_paths(Path(self.course_root) if self.course_root else None),
            memory_bytes=parse_size(self.memory_limit),
            file_bytes=parse_size(self.file_size_limit),
            bwrap=self.bwrap,
            threads=self.compute_threads,
            extra_bwrap_args=extra_bwrap_args,
        )

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # jupyter_client checks every 0.1 s whether a stopped kernel has gone. A killed kernel
        # is gone within milliseconds, so each notebook waited about 0.1 s for nothing
        # (docs/warm-kernel-pool.md, "What one kernel start costs"): check often at first.
        delay = 0.001
        while await self._async_is_alive():
            await asyncio.sleep(delay)
            delay = min(2 * delay, pollinterval)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._kernel_dir is not None and not restart:
            shutil.rmtree(self._kernel_dir, ignore_errors=True)
            self._kernel_dir = None
