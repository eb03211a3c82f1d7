"""Lookup tables as data: a system's defaults, overridable per supplier in the config.

Sites configure labels and codes differently (TOPdesk names its priorities itself, a
ServiceNow instance can relabel states), so a translator never hard-codes a lookup; it asks a
:class:`ValueMap` built from its defaults and the supplier's ``value_maps`` overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from connectors.errors import InvalidValue

__all__ = ["ValueMap"]

T = TypeVar("T")


class ValueMap(Generic[T]):
    """Maps a supplier's code or label (case- and space-insensitive) to a common value."""

    __slots__ = ("_convert", "_name", "_table")

    def __init__(
        self,
        name: str,
        defaults: Mapping[str, T],
        convert: Callable[[str], T],
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self._name = name
        self._convert = convert
        table = {_fold(k): v for k, v in defaults.items()}
        for key, target in (overrides or {}).items():
            try:
                table[_fold(key)] = convert(target)
            except ValueError as exc:
                raise ValueError(f"value map '{name}': {key!r} -> {target!r}: {exc}") from exc
        self._table = table

    @property
    def name(self) -> str:
        return self._name

    def get(self, code: object, default: T | None = None) -> T | None:
        if code is None or code == "":
            return default
        return self._table.get(_fold(str(code)), default)

    def __call__(self, code: object, *, field: str | None = None) -> T:
        """The mapped value; InvalidValue when the code is not in the table."""
        found = self.get(code)
        if found is None:
            known = ", ".join(sorted(self._table)[:12])
            raise InvalidValue(field or self._name, code, f"one of: {known}")
        return found

    @classmethod
    def of(
        cls,
        name: str,
        defaults: Mapping[str, T],
        convert: Callable[[str], T],
        value_maps: Mapping[str, Mapping[str, str]],
    ) -> ValueMap[T]:
        return cls(name, defaults, convert, value_maps.get(name))


def _fold(code: str) -> str:
    return " ".join(code.split()).casefold()
