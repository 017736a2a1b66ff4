"""jsonschema's IRI format checker, imported when first used instead of at start-up.

Every process that reads a notebook imports nbformat, which imports jsonschema, whose format
module imports ``rfc3987_syntax`` (the MIT-licensed IRI checker that ``jsonschema[format-nongpl]``
brings in). That module builds some 35 Earley parsers with lark as it is imported: 2-4 s of CPU
on the reference machine, paid by every `course` command and every grading worker, though no
schema of nbformat, nbgrader or Jupyter uses the ``iri`` formats (upstream:
python-jsonschema/jsonschema#1428, opendatahub-io/notebooks#3532). See docs/architecture.md,
"Start-up cost".

``defer()`` puts a stand-in under the module's name before jsonschema is imported. jsonschema
takes ``is_valid_syntax`` from it as usual; the first call imports the real module and every call
goes to the real function, so what is valid is unchanged.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

NAME = "rfc3987_syntax"


class _Deferred(types.ModuleType):
    """Stands for ``rfc3987_syntax`` until something of it is used."""

    def __init__(self, path: list[str]) -> None:
        super().__init__(NAME, "rfc3987_syntax, imported on first use (course)")
        self._real: types.ModuleType | None = None
        self.__path__ = path  # its submodules still import, from where they are

    def real(self) -> types.ModuleType:
        if self._real is None:
            if sys.modules.get(NAME) is self:
                del sys.modules[NAME]
            try:
                self._real = importlib.import_module(NAME)
            finally:
                sys.modules.setdefault(NAME, self)
        return self._real

    def is_valid_syntax(self, term: str, value: str) -> bool:
        return self.real().is_valid_syntax(term, value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # the import system asks for __spec__ etc.: not a use
        return getattr(self.real(), name)


def defer() -> None:
    """Install the stand-in, unless jsonschema (or the module) is already imported or the module
    is not installed (as in the browser's Python)."""
    if NAME in sys.modules or "jsonschema._format" in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(NAME)
    except (ImportError, ValueError):
        return
    if spec is None or spec.submodule_search_locations is None:
        return
    sys.modules[NAME] = _Deferred(list(spec.submodule_search_locations))
