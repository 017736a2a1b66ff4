"""The private nbgrader members the grading pipeline relies on (docs/nbgrader-boundary.md).

`course.grading.pipeline` splits nbgrader's autograde step in two around its own sandboxed
execution: `_Sanitize` runs nbgrader's sanitizing half, `_Score` its scoring half. nbgrader 0.9
offers no public switch for that, so the pipeline sets `Autograde._sanitizing` and calls
`Autograde._init_preprocessors`. Only the `<0.10` pin guards them, and nbgrader's main branch has
reworked exactly this step. These tests fail, with a message that says what to change, the day an
upgrade moves them.
"""

from __future__ import annotations

import inspect

import jsonschema
import nbgrader
import nbgrader.api
import nbgrader.nbgraderformat.common
from nbgrader.converters.autograde import Autograde
from nbgrader.converters.base import BaseConverter

UPGRADE = ("nbgrader {version} changed a private member that src/course/grading/pipeline.py "
           "relies on: {what}. Follow docs/nbgrader-boundary.md (move _Sanitize and _Score to "
           "the public flags of the new version) before relaxing the nbgrader pin.")


def _fail(what: str) -> str:
    return UPGRADE.format(version=nbgrader.__version__, what=what)


def test_autograde_still_switches_halves_with_sanitizing() -> None:
    assert getattr(Autograde, "_sanitizing", None) is True, _fail(
        "Autograde._sanitizing (a class attribute, True) no longer exists")
    source = inspect.getsource(Autograde._input_directory.fget)
    assert "self._sanitizing" in source and "submitted_directory" in source, _fail(
        "Autograde._input_directory no longer reads submitted/ while _sanitizing is set")


def test_init_preprocessors_still_picks_the_half_from_sanitizing() -> None:
    method = getattr(Autograde, "_init_preprocessors", None)
    assert callable(method), _fail("Autograde._init_preprocessors no longer exists")
    assert inspect.signature(method).parameters.keys() == {"self"}, _fail(
        "Autograde._init_preprocessors takes arguments now")
    source = inspect.getsource(method)
    for name in ("_sanitizing", "sanitize_preprocessors", "autograde_preprocessors",
                 "register_preprocessor"):
        assert name in source, _fail(f"Autograde._init_preprocessors no longer uses {name}")


def test_autograde_still_converts_a_notebook_in_the_two_halves_sanitize_replays() -> None:
    # _Sanitize.convert_single_notebook is nbgrader's first half of this method, alone
    source = inspect.getsource(Autograde.convert_single_notebook)
    first_half = ("self._sanitizing = True", "self._init_preprocessors()",
                  "super(Autograde, self).convert_single_notebook(notebook_filename)",
                  "self._sanitizing = False")
    positions = [source.find(line) for line in first_half]
    assert -1 not in positions and positions == sorted(positions), _fail(
        "Autograde.convert_single_notebook no longer sanitizes, then autogrades, one notebook")


def test_gradebook_still_makes_its_engine_with_the_module_create_engine() -> None:
    # course.grading.nbgrader_cache shares one engine per run through nbgrader.api.create_engine
    assert callable(getattr(nbgrader.api, "create_engine", None)), _fail(
        "nbgrader.api no longer imports create_engine")
    assert "create_engine(db_url" in inspect.getsource(nbgrader.api.Gradebook.__init__), _fail(
        "Gradebook.__init__ no longer calls nbgrader.api.create_engine")


def test_gradebook_still_checks_its_tables_through_inspect_and_create_all() -> None:
    # course.grading.nbgrader_cache makes or checks each engine's tables once per run
    source = inspect.getsource(nbgrader.api.Gradebook.__init__)
    for call in ("inspect(self.engine).get_table_names()",
                 "Base.metadata.create_all(bind=self.engine)"):
        assert call in source, _fail(f"Gradebook.__init__ no longer calls {call}")
    assert callable(getattr(nbgrader.api, "inspect", None)), _fail(
        "nbgrader.api no longer imports inspect")


def test_gradebook_checks_its_course_before_it_sets_it_and_disposes_on_close() -> None:
    # course.grading.nbgrader_cache skips the constructor's course check after the run's first
    # (told apart by course_id not being set yet) and keeps a SQLite engine's connections until
    # the run ends (Gradebook.close disposes of them)
    source = inspect.getsource(nbgrader.api.Gradebook.__init__)
    check, assign = source.find("self.check_course(course_id=course_id)"), source.find(
        "self.course_id = course_id")
    assert -1 < check < assign, _fail(
        "Gradebook.__init__ no longer checks its course before it sets self.course_id")
    assert "self.engine.dispose()" in inspect.getsource(nbgrader.api.Gradebook.close), _fail(
        "Gradebook.close no longer disposes of its engine")


def test_metadata_checks_still_go_through_the_modules_jsonschema_validate() -> None:
    # course.grading.nbgrader_cache checks the schema once through common.jsonschema.validate
    common = nbgrader.nbgraderformat.common
    assert getattr(common, "jsonschema", None) is jsonschema, _fail(
        "nbgrader.nbgraderformat.common no longer imports jsonschema as a module")
    source = inspect.getsource(common.BaseMetadataValidator.validate_cell)
    assert "jsonschema.validate(cell.metadata['nbgrader'], self.schema)" in source, _fail(
        "BaseMetadataValidator.validate_cell no longer calls jsonschema.validate")


def test_the_public_steps_the_pipeline_calls_are_still_there() -> None:
    for owner, name in ((BaseConverter, "init_notebooks"),
                        (BaseConverter, "init_single_notebook_resources"),
                        (BaseConverter, "write_single_notebook"),
                        (Autograde, "autograde_preprocessors"),
                        (Autograde, "sanitize_preprocessors"),
                        (BaseConverter, "exporter_class")):
        assert hasattr(owner, name), _fail(f"{owner.__name__}.{name} is gone")


def test_the_pin_still_holds_the_version_these_tests_describe() -> None:
    major, minor = (int(part) for part in nbgrader.__version__.split(".")[:2])
    assert (major, minor) == (0, 9), _fail("the installed version is outside the 0.9 series")
