"""What nbgrader repeats for every notebook, done once per grading run instead.

Profiling `course autograde` (docs/nbgrader-boundary.md, "Speed") showed nbgrader's own work in
the grading process to be mostly set-up repeated per notebook, not grading:

- ``Gradebook(...)`` creates a new SQLAlchemy engine on every opening, about ten times per
  student (registering the submission, restoring the test cells, saving the scores), and
  SQLAlchemy caches compiled queries per engine, so every query was compiled anew;
- each opening also checks that every one of nbgrader's 13 tables exists (a reflection query
  each, through ``Base.metadata.create_all``), though nothing drops a table during a run, and
  that the course has its row, though nothing deletes one;
- each ``Gradebook.close()`` disposes of the engine's connections, so the next opening connects
  to the database anew;
- nbgrader's cell-metadata check calls ``jsonschema.validate`` once per graded cell, which
  checks nbgrader's own schema against the JSON Schema meta-schema every time before it checks
  the cell.

``once_per_run`` keeps one engine per gradebook URL (with its connections, for SQLite) until the
run ends; makes or checks each engine's tables and each course's row once; and keeps one checked
validator per schema while it is active. What nbgrader reads, writes and checks is unchanged:
``Gradebook.close()`` still ends its session (its transaction, if any, is rolled back and the
connection goes back to the engine's pool), the run's end closes every connection, a new
gradebook still gets its tables, alembic version and course row, and every cell is still
validated against the same schema, with the same error. Only the main grading process enters
it, the one process that opens the gradebook; nothing of a student's runs there.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import jsonschema
import nbgrader.api
import nbgrader.nbgraderformat.common
from sqlalchemy.engine import Engine


@contextlib.contextmanager
def once_per_run() -> Iterator[None]:
    """While the block runs: one gradebook engine per URL (with its connections, for SQLite);
    one table check per engine and one course check per engine and course; one check per
    schema."""
    with _shared_engines(), _tables_made_once(), _courses_checked_once(), _schemas_checked_once():
        yield


@contextlib.contextmanager
def _shared_engines() -> Iterator[None]:
    original = nbgrader.api.create_engine
    engines: dict[str, Engine] = {}
    kept: list[Engine] = []

    def shared(url: Any, **options: Any) -> Engine:
        key = f"{url}|{sorted(options.items())}"
        if key not in engines:
            engine = engines[key] = original(url, **options)
            # Gradebook.close() disposes of its engine: here that would close the connections
            # every later opening reuses, so each would connect anew (about a third of an
            # opening's time with SQLite). Its session still ends; the run's end closes them.
            # SQLite only: a database server may drop a connection left idle while kernels
            # run, and nbgrader's engine does not check one before it uses it. An engine that
            # keeps them already is an outer run's, and stays in its hands.
            if engine.dialect.name == "sqlite" and "dispose" not in vars(engine):
                engine.dispose = _keep_connections
                kept.append(engine)
        return engines[key]

    nbgrader.api.create_engine = shared
    try:
        yield
    finally:
        nbgrader.api.create_engine = original
        for engine in kept:
            del engine.dispose  # Engine.dispose again
        for engine in engines.values():
            engine.dispose()


def _keep_connections(close: bool = True) -> None:
    """``Engine.dispose`` while the run lasts."""


@contextlib.contextmanager
def _courses_checked_once() -> Iterator[None]:
    """``Gradebook.__init__`` ends with ``check_course``: a query for the course's row (made if
    missing) and a commit, the first statement of every opening. Per engine and course id,
    the first opening checks as nbgrader does; later openings skip it. Only the constructor's
    own call is skipped (it comes before the constructor sets ``course_id``); any other call,
    or one with the course's fields, is nbgrader's own."""
    gradebook = nbgrader.api.Gradebook
    original = gradebook.check_course
    checked: set[tuple[Engine, str]] = set()

    def check_course(self: Any, course_id: str = "default_course", **fields: Any) -> Any:
        key = (self.engine, course_id)
        if key in checked and not fields and not hasattr(self, "course_id"):
            return None  # the constructor discards what it returns
        course = original(self, course_id, **fields)
        checked.add(key)
        return course

    gradebook.check_course = check_course
    try:
        yield
    finally:
        gradebook.check_course = original


class _KnownTables:
    """What ``sqlalchemy.inspect(engine)`` answers, for the one question Gradebook asks it."""

    def get_table_names(self) -> list[str]:
        return sorted(nbgrader.api.Base.metadata.tables)


@contextlib.contextmanager
def _tables_made_once() -> Iterator[None]:
    """``Gradebook.__init__`` asks ``inspect(engine)`` whether the gradebook has tables (a new
    one also gets nbgrader's alembic version), then runs ``create_all``. Per engine (one per URL
    while ``_shared_engines`` is active), the first opening does both as nbgrader does; later
    ones are told nbgrader's tables exist, and create nothing."""
    metadata = nbgrader.api.Base.metadata
    original_inspect = nbgrader.api.inspect
    made: set[Engine] = set()

    def inspect(subject: Any) -> Any:
        return _KnownTables() if subject in made else original_inspect(subject)

    def create_all(bind: Any, **options: Any) -> None:
        if bind in made and not options:
            return
        type(metadata).create_all(metadata, bind=bind, **options)
        if isinstance(bind, Engine):
            made.add(bind)

    outer = vars(metadata).get("create_all")  # a run this one is nested in
    nbgrader.api.inspect = inspect
    metadata.create_all = create_all
    try:
        yield
    finally:
        nbgrader.api.inspect = original_inspect
        if outer is None:
            del metadata.create_all
        else:
            metadata.create_all = outer


class _CheckedSchemas(ModuleType):
    """``jsonschema`` as nbgrader's metadata validator sees it, with a ``validate`` that checks
    each schema once, then validates as ``jsonschema.validate`` does."""

    def __init__(self) -> None:
        super().__init__(jsonschema.__name__)
        self._validators: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(jsonschema, name)

    def validate(self, instance: Any, schema: Any, cls: Any = None, *args: Any,
                 **kwargs: Any) -> None:
        if cls is not None or args or kwargs:
            return jsonschema.validate(instance, schema, cls, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            kind = jsonschema.validators.validator_for(schema)
            kind.check_schema(schema)
            validator = self._validators[key] = kind(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


@contextlib.contextmanager
def _schemas_checked_once() -> Iterator[None]:
    module = nbgrader.nbgraderformat.common
    original = module.jsonschema
    module.jsonschema = _CheckedSchemas()
    try:
        yield
    finally:
        module.jsonschema = original
