"""The notebook opens without first waiting for a debounced save of the workspace.

On every page load, JupyterLab's router runs its commands one after another, and the first is
``apputils:load-statedb`` (``@jupyterlab/apputils-extension:state``). Its last line,
``await save.invoke()``, waits for a debounced save of the workspace (500 ms, started again by
every change to the state meanwhile) before the router goes on to the command that opens the
notebook. Measured in Chromium on 4 December 2026, that wait was 1.0-1.1 s of an idle main
thread in every start of the notebook app (docs/lite.md, "Start-up", item 6).

The build turns that ``await`` into ``void``: the save still runs, 500 ms later, and nothing
else waits for it. The command's other path (``?clone=``, which navigates once the save is
done) is left as it is. The file keeps its length, so its source map stays right.
"""

from __future__ import annotations

import re
from pathlib import Path

# `…,s=A.invoke().then(()=>o.stop);return s.then(()=>{o.navigate(n)}),s}await A.invoke()}})`:
# the clone path's return, then the wait, at the end of the command's body.
_WAIT = re.compile(
    r"(?P<clone>(?P<p>\w+)\.then\(\(\)=>\{\w+\.navigate\(\w+\)\}\),(?P=p)\})"
    r"await (?P<save>\w+)\.invoke\(\)(?P<end>\}\}\))"
)
_COMMAND = ".loadState,{"
_MARK = "void {save}.invoke();"  # as long as `await {save}.invoke()`
_PATCHED = re.compile(r"\}void \w+\.invoke\(\);\}\}\)")  # _MARK where the wait was


class WorkspaceWaitError(RuntimeError):
    """The front end's code is not what the patch expects; the message says what changed."""


def _fail(what: str) -> WorkspaceWaitError:
    return WorkspaceWaitError(
        f"{what}: jupyterlite-core's JupyterLab changed; see docs/lite.md, \"Start-up\", "
        "item 6, before updating course/lite_workspace_wait.py"
    )


def _in_load_state(text: str, at: int) -> bool:
    """Whether position ``at`` is inside the ``loadState`` command: the last command added
    before it is that one."""
    start = text.rfind(_COMMAND, 0, at)
    return start != -1 and "addCommand(" not in text[start:at]


def unblock_routing(build: Path) -> Path:
    """Patch the front end's scripts in ``build`` (the site's ``build/`` folder) so that
    loading the state does not wait for its save; returns the file patched."""
    found: list[tuple[Path, str, re.Match[str]]] = []  # (file, its text, the wait in it)
    for path in sorted(build.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        if _COMMAND not in text:
            continue
        matches = [m for m in _WAIT.finditer(text) if _in_load_state(text, m.start())]
        if not matches and _PATCHED.search(text):
            raise WorkspaceWaitError(f"{path} is patched already: build from a fresh copy")
        found.extend((path, text, match) for match in matches)
    if len(found) != 1:  # nothing is written unless the command is found exactly once
        raise _fail(f"{len(found)} places in {build} wait for the workspace's save as "
                    f"`{_WAIT.pattern}` in the loadState command, not one")  # fmt: skip
    path, text, match = found[0]
    new = match["clone"] + _MARK.format(save=match["save"]) + match["end"]
    path.write_text(text[: match.start()] + new + text[match.end():], encoding="utf-8")
    return path
