"""Per-submission resource limits: one control group (cgroup) per student's submission.

``prlimit`` in the sandbox caps each process on its own, so a submission that starts children
could use many times its memory in total, fork until the machine has no process slots left, or
keep every core busy (docs/sandbox.md, pitfall 6). Every process a submission's kernels start is
put in one cgroup, which caps their sum: memory (the kernel's OOM killer stops the group's
largest process past it), the number of tasks (processes and their threads), and CPU time.

Both cgroup layouts are handled:
- v1, one folder tree per controller (these machines): the run's groups go under the grader's
  own group of each controller;
- v2, one unified tree: a cgroup that holds processes cannot give its child groups controllers,
  so the grader first moves itself into a leaf of its own group (which must hold no other
  process, as in a delegated scope such as ``systemd-run --scope -p Delegate=yes``), enables
  the memory, pids and cpu controllers for the children, and moves back at the end.
Where neither can be used, :func:`detect` says why, and the caller decides what to tell the
instructor: grading is never limited less than asked without a word.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_FS = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids", "cpu")  # cpu is optional: no CPU cap where it is missing
CFS_PERIOD_US = 100_000
RUN_PREFIX = "course-grader-"
# The shell prefix that joins the groups, then becomes the kernel command: the sandbox and
# everything in it inherit the groups. Failing to join stops the start-up (no silent fallback).
JOIN_SCRIPT = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 70; shift; done; shift; exec "$@"'
SCOPE_HINT = ("start the grader in a cgroup of its own, for example with "
              "`systemd-run --scope -p Delegate=yes course autograde …` (as root) or "
              "`systemd-run --user --scope -p Delegate=yes course autograde …`")
# A cgroup folder goes with its interface files; a test's stand-in tree needs another remover.
_rmdir: Callable[[Path], None] = os.rmdir


class LimitsUnavailable(RuntimeError):
    """No cgroup can be made here to hold a submission's processes."""


# The defaults of `course autograde`, here with the other limits so that a newcomer finds them
# in one place: memory for each submission (sandbox.py's memory_limit), and seconds per cell,
# nbgrader's own Execute.timeout default written out (settings.load_config applies it unless
# nbgrader_config.py or --timeout sets another).
DEFAULT_MEMORY = "2GiB"
DEFAULT_CELL_TIMEOUT = 30
# A notebook may run for this many cell timeouts in all (300 s by default): each cell under
# its own limit must not add up to a run that never ends (docs/sandbox.md, pitfall 12).
NOTEBOOK_TIMEOUT_CELLS = 10
# Output bytes the grader keeps of one notebook: it holds them in memory and writes them to
# disk outside the submission's limits. nbgrader's own limit counts stream lines only.
MAX_OUTPUT_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Limits:
    """What one submission may use, all its processes together."""

    memory_bytes: int
    processes: int = 256  # tasks: processes and their threads (a bare kernel has about 11)
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
        """Process or thread starts refused because the group had reached its task limit."""
        return self._counter("pids", "pids.events", "pids.events", "max")

    def remove(self, wait: float = 5.0) -> None:
        """Kill what is left in the group (a sandbox that outlived its kernel), then remove it."""
        _remove_folders(list(self.folders.values()), wait)


def _pids(folder: Path) -> list[int]:
    with contextlib.suppress(OSError, ValueError):
        return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
    return []


def _remove_folders(folders: list[Path], wait: float = 5.0) -> None:
    deadline = time.monotonic() + wait
    while True:
        for folder in folders:
            for pid in _pids(folder):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        try:
            for folder in folders:
                if folder.exists():
                    _rmdir(folder)
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
    # v2: what gives the grader's own cgroup back the way it was, in order
    undo: list[Callable[[], None]] = field(default_factory=list)

    def create(self, name: str, limits: Limits) -> ResourceGroup:
        """A new group called after ``name`` (a student id is fine) with ``limits`` set."""
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        group = ResourceGroup({}, self.version)
        self.groups.append(group)  # first: a group half made is removed with the tree
        for controller, parent in self.parents.items():
            folder = parent / f"{safe}-{len(self.groups)}"
            folder.mkdir()
            group.folders[controller] = folder
        _set_limits(group, limits)
        return group

    def remove(self) -> list[str]:
        """Remove every group and the tree; what could not be removed, as messages."""
        left = []
        for group in self.groups:
            try:
                group.remove()
            except OSError as error:
                left.append(f"{group.join_files()}: {error.strerror or error}")
        for parent in set(self.parents.values()):
            try:
                if parent.exists():
                    _rmdir(parent)
            except OSError as error:
                left.append(f"{parent}: {error.strerror or error}")
        for step in self.undo:
            try:
                step()
            except OSError as error:
                left.append(f"restoring the grader's own cgroup: {error.strerror or error}")
        self.groups.clear()
        self.undo.clear()
        return left


