"""The compiled form of a mapping: readers that turn one parsed payload into model data.

Everything here is built once, when the translator is built; reading a payload walks
precompiled getters and converters and never looks at the mapping's text again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors._valuemap import ValueMap
from connectors.errors import InvalidValue, MissingField
from connectors.mapped._paths import Getter
from connectors.mapped._targets import parse_bool

__all__ = [
    "CommentsReader",
    "Convert",
    "FieldReader",
    "code_text",
    "direct_code",
    "epoch_ms",
    "integer",
    "key_text",
    "mapped_code",
    "texts",
    "to_bool",
    "to_text",
]

#: (raw JSON value, source path for messages) -> the target's value, or None for "empty".
Convert = Callable[[Any, str], Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_MAX_VERSION = 2**63 - 1
_MEMO_LIMIT = 1024


class FieldReader:
    """One value: alternative sources, each a getter and converter; default; required.

    The common case, one path that is a single key, is read without the getter call and
    the loop over alternatives (``key`` and ``convert``): the hot path of every payload.
    """

    __slots__ = (
        "constant",
        "convert",
        "default",
        "entity",
        "key",
        "missing",
        "required",
        "sources",
    )

    def __init__(
        self,
        sources: tuple[tuple[Getter, Convert, str], ...],
        *,
        constant: Any = None,
        default: Any = None,
        required: bool = False,
        entity: str = "record",
        key: str | None = None,
    ) -> None:
        self.sources = sources
        self.constant = constant
        self.default = default
        self.required = required
        self.entity = entity
        self.missing = " or ".join(label for _, _, label in sources) or "(constant)"
        single = len(sources) == 1 and constant is None and key is not None
        self.key = key if single else None
        self.convert: Convert = sources[0][1] if single else _unused

    def lookup(self, doc: dict[str, Any]) -> Any:
        """The value the payload gives (or the constant); None when it gives none."""
        key = self.key
        if key is not None:
            raw = doc.get(key)
            if raw is None or raw == "":
                return None
            return self.convert(raw, key)
        if self.constant is not None:
            return self.constant
        for get, convert, label in self.sources:
            raw = get(doc)
            if raw is None or raw == "":
                continue
            value = convert(raw, label)
            if value is not None:
                return value
        return None

    def read(self, doc: dict[str, Any]) -> Any:
        """:meth:`lookup`, else the default; MissingField when required and there is none."""
        key = self.key
        if key is not None:
            raw = doc.get(key)
            value = None if raw is None or raw == "" else self.convert(raw, key)
        else:
            value = self.lookup(doc)
        if value is None:
            if self.default is not None:
                return self.default
            if self.required:
                raise MissingField(self.missing, self.entity)
        return value


def _unused(raw: Any, label: str) -> Any:  # pragma: no cover - only read when key is set
    raise AssertionError("FieldReader.convert is only used for a single-key source")


def code_text(raw: Any, label: str) -> str:
    """A code as text: JSON strings, numbers (``2``, ``2.0`` -> "2") and booleans."""
    kind = type(raw)
    if kind is str:
        return raw.strip()  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if raw else "false"
    if kind is int:
        return str(raw)
    if kind is float:
        return str(int(raw)) if raw.is_integer() else str(raw)
    raise InvalidValue(label, raw, "a code or label (text or number)")


def key_text(raw: Any, label: str) -> str:
    """A part of the native event key: the value as sent (None is empty)."""
    if raw is None:
        return ""
    if type(raw) is str:
        return raw
    if type(raw) in (dict, list):
        raise InvalidValue(label, raw, "a single value (part of the event identity)")
    return code_text(raw, label)


def to_text(max_length: int | None, join: str | None) -> Convert:
    """Text, stripped and clipped to the field's maximum; lists only with ``join``."""
    limit = max_length or 0

    def convert(raw: Any, label: str) -> str | None:
        if type(raw) is str:
            text = raw.strip()
        elif type(raw) is list and join is not None:
            parts = []
            for item in raw:
                if item is None:
                    continue
                part = code_text(item, label)
                if part:
                    parts.append(part)
            text = join.join(parts)
        elif type(raw) in (dict, list):
            hint = " (a list needs join: in the mapping)" if type(raw) is list else ""
            raise InvalidValue(label, raw, "a text" + hint)
        else:
            text = code_text(raw, label)
        if limit and len(text) > limit:
            text = text[: limit - 1] + "…"
        return text or None

    return convert


