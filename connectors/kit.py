"""The connector kit: the rules every connector (and the CMDB import) applies the same way.

- :func:`decode_object`: a record's bytes as a JSON object, or :class:`MalformedPayload`;
- :func:`invalid_value`: a pydantic ``ValidationError`` as the connector's :class:`InvalidValue`;
- :func:`clip` with :data:`TITLE_MAX` / :data:`TEXT_MAX`: length limits of the common model;
- :func:`epoch_ms`: a version from a datetime (epoch milliseconds, never negative);
- :class:`Accounts`: is this user one of Schakel's own accounts (echo detection);
- :func:`gemeente_codes`: CBS gemeentecodes from a list or a separated text (``GM0505``,
  ``gm0505`` and ``0505`` are the same code).

The rules of the common model itself (priority, hold reason, reopened) are in
:mod:`connectors._model`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from connectors.errors import InvalidValue, MalformedPayload

__all__ = [
    "TEXT_MAX",
    "TITLE_MAX",
    "Accounts",
    "clip",
    "decode_object",
    "epoch_ms",
    "gemeente_codes",
    "invalid_value",
]

#: the common model's ShortText and LongText limits, with room for the ellipsis
TITLE_MAX = 400
TEXT_MAX = 200_000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_SEPARATORS = re.compile(r"[,;\s]+")
_GEMEENTE = re.compile(r"(?:GM)?([0-9]{4})")


def decode_object(value: bytes, system: str) -> dict[str, Any]:
    """The record as a JSON object; MalformedPayload for anything else."""
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise MalformedPayload(f"not valid JSON: {exc}") from None
    if type(document) is not dict:
        raise MalformedPayload(f"a {system} payload is a JSON object")
    return document  # type: ignore[no-any-return]


def invalid_value(exc: ValidationError) -> InvalidValue:
    """The first problem pydantic found, as the dead letter's reason."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "record"
    return InvalidValue(field, first.get("input"), first["msg"])


def clip(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, the last one an ellipsis when cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def epoch_ms(moment: datetime) -> int:
    """A version from a moment: milliseconds since the epoch (0 for anything earlier)."""
    return max((moment - _EPOCH) // _MS, 0)


class Accounts:
    """Schakel's own accounts at a supplier, matched case-insensitively."""

    __slots__ = ("_names",)

    def __init__(self, names: Iterable[str]) -> None:
        self._names = frozenset(name.casefold() for name in names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(name) and name.casefold() in self._names


def gemeente_codes(value: object, field: str) -> tuple[str, ...]:
    """The CBS gemeentecodes in ``value`` (a list of texts, or one text separated by commas,
    semicolons or spaces), as ``GMdddd``, sorted and without duplicates. ``None`` or empty
    gives none; anything else that is not a code is an InvalidValue naming ``field``."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts: list[object] = list(_SEPARATORS.split(value))
    elif isinstance(value, list | tuple):
        parts = [
            p
            for item in value
            for p in (_SEPARATORS.split(item) if isinstance(item, str) else [item])
        ]
    else:
        raise InvalidValue(field, value, "CBS gemeentecodes such as 'GM0505, GM0642'")
    codes: set[str] = set()
    for part in parts:
        if part == "":
            continue
        if not isinstance(part, str):
            raise InvalidValue(field, part, "a CBS gemeentecode such as GM0505")
        found = _GEMEENTE.fullmatch(part.upper())
        if found is None:
            raise InvalidValue(field, part, "a CBS gemeentecode such as GM0505")
        codes.add("GM" + found[1])
    return tuple(sorted(codes))
