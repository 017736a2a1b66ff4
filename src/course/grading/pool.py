"""The warm kernel pool, worker side: each grading worker keeps one zygote (zygote.py) that has
paid Python's and ipykernel's start-up once, and gets every kernel from it as a fresh process
inside that submission's own bubblewrap sandbox. Design and security reasoning:
docs/warm-kernel-pool.md.

Per kernel, :class:`PooledKernelManager`:
1. starts the submission's sandbox exactly as for a cold kernel (same bwrap mounts, namespaces,
   environment and cgroup), holding ``cat`` as its pid 1 instead of the kernel;
2. asks the worker's zygote to fork a kernel into it, and gets back a pidfd of that kernel;
3. hands jupyter_client a process object whose life is the kernel's, and whose end (or kill)
   ends the sandbox and everything in it.
Where any step fails, that kernel starts cold, as with ``--no-pool``, and the worker says so.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

from .limits import join_prefix
from .sandbox import NOBODY, SandboxedKernelManager, kernel_environment, parse_size

log = logging.getLogger("course.grading")

MESSAGE = 1 << 20
START_TIMEOUT = 60.0  # seconds for the zygote's imports on a loaded machine


class PoolUnavailable(RuntimeError):
    """The warm kernel pool cannot run here; the reason is the message."""


class Zygote:
    """One zygote process and its control socket."""

    def __init__(self, preload: bool = True) -> None:
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # The zygote starts with only the environment every kernel shares: whatever it holds
        # in memory at the fork, every kernel sees (/proc/self/environ included). Among it
        # PYTHONHASHSEED, read only at start-up: its kernels hash strings as cold ones do
        # (docs/sandbox.md, pitfall 8).
        env = kernel_environment(Path("/"), Path("/"), 1)
        env = {k: v for k, v in env.items() if k not in ("HOME", "TMPDIR", "IPYTHONDIR",
                                                          "MPLCONFIGDIR")}
        argv = [sys.executable, "-m", "course.grading.zygote", str(theirs.fileno())]
        self.process = subprocess.Popen(
            argv + ([] if preload else ["--no-preload"]), pass_fds=[theirs.fileno()], env=env,
            cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        theirs.close()
        self.control = control
        control.settimeout(START_TIMEOUT)
        try:
            ready = json.loads(control.recv(MESSAGE) or b"null")
        except (OSError, ValueError) as error:
            self.close()
            raise PoolUnavailable(f"the zygote did not start ({error})") from error
        if not ready:
            self.close()
            raise PoolUnavailable(f"the zygote did not start (exit code {self.process.wait()})")
        if ready["threads"] != 1 or ready["zmq"]:
            self.close()
            raise PoolUnavailable(f"the zygote has {ready['threads']} threads and "
                                  f"{'a' if ready['zmq'] else 'no'} ZMQ context after its "
                                  "imports: forking it would not be safe")
        self.import_seconds: float = ready["seconds"]

    def spawn(self, request: dict[str, Any]) -> tuple[int, int]:
        """Fork a kernel into the sandbox of ``request["holder"]``: its pid and a pidfd."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with mine:
            try:
                socket.send_fds(self.control, [b"f"], [theirs.fileno()])
            finally:
                theirs.close()
            mine.settimeout(START_TIMEOUT)
            mine.send(json.dumps(request).encode())
            message, fds, _, _ = socket.recv_fds(mine, MESSAGE, 1)
        reply = json.loads(message or b'{"error": "the zygote\'s child gave no answer"}')
        if "error" in reply or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise PoolUnavailable(reply.get("error", "no pidfd"))
        return int(reply["pid"]), fds[0]

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.control.close()
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()


_zygote: Zygote | None = None
_said: set[str] = set()


def worker_zygote() -> Zygote:
    """This worker's zygote, started on first use and again if it died."""
    global _zygote
    if _zygote is None or not _zygote.alive():
        if _zygote is not None:
            _zygote.close()
        _zygote = Zygote()
        atexit.register(_zygote.close)
    return _zygote


def notice_once(message: str) -> None:
    if message not in _said:
        _said.add(message)
        log.warning("NOTICE: %s", message)


