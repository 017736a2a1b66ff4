"""The full run on two pytest-xdist workers (`make test` runs `-n 2 --dist loadgroup`).

Tests that share a fixture made once per session or module (the built book, the graded
assignments, a Jupyter server) go to one worker, so that no fixture is made twice; the rest are
shared out one by one. The groups are found from the fixtures each test uses, like the markers
(tests/support/system.py), so a new test is grouped without anyone marking it.

pytest-xdist's own loadgroup reads `xdist_group` marks by renaming each test's node id, which
pytest 9 no longer allows (the marks are silently ignored). So here the workers, which collect
the tests, write the groups to a file the controller names (COURSE_XDIST_GROUPS), and the
controller's scheduler (xdist's load-by-scope, largest group first) reads them.
"""

from __future__ import annotations

import inspect
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import system

GROUPS_ENV = "COURSE_XDIST_GROUPS"


def _installed(function: Any) -> bool:
    """Whether a fixture comes from an installed package (pytest's tmp_path_factory, xdist's
    worker_id), not from the suite."""
    parts = Path(inspect.getfile(function)).parts
    return "site-packages" in parts or "dist-packages" in parts


def shared_fixtures(item: pytest.Item) -> list[str]:
    """The suite's own fixtures made once per module or session that ``item`` uses, directly
    or through another fixture, less those cheap enough to make again in each worker."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    return sorted(
        f"{defs[-1].baseid}::{name}" for name, defs in info.name2fixturedefs.items()
        if defs and defs[-1].scope in ("module", "package", "session")
        and name not in system.PER_WORKER_FIXTURES and not _installed(defs[-1].func)
    )


def worker_groups(items: list[pytest.Item]) -> dict[str, str]:
    """Node id -> group, for the tests that share such a fixture, directly or through a chain
    of other tests; a group is named after its fixtures. Tests in no group are left out."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    shared = {item.nodeid: shared_fixtures(item) for item in items}
    for fixtures in shared.values():
        for other in fixtures:
            parent[find(other)] = find(fixtures[0])
    members: dict[str, set[str]] = {}
    for fixture in list(parent):
        members.setdefault(find(fixture), set()).add(fixture.rpartition("::")[2])
    names = {root: "+".join(sorted(m)) for root, m in members.items()}
    return {nodeid: names[find(fixtures[0])] for nodeid, fixtures in shared.items() if fixtures}


def share_groups() -> Callable[[], None]:
    """In the controller, before the workers start: name the file they write the groups to.
    Returns what removes it again."""
    handle, path = tempfile.mkstemp(prefix="course-xdist-groups-", suffix=".json")
    os.close(handle)
    os.environ[GROUPS_ENV] = path

    def remove() -> None:
        os.environ.pop(GROUPS_ENV, None)
        Path(path).unlink(missing_ok=True)

    return remove


def record_groups(items: list[pytest.Item]) -> None:
    """In a worker, after collection: write the groups (every worker collects the same tests,
    so each writes the same file; the rename makes each write whole)."""
    path = os.environ.get(GROUPS_ENV)
    if not path:
        return
    part = Path(f"{path}.{os.getpid()}")
    part.write_text(json.dumps(worker_groups(items)), encoding="utf-8")
    os.replace(part, path)


def make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's load-by-scope scheduler, with each grouped test's scope its group."""
    from xdist.scheduler import LoadScopeScheduling

    class FixtureGroupScheduling(LoadScopeScheduling):  # type: ignore[misc]
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # read once the workers have collected
                path = os.environ.get(GROUPS_ENV, "")
                text = Path(path).read_text(encoding="utf-8") if path else ""
                if not text:
                    raise RuntimeError(f"no test groups in {GROUPS_ENV}={path!r}: "
                                       "pytest_configure (tests/support/plugin.py) names the file")
                self.groups = json.loads(text)
            return self.groups.get(nodeid, nodeid)

    return FixtureGroupScheduling(config, log)
