"""The instructor's guide (autograder/README.md) read as its fenced blocks: the tests run the
guide's commands as written."""

from __future__ import annotations

import re

from tests.support.paths import REPO

GUIDE = REPO / "autograder" / "README.md"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.S | re.M)


def fenced_blocks() -> list[tuple[str, str]]:
    """(info string, body) of every fenced block of the guide, in order."""
    return [(info.strip(), body) for info, body in FENCE.findall(GUIDE.read_text())]


def blocks(info: str) -> list[str]:
    """The bodies of the blocks whose info string is ``info`` (e.g. "sh formgrader")."""
    return [body for kind, body in fenced_blocks() if kind == info]


def lines(body: str) -> list[str]:
    """The non-blank lines of a block."""
    return [line for line in body.splitlines() if line.strip()]
