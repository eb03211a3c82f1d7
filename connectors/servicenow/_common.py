"""What incident, change and CI translation share: journals, versions, origin, operations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from connectors._base import SupplierContext
from connectors._journal import split_journal
from connectors.errors import InvalidValue, MissingField
from connectors.servicenow._native import Record, display, raw
from schemas import EventAction, Visibility, derived_id

__all__ = [
    "LONG_MAX",
    "SHORT_MAX",
    "Shared",
    "build",
    "clip",
    "header_text",
    "operation_of",
    "required",
    "version_of",
]

SHORT_MAX = 400
LONG_MAX = 200_000

M = TypeVar("M", bound=BaseModel)

_JOURNALS = (("comments", Visibility.PUBLIC), ("work_notes", Visibility.INTERNAL))
_OPERATIONS: dict[str, EventAction] = {
    "insert": "created",
    "update": "updated",
    "delete": "deleted",
}


class Shared:
    """The supplier facts every entity translator needs, prepared once."""

    __slots__ = ("accounts", "marker", "supplier", "timezone")

    def __init__(self, ctx: SupplierContext) -> None:
        self.supplier = ctx.supplier
        self.accounts = frozenset(a.casefold() for a in ctx.schakel_accounts)
        self.marker = ctx.schakel_marker
        self.timezone = ctx.timezone

    def by_schakel(self, account: str) -> bool:
        return bool(account) and account.casefold() in self.accounts

    def origin(self, updated_by: str, echo: bool = False) -> dict[str, Any]:
        """Who made the change: ``sys_updated_by``; Schakel when it is one of its accounts."""
        return {"by_schakel": echo or self.by_schakel(updated_by), "actor": updated_by or None}

    def comments(
        self, rec: Record, hid: str, updated_at: datetime, updated_by: str
    ) -> tuple[list[dict[str, Any]], bool]:
        """Journal entries of ``comments`` (public) and ``work_notes`` (internal), oldest first.

        Also says whether the record's latest change is a Schakel-marked entry written at
        ``updated_at`` (an echo of a comment Schakel posted under another account).
        """
        texts = [(field, vis, display(rec, field)) for field, vis in _JOURNALS]
        if not (texts[0][2] or texts[1][2]):
            return [], False
        out: list[dict[str, Any]] = []
        echo = False
        for field, visibility, text in texts:
            if not text:
                continue
            try:
                entries = split_journal(text, self.timezone)
            except (ValueError, OverflowError):
                raise InvalidValue(field, text, "journal entries with valid datetimes") from None
            for entry in entries:
                created = entry.created_at or updated_at
                author = entry.author or updated_by or None
                marked = entry.body.startswith(self.marker)
                body = clip(entry.body, LONG_MAX)
                out.append(
                    {
                        "comment_id": derived_id(hid, field, created.isoformat(), entry.body),
                        "body": body,
                        "visibility": visibility,
                        "author": author,
                        "created_at": created,
                        "by_schakel": marked or self.by_schakel(author or ""),
                    }
                )
                echo = echo or (marked and created == updated_at)
        out.sort(key=lambda c: c["created_at"])
        return out, echo


def required(rec: Record, field: str, entity: str) -> str:
    value = raw(rec, field).strip()
    if not value:
        raise MissingField(field, entity)
    return value


def version_of(mod_count: str, updated_at: datetime, field: str = "sys_mod_count") -> int:
    """The supplier's update counter, else milliseconds since the epoch of the update."""
    if mod_count:
        if mod_count.isascii() and mod_count.isdigit() and len(mod_count) <= 19:
            return int(mod_count)
        if mod_count[0] == "-" and mod_count[1:].isascii() and mod_count[1:].isdigit():
            return 0
        raise InvalidValue(field, mod_count, "a whole number")
    return max(int(updated_at.timestamp() * 1000), 0)


def operation_of(rec: Record, header: str) -> EventAction | None:
    """What a business rule says happened (``operation`` field or header), if it says."""
    text = raw(rec, "operation") or header
    if not text:
        return None
    found = _OPERATIONS.get(text.strip().casefold())
    if found is None:
        raise InvalidValue("operation", text, "insert, update or delete")
    return found


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build(model: type[M], data: Mapping[str, Any], entity: str) -> M:
    """One validation of the whole common-model object; its failures are InvalidValue."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"]) or entity
        raise InvalidValue(f"{entity}.{where}", error.get("input"), error["msg"]) from None


def header_text(headers: Mapping[str, bytes] | object, name: str) -> str:
    """A header's text; headers are bytes on Kafka, text from some gateways."""
    if not isinstance(headers, Mapping) or not headers:
        return ""
    value = headers.get(name)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    if isinstance(value, str):
        return value.strip()
    return ""
