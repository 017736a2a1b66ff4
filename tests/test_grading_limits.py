"""Per-submission limits (course.grading.limits): every process of a submission is in one cgroup
that caps their memory together, their number and their CPU use; the groups are gone after the
run; and where no cgroup can be made, grading says so instead of limiting less in silence."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from course.grading import limits, pipeline
from course.grading.limits import (
    GroupTree,
    Limits,
    LimitsUnavailable,
    ResourceGroup,
    detect,
)
from tests.support.course import submit
from tests.support.sandbox import FORK_BOMB_CELL, MEMORY_HOGS_CELL, MiB, run_in_group


def peak_memory(group: ResourceGroup) -> int:
    folder = group.folder("memory")
    name = "memory.peak" if group.version == 2 else "memory.max_usage_in_bytes"
    return int((folder / name).read_text())


def test_a_submissions_processes_share_one_memory_cap(group_tree: GroupTree,
                                                       tmp_path: Path) -> None:
    group = group_tree.create("alice", Limits(memory_bytes=600 * MiB))
    outputs = run_in_group([MEMORY_HOGS_CELL, "print('kernel alive')"], group, tmp_path)
    codes = eval(outputs[0])
    assert -9 in codes and 0 in codes  # the OOM killer stopped some, the rest finished
    assert outputs[1] == "kernel alive\n"
    assert group.oom_kills() >= 1
    assert peak_memory(group) <= 600 * MiB


def test_a_fork_bomb_stops_at_the_process_cap(group_tree: GroupTree, tmp_path: Path) -> None:
    group = group_tree.create("bob", Limits(memory_bytes=1024 * MiB, processes=40))
    outputs = run_in_group([
        FORK_BOMB_CELL,
        "import os\nprint('still running', os.environ['OPENBLAS_NUM_THREADS'])",
    ], group, tmp_path)
    started, error = outputs[0].split()
    assert error == "BlockingIOError" and int(started) < 40
    # and numerical libraries are told to start one thread per CPU of the submission's share
    assert outputs[1] == "still running 1\n"
    assert group.refused_forks() >= 1
    group.remove()  # kills the sleeping children that the kernel's shutdown left, if any
    assert not any(folder.exists() for folder in group.folders.values())


def throttled_periods(group: ResourceGroup) -> int:
    stat = (group.folder("cpu") / "cpu.stat").read_text().split()
    return int(stat[stat.index("nr_throttled") + 1])


def test_a_submissions_cpu_use_is_capped(group_tree: GroupTree, tmp_path: Path) -> None:
    # a fifth of a core, so the cap shows even on a busy machine, where two busy children
    # would still get far more than that uncapped
    group = group_tree.create("carol", Limits(memory_bytes=1024 * MiB, cpus=0.2))
    outputs = run_in_group([
        "import resource, subprocess, sys, time\nstart = time.monotonic()\n"
        "busy = [subprocess.Popen([sys.executable, '-c', 'import time\\nend = time.monotonic()"
        " + 3\\nwhile time.monotonic() < end: pass']) for _ in range(2)]\n"
        "[b.wait() for b in busy]\nwall = time.monotonic() - start\n"
        "cpu = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print((cpu.ru_utime + cpu.ru_stime) / wall)",
    ], group, tmp_path)
    assert float(outputs[0]) < 0.3
    assert throttled_periods(group) > 0


def test_the_tree_of_a_run_is_removed_with_its_groups(cgroups: None) -> None:
    tree = detect()
    groups = [tree.create(name, Limits(memory_bytes=64 * MiB)) for name in ("a", "b/../c")]
    folders = [f for g in groups for f in g.folders.values()] + list(tree.parents.values())
    assert all(f.is_dir() for f in folders)
    assert all(".." not in f.name for f in folders)  # a student id cannot climb the tree
    tree.remove()
    assert not any(f.exists() for f in folders)


def fake_v2(root: Path, subtree: str, procs: list[int]) -> Path:
    """A stand-in unified tree: the grader's own group holds ``procs``."""
    own = root / "user.slice" / "grader.scope"
    own.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text(subtree)
    (own / "cgroup.procs").write_text("".join(f"{pid}\n" for pid in procs))
    return own


V2_SELF = "0::/user.slice/grader.scope\n"


