"""What the grading run does once instead of per notebook (course.grading.nbgrader_cache) changes
nothing nbgrader reads, writes or refuses: the same engine is reused but released, the same schema
refuses the same metadata with the same error, and a whole grading gives plain nbgrader's
gradebook and autograded notebooks."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

import jsonschema
import nbformat
import nbgrader.api
import nbgrader.nbgraderformat.common
import pytest
import sqlalchemy
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.nbgraderformat import MetadataValidator
from sqlalchemy.engine import Engine

from course.grading.nbgrader_cache import once_per_run
from course.grading.pipeline import autograde
from course.settings import load_config
from tests.support.course import make_course, submit

COURSE = "grading-tests"
UUID = re.compile(r"^[0-9a-f]{32}$")


def _gradebook_url(root: Path) -> str:
    return f"sqlite:///{root / 'autograder' / 'gradebook.db'}"


def _graded_cell(**nbgrader_metadata: object) -> nbformat.NotebookNode:
    cell = new_code_cell("assert double(2) == 4")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                 "grade_id": "test_double", "points": 1, "schema_version": 3,
                                 **nbgrader_metadata}
    return cell


def test_gradebook_openings_share_one_engine_only_inside_the_run(ps0_course: Path) -> None:
    url = _gradebook_url(ps0_course)
    original = nbgrader.api.create_engine
    with once_per_run():
        with Gradebook(url, COURSE) as first:
            engine = first.engine
        with Gradebook(url, COURSE) as second, Gradebook(url, COURSE) as nested:
            assert second.engine is engine is nested.engine
            assert [s.id for s in second.students] == []  # a closed opening left it usable
    assert nbgrader.api.create_engine is original
    with Gradebook(url, COURSE) as after:
        assert after.engine is not engine


def test_the_run_restores_nbgrader_after_an_error() -> None:
    common = nbgrader.nbgraderformat.common
    engines, schemas = nbgrader.api.create_engine, common.jsonschema
    inspector, create_all = nbgrader.api.inspect, nbgrader.api.Base.metadata.create_all
    check_course = Gradebook.check_course
    with pytest.raises(RuntimeError, match="a grading run failed"), once_per_run():
        raise RuntimeError("a grading run failed")
    assert nbgrader.api.create_engine is engines
    assert Gradebook.check_course is check_course
    assert common.jsonschema is schemas is jsonschema
    assert nbgrader.api.inspect is inspector is sqlalchemy.inspect
    assert nbgrader.api.Base.metadata.create_all == create_all
    assert "create_all" not in vars(nbgrader.api.Base.metadata)


def _table_checks(engine: Engine) -> list[str]:
    """The statements that look a table up, from now on, on ``engine``."""
    checks: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "table_info" in statement or "sqlite_master" in statement:
            checks.append(statement)

    sqlalchemy.event.listen(engine, "before_cursor_execute", record)
    return checks


def test_a_runs_gradebook_tables_are_checked_once(ps0_course: Path) -> None:
    url = _gradebook_url(ps0_course)
    with Gradebook(url, COURSE) as plain:  # outside a run: every opening checks every table
        checks = _table_checks(plain.engine)
        nbgrader.api.Base.metadata.create_all(bind=plain.engine)
        assert len(checks) >= len(nbgrader.api.Base.metadata.tables)
    with once_per_run():
        with Gradebook(url, COURSE) as first:
            checks = _table_checks(first.engine)
        with Gradebook(url, COURSE) as second:
            assert [s.id for s in second.students] == []
        assert checks == []


def test_a_run_connects_once_and_closes_its_connections_at_its_end(ps0_course: Path) -> None:
    url = _gradebook_url(ps0_course)
    connects: list[object] = []
    with once_per_run():
        with Gradebook(url, COURSE) as first:
            engine = first.engine
            sqlalchemy.event.listen(engine, "connect", lambda *args: connects.append(args))
            assert first.students == []
        for _ in range(3):
            with Gradebook(url, COURSE) as later:
                assert later.students == []
        with Gradebook(url, COURSE) as outer, Gradebook(url, COURSE) as inner:
            assert outer.students == inner.students == []  # two at once: two connections
        assert len(connects) == 1  # the first connection was kept; the nested opening made one
        pool = engine.pool
        assert pool.checkedout() == 0 and pool.checkedin() == 2  # every opening gave it back
    assert "dispose" not in vars(engine)  # Engine.dispose again
    assert pool.checkedin() == 0  # the run's end closed them
    with Gradebook(url, COURSE) as plain:  # outside a run, nbgrader's own dispose per close
        assert plain.engine is not engine


def test_a_database_servers_connections_are_not_kept_and_runs_may_nest(ps0_course: Path) -> None:
    # a server may drop a connection left idle while kernels run: only SQLite's are kept
    server = "postgresql+psycopg2://grader@127.0.0.1:9/gradebook"  # made, never connected
    with once_per_run():
        assert "dispose" not in vars(nbgrader.api.create_engine(server))
        # nested: the inner run's end must not break the outer one
        with once_per_run(), Gradebook(_gradebook_url(ps0_course), COURSE) as gb:
            engine = gb.engine
        assert "dispose" in vars(engine)  # still the outer run's, keeping its connections
        with Gradebook(_gradebook_url(ps0_course), COURSE) as gb:
            assert gb.engine is engine and gb.students == []
    assert "dispose" not in vars(engine)


def _course_lookups(engine: Engine) -> list[str]:
    """The statements that read the course table, from now on, on ``engine``."""
    lookups: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if re.search(r"FROM course\b", statement):
            lookups.append(statement)

    sqlalchemy.event.listen(engine, "before_cursor_execute", record)
    return lookups


def test_a_runs_course_is_checked_once_and_a_new_course_still_gets_its_row(
        ps0_course: Path) -> None:
    url = _gradebook_url(ps0_course)
    with once_per_run():
        with Gradebook(url, COURSE) as first:
            lookups = _course_lookups(first.engine)
        for _ in range(3):
            with Gradebook(url, COURSE):
                pass
        assert lookups == []  # the first opening checked it: later ones did not ask again
        with Gradebook(url, "another-course"):  # a course the run has not seen: nbgrader's check
            assert len(lookups) == 1
        with Gradebook(url, COURSE) as gb:  # any call but the constructor's is nbgrader's own
            assert gb.check_course(COURSE).id == COURSE
            assert len(lookups) > 1
    with sqlite3.connect(ps0_course / "autograder" / "gradebook.db") as db:
        assert ("another-course",) in db.execute("SELECT id FROM course").fetchall()


def test_a_new_gradebook_made_in_a_run_is_made_as_nbgrader_makes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # nbgrader asks the `alembic` command for the version to write, 3-4 s a time: only whether
    # the version row is written (once) matters here
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", lambda: "the-head")

    def schema(path: Path) -> list[tuple]:
        with sqlite3.connect(path) as db:
            return sorted(db.execute("SELECT type, name, sql FROM sqlite_master"))

    for name, run in (("plain", contextlib.nullcontext), ("in-run", once_per_run)):
        with run():
            for _ in range(3):  # made by the first opening, found by the others
                with Gradebook(f"sqlite:///{tmp_path / name}.db", COURSE) as gb:
                    gb.update_or_create_student("ann")
        with sqlite3.connect(tmp_path / f"{name}.db") as db:
            assert db.execute("SELECT * FROM alembic_version").fetchall() == [("the-head",)]
            assert db.execute("SELECT id FROM student").fetchall() == [("ann",)]
    assert schema(tmp_path / "in-run.db") == schema(tmp_path / "plain.db")


def test_bad_metadata_is_refused_with_the_same_error() -> None:
    cell = _graded_cell(points="one")
    with pytest.raises(jsonschema.ValidationError) as plain:
        MetadataValidator().validate_cell(cell)
    with once_per_run(), pytest.raises(jsonschema.ValidationError) as cached:
        MetadataValidator().validate_cell(cell)
        MetadataValidator().validate_cell(cell)
    assert str(cached.value) == str(plain.value)
    assert "'one' is not of type 'number'" in str(cached.value)


def test_the_schema_is_checked_once_and_every_cell_still_validated(
        monkeypatch: pytest.MonkeyPatch) -> None:
    checks: list[object] = []
    kind = jsonschema.validators.validator_for(MetadataValidator().schema)
    real_check = kind.check_schema
    monkeypatch.setattr(kind, "check_schema",
                        classmethod(lambda cls, schema: (checks.append(schema),
                                                         real_check(schema))[1]))
    good = nbformat.v4.new_notebook(cells=[_graded_cell(grade_id=f"t{i}") for i in range(5)])
    with once_per_run():
        for _ in range(3):  # nbgrader makes a new validator, with a new schema dict, per notebook
            MetadataValidator().validate_nb(good)
        with pytest.raises(jsonschema.ValidationError, match="'locked' is a required property"):
            bad = _graded_cell()
            del bad.metadata["nbgrader"]["locked"]
            MetadataValidator().validate_cell(bad)
    assert len(checks) == 1


def test_an_invalid_schema_is_still_refused() -> None:
    with once_per_run(), pytest.raises(jsonschema.SchemaError):
        nbgrader.nbgraderformat.common.jsonschema.validate({}, {"type": 12})


def _gradebook_rows(root: Path) -> dict[str, list[tuple]]:
    """Every row of every table, with the random ids masked (they differ between two runs)."""
    with sqlite3.connect(root / "autograder" / "gradebook.db") as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted((tuple("<id>" if isinstance(v, str) and UUID.match(v) else v
                                 for v in row) for row in db.execute(f"SELECT * FROM {t}")),
                          key=repr)
                for t in tables}


def _autograded(root: Path, student: str) -> nbformat.NotebookNode:
    nb = nbformat.read(root / "autograder" / "autograded" / student / "ps0" / "questions.ipynb",
                       as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timing
    return nb


def test_a_grading_run_writes_plain_nbgraders_gradebook_and_notebooks(
        ps0_course: Path, tmp_path: Path) -> None:
    ours, theirs = ps0_course, make_course(tmp_path / "theirs")
    students = {"ann": "honest/full-marks", "ben": "honest/partial-marks",
                "cat": "honest/wrong-answers"}
    for student, scenario in students.items():
        submit(ours, student, scenario)
        submit(theirs, student, scenario)

    results = autograde(ours, "ps0", workers=2, sandbox=False, progress=False)
    api = NbGraderAPI(config=load_config(theirs, grading=True, sandbox=False))
    assert api.autograde("ps0", "*")["success"]

    assert [r.findings for r in results] == [[]] * len(students)
    assert _gradebook_rows(ours) == _gradebook_rows(theirs)
    assert _gradebook_rows(ours)["grade"]  # the comparison compared scores
    for student in students:
        assert _autograded(ours, student) == _autograded(theirs, student)