def direct_code(convert_text: Callable[[str], Any], vocabulary: tuple[str, ...]) -> Convert:
    """A code read as the common-model value itself (no value map)."""
    memo: dict[str, Any] = {}
    expected = "one of: " + ", ".join(vocabulary) if vocabulary else "a valid value"

    def convert(raw: Any, label: str) -> Any:
        code = raw.strip() if type(raw) is str else code_text(raw, label)
        found = memo.get(code)
        if found is not None:
            return found
        if not code:
            return None
        try:
            found = convert_text(code)
        except ValueError:
            raise InvalidValue(label, raw, expected) from None
        if len(memo) < _MEMO_LIMIT:
            memo[code] = found
        return found

    return convert


def mapped_code(table: ValueMap[Any], unmapped: str, default: Any, keep: Convert | None) -> Convert:
    """A code looked up in a value map; an unknown code is an error, kept, or the default."""
    memo: dict[str, Any] = {}
    get = table.get

    def convert(raw: Any, label: str) -> Any:
        code = raw if type(raw) is str else code_text(raw, label)
        found = memo.get(code)
        if found is not None:
            return found
        found = get(code)
        if found is None:
            if not code.strip():
                return None
            if unmapped == "keep" and keep is not None:
                return keep(code, label)
            if unmapped == "default":
                return default
            return table(code, field=label)  # raises InvalidValue naming the known codes
        if len(memo) < _MEMO_LIMIT:
            memo[code] = found
        return found

    return convert


def to_bool(raw: Any, label: str) -> bool | None:
    """JSON booleans, numbers (0 is false) and texts such as true/false, ja/nee."""
    if raw is True or raw is False:
        return raw
    kind = type(raw)
    if kind is int or kind is float:
        return bool(raw != 0)
    if kind is str:
        text = raw.strip()
        if not text:
            return None
        try:
            return parse_bool(text)
        except ValueError:
            pass
    raise InvalidValue(label, raw, "true or false (true/false, ja/nee, yes/no, 1/0)")


def integer(raw: Any, label: str) -> int | None:
    """A whole number >= 0 (a version counter): JSON integers or digit texts."""
    kind = type(raw)
    if kind is int:
        number: int = raw
    elif kind is float and raw.is_integer() and abs(raw) <= _MAX_VERSION:
        number = int(raw)
    elif kind is str and raw.strip().isascii() and raw.strip().isdigit():
        text = raw.strip()
        if len(text) > 19:
            raise InvalidValue(label, raw, "a whole number below 2**63")
        number = int(text)
    elif kind is str and not raw.strip():
        return None
    else:
        raise InvalidValue(label, raw, "a whole number")
    if number < 0 or number > _MAX_VERSION:
        raise InvalidValue(label, raw, "a whole number from 0 to 2**63-1")
    return number


def epoch_ms(read_date: Convert) -> Convert:
    """A datetime read as a version: milliseconds since 1970."""

    def convert(raw: Any, label: str) -> int | None:
        moment: datetime | None = read_date(raw, label)
        if moment is None:
            return None
        millis = (moment - _EPOCH) // _MS
        if millis < 0:
            raise InvalidValue(label, raw, "a datetime after 1970 (it is the version)")
        return millis

    return convert


def texts(raw: Any, label: str) -> list[str] | None:
    """A list of texts: a JSON list of scalars, or one text split on commas/semicolons."""
    if type(raw) is list:
        out = []
        for item in raw:
            if item is None:
                continue
            text = code_text(item, label)
            if text:
                out.append(text)
        return out or None
    if type(raw) is str:
        out = [p.strip() for p in raw.replace(";", ",").split(",")]
        return [p for p in out if p] or None
    raise InvalidValue(label, raw, "a list of texts, or a comma-separated text")


class CommentsReader:
    """Journal entries from a list of objects; public/internal by the visibility reader."""

    __slots__ = (
        "author",
        "body",
        "created_at",
        "get_list",
        "id",
        "label",
        "visibility",
    )

    def __init__(
        self,
        get_list: Getter,
        label: str,
        *,
        body: FieldReader,
        id: FieldReader | None,
        author: FieldReader | None,
        created_at: FieldReader | None,
        visibility: FieldReader,
    ) -> None:
        self.get_list = get_list
        self.label = label
        self.body = body
        self.id = id
        self.author = author
        self.created_at = created_at
        self.visibility = visibility

    def items(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.get_list(doc)
        if found is None or found == "":
            return []
        if type(found) is dict:
            found = [found]
        if type(found) is not list:
            raise InvalidValue(self.label, found, "a list of objects")
        for index, item in enumerate(found):
            if type(item) is not dict:
                raise InvalidValue(f"{self.label}[{index}]", item, "an object")
        return found
