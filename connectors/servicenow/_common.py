"""What incident, change and CI translation share: journals, versions, origin, operations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from connectors._base import SupplierContext
from connectors._journal import split_journal
from connectors._valuemap import ValueMap
from connectors.errors import InvalidValue, MissingField
from connectors.servicenow._native import Record, display, raw, whole_number
from schemas import EntityKind, EventAction, Origin, Visibility, derived_id, hub_id

__all__ = [
    "LONG_MAX",
    "SHORT_MAX",
    "Lookup",
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
T = TypeVar("T")

_OPERATIONS: dict[str, EventAction] = {
    "insert": "created",
    "update": "updated",
    "delete": "deleted",
}


class Lookup(Generic[T]):
    """A :class:`ValueMap` with a memo of the exact codes it has already mapped.

    ``ValueMap`` folds case and spaces on every lookup; payloads repeat a handful of exact
    codes, so those are remembered (bounded: only codes that map, at most 1,024).
    """

    __slots__ = ("_map", "_memo")

    def __init__(self, value_map: ValueMap[T]) -> None:
        self._map = value_map
        self._memo: dict[str, T] = {}

    @classmethod
    def of(
        cls,
        name: str,
        defaults: Mapping[str, T],
        convert: Callable[[str], T],
        value_maps: Mapping[str, Mapping[str, str]],
    ) -> Lookup[T]:
        """The defaults with the supplier's ``value_maps[name]`` overrides (see ValueMap)."""
        return cls(ValueMap.of(name, defaults, convert, value_maps))

    def get(self, code: str, default: T | None = None) -> T | None:
        found = self._memo.get(code)
        if found is None:
            found = self._map.get(code)
            if found is None:
                return default
            if len(self._memo) < 1024:
                self._memo[code] = found
        return found

    def __call__(self, code: str, *, field: str) -> T:
        """The mapped value; InvalidValue (listing the known codes) when there is none."""
        found = self.get(code)
        return self._map(code, field=field) if found is None else found


class _Ids:
    """``hub_id`` and ``derived_id`` bound to one supplier."""

    __slots__ = ("hub", "part")

    def __init__(self, supplier: str) -> None:
        self.hub: Callable[[EntityKind, str], str] = lambda kind, rid: hub_id(supplier, kind, rid)
        self.part: Callable[..., str] = derived_id


class Shared:
    """The supplier facts every entity translator needs, prepared once."""

    __slots__ = ("_origins", "accounts", "ids", "marker", "supplier", "timezone")

    def __init__(self, ctx: SupplierContext) -> None:
        self.supplier = ctx.supplier
        self.accounts = frozenset(a.casefold() for a in ctx.schakel_accounts)
        self.marker = ctx.schakel_marker
        self.timezone = ctx.timezone
        self.ids = _Ids(ctx.supplier)
        self._origins: dict[tuple[str, bool], Origin] = {}

    def by_schakel(self, account: str) -> bool:
        return bool(account) and account.casefold() in self.accounts

    def origin(self, updated_by: str, echo: bool = False) -> Origin:
        """Who made the change: ``sys_updated_by``; Schakel when it is one of its accounts.

        Origins are immutable and few (one per account), so each is validated once and
        shared; the memo is bounded.
        """
        key = (updated_by, echo)
        found = self._origins.get(key)
        if found is None:
            found = build(
                Origin,
                {"by_schakel": echo or self.by_schakel(updated_by), "actor": updated_by or None},
                "origin",
            )
            if len(self._origins) >= 4096:
                self._origins.clear()
            self._origins[key] = found
        return found

    def comments(
        self, comments: str, work_notes: str, hid: str, updated_at: datetime, updated_by: str
    ) -> tuple[list[dict[str, Any]], bool]:
        """Journal entries of ``comments`` (public) and ``work_notes`` (internal), oldest first.

        Also says whether the record's latest change is a Schakel-marked entry written at
        ``updated_at`` (an echo of a comment Schakel posted under another account).
        """
        if not (comments or work_notes):
            return [], False
        out: list[dict[str, Any]] = []
        echo = False
        part_id = self.ids.part
        for field, visibility, text in (
            ("comments", Visibility.PUBLIC, comments),
            ("work_notes", Visibility.INTERNAL, work_notes),
        ):
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
                out.append(
                    {
                        "comment_id": part_id(hid, field, created.isoformat(), entry.body),
                        "body": clip(entry.body, LONG_MAX),
                        "visibility": visibility,
                        "author": author,
                        "created_at": created,
                        "by_schakel": marked or self.by_schakel(author or ""),
                    }
                )
                echo = echo or (marked and created == updated_at)
        out.sort(key=lambda c: c["created_at"])
        return out, echo

    def journal(
        self, rec: Record, hid: str, updated_at: datetime, updated_by: str
    ) -> tuple[list[dict[str, Any]], bool]:
        """:meth:`comments` of a record's ``comments`` and ``work_notes`` fields."""
        return self.comments(
            display(rec, "comments"), display(rec, "work_notes"), hid, updated_at, updated_by
        )


def required(rec: Record, field: str, entity: str) -> str:
    value = raw(rec, field).strip()
    if not value:
        raise MissingField(field, entity)
    return value


def version_of(mod_count: str, updated_at: datetime, field: str = "sys_mod_count") -> int:
    """The supplier's update counter, else milliseconds since the epoch of the update."""
    if mod_count:
        if mod_count.isascii() and mod_count.isdigit() and len(mod_count) <= 18:
            return int(mod_count)
        return max(whole_number(mod_count.strip(), field), 0)
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
    try:  # the validator itself: model_validate adds a Python frame per call (hot path)
        built: M = model.__pydantic_validator__.validate_python(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"]) or entity
        raise InvalidValue(f"{entity}.{where}", error.get("input"), error["msg"]) from None
    return built


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