def test_cgroup_v2_moves_the_grader_to_a_leaf_and_gives_groups_the_unified_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a real cgroup folder goes with its interface files; the stand-in's need rmtree
    monkeypatch.setattr(limits, "_rmdir", shutil.rmtree)
    own = fake_v2(tmp_path, "", [os.getpid()])
    tree = detect(tmp_path, V2_SELF)
    [leaf] = own.glob("course-grader-*-self")
    run = tree.parents["unified"]
    # a cgroup with processes cannot give its children controllers: the grader left first
    assert (leaf / "cgroup.procs").read_text() == str(os.getpid())
    assert (own / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert (run / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    group = tree.create("dave", Limits(memory_bytes=512 * MiB, processes=99))
    folder = group.folder("memory")
    assert tree.version == 2 and folder.parent == run
    assert (folder / "memory.max").read_text() == str(512 * MiB)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "pids.max").read_text() == "99"
    assert group.join_files() == [str(folder / "cgroup.procs")]
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 2\n")
    (folder / "pids.events").write_text("max 7\n")
    assert (group.oom_kills(), group.refused_forks()) == (2, 7)
    assert tree.remove() == []
    # controllers off again, then the grader back in its own group, and nothing left behind
    assert (own / "cgroup.subtree_control").read_text() == "-cpu -memory -pids"
    assert (own / "cgroup.procs").read_text() == str(os.getpid())
    assert not leaf.exists() and not run.exists()


def test_no_usable_cgroup_says_why(tmp_path: Path) -> None:
    with pytest.raises(LimitsUnavailable, match="without the memory, pids controller"):
        detect(tmp_path / "nothing-mounted", "")
    # v2, where the grader shares its cgroup (a login shell's, say): it cannot be emptied
    own = fake_v2(tmp_path / "shared", "", [1, os.getpid()])
    with pytest.raises(LimitsUnavailable, match="holds 1 other process.*systemd-run --scope"):
        detect(tmp_path / "shared", V2_SELF)
    assert (own / "cgroup.subtree_control").read_text() == ""  # left as it was
    assert not list(own.glob("course-grader-*"))
    # v2, with the controllers not delegated to the grader's cgroup
    own = fake_v2(tmp_path / "undelegated", "", [os.getpid()])
    (own / "cgroup.controllers").write_text("cpu\n")
    with pytest.raises(LimitsUnavailable, match="memory, pids controller is not delegated"):
        detect(tmp_path / "undelegated", V2_SELF)


def test_groups_of_a_grader_that_died_are_removed_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "_rmdir", shutil.rmtree)
    own = fake_v2(tmp_path, "+cpu +memory +pids", [])
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = own / f"course-grader-{dead.pid}-abc123" / "mallory-1"
    stale.mkdir(parents=True)
    alive = own / f"course-grader-{os.getpid()}-def456"
    alive.mkdir()
    detect(tmp_path, V2_SELF).remove()
    assert not stale.parent.exists() and alive.exists()


def own_run_folders() -> list[Path]:
    """The run folders this process's grading left in the cgroup trees: each run's name starts
    with the grader's pid (limits.RUN_PREFIX), and its token is new every run."""
    tree = detect()  # to learn where runs go; its own new folder is removed at once
    where = {folder.parent for folder in tree.parents.values()}
    tree.remove()
    return [run for parent in where
            for run in parent.glob(f"{limits.RUN_PREFIX}{os.getpid()}-*")]


def test_autograde_flags_the_fork_bomb_and_leaves_no_group(
    ps0_course: Path, cgroups: None, bwrap: None,
) -> None:
    root = ps0_course
    submit(root, "mallory", "hostile/fork-bomb")
    submit(root, "honest", "honest/full-marks")
    results = {r.student: r for r in pipeline.autograde(root, "ps0", timeout=20,
                                                        processes=64, progress=False)}
    assert {f.kind for f in results["mallory"].findings} == {"process-limit"}
    assert "more than 64 processes" in str(results["mallory"].findings[0])
    assert results["honest"].findings == [] and results["honest"].score == 3
    time.sleep(0.2)
    assert own_run_folders() == []


def test_without_cgroups_grading_says_so_and_goes_on(
    ps0_course: Path, bwrap: None, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def unavailable() -> GroupTree:
        raise LimitsUnavailable("cgroup v1 without the memory, pids controller under /x")

    monkeypatch.setattr(pipeline, "detect", unavailable)
    root = ps0_course
    submit(root, "honest", "honest/full-marks")
    [result] = pipeline.autograde(root, "ps0", timeout=20, progress=False)
    assert result.score == 3 and result.findings == []
    notice = caplog.text
    assert "NOTICE: no per-submission cgroup (cgroup v1 without the memory" in notice
    assert "capped at 2 GiB" in notice


def test_a_group_that_cannot_be_made_is_said_and_the_student_still_graded(
    ps0_course: Path, cgroups: None, bwrap: None, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(self: GroupTree, name: str, limits: Limits) -> ResourceGroup:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(GroupTree, "create", refuse)
    root = ps0_course
    submit(root, "honest", "honest/full-marks")
    [result] = pipeline.autograde(root, "ps0", timeout=20, progress=False)
    assert result.score == 3 and result.findings == []
    assert "NOTICE: no cgroup for honest (No space left on device)" in caplog.text
