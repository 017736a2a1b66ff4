"""The warm kernel pool's zygote: a process that has imported what a kernel needs and forks one
kernel per submission into that submission's sandbox. Design and security reasoning:
docs/warm-kernel-pool.md.

Run as ``python -m course.grading.zygote FD`` by a grading worker (pool.py), with FD one end of
a SOCK_SEQPACKET socket pair. Per request the worker sends one byte and, as ancillary data, one
end of a fresh socket pair; the zygote forks a child that reads the submission's details from
that socket, so the zygote itself never holds any submission's data. The child:

1. joins the submission's cgroups (while it still sees the grader's /sys/fs/cgroup);
2. joins every namespace of the submission's bubblewrap sandbox (a ``bwrap --as-pid-1 cat``
   started by the worker with the same mounts as a cold kernel's), the user namespace last;
3. forks A inside the sandbox's pid namespace; A forks the kernel B and exits once the worker
   holds a pidfd of B, so that B, like a cold kernel, is the child of the sandbox's pid 1;
4. B drops every capability, sets the memory and file-size limits, takes the kernel's
   environment, working folder and connection file, and runs ipykernel as
   ``python -m ipykernel_launcher -f FILE`` would.

Nothing here may start a thread or a ZMQ context before the fork: ``ready`` reports both.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import socket
import sys
import time
from pathlib import Path

# What a kernel imports at start-up, and the course helpers students import. Nothing that
# starts threads at import (numpy's BLAS does) or reads per-kernel settings at import
# (matplotlib reads MPLCONFIGDIR): the zygote checks the first, the list avoids the second.
# The second line is what IPKernelApp.initialize still imported after the first: debugpy,
# through ipykernel.debugger, was most of a forked kernel's start (docs/warm-kernel-pool.md,
# "What one kernel start costs").
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython",
           "ipykernel_launcher", "course.sources", "course.textkit", "course.timeline",
           "ipykernel.debugger", "IPython.core.completerlib", "IPython.core.debugger",
           "IPython.core.oinspect", "IPython.extensions.storemagic", "IPython.utils.wildcard",
           "sqlite3", "tornado.platform.asyncio", "faulthandler")
# setns order: the user namespace last, as the others belong to bwrap's outer user namespace,
# in which the child stops having rights once it has entered the inner one.
NAMESPACES = {"net": 0x40000000, "ipc": 0x08000000, "uts": 0x04000000, "cgroup": 0x02000000,
              "pid": 0x20000000, "mnt": 0x00020000, "user": 0x10000000}
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522
MESSAGE = 1 << 20

_libc = ctypes.CDLL(None, use_errno=True)
_import_environment: dict[str, str] = {}  # variables the preloaded imports set


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _prctl(option: int, arg: int = 0, arg3: int = 0) -> int:
    return _libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(arg3), 0, 0)


def threads() -> int:
    """Threads of this process, native ones included."""
    return len(os.listdir("/proc/self/task"))


def zmq_context_exists() -> bool:
    zmq = sys.modules.get("zmq")
    return zmq is not None and getattr(zmq.Context, "_instance", None) is not None


def drop_capabilities() -> None:
    """No capability left in any set, none to regain (bwrap's --cap-drop ALL)."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        _check(_prctl(PR_CAPBSET_DROP, cap), "dropping the capability bounding set")
    _check(_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL), "clearing ambient capabilities")
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable, twice: all zero
    _check(_libc.capset(header, data), "capset")
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    status = dict(line.split(":\t", 1) for line in
                  Path("/proc/self/status").read_text().splitlines() if ":\t" in line)
    if any(int(status[key], 16) for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")):
        raise OSError("capabilities are left after dropping them")


def _close_fds(keep: set[int]) -> None:
    for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
        if fd not in keep:
            with contextlib.suppress(OSError):  # the listing's own descriptor, closed already
                os.close(fd)


def _become_kernel(request: dict) -> None:
    """B: the kernel, in the sandbox, with the rights and the environment of a cold kernel."""
    code = 70
    try:
        os.setsid()  # bwrap --new-session
        devnull = os.open("/dev/null", os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)  # the cold kernel's stdout is /dev/null too (sandbox.py)
        _close_fds({0, 1, 2})
        for limit, value in ((resource.RLIMIT_AS, request["memory"]),
                             (resource.RLIMIT_FSIZE, request["fsize"])):
            resource.setrlimit(limit, (value, value))  # prlimit --as --fsize
        drop_capabilities()
        os.chdir(request["workdir"])
        if request["argv"] == ["--probe"]:  # pool.check_pool: the path works, up to here
            # into the kernel folder: the working folder is the sandbox's own tmpfs
            with open(request["probe"], "w") as handle:
                handle.write(str(os.getuid()))
            os._exit(0)
        os.environ.clear()
        os.environ.update(request["env"])
        # what the preloaded imports wrote into the environment, as they do in a cold kernel
        # (debugpy sets PYDEVD_USE_FRAME_EVAL)
        os.environ.update(_import_environment)
        # as `python -m ipykernel_launcher -f FILE` started in the working folder
        import ipykernel_launcher

        sys.argv = [ipykernel_launcher.__file__, *request["argv"]]
        from ipykernel import kernelapp

        code = 0
        kernelapp.launch_new_instance()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = code or 1
    _exit_like_python(code)


def _exit_like_python(code: int) -> None:
    """What the interpreter does at exit: wait for non-daemon threads, run atexit hooks."""
    import atexit
    import threading

    try:
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _enter(conn: socket.socket) -> None:
    """C: read the request, enter the sandbox, fork A and B, hand the worker a pidfd of B."""
    request = json.loads(conn.recv(MESSAGE))
    _close_fds({conn.fileno(), 2})
    for procs in request["cgroup"]:  # before the mount namespace hides the grader's cgroupfs
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
    holder = str(int(request["holder"]))
    fds = {ns: os.open(f"{holder}/ns/{ns}", os.O_RDONLY, dir_fd=proc) for ns in NAMESPACES}
    for ns in NAMESPACES:  # a wrong pid must not leave a kernel in the grader's namespaces
        if os.readlink(f"self/ns/{ns}", dir_fd=proc) == os.readlink(f"{holder}/ns/{ns}",
                                                                    dir_fd=proc):
            raise OSError(f"the sandbox shares the grader's {ns} namespace")
    for ns, flag in NAMESPACES.items():
        _check(_libc.setns(fds[ns], flag), f"setns {ns}")
        os.close(fds[ns])
    go_read, go_write = os.pipe()
    forked_read, forked_write = os.pipe()
    a = os.fork()
    if a == 0:  # A, in the sandbox's pid namespace
        for fd in (go_write, forked_read, proc, conn.fileno()):
            os.close(fd)
        if os.fork() == 0:
            os.close(go_read)
            os.close(forked_write)
            _become_kernel(request)
        os.write(forked_write, b"1")
        os.read(go_read, 1)  # stay B's parent until the worker holds B's pidfd (no pid reuse)
        os._exit(0)
    os.close(go_read)
    os.close(forked_write)
    os.read(forked_read, 1)
    with open(f"{a}/task/{a}/children", opener=lambda p, f: os.open(p, f, dir_fd=proc)) as f:
        kernel = int(f.read().split()[0])
    pidfd = os.pidfd_open(kernel)
    socket.send_fds(conn, [json.dumps({"pid": kernel}).encode()], [pidfd])
    os.close(go_write)  # A exits; B's parent becomes the sandbox's pid 1
    os.waitpid(a, 0)


def _child(conn: socket.socket) -> None:
    code = 0
    try:
        _enter(conn)
    except BaseException as error:
        code = 1
        with contextlib.suppress(OSError):
            conn.send(json.dumps({"error": f"{type(error).__name__}: {error}"}).encode())
    os._exit(code)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _format_a_traceback() -> None:
    """Format one traceback of the zygote's own as a kernel formats a student's. The first
    traceback in a process builds pygments' Python lexer (a few hundred regular expressions),
    about 0.07 s of every notebook's kernel, since every notebook ends with the canary's
    failing assert (execution.py). Done here once, before any submission exists, it is in
    the pages every kernel inherits (docs/warm-kernel-pool.md, "What one kernel start
    costs"). No shell is made: the kernel makes its own, with its own settings."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.ultratb import AutoFormattedTB

    traits = InteractiveShell.class_traits()
    formatter = AutoFormattedTB(mode=traits["xmode"].default_value,
                                theme_name=traits["colors"].default_value)
    try:
        raise AssertionError("the zygote's own traceback")  # from this file: it has source
    except AssertionError:
        formatter.structured_traceback(*sys.exc_info())


def serve(control: socket.socket, preload: bool = True) -> None:
    """Preload, say ready, then fork a child per request until the worker closes the socket."""
    _prctl(PR_SET_PDEATHSIG, 9)  # the zygote never outlives its worker
    start = time.perf_counter()
    # `-m` put the zygote's folder first on the path; ipykernel_launcher removes its own the
    # same way, before its imports (IPython puts '' back when the kernel starts)
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    if preload:
        import importlib

        before = dict(os.environ)
        for name in PRELOAD:
            importlib.import_module(name)
        _import_environment.update({key: value for key, value in os.environ.items()
                                    if before.get(key) != value})
        _format_a_traceback()
    control.send(json.dumps({"threads": threads(), "zmq": zmq_context_exists(),
                             "seconds": time.perf_counter() - start}).encode())
    while True:
        _reap()
        message, fds, _, _ = socket.recv_fds(control, 16, 1)
        if not message:
            return
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        if threads() != 1:  # never fork a process with threads: their locks would be copied
            os.close(fds[0])
            return
        if os.fork() == 0:
            control.close()
            _child(socket.socket(fileno=fds[0]))
        os.close(fds[0])


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])), preload="--no-preload" not in sys.argv)