def start_holder(cmd_in_sandbox: list[str], cgroup: list[str]) -> tuple[subprocess.Popen, int]:
    """Start ``bwrap … --as-pid-1 … cat``; once cat answers, the sandbox is complete. The
    holder and the pid of its pid 1 (outside the sandbox), from bwrap's --info-fd."""
    info_read, info_write = os.pipe()
    try:
        holder = subprocess.Popen(
            join_prefix(cgroup) + [a.replace("{info_fd}", str(info_write))
                                   for a in cmd_in_sandbox],
            pass_fds=[info_write], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            start_new_session=True)
    finally:
        os.close(info_write)
    try:
        assert holder.stdin is not None and holder.stdout is not None
        try:
            holder.stdin.write(b"\n")
            holder.stdin.flush()
            answer = holder.stdout.readline()
        except OSError:  # bwrap is gone already
            answer = b""
        if answer != b"\n":
            raise PoolUnavailable(f"the sandbox did not start (exit code {holder.wait()})")
        info = b""
        while True:  # bwrap writes one JSON object, over several lines
            chunk = os.read(info_read, 4096)
            info += chunk
            with contextlib.suppress(ValueError):
                pid = int(json.loads(info)["child-pid"])
                break
            if not chunk:
                raise PoolUnavailable(f"bwrap gave no sandbox pid ({info!r})")
    except BaseException:
        _end_holder(holder)
        raise
    finally:
        os.close(info_read)
    return holder, pid


def _end_holder(holder: subprocess.Popen) -> None:
    """The holder's end is the sandbox's: its pid 1 dies, and with it every process in it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    for pipe in (holder.stdin, holder.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


class PooledKernel:
    """The kernel as jupyter_client's provisioner sees a process: alive while the forked kernel
    is; killing it (or its end) ends its sandbox."""

    stdin = stdout = stderr = None

    def __init__(self, holder: subprocess.Popen, pid: int, pidfd: int) -> None:
        self.holder, self.pid, self.pidfd = holder, pid, pidfd
        self.returncode: int | None = None
        self._finalizer = weakref.finalize(self, PooledKernel._end, holder, pidfd)

    @staticmethod
    def _end(holder: subprocess.Popen, pidfd: int) -> None:
        _end_holder(holder)
        with contextlib.suppress(OSError):
            os.close(pidfd)

    def poll(self) -> int | None:
        if self.returncode is None:
            if self.holder.poll() is not None:
                self._finish(-signal.SIGKILL)
            elif select.select([self.pidfd], [], [], 0)[0]:
                self._finish(0)  # its status goes to the sandbox's pid 1, which ends with it
        return self.returncode

    def _finish(self, code: int) -> None:
        self.returncode = code
        self._finalizer()

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout or 0)
            select.select([self.pidfd], [], [], 0.05)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            signal.pidfd_send_signal(self.pidfd, signum)

    def kill(self) -> None:
        if self.returncode is None:
            self._finish(-signal.SIGKILL)

    terminate = kill


def _is_ipykernel(argv: list[str]) -> bool:
    """The zygote can only become `python -m ipykernel_launcher -f FILE …` of this
    environment (nbclient adds options after the file)."""
    return (len(argv) >= 5 and Path(argv[0]).resolve() == Path(sys.executable).resolve()
            and argv[1:3] == ["-m", "ipykernel_launcher"] and argv[3] == "-f")


class PooledKernelManager(SandboxedKernelManager):
    """A sandboxed kernel manager whose kernels are forked by the worker's zygote."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        self._kernel_argv = super(SandboxedKernelManager, self).format_kernel_cmd(
            extra_arguments)
        return super().format_kernel_cmd(extra_arguments)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        argv = getattr(self, "_kernel_argv", [])
        if not self.sandbox or not _is_ipykernel(argv):
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        try:
            holder, pid, pidfd = self._fork_kernel(argv)
        except (OSError, PoolUnavailable, ValueError) as error:
            notice_once(f"this grading worker's warm kernel pool failed ({error}); its "
                        "kernels start cold from now on where it fails again")
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        assert self.provisioner is not None
        provisioner: Any = self.provisioner
        provisioner.process = PooledKernel(holder, pid, pidfd)
        provisioner.pid, provisioner.pgid = pid, holder.pid
        provisioner.cwd = str(self._workdir)
        self._reconcile_connection_info(provisioner.connection_info)

    def _fork_kernel(self, argv: list[str]) -> tuple[subprocess.Popen, int, int]:
        assert self._kernel_dir is not None and self._workdir is not None
        holder, holder_pid = start_holder(
            self.sandboxed(["cat"], ("--as-pid-1", "--info-fd", "{info_fd}")),
            list(self.cgroup_join))
        try:
            pid, pidfd = worker_zygote().spawn({
                "holder": holder_pid,
                "cgroup": list(self.cgroup_join),
                "workdir": str(self._workdir),
                # bwrap --chdir sets PWD for a cold kernel
                "env": {**kernel_environment(self._workdir, self._kernel_dir,
                                             self.compute_threads), "PWD": str(self._workdir)},
                "memory": parse_size(self.memory_limit),
                "fsize": parse_size(self.file_size_limit),
                "argv": argv[3:],
            })
        except BaseException:
            _end_holder(holder)
            raise
        return holder, pid, pidfd


