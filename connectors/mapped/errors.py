"""Errors of the declarative mapping connector.

A payload that cannot be translated raises a :class:`~connectors.errors.ConnectorError` like
every connector does. A *mapping document* that is wrong is a configuration error: it is
found when the translator is built (at start-up) and raised as a :class:`MappingError` whose
message names the file, the line and column, where in the document, and the reason::

    config/mappings/leverancier-x.yaml:14:5: incident.fields.status: unknown value map 'statussen'

Exception tree::

    ValueError
    └── MappingError                 the mapping document cannot be read, or is wrong
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MappingError", "Problem"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a mapping document; ``line`` and ``column`` are 1-based when known."""

    line: int | None
    column: int | None
    where: str
    reason: str

    def render(self, file: str) -> str:
        at = file if self.line is None else f"{file}:{self.line}:{self.column or 1}"
        return f"{at}: {self.where}: {self.reason}" if self.where else f"{at}: {self.reason}"


class MappingError(ValueError):
    """A mapping document that cannot be read or is wrong; one line per problem, in order."""

    def __init__(self, file: str, problems: Sequence[Problem]) -> None:
        self.file = file
        self.problems = tuple(problems)
        super().__init__("\n".join(p.render(file) for p in self.problems))

    def __reduce__(self) -> tuple[type[MappingError], tuple[str, tuple[Problem, ...]]]:
        return (MappingError, (self.file, self.problems))
