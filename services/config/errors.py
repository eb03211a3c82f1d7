"""Errors raised by :mod:`services.config`.

Exception tree::

    Exception
    └── ConfigError                      the configuration cannot be used; carries problems
        ├── UnknownSupplierError         (also a KeyError) no supplier with that id
        ├── UnknownGemeenteError         (also a KeyError) no gemeente with that CBS code
        └── UnknownTeamError             (also a KeyError) no such team in that gemeente

A :class:`ConfigError` raised by :func:`services.config.load_config` carries one
:class:`ConfigProblem` per thing that is wrong, each with the file, line and column it was
found at, so that start-up fails with a message an operator can act on::

    config/schakel.yaml:42:7: suppliers[2].kvk: String should match pattern '^\\d{8}$'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "UnknownGemeenteError",
    "UnknownSupplierError",
    "UnknownTeamError",
]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a configuration file.

    ``line`` and ``column`` are 1-based and ``None`` when the problem has no position
    (a file that cannot be read). ``location`` is the path inside the document, such as
    ``suppliers[2].kvk``, and empty for problems with the file as a whole.
    """

    file: str
    line: int | None
    column: int | None
    location: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.location:
            return f"{where}: {self.location}: {self.message}"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """The configuration is invalid; :attr:`problems` says where and why, one per line."""

    problems: tuple[ConfigProblem, ...]

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


class UnknownSupplierError(ConfigError, KeyError):
    """No supplier with this id is configured."""

    supplier_id: str

    def __init__(self, supplier_id: str) -> None:
        self.supplier_id = supplier_id
        self.problems = ()
        Exception.__init__(self, supplier_id)

    def __str__(self) -> str:
        return f"unknown supplier {self.supplier_id!r}"


class UnknownGemeenteError(ConfigError, KeyError):
    """No gemeente with this CBS gemeentecode is configured."""

    code: str

    def __init__(self, code: str) -> None:
        self.code = code
        self.problems = ()
        Exception.__init__(self, code)

    def __str__(self) -> str:
        return f"unknown gemeente {self.code!r}"


class UnknownTeamError(ConfigError, KeyError):
    """The gemeente has no FB team with this id."""

    code: str
    team_id: str

    def __init__(self, code: str, team_id: str) -> None:
        self.code = code
        self.team_id = team_id
        self.problems = ()
        Exception.__init__(self, code, team_id)

    def __str__(self) -> str:
        return f"gemeente {self.code} has no team {self.team_id!r}"
