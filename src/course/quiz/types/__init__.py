"""Question types, one module each; importing this package registers every one of them.

To add a type: one module here with one class (fields, grading, both renderings), one handler
in ../assets/quiz.js, its test vectors in tests/quiz-vectors.yaml and a question of the type in
tests/fixtures/banks/all-question-types.yaml. The tests fail until all four are there.
"""

import importlib
import pkgutil

from course.quiz.types.base import REGISTRY, QuestionType

# Every module of this package is a type (or a helper of types): none is listed by hand.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "QuestionType"]
