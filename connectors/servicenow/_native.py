"""ServiceNow's native record shapes (Table API, Change Management API, business-rule webhooks).

A field arrives as a raw string (``"state": "2"``), a JSON number or boolean (Change
Management API), a ``{"display_value", "value"}`` pair (``sysparm_display_value=all``) or a
reference ``{"link", "value"}`` (pairs may carry all three keys). The readers here accept any
of these and refuse anything else *for the fields a translator reads*: a list, or an object
that is not such a pair, is an :class:`InvalidValue`. Fields nobody reads are not inspected,
so site-built webhooks may carry whatever else they like.

Reading is the hot path of the normaliser: every reader tests ``type(v) is str`` first (the
form of nearly every field of nearly every payload) and only then the rarer forms.

Display form: with ``sysparm_display_value=true`` every field is its display text, and
datetimes are in the *reading user's* timezone. A record is taken to be in display form when
its state field (``state``, ``operational_status``) is a plain text that is not a number;
plain-text datetimes of such a record are read in the supplier's timezone. A pair's ``value``
is always the stored UTC value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

from connectors._time import parse_datetime
from connectors.errors import InvalidValue, MalformedPayload, UnsupportedPayload

__all__ = [
    "Record",
    "display",
    "displays",
    "flag",
    "integer",
    "is_display_form",
    "is_label",
    "is_sys_id",
    "moment",
    "pair_parts",
    "raw",
    "raws",
    "records_of",
    "reference",
    "stamp",
    "whole_number",
]

#: One record as orjson gives it; values are read (and checked) field by field.
Record = dict[str, Any]

_PAIR_KEYS = frozenset({"value", "display_value", "link"})
_SYS_ID = re.compile(r"[0-9a-f]{32}")
_GROUPED = re.compile(r"-?[0-9]{1,3}(?:([,.])[0-9]{3})(?:\1[0-9]{3})*")


def records_of(document: object) -> list[Record]:
    """The records in a Table API response (``{"result": ...}``) or a bare webhook record."""
    if type(document) is not dict:
        raise MalformedPayload("a ServiceNow payload is a JSON object")
    if "sys_id" in document:
        return [document]
    if "error" in document and "result" not in document and len(document) <= 2:
        raise UnsupportedPayload('a ServiceNow error response ({"error": ...}), not a record')
    body = document.get("result", document)
    if type(body) is dict:
        return [body]
    if type(body) is list:
        for index, item in enumerate(body):
            if type(item) is not dict:
                raise MalformedPayload(f"not a ServiceNow record: result[{index}] is not an object")
        return body
    return [document]


def pair_parts(value: dict[str, Any], field: str) -> tuple[object, object]:
    """``(value, display_value)`` of a pair or reference; InvalidValue for any other object.

    A pair may carry more keys than ``value``, ``display_value`` and ``link`` (the Change
    Management API adds ``display_value_internal``); those are ignored. An object with neither
    ``value`` nor ``display_value`` is not a pair."""
    if not _PAIR_KEYS.issuperset(value) and "value" not in value and "display_value" not in value:
        raise InvalidValue(field, value, "a value, a {display_value, value} pair or a reference")
    stored = value.get("value")
    shown = value.get("display_value")
    if type(stored) in _CONTAINERS or type(shown) in _CONTAINERS:
        raise InvalidValue(field, value, "a pair of plain values")
    return stored, shown


_CONTAINERS = (dict, list)


def _text(value: object, field: str) -> str:
    """A scalar as ServiceNow would have written it in a raw string field."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        number: float = value  # type: ignore[assignment]
        return str(int(number)) if number.is_integer() else str(number)
    raise InvalidValue(field, value, "a text, number or boolean")


def _raw_of(value: object, field: str) -> str:
    if value is None:
        return ""
    if type(value) is dict:
        return _text(pair_parts(value, field)[0], field)
    return _text(value, field)


def _display_of(value: object, field: str) -> str:
    if value is None:
        return ""
    if type(value) is dict:
        stored, shown = pair_parts(value, field)
        text = _text(shown, field)
        return text if text else _text(stored, field)
    return _text(value, field)


def raw(rec: Record, field: str) -> str:
    """The stored value as text (``""`` when empty or absent), from any of the forms."""
    value = rec.get(field)
    return value if type(value) is str else _raw_of(value, field)


def display(rec: Record, field: str) -> str:
    """The display value when the payload has one, else the stored value."""
    value = rec.get(field)
    return value if type(value) is str else _display_of(value, field)


