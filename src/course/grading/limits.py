"""Per-submission resource limits: one control group (cgroup) per student's submission.

``prlimit`` in the sandbox caps each process on its own, so a submission that starts children
could use many times its memory in total, fork until the machine has no process slots left, or
keep every core busy (sandbox-notes, pitfall 6). Every process a submission's kernels start is
put in one cgroup, which caps their sum: memory (the kernel's OOM killer stops the group's
largest process past it), the number of processes, and CPU time.

Both cgroup layouts are handled: v1 (one folder tree per controller, as on these machines) and
v2 (one unified tree, where the grader's own group must allow child groups with the memory and
pids controllers). Where neither can be used, :func:`detect` says why, and the caller decides
what to tell the instructor: grading is never limited less than asked without a word.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_FS = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids", "cpu")  # cpu is optional: no CPU cap where it is missing
CFS_PERIOD_US = 100_000
# The shell prefix that joins the groups, then becomes the kernel command: the sandbox and
# everything in it inherit the groups. Failing to join stops the start-up (no silent fallback).
JOIN_SCRIPT = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 70; shift; done; shift; exec "$@"'


class LimitsUnavailable(RuntimeError):
    """No cgroup can be made here to hold a submission's processes."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use, all its processes together."""

    memory_bytes: int
    processes: int = 256
    cpus: float = 1.0


@dataclass
class ResourceGroup:
    """One submission's cgroup: its folder per controller (v1) or its one folder (v2)."""

    folders: dict[str, Path]
    version: int

    def join_files(self) -> list[str]:
        """The ``cgroup.procs`` files a process writes its pid to, to join the group."""
        return sorted({str(folder / "cgroup.procs") for folder in self.folders.values()})

    def folder(self, controller: str) -> Path | None:
        return self.folders.get(controller) or self.folders.get("unified")

    def _counter(self, controller: str, v2_file: str, v1_file: str, key: str) -> int:
        folder = self.folder(controller)
        if folder is None:
            return 0
        path = folder / (v2_file if self.version == 2 else v1_file)
        with contextlib.suppress(OSError, ValueError):
            for line in path.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
        return 0

    def oom_kills(self) -> int:
        """Processes the kernel killed because the group was over its memory limit."""
        return self._counter("memory", "memory.events", "memory.oom_control", "oom_kill")

    def refused_forks(self) -> int:
        """Process starts refused because the group had reached its process limit."""
        return self._counter("pids", "pids.events", "pids.events", "max")

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.join_files():
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in Path(path).read_text().split())
        return sorted(found)

    def remove(self, wait: float = 5.0) -> None:
        """Kill what is left in the group (a sandbox that outlived its kernel), then remove it."""
        deadline = time.monotonic() + wait
        while True:
            left = self.pids()
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            try:
                for folder in self.folders.values():
                    if folder.exists():
                        folder.rmdir()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


