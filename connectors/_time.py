"""Reading suppliers' datetimes into UTC.

ServiceNow sends ``2015-11-02 22:04:15`` (UTC, no marker); TOPdesk
``2021-02-11T06:32:36.303+0000``; Jira ``2024-12-29T08:41:23.303+0530``; Xurrent ISO 8601 with
offset; webhook envelopes epoch milliseconds. A value without a zone is read in ``naive_tz``
(UTC unless the system documents otherwise).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from connectors.errors import InvalidValue

__all__ = ["parse_datetime", "parse_epoch_ms"]


def parse_datetime(value: object, *, field: str, naive_tz: tzinfo = UTC) -> datetime | None:
    """A UTC datetime from a supplier's text; None for empty; InvalidValue if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_epoch_ms(value, field=field)
    if not isinstance(value, str):
        raise InvalidValue(field, value, "a datetime text")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(field, value, "an ISO 8601 or 'YYYY-MM-DD HH:MM:SS' datetime") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_tz)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidValue(field, value, "a datetime within the years 1-9999 in UTC") from None


def parse_epoch_ms(value: object, *, field: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(field, value, "epoch milliseconds")
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidValue(field, value, "epoch milliseconds in range") from None
