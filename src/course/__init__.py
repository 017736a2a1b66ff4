"""The course package. Importing it first defers jsonschema's slow IRI checker
(_deferred_iri_checker.py), so every `course` command and grading worker starts seconds sooner."""

from course._deferred_iri_checker import defer as _defer

_defer()
