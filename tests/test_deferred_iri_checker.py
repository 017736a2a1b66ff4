"""jsonschema's IRI checker is imported on first use, not by every process that imports the
course (src/course/_deferred_iri_checker.py), and checks exactly as before."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.paths import REPO

SAMPLES = ["http://例え.jp/パス?q=1#x", "not an iri", "a b", "urn:isbn:0451450523", "",
           "//example.org/relative", "http://[::1]/", "http://exa mple.org"]
CHECK = f"""
import json, sys
from jsonschema import FormatChecker
checker = FormatChecker()
imported_early = "lark" in sys.modules
verdicts = [[checker.conforms(s, f) for f in ("iri", "iri-reference")] for s in {SAMPLES!r}]
print(json.dumps({{"imported_early": imported_early, "verdicts": verdicts}}))
"""


def _run(prelude: str) -> dict:
    done = subprocess.run([sys.executable, "-c", prelude + CHECK], capture_output=True,
                          text=True, check=True, cwd=REPO)
    return json.loads(done.stdout)


def test_the_iri_checker_waits_for_its_first_use_and_answers_as_before() -> None:
    plain = _run("")
    deferred = _run("import course, nbformat\n")
    assert plain["imported_early"] and not deferred["imported_early"]
    assert deferred["verdicts"] == plain["verdicts"]
    assert [True, True] in plain["verdicts"] and [False, False] in plain["verdicts"]


def test_the_real_module_and_its_parts_can_still_be_imported() -> None:
    code = ("import course, sys\n"
            "import rfc3987_syntax.syntax_helpers as helpers\n"
            "from rfc3987_syntax import is_valid_syntax\n"
            "assert helpers.is_valid_syntax('iri', 'http://example.org/')\n"
            "assert is_valid_syntax('iri', 'http://example.org/')\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
