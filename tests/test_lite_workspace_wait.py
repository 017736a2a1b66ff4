"""The notebook opens without waiting for the workspace's save (lite_workspace_wait.py).

The build patches JupyterLab's minified ``apputils:load-statedb`` command, so these tests pin
the patch against the front end in jupyterlite-core's own archive, and check that a changed
front end stops the build. What the browser does with it is checked in tests/test_lite.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course.lite_workspace_wait import WorkspaceWaitError, unblock_routing
from tests.support.jupyterlite_app import extract_app_files

# The command's body as the front end of jupyterlite-core 0.8.6 carries it (minified), with
# the command after it.
STATE = (
    'd.addCommand(v.loadState,{label:a.__("Load state"),execute:async n=>{if(l)return;'
    'try{let n=await u.fetch(c);l||(l=!0,m.resolve({type:"overwrite",contents:n.data}))}'
    'catch({message:n}){console.warn(n)}if(c===d){delete a.clone;let n=r+i,'
    's=A.invoke().then(()=>o.stop);return s.then(()=>{o.navigate(n)}),s}await A.invoke()}}),'
    'd.addCommand(v.reset,{execute:async({reload:n})=>{await g.clear(),await A.invoke(),'
    'n&&o.reload()}})'
)


def _front_end(tmp_path: Path) -> Path:
    """The site's ``build/`` folder with the front end's scripts as jupyterlite-core ships
    them."""
    scripts = re.compile(r"build/[^/]+\.js")
    assert extract_app_files(tmp_path, lambda name: scripts.fullmatch(name) is not None)
    return tmp_path / "build"


def test_loading_the_state_no_longer_waits_for_its_save(tmp_path: Path) -> None:
    (tmp_path / "jlab_core.0123.js").write_text(STATE)
    (tmp_path / "other.js").write_text("/* no state here */")
    assert unblock_routing(tmp_path) == tmp_path / "jlab_core.0123.js"
    patched = (tmp_path / "jlab_core.0123.js").read_text()
    assert "return s.then(()=>{o.navigate(n)}),s}void A.invoke();}})" in patched
    assert len(patched) == len(STATE)  # the source map's columns still hold
    # the clone path still waits for the save before it navigates; reset is untouched
    assert "s=A.invoke().then(()=>o.stop)" in patched
    assert "await g.clear(),await A.invoke()," in patched
    assert (tmp_path / "other.js").read_text() == "/* no state here */"


def test_the_front_end_jupyterlite_core_ships_is_patched_in_one_place(tmp_path: Path) -> None:
    build = _front_end(tmp_path)
    before = {path.name: path.read_text(encoding="utf-8") for path in build.glob("*.js")}
    patched = unblock_routing(build)
    assert patched.name.startswith("jlab_core.")
    changed = [path.name for path in build.glob("*.js")
               if path.read_text(encoding="utf-8") != before[path.name]]
    assert changed == [patched.name]
    text = patched.read_text(encoding="utf-8")
    assert len(text) == len(before[patched.name])
    assert text.count(";}})") > before[patched.name].count(";}})")


def test_a_changed_command_fails_the_build_and_says_where_to_look(tmp_path: Path) -> None:
    (tmp_path / "jlab_core.0123.js").write_text(
        STATE.replace("s}await A.invoke()}}", "s}await A.invoke(),await B()}}"))
    with pytest.raises(WorkspaceWaitError, match=r"changed.*docs/lite\.md"):
        unblock_routing(tmp_path)


def test_the_same_wait_in_another_command_is_not_touched(tmp_path: Path) -> None:
    elsewhere = STATE.replace("v.loadState,", "v.loadOther,")
    (tmp_path / "jlab_core.0123.js").write_text(elsewhere)
    with pytest.raises(WorkspaceWaitError, match="0 places"):
        unblock_routing(tmp_path)
    assert (tmp_path / "jlab_core.0123.js").read_text() == elsewhere


def test_the_front_end_is_never_patched_twice(tmp_path: Path) -> None:
    (tmp_path / "jlab_core.0123.js").write_text(STATE)
    unblock_routing(tmp_path)
    with pytest.raises(WorkspaceWaitError, match="patched already"):
        unblock_routing(tmp_path)


def test_a_front_end_with_the_command_twice_fails_and_is_left_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "jlab_core.0123.js").write_text(STATE)
    (tmp_path / "jlab_core.4567.js").write_text(STATE)
    with pytest.raises(WorkspaceWaitError, match="2 places"):
        unblock_routing(tmp_path)
    assert [p.read_text() for p in sorted(tmp_path.glob("*.js"))] == [STATE, STATE]
