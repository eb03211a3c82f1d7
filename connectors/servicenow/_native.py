"""ServiceNow's native record shapes (Table API, Change Management API, business-rule webhooks).

A field arrives as a raw string (``"state": "2"``), a JSON number or boolean (Change
Management API), a ``{"display_value", "value"}`` pair (``sysparm_display_value=all``) or a
reference ``{"link", "value"}``. :func:`raw` and :func:`display` read any of these.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

__all__ = ["RECORD", "SnPair", "SnRecord", "SnValue", "display", "raw", "records_of"]


class SnPair(BaseModel):
    """``{"display_value": .., "value": ..}`` or a reference ``{"link": .., "value": ..}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str | int | float | bool | None = None
    display_value: str | int | float | bool | None = None
    link: str | None = None


#: Any field value; site-built webhooks may nest other objects, kept but not interpreted.
SnValue = str | int | float | bool | None | SnPair | dict[str, Any] | list[Any]
SnRecord = dict[str, SnValue]

RECORD: TypeAdapter[SnRecord] = TypeAdapter(SnRecord)


def records_of(document: object) -> list[SnRecord]:
    """The records in a Table API response (``{"result": ...}``) or a bare webhook record."""
    if not isinstance(document, dict):
        raise TypeError("a ServiceNow payload is a JSON object")
    body = document.get("result") if "sys_id" not in document else None
    if not isinstance(body, dict | list):
        body = document
    items = body if isinstance(body, list) else [body]
    return [RECORD.validate_python(item) for item in items]


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def raw(value: SnValue) -> str:
    """The stored value as text ("" when empty), from any of the forms."""
    if isinstance(value, SnPair):
        return _text(value.value)
    return _text(value)


def display(value: SnValue) -> str:
    """The display value when the payload has one, else the raw value."""
    if isinstance(value, SnPair):
        shown = _text(value.display_value)
        return shown if shown else _text(value.value)
    return _text(value)