def raws(rec: Record, fields: tuple[str, ...]) -> list[str]:
    """:func:`raw` of several fields in one call (the hot path reads many)."""
    get = rec.get
    out = []
    for field in fields:
        value = get(field)
        out.append(value if type(value) is str else _raw_of(value, field))
    return out


def displays(rec: Record, fields: tuple[str, ...]) -> list[str]:
    """:func:`display` of several fields in one call."""
    get = rec.get
    out = []
    for field in fields:
        value = get(field)
        out.append(value if type(value) is str else _display_of(value, field))
    return out


def is_sys_id(text: str) -> bool:
    return len(text) == 32 and _SYS_ID.fullmatch(text) is not None


def reference(rec: Record, field: str) -> tuple[str | None, str | None]:
    """``(sys_id, name)`` of a reference field; either may be unknown.

    A reference arrives as ``{"link", "value"}`` (raw), ``{"display_value", "value"}``
    (both), or plain text: the sys_id when it looks like one (raw webhook), else the
    referenced record's display name (``sysparm_display_value=true``).
    """
    value = rec.get(field)
    if type(value) is str:
        if not value:
            return None, None
        return (value, None) if is_sys_id(value) else (None, value)
    if value is None:
        return None, None
    if type(value) is dict:
        stored, shown = pair_parts(value, field)
        record_id = _text(stored, field) or None
        name = _text(shown, field) or None
        return record_id, (name if name != record_id else None)
    text = _text(value, field)
    return (text or None), None


def is_display_form(rec: Record, state_field: str) -> bool:
    """True when ``state_field`` is a plain label (``"In Progress"``), not a code."""
    return is_label(rec.get(state_field))


def is_label(value: object) -> bool:
    """True for a plain, non-numeric text: a choice field's display value."""
    if type(value) is not str or not value:
        return False
    head = value[1:] if value[0] == "-" else value
    return not (head.isascii() and head.isdigit())


def moment(rec: Record, field: str, local: tzinfo | None = None) -> datetime | None:
    """A UTC datetime (None when empty). ``local``: the zone of plain-text display values."""
    value = rec.get(field)
    zone: tzinfo = UTC
    if type(value) is str:
        if not value:
            return None
        if local is not None:
            zone = local
        elif len(value) == 19 and value[10] == " ":
            try:  # the raw form "2015-11-02 22:04:15", UTC (appending beats .replace())
                return datetime.fromisoformat(value + "+00:00")
            except ValueError:
                pass
    elif value is None:
        return None
    elif type(value) is dict:
        value = pair_parts(value, field)[0]
    elif type(value) is list or type(value) is bool:
        raise InvalidValue(field, value, "a datetime text")
    try:
        return parse_datetime(value, field=field, naive_tz=zone)
    except (OverflowError, ValueError, OSError) as exc:
        if isinstance(exc, InvalidValue):
            raise
        raise InvalidValue(field, value, "a datetime within range") from None


def stamp(rec: Record, field: str, parsed: datetime, local: tzinfo | None) -> str:
    """``parsed.isoformat()`` of ``moment(rec, field, local)``; from the text when that is
    the plain UTC form "YYYY-MM-DD HH:MM:SS" (same result, a third of the cost)."""
    text = rec.get(field)
    if (
        local is None
        and type(text) is str
        and len(text) == 19
        and text[10] == " "
        and text[4] == text[7] == "-"
        and text[13] == text[16] == ":"
    ):
        return f"{text[:10]}T{text[11:]}+00:00"
    return parsed.isoformat()


def integer(rec: Record, field: str) -> int:
    """A whole number (0 when empty); display texts with digit grouping are read too."""
    value = rec.get(field)
    if value == "0" or value == "" or value is None:
        return 0
    return whole_number((value if type(value) is str else _raw_of(value, field)).strip(), field)


def whole_number(text: str, field: str) -> int:
    """``text`` as a whole number: ``"12"``, ``"-3"``, or grouped display text ``"1,204"``."""
    if text.isascii() and (text.isdigit() or (text[:1] == "-" and text[1:].isdigit())):
        if len(text) <= 19:
            return int(text)
    elif _GROUPED.fullmatch(text):  # display form: "1,234" or "1.234"
        return int(text.replace(",", "").replace(".", ""))
    raise InvalidValue(field, text, "a whole number")


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


def flag(rec: Record, field: str) -> bool:
    """A boolean field: ``"true"``/``"false"`` text, or a JSON boolean."""
    value = rec.get(field)
    if value is True or value is False:
        return value
    text = raw(rec, field).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValue(field, text, "true or false")
