"""Errors raised by :mod:`services.cmdb`.

Exception tree::

    SchakelError                         (services.errors)
    └── CmdbError                        base of the CMDB library's own errors
        └── CmdbImportError              a CMDB export that cannot be imported; carries problems

A CMDB export with invalid rows is refused as a whole, before anything is published, with one
:class:`ImportProblem` per bad row (file, row, reason), unless the caller chose to skip them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.errors import SchakelError

__all__ = ["CmdbError", "CmdbImportError", "ImportProblem"]


class CmdbError(SchakelError):
    """Base of the CMDB library's own errors."""


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One row of a CMDB export that cannot be imported. ``row`` is 1-based: the CSV line
    (the header is line 1) or the position in the JSON list; 0 for the file as a whole."""

    file: str
    row: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row else self.file
        return f"{where}: {self.message}"


class CmdbImportError(CmdbError):
    """The export cannot be imported; :attr:`problems` lists why, one per bad row."""

    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(str(p) for p in self.problems[:20])
        more = len(self.problems) - 20
        if more > 0:
            shown += f"\n... and {more} more"
        super().__init__(shown)

    def __reduce__(self) -> tuple[type[CmdbImportError], tuple[tuple[ImportProblem, ...]]]:
        return (type(self), (self.problems,))