@dataclass
class GroupTree:
    """Where this grading run makes its submissions' groups: one parent folder per controller
    (v1) or one in the unified tree (v2), removed with everything in it at the end."""

    parents: dict[str, Path]
    version: int
    groups: list[ResourceGroup] = field(default_factory=list)

    def create(self, name: str, limits: Limits) -> ResourceGroup:
        """A new group called ``name`` (a student id is fine) with ``limits`` set."""
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        folders: dict[str, Path] = {}
        for controller, parent in self.parents.items():
            folder = parent / f"{safe}-{len(self.groups)}"
            folder.mkdir()
            folders[controller] = folder
        group = ResourceGroup(folders, self.version)
        self.groups.append(group)
        _set_limits(group, limits)
        return group

    def remove(self) -> None:
        for group in self.groups:
            with contextlib.suppress(OSError):
                group.remove()
        for parent in set(self.parents.values()):
            with contextlib.suppress(OSError):
                parent.rmdir()
        self.groups.clear()


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _set_limits(group: ResourceGroup, limits: Limits) -> None:
    quota = max(1000, int(limits.cpus * CFS_PERIOD_US))
    if group.version == 2:
        folder = group.folders["unified"]
        _write(folder / "memory.max", str(limits.memory_bytes))
        # no swap: the memory cap must be a real cap
        with contextlib.suppress(OSError):
            _write(folder / "memory.swap.max", "0")
        _write(folder / "pids.max", str(limits.processes))
        if (folder / "cpu.max").exists():
            _write(folder / "cpu.max", f"{quota} {CFS_PERIOD_US}")
        return
    memory = group.folders["memory"]
    _write(memory / "memory.limit_in_bytes", str(limits.memory_bytes))
    if (memory / "memory.memsw.limit_in_bytes").exists():  # swap accounting is on
        _write(memory / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
    _write(group.folders["pids"] / "pids.max", str(limits.processes))
    if "cpu" in group.folders:
        _write(group.folders["cpu"] / "cpu.cfs_period_us", str(CFS_PERIOD_US))
        _write(group.folders["cpu"] / "cpu.cfs_quota_us", str(quota))


def _own_groups(proc_cgroup: str) -> tuple[dict[str, str], str | None]:
    """This process's v1 group path per controller, and its v2 path (from /proc/self/cgroup)."""
    v1: dict[str, str] = {}
    v2 = None
    for line in proc_cgroup.splitlines():
        number, _, rest = line.partition(":")
        names, _, path = rest.partition(":")
        if number == "0" and not names:
            v2 = path
        for name in names.split(","):
            if name in CONTROLLERS:
                v1[name] = path
    return v1, v2


def _v1_parents(fs: Path, own: dict[str, str], run: str) -> dict[str, Path]:
    parents = {}
    for controller in CONTROLLERS:
        if controller not in own:
            continue
        folder = fs / controller / own[controller].lstrip("/")
        if not (folder / "cgroup.procs").exists():
            continue  # the controller is not mounted on its own, or mounted elsewhere
        parents[controller] = folder / run
    missing = {"memory", "pids"} - set(parents)
    if missing:
        raise LimitsUnavailable(f"cgroup v1 without the {', '.join(sorted(missing))} "
                                f"controller under {fs}")
    return parents


def _v2_parent(fs: Path, own: str, run: str) -> Path:
    folder = fs / own.lstrip("/")
    available = set((folder / "cgroup.controllers").read_text().split())
    enabled: set[str] = set()
    with contextlib.suppress(OSError):  # unknown: try to enable them below
        enabled = set((folder / "cgroup.subtree_control").read_text().split())
    wanted = {"memory", "pids"} | ({"cpu"} & available)
    if not wanted <= enabled:
        try:
            _write(folder / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
        except OSError as error:
            raise LimitsUnavailable(
                f"cgroup v2: child groups of {folder} cannot have the memory and pids "
                f"controllers ({error.strerror or error}); run the grader in a cgroup of its "
                "own that delegates them") from error
    return folder / run


def detect(fs: Path = CGROUP_FS, proc_cgroup: str | None = None) -> GroupTree:
    """A tree for this grading run's groups, made now; LimitsUnavailable says why not."""
    if proc_cgroup is None:
        try:
            proc_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError as error:
            raise LimitsUnavailable(f"no /proc/self/cgroup ({error.strerror})") from error
    own_v1, own_v2 = _own_groups(proc_cgroup)
    run = f"course-grader-{os.getpid()}"
    try:
        if (fs / "cgroup.controllers").exists() and own_v2 is not None:
            parent = _v2_parent(fs, own_v2, run)
            parents, version = {"unified": parent}, 2
        else:
            parents, version = _v1_parents(fs, own_v1, run), 1
        for folder in set(parents.values()):
            folder.mkdir(exist_ok=True)
    except LimitsUnavailable:
        raise
    except OSError as error:
        raise LimitsUnavailable(f"cannot make a cgroup under {fs} "
                                f"({error.strerror or error})") from error
    return GroupTree(parents, version)


def join_prefix(join_files: list[str]) -> list[str]:
    """A command prefix that puts the command's process in a group (by the group's
    :meth:`ResourceGroup.join_files`) before it starts."""
    return ["/bin/sh", "-c", JOIN_SCRIPT, "sh", *join_files, "--"] if join_files else []