POOLED_MANAGER = f"{PooledKernelManager.__module__}.{PooledKernelManager.__name__}"


def check_pool(bwrap: str = "bwrap") -> None:
    """PoolUnavailable, saying why, where a zygote cannot fork a kernel into a sandbox here.
    Runs the whole path once, without the imports, with a kernel that only exits."""
    if not hasattr(os, "pidfd_open") or not hasattr(socket, "send_fds"):
        raise PoolUnavailable("this Python or Linux has no pidfd or fd passing")
    with tempfile.TemporaryDirectory(prefix="ck-probe-") as tmp:
        manager = PooledKernelManager(bwrap=bwrap)
        manager._kernel_dir, manager._workdir = Path(tmp, "kernel"), Path(tmp, "work")
        manager._kernel_dir.mkdir()
        manager._workdir.mkdir()
        probe = manager._kernel_dir / "probe-ok"
        try:
            zygote = Zygote(preload=False)
        except OSError as error:
            raise PoolUnavailable(f"cannot start a zygote ({error})") from error
        try:
            holder, holder_pid = start_holder(
                manager.sandboxed(["cat"], ("--as-pid-1", "--info-fd", "{info_fd}")), [])
            try:
                _, pidfd = zygote.spawn({
                    "holder": holder_pid, "cgroup": [], "workdir": str(manager._workdir),
                    "env": {}, "memory": 1 << 30, "fsize": 1 << 20, "argv": ["--probe"],
                    "probe": str(probe)})
                ended = select.select([pidfd], [], [], START_TIMEOUT)[0]
                os.close(pidfd)
            except (OSError, PoolUnavailable) as error:
                raise PoolUnavailable(str(error)) from error
            finally:
                _end_holder(holder)
        finally:
            zygote.close()
        if not ended or not probe.exists() or probe.read_text() != NOBODY:
            raise PoolUnavailable("a forked kernel could not drop its rights in the sandbox")



def use_pool(config: Any, sandbox: bool) -> bool:
    """Give ``config`` the pooled kernel manager where the pool works here; otherwise say why,
    once, and leave the cold path (the same sandbox, a new interpreter per kernel)."""
    if not sandbox:
        why = "--no-sandbox: the pool forks kernels into sandboxes only"
    else:
        try:
            check_pool(config.SandboxedKernelManager.get("bwrap", "bwrap"))
        except PoolUnavailable as error:
            why = str(error)
        else:
            config.Execute.kernel_manager_class = POOLED_MANAGER
            return True
    log.warning("NOTICE: no warm kernel pool (%s); every kernel starts cold, as with --no-pool: "
                "grading is as isolated, only slower.", why)
    return False


def warm_up() -> None:
    """A worker's initializer: start its zygote while the first submissions are prepared."""
    # a worker process has no handler of its own: its notices go to stderr, one line each
    logging.basicConfig(stream=sys.stderr, format="%(message)s")
    try:
        worker_zygote()
    except (PoolUnavailable, OSError) as error:  # an initializer that raises breaks the pool
        notice_once(f"this grading worker's warm kernel pool did not start ({error}); its "
                    "kernels start cold")
