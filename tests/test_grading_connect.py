"""A grading kernel's client and manager connect to its sockets before the kernel has bound
them. ZMQ then tries again after RECONNECT_IVL, 100-200 ms by default: most of a forked
kernel's start (docs/warm-kernel-pool.md, "What one kernel start costs"). The grading
contexts retry after RECONNECT_MS instead, and go with their kernel: a worker that grades
many notebooks keeps no context, thread or socket of an earlier one."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.connect import write_connection_file
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from course.grading import sandbox
from course.grading.pool import PooledKernelManager
from course.grading.sandbox import (
    RECONNECT_MS,
    GradingKernelClient,
    SandboxedKernelManager,
    grading_context,
)


def _intervals(tmp_path: Path) -> dict[str, int]:
    """RECONNECT_IVL of each socket a grading manager and its client open to a kernel that has
    not bound its sockets (here: no kernel at all)."""
    connection_file, _ = write_connection_file(str(tmp_path / "kernel.json"), transport="ipc",
                                               ip=str(tmp_path / "kernel-ipc"))

    async def connect() -> dict[str, int]:
        manager = SandboxedKernelManager(sandbox=False, connection_file=connection_file)
        manager.load_connection_file()
        manager._connect_control_socket()
        client = manager.client()
        assert isinstance(client, GradingKernelClient)
        client.start_channels(hb=False)
        try:
            sockets = {"control (manager)": manager._control_socket,
                       "shell": client.shell_channel.socket,
                       "iopub": client.iopub_channel.socket,
                       "stdin": client.stdin_channel.socket,
                       "control": client.control_channel.socket}
            intervals = {name: s.getsockopt(zmq.RECONNECT_IVL) for name, s in sockets.items()}
            # the heartbeat channel makes its socket in its own thread, from the same context
            assert client.hb_channel.context is client.context
            return intervals
        finally:
            client.stop_channels()
            manager._close_control_socket()
            manager.context.destroy(linger=0)
            manager.cleanup_connection_file()
            assert client.context.closed

    # a loop of its own, in a thread: the browser tests' Playwright keeps one running here
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, connect()).result(timeout=60)


def test_a_grading_kernels_sockets_retry_a_kernel_not_bound_yet_within_milliseconds(
        tmp_path: Path) -> None:
    intervals = _intervals(tmp_path)
    assert len(intervals) == 5
    slow = {name: ms for name, ms in intervals.items() if ms != RECONNECT_MS}
    assert not slow, f"sockets that wait more than {RECONNECT_MS} ms to retry: {slow}"
    assert RECONNECT_MS <= 10


def test_jupyter_clients_own_client_waits_zmqs_default_tenth() -> None:
    """Why the grading client has a context of its own: jupyter_client's leaves ZMQ's default."""
    client = AsyncKernelClient()
    try:
        with client.context.socket(zmq.DEALER) as socket:
            assert socket.getsockopt(zmq.RECONNECT_IVL) == 100
    finally:
        client.context.destroy(linger=0)


def _held() -> tuple[int, int]:
    """Threads and open files of this process."""
    return len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))


def _close_event_loop() -> None:
    """Close the event loop nbclient made for this thread."""
    asyncio.get_event_loop_policy().get_event_loop().close()


def _grade_one(manager: type, workdir: Path) -> list[dict]:
    nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    client = NotebookClient(nb, timeout=20, kernel_manager_class=manager,
                            resources={"metadata": {"path": str(workdir)}})
    client.km = client.create_kernel_manager()
    client.km.course_root = str(workdir)
    client.execute()
    return nb.cells[0].outputs


@pytest.mark.parametrize("manager", [SandboxedKernelManager, PooledKernelManager],
                         ids=["cold", "pooled"])
def test_a_worker_keeps_nothing_of_the_kernels_it_has_finished(
        bwrap: None, tmp_path: Path, manager: type, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[zmq.Context] = []

    def recorded() -> zmq.Context:
        made.append(context := grading_context())
        return context

    monkeypatch.setattr(sandbox, "grading_context", recorded)
    # one thread, with its own event loop (as above), grades them all, as a worker does
    with ThreadPoolExecutor(1) as thread:
        def grade_one() -> list[dict]:
            made.clear()
            outputs = thread.submit(_grade_one, manager, tmp_path).result(timeout=120)
            # the client's context and the manager's, closed when the notebook is done
            assert len(made) == 2 and all(context.closed for context in made)
            return outputs

        assert grade_one()[0]["text"] == "42\n"  # the first also starts the pool's zygote
        after_first = _held()
        for _ in range(5):
            assert grade_one()[0]["text"] == "42\n"
        assert _held() == after_first, "threads and open files (after one kernel, after six)"
        thread.submit(_close_event_loop).result(timeout=60)
