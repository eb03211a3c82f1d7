"""Errors raised by :mod:`services.router`.

Exception tree::

    SchakelError                         (services.errors)
    ├── RouterError                      base of the router's own errors
    │   └── CmdbImportError              a CMDB export that cannot be imported; carries problems
    └── RejectedRecord                   (services.errors) goes to the dead-letter channel
        └── UnreadableEvent              a record on a normalised topic the router cannot read

A normalised event the router cannot read (not a CloudEvent, not an incident or change) is a
dead letter with the reason, like the normaliser's rejects; it never blocks the partition.
A CMDB export with invalid rows is refused as a whole, before anything is published, with one
:class:`ImportProblem` per bad row (file, row, reason), unless the caller chose to skip them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.errors import RejectedRecord, SchakelError

__all__ = ["CmdbImportError", "ImportProblem", "RouterError", "UnreadableEvent"]


class RouterError(SchakelError):
    """Base of the router's own errors."""


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


class CmdbImportError(RouterError):
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


class UnreadableEvent(RejectedRecord):
    """A record on schakel.incidents.v1 / schakel.changes.v1 that is not a valid normalised
    incident or change event."""
