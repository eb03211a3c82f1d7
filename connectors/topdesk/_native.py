"""Reading TOPdesk's native JSON: lookups, flags, datetimes and the entity a payload holds.

TOPdesk REST responses are plain JSON: lookups are ``{"id", "name"}`` objects, persons and
operators carry ``name`` (or ``dynamicName``), flags are booleans, datetimes are texts like
``2021-02-11T06:32:36.303+0000`` (a value without offset is UTC). Webhooks built with
action sequences have a site-defined body, so every reader here accepts a plain text, a
number or an object where TOPdesk itself would send one of them, and ignores anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from connectors._time import parse_datetime
from connectors.errors import InvalidValue, MissingField, UnsupportedPayload
from schemas import EntityKind
from schemas.wire import ENTITY

__all__ = [
    "ENTITY_HEADER",
    "Json",
    "epoch_ms",
    "flag",
    "id_of",
    "kind_of",
    "name_of",
    "obj",
    "required_text",
    "text",
    "when",
]

Json = dict[str, Any]

ENTITY_HEADER = ENTITY
_INCIDENT_LINES = frozenset(
    {
        "firstline",
        "secondline",
        "partial",
        "firstlinearchived",
        "secondlinearchived",
        "partialarchived",
    }
)
_HINTS = {"incident": EntityKind.INCIDENT, "change": EntityKind.CHANGE, "ci": EntityKind.CI}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_TRUE = frozenset({"true", "1", "yes", "ja"})


def text(value: object) -> str:
    """A scalar as text; "" for null, objects and lists."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return ""


def obj(value: object) -> Json | None:
    return value if isinstance(value, dict) else None


def name_of(value: object) -> str:
    """The name of a lookup/operator/person object, or a plain text value; stripped."""
    if isinstance(value, dict):
        found = text(value.get("name")) or text(value.get("dynamicName"))
        return found.strip()
    return text(value).strip()


def id_of(value: object) -> str:
    if isinstance(value, dict):
        return text(value.get("id")).strip()
    return ""


def flag(value: object) -> bool:
    if value is True:
        return True
    if isinstance(value, str):
        return value.strip().casefold() in _TRUE
    return False


def required_text(doc: Json, field: str, entity: str) -> str:
    value = text(doc.get(field)).strip()
    if not value:
        raise MissingField(field, entity)
    return value


def when(value: object, field: str, naive_tz: tzinfo = UTC) -> datetime | None:
    """A UTC datetime (None when empty); InvalidValue for anything unreadable."""
    try:
        return parse_datetime(value, field=field, naive_tz=naive_tz)
    except (OverflowError, ValueError):
        raise InvalidValue(field, value, "a datetime TOPdesk can send") from None


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since 1970 (0 for earlier moments: versions are not negative)."""
    return max((moment - _EPOCH) // _MS, 0)


def kind_of(doc: Mapping[str, Any], headers: Mapping[str, object]) -> EntityKind:
    """Which entity a TOPdesk object is: the ``schakel-entity`` header, else its shape."""
    hinted = headers.get(ENTITY_HEADER)
    if isinstance(hinted, bytes | str) and hinted:
        word = hinted.decode("utf-8", "replace") if isinstance(hinted, bytes) else hinted
        kind = _HINTS.get(word.strip().casefold())
        if kind is None:
            raise UnsupportedPayload(f"header {ENTITY_HEADER}={word[:40]!r} is not handled")
        return kind
    if "changeType" in doc:
        return EntityKind.CHANGE
    if "dataSet" in doc or "unid" in doc:
        return EntityKind.CI
    if "number" in doc and (
        "briefDescription" in doc or text(doc.get("status")).casefold() in _INCIDENT_LINES
    ):
        return EntityKind.INCIDENT
    raise UnsupportedPayload(
        "cannot tell the TOPdesk entity (no changeType, dataSet/unid or incident number); "
        f"set the {ENTITY_HEADER} header"
    )