def _set_limits(group: ResourceGroup, limits: Limits) -> None:
    quota = max(1000, int(limits.cpus * CFS_PERIOD_US))
    if group.version == 2:
        folder = group.folders["unified"]
        (folder / "memory.max").write_text(str(limits.memory_bytes))
        # no swap: the memory cap must be a real cap
        with contextlib.suppress(OSError):
            (folder / "memory.swap.max").write_text("0")
        (folder / "pids.max").write_text(str(limits.processes))
        if (folder / "cpu.max").exists():
            (folder / "cpu.max").write_text(f"{quota} {CFS_PERIOD_US}")
        return
    memory = group.folders["memory"]
    (memory / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
    if (memory / "memory.memsw.limit_in_bytes").exists():  # swap accounting is on
        (memory / "memory.memsw.limit_in_bytes").write_text(str(limits.memory_bytes))
    (group.folders["pids"] / "pids.max").write_text(str(limits.processes))
    if "cpu" in group.folders:
        (group.folders["cpu"] / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
        (group.folders["cpu"] / "cpu.cfs_quota_us").write_text(str(quota))


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_runs(base: Path) -> None:
    """Runs of graders that died (their pid is gone) left their groups: remove them."""
    for run in base.glob(f"{RUN_PREFIX}*"):
        pid = run.name.removeprefix(RUN_PREFIX).split("-")[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            _remove_folders([*(p for p in run.iterdir() if p.is_dir()), run], wait=1.0)


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


def _enable(folder: Path, controllers: set[str]) -> None:
    (folder / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in sorted(controllers)))


def _v2_parent(fs: Path, own: str, run: str) -> tuple[Path, list[Callable[[], None]]]:
    """The run's folder in the unified tree, and the steps that undo what making it changed."""
    folder = fs / own.lstrip("/")
    available = set((folder / "cgroup.controllers").read_text().split())
    missing = {"memory", "pids"} - available
    if missing:
        raise LimitsUnavailable(f"cgroup v2: the {', '.join(sorted(missing))} controller is not "
                                f"delegated to the grader's cgroup {folder}; {SCOPE_HINT}")
    wanted = {"memory", "pids"} | ({"cpu"} & available)
    enabled: set[str] = set()
    with contextlib.suppress(OSError):
        enabled = set((folder / "cgroup.subtree_control").read_text().split())
    undo: list[Callable[[], None]] = []
    if not wanted <= enabled:
        others = [pid for pid in _pids(folder) if pid != os.getpid()]
        if others:
            raise LimitsUnavailable(
                f"cgroup v2: the grader's cgroup {folder} also holds {len(others)} other "
                f"process(es), and a cgroup with processes cannot give child groups limits; "
                f"{SCOPE_HINT}")
        leaf = folder / f"{run}-self"
        leaf.mkdir()
        (leaf / "cgroup.procs").write_text(str(os.getpid()))

        def back() -> None:  # controllers off first: a cgroup using them takes no process
            (folder / "cgroup.subtree_control").write_text(
                " ".join(f"-{c}" for c in sorted(wanted - enabled)))
            (folder / "cgroup.procs").write_text(str(os.getpid()))
            _rmdir(leaf)

        try:
            _enable(folder, wanted)
        except OSError as error:
            (folder / "cgroup.procs").write_text(str(os.getpid()))
            _rmdir(leaf)
            raise LimitsUnavailable(f"cgroup v2: cannot enable {', '.join(sorted(wanted))} for "
                                    f"the child groups of {folder} ({error.strerror or error}); "
                                    f"{SCOPE_HINT}") from error
        undo.append(back)
    parent = folder / run
    parent.mkdir()
    _enable(parent, wanted)  # the submissions' groups are the run folder's children
    return parent, undo


def detect(fs: Path = CGROUP_FS, proc_cgroup: str | None = None) -> GroupTree:
    """A tree for this grading run's groups, made now; LimitsUnavailable says why not."""
    if proc_cgroup is None:
        try:
            proc_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError as error:
            raise LimitsUnavailable(f"no /proc/self/cgroup ({error.strerror})") from error
    own_v1, own_v2 = _own_groups(proc_cgroup)
    run = f"{RUN_PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
    try:
        if (fs / "cgroup.controllers").exists() and own_v2 is not None:
            _remove_stale_runs(fs / own_v2.lstrip("/"))
            parent, undo = _v2_parent(fs, own_v2, run)
            return GroupTree({"unified": parent}, 2, undo=undo)
        parents = _v1_parents(fs, own_v1, run)
        tree = GroupTree(parents, 1)
        for folder in parents.values():
            _remove_stale_runs(folder.parent)
            try:
                folder.mkdir()
            except OSError:
                tree.remove()  # the controllers' run folders made so far
                raise
        return tree
    except LimitsUnavailable:
        raise
    except OSError as error:
        raise LimitsUnavailable(f"cannot make a cgroup under {fs} "
                                f"({error.strerror or error})") from error


def join_prefix(join_files: list[str]) -> list[str]:
    """A command prefix that puts the command's process in a group (by the group's
    :meth:`ResourceGroup.join_files`) before it starts."""
    return ["/bin/sh", "-c", JOIN_SCRIPT, "sh", *join_files, "--"] if join_files else []
