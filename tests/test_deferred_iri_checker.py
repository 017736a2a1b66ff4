"""jsonschema's IRI checker is imported on first use, not by every process that imports the
course (src/course/_deferred_iri_checker.py), and checks exactly as the real one."""

from __future__ import annotations

import importlib
import subprocess
import sys

import jsonschema._format
from jsonschema import FormatChecker

from course._deferred_iri_checker import _Deferred
from tests.support.paths import REPO

SAMPLES = ["http://例え.jp/パス?q=1#x", "not an iri", "a b", "urn:isbn:0451450523", "",
           "//example.org/relative", "http://[::1]/", "http://exa mple.org"]


def test_a_course_process_reads_notebooks_without_building_the_iri_parsers() -> None:
    code = ("import sys, course, nbformat, nbgrader.api\n"
            "assert 'jsonschema._format' in sys.modules\n"
            "assert 'lark' not in sys.modules, 'the IRI checker was imported at start-up'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_jsonschema_checks_iris_with_the_real_checker() -> None:
    # this process imported the course (conftest) before jsonschema, as a course command does
    stand_in = jsonschema._format._rfc3987_is_valid_syntax
    assert isinstance(getattr(stand_in, "__self__", None), _Deferred)
    checker = FormatChecker()
    real = importlib.import_module("rfc3987_syntax.syntax_helpers").is_valid_syntax
    for term, kind in (("iri", "iri"), ("iri_reference", "iri-reference")):
        verdicts = [checker.conforms(sample, kind) for sample in SAMPLES]
        assert verdicts == [real(term, sample) for sample in SAMPLES], kind
        assert True in verdicts and False in verdicts
    assert type(sys.modules["rfc3987_syntax"]) is not _Deferred  # the real one, once used
