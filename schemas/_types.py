"""Shared field types of the common model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, StringConstraints

__all__ = ["MODEL_CONFIG", "GemeenteCode", "LongText", "ShortText", "UtcDatetime", "to_utc"]


def to_utc(value: datetime) -> datetime:
    """Refuse naive datetimes; express aware ones in UTC."""
    if value.tzinfo is UTC:  # what every connector produces: nothing to do (hot path)
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a zone (the common model is UTC only)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]
GemeenteCode = Annotated[str, StringConstraints(pattern=r"^GM\d{4}$")]
ShortText = Annotated[str, StringConstraints(max_length=400)]
LongText = Annotated[str, StringConstraints(max_length=200_000)]

#: Every common-model class is immutable and refuses unknown fields.
MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)
