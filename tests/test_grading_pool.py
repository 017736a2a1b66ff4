"""The warm kernel pool (src/course/grading/pool.py, docs/warm-kernel-pool.md): a forked kernel
is what a cold one is, in its own sandbox; what one submission leaves behind never reaches the
next; a killed zygote is replaced; where the pool cannot run, grading says why and goes cold.
The hostile batch, graded with and without the pool, is in test_grading_hostile.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from course.grading import pool
from course.grading.limits import GroupTree, Limits
from course.grading.pipeline import autograde
from course.grading.pool import PooledKernelManager, PoolUnavailable, check_pool, use_pool
from course.grading.sandbox import HASH_SEED, SandboxedKernelManager
from tests.support.course import (
    cell_scores,
    executed_outputs,
    make_course,
    submit,
)
from tests.support.sandbox import FORK_BOMB_CELL, MEMORY_HOGS_CELL, MiB, run_in_group

# What a kernel can learn about its own process and sandbox; equal for both ways of starting
# it. Not printed: pid numbers, and the session (a cold kernel is in the session of the
# sandbox's pid 1, a forked one leads its own; either way the sandbox's pid 1 is out of reach).
IDENTITY = [
    "import os, sys, resource; print(os.getppid(), os.getuid(), os.getgid(), os.getgroups(), "
    "os.getcwd())",
    "print(sys.path, sys.argv[0], sys.flags, __name__)",
    "print(sorted(os.environ.items()))",
    "print([l for l in open('/proc/self/status') if l.startswith(('Cap', 'NoNewPrivs', "
    "'Seccomp:', 'Uid', 'Gid'))])",
    "print([resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_FSIZE)])",
    "print(open('/proc/self/cgroup').read(), open('/proc/self/mountinfo').read().count('\\n'))",
    "print([os.readlink(f'/proc/1/ns/{ns}') == os.readlink(f'/proc/self/ns/{ns}') "
    "for ns in ('mnt', 'net', 'ipc', 'uts', 'user', 'pid', 'cgroup')])",
    "print(len([p for p in os.listdir('/proc') if p.isdigit()]))",
    "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 22), timeout=2)\n"
    "except OSError as error:\n    print(type(error).__name__)",
    "1 / 0",
    "print(hash('grading'))",  # the string hash seed: the zygote's, for a forked kernel
]


def run(manager: type, workdir: Path, course: Path, cells: list[str]) -> list[str]:
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    client = NotebookClient(nb, timeout=20, allow_errors=True, kernel_manager_class=manager,
                            resources={"metadata": {"path": str(workdir)}})
    client.km = client.create_kernel_manager()
    client.km.course_root = str(course)
    client.km.memory_limit = "1GiB"
    client.execute()
    return ["".join(o.get("text") or "".join(o.get("traceback", [])) for o in cell.outputs)
            for cell in nb.cells]


def test_a_forked_kernel_is_a_cold_kernel_in_its_own_sandbox(bwrap: None, tmp_path: Path) -> None:
    course, workdir = tmp_path / "course", tmp_path / "course" / "autograder" / "alice"
    workdir.mkdir(parents=True)
    cold = run(SandboxedKernelManager, workdir, course, IDENTITY)
    forked = run(PooledKernelManager, workdir, course, IDENTITY)
    # the kernel directory (connection file, IPYTHONDIR) is a new temporary one per kernel
    kernel_dirs = re.compile(r"/(?:tmp|dev/shm)/ck-[a-z0-9_]+")
    for index, (mine, theirs) in enumerate(zip(forked, cold, strict=True)):
        assert kernel_dirs.sub("ck", mine) == kernel_dirs.sub("ck", theirs), IDENTITY[index]
    assert forked[0] == f"1 65534 65534 [] {workdir}\n"  # a child of the sandbox pid 1
    assert r"CapEff:\t0000000000000000" in forked[3] and r"NoNewPrivs:\t1" in forked[3]
    # every namespace is the sandbox's own (pid 1's), and pid 1 and the kernel are all it sees
    assert forked[6] == "[True, True, True, True, True, True, True]\n" and forked[7] == "2\n"
    assert forked[8] == "ConnectionRefusedError\n"
    assert "ZeroDivisionError" in forked[9]
    # both hash strings with the grading seed, not merely the same one (docs/sandbox.md)
    seeded = subprocess.run([sys.executable, "-c", "print(hash('grading'))"], text=True,
                            env={**os.environ, "PYTHONHASHSEED": HASH_SEED},
                            capture_output=True, check=True)
    assert forked[10] == seeded.stdout


def test_a_forked_kernel_is_held_to_its_submissions_cgroup(group_tree: GroupTree,
                                                           tmp_path: Path) -> None:
    group = group_tree.create("dora", Limits(memory_bytes=600 * MiB, processes=40))
    outputs = run_in_group([
        FORK_BOMB_CELL,
        # the memory test below needs the task slots back
        "import signal\nfor kid in kids:\n    os.kill(kid, signal.SIGKILL)\n    os.waitpid(kid, 0)",
        MEMORY_HOGS_CELL,
    ], group, tmp_path, manager=PooledKernelManager)
    started, error = outputs[0].split()
    assert error == "BlockingIOError" and int(started) < 40
    assert group.refused_forks() >= 1
    assert -9 in eval(outputs[2]) and group.oom_kills() >= 1


def test_a_killed_zygote_is_replaced(bwrap: None, tmp_path: Path) -> None:
    run(PooledKernelManager, tmp_path, tmp_path, ["print(6 * 7)"])
    first = pool._zygote
    assert first is not None and first.alive()
    first.process.kill()
    first.process.wait()
    assert run(PooledKernelManager, tmp_path, tmp_path, ["print(6 * 7)"]) == ["42\n"]
    assert pool._zygote is not first and pool._zygote.alive()


def test_a_failed_fork_starts_that_kernel_cold_and_says_so(bwrap: None,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def refused() -> None:
        raise PoolUnavailable("fork refused here")

    monkeypatch.setattr(pool, "worker_zygote", refused)
    # notices said once per process: only this test's may be in the set
    monkeypatch.setattr(pool, "_said", set())
    assert run(PooledKernelManager, tmp_path, tmp_path, ["print(6 * 7)"]) == ["42\n"]
    assert "NOTICE" in caplog.text and any("fork refused here" in m for m in pool._said)


def test_without_user_namespaces_grading_goes_cold_with_one_notice(bwrap: None,
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # a bubblewrap that fails as it does where user namespaces are off
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    config = Config()
    config.SandboxedKernelManager.bwrap = str(fake)
    config.Execute.kernel_manager_class = "cold"
    assert not use_pool(config, sandbox=True)
    err = caplog.text
    assert err.count("NOTICE") == 1 and "--no-pool" in err and "the sandbox did not start" in err
    assert config.Execute.kernel_manager_class == "cold"
    assert not use_pool(Config(), sandbox=False)
    assert "--no-sandbox" in caplog.text
    with pytest.raises(PoolUnavailable):
        check_pool(str(fake))


def test_nothing_a_submission_leaves_reaches_the_next_on_its_worker(bwrap: None,
        tmp_path: Path, capfd: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture) -> None:
    root = make_course(tmp_path / "course")
    # one worker grades them in this order (students are graded by name)
    submit(root, "a", "hostile/leaves-thread-atexit-and-patched-modules")
    submit(root, "b", "hostile/kills-its-parent-and-the-zygote")
    submit(root, "c", "honest/looks-for-leftovers")
    results = autograde(root, "ps0", workers=1, timeout=10, progress=False)  # pooled
    # the pool graded all three (the worker's notices go to stderr, the parent's to the log)
    assert "warm kernel pool" not in capfd.readouterr().err + caplog.text
    assert [sorted({f.kind for f in r.findings}) for r in results] == [[], ["kernel-died"], []]
    assert cell_scores(root)["c"] == {"test_double": 1, "test_count_words": 2, "why_date": 0}
    printed = executed_outputs(root, "c")
    assert any("leftovers: []" in o.get("text", "") for cell in printed for o in cell)


def test_a_forked_kernels_first_traceback_builds_no_lexer_the_zygote_built(
        tmp_path: Path) -> None:
    """Every notebook's kernel formats at least one traceback (the canary's). The first one in
    a process builds pygments' Python lexer, about 0.07 s of each kernel; the zygote formats one
    of its own before any submission exists. Here a shell made after the zygote's warm-up, as
    a forked kernel makes its own, formats a cell's traceback: it may build only the lexer
    class stack_data makes afresh for each frame. A pygments, stack_data or IPython upgrade
    that needs more fails here, naming what the warm-up should format too."""
    script = (
        "import json, pygments.lexer as lexer\n"
        "from course.grading import zygote\n"
        "built = []\n"
        "original = lexer.RegexLexerMeta.process_tokendef\n"
        "def counted(cls, *args):\n"
        "    built.append(cls.__qualname__)\n"
        "    return original(cls, *args)\n"
        "lexer.RegexLexerMeta.process_tokendef = counted\n"
        "zygote._format_a_traceback()\n"
        "warm = list(built)\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "del built[:]\n"
        "InteractiveShell.instance().run_cell('assert False, 1', silent=True)\n"
        "print(json.dumps({'warm': warm, 'first': built}))\n")
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")}  # the shell's history
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True, env=env)
    built = json.loads(done.stdout.strip().splitlines()[-1])
    assert "PythonLexer" in built["warm"], "the zygote's warm-up formatted no Python source"
    rebuilt = [name for name in built["first"] if "<locals>" not in name]
    assert built["first"] and not rebuilt, (
        f"a kernel's first traceback still builds {rebuilt}: format what builds them in "
        "zygote._format_a_traceback")


def test_the_zygote_preloads_everything_a_kernel_imports_at_start_up(tmp_path: Path) -> None:
    """A forked kernel's start is cheap only while the zygote has already imported what
    IPKernelApp.initialize imports (debugpy, through ipykernel.debugger, was most of it). An
    ipykernel or IPython upgrade that imports something new at start-up fails here, naming
    what to add to zygote.PRELOAD."""
    script = (
        "import importlib, json, os, sys\n"
        "from course.grading.zygote import PRELOAD\n"
        "for name in PRELOAD: importlib.import_module(name)\n"
        "before = set(sys.modules)\n"
        "from jupyter_client.connect import write_connection_file\n"
        f"path, _ = write_connection_file({str(tmp_path / 'k.json')!r}, transport='ipc', "
        f"ip={str(tmp_path / 'k')!r})\n"
        "from ipykernel.kernelapp import IPKernelApp\n"
        "IPKernelApp.instance().initialize(['-f', path])\n"
        "new = sorted(set(sys.modules) - before)\n"
        f"open({str(tmp_path / 'new.json')!r}, 'w').write(json.dumps(new))\n"
        "os._exit(0)\n")
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    new = set(json.loads((tmp_path / "new.json").read_text()))
    assert not new, f"a kernel imports these at start-up; add them to zygote.PRELOAD: {new}"
