"""Datetime readers for the formats a mapping may name, compiled once per field.

``iso8601`` (the default) reads ISO 8601 and ``YYYY-MM-DD HH:MM:SS`` via
:func:`connectors._time.parse_datetime`; ``epoch_ms`` and ``epoch_s`` read numbers (or digit
texts); any other format is a ``strftime`` pattern such as ``%d-%m-%Y %H:%M``.

Patterns made only of ``%d %m %Y %y %H %M %S %f %z %%`` and literal text are compiled into a
regular expression here (about five times faster than ``datetime.strptime``); any other
directive is read with ``strptime``. A value without a zone is read in the field's zone. In
a zone with daylight saving time a wall time that occurs twice (the last Sunday of October,
02:00-03:00 in Europe/Amsterdam) is read as the first occurrence (summer time), and a wall
time that does not exist (the last Sunday of March, 02:00-03:00) with the offset in force
before the clocks moved (as ``zoneinfo`` does for ``fold=0``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from connectors._time import parse_datetime
from connectors.errors import InvalidValue

__all__ = ["DateReader", "check_format", "date_reader"]

#: Reads one raw JSON value into an aware UTC datetime (None for empty).
DateReader = Callable[[object, str], datetime | None]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FAST = {
    "d": ("d", r"(\d{1,2})"),
    "m": ("m", r"(\d{1,2})"),
    "Y": ("Y", r"(\d{4})"),
    "y": ("y", r"(\d{2})"),
    "H": ("H", r"(\d{1,2})"),
    "M": ("M", r"(\d{1,2})"),
    "S": ("S", r"(\d{1,2})"),
    "f": ("f", r"(\d{1,6})"),
    "z": ("z", r"(Z|[+-]\d{2}:?\d{2})"),
}
#: Every directive ``datetime.strptime`` understands.
_STRPTIME = frozenset("aAbBcdfGHIjmMpSuUVwWxXyYzZ%")
_DIRECTIVE = re.compile(r"%(.?)")
_NAMED = frozenset({"iso8601", "epoch_ms", "epoch_s"})


def check_format(fmt: str) -> str | None:
    """Why ``fmt`` is not a usable format, or None when it is."""
    if fmt in _NAMED:
        return None
    directives = _DIRECTIVE.findall(fmt)
    if not directives:
        return (
            f"'{fmt}' is not a datetime format: use iso8601, epoch_ms, epoch_s or a "
            "strftime pattern such as '%d-%m-%Y %H:%M'"
        )
    for directive in directives:
        if directive not in _STRPTIME:
            return f"'{fmt}' has an unknown strftime directive '%{directive}'"
    if "%" in _DIRECTIVE.sub("", fmt):
        return f"'{fmt}' ends in a lone '%'"
    return None


def date_reader(fmt: str, zone: tzinfo) -> DateReader:
    """A reader of ``fmt`` values; naive values are read in ``zone``."""
    if fmt == "iso8601":
        return _iso_reader(zone)
    if fmt == "epoch_ms":
        return _epoch_reader(1000)
    if fmt == "epoch_s":
        return _epoch_reader(1)
    fast = _compile(fmt)
    return _pattern_reader(fmt, fast, zone)


def _iso_reader(zone: tzinfo) -> DateReader:
    def read(value: object, label: str) -> datetime | None:
        try:
            return parse_datetime(value, field=label, naive_tz=zone)
        except (OverflowError, OSError, ValueError) as exc:
            if isinstance(exc, InvalidValue):
                raise
            raise InvalidValue(label, value, "a datetime within range") from None

    return read


def _epoch_reader(per_second: int) -> DateReader:
    unit = "epoch milliseconds" if per_second == 1000 else "epoch seconds"

    def read(value: object, label: str) -> datetime | None:
        kind = type(value)
        if kind is str:
            text = value.strip()  # type: ignore[attr-defined]
            if not text:
                return None
            try:
                number: float = int(text) if text.lstrip("-").isdigit() else float(text)
            except ValueError:
                raise InvalidValue(label, value, unit) from None
        elif kind is int or kind is float:
            number = value  # type: ignore[assignment]
        else:
            raise InvalidValue(label, value, unit)
        try:
            return _EPOCH + timedelta(seconds=number / per_second)
        except (OverflowError, ValueError):
            raise InvalidValue(label, value, f"{unit} within range") from None

    return read


_Fast = tuple["re.Pattern[str]", tuple[str, ...]]


def _compile(fmt: str) -> _Fast | None:
    """A regular expression and group names for ``fmt``; None when it needs strptime."""
    parts: list[str] = []
    names: list[str] = []
    index = 0
    while index < len(fmt):
        char = fmt[index]
        if char == "%" and index + 1 < len(fmt):
            directive = fmt[index + 1]
            index += 2
            if directive == "%":
                parts.append("%")
                continue
            found = _FAST.get(directive)
            if found is None or found[0] in names:
                return None
            names.append(found[0])
            parts.append(found[1])
            continue
        parts.append(r"\s+" if char.isspace() else re.escape(char))
        index += 1
    if ("Y" not in names and "y" not in names) or "m" not in names or "d" not in names:
        return None  # strptime's defaults (1900-01-01) for missing parts
    return re.compile("".join(parts)), tuple(names)


_MEMO_LIMIT = 4096


def _pattern_reader(fmt: str, fast: _Fast | None, zone: tzinfo) -> DateReader:
    """A reader of one strftime pattern. Results are remembered per text (bounded): a tool
    that writes minutes repeats the same few stamps in every payload of a busy minute."""
    expected = f"a datetime like '{fmt}'"
    memo: dict[str, datetime] = {}
    order = _plain_order(fast[1]) if fast is not None else ()

    def read(value: object, label: str) -> datetime | None:
        if type(value) is not str:
            raise InvalidValue(label, value, expected)
        found = memo.get(value)
        if found is not None:
            return found
        text = value.strip()
        if not text:
            return None
        try:
            if fast is None:
                parsed = datetime.strptime(text, fmt)
            else:
                match = fast[0].fullmatch(text)
                if match is None:
                    raise InvalidValue(label, value, expected)
                g = match.groups()
                if order:
                    year, month, day, hour, minute, second = order
                    parsed = datetime(
                        int(g[year]),
                        int(g[month]),
                        int(g[day]),
                        int(g[hour]) if hour >= 0 else 0,
                        int(g[minute]) if minute >= 0 else 0,
                        int(g[second]) if second >= 0 else 0,
                        tzinfo=zone,
                    )
                else:
                    parsed = _build(fast[1], g)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=zone)
            result = parsed.astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            if isinstance(exc, InvalidValue):
                raise
            raise InvalidValue(label, value, expected) from None
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[value] = result
        return result

    return read


def _plain_order(names: tuple[str, ...]) -> tuple[int, ...]:
    """Group indexes of year, month, day, hour, minute, second (-1 when absent), for
    patterns made only of %Y %m %d %H %M %S; () for any other (read by :func:`_build`)."""
    if not set(names) <= {"Y", "m", "d", "H", "M", "S"} or not {"Y", "m", "d"} <= set(names):
        return ()
    return tuple(names.index(n) if n in names else -1 for n in ("Y", "m", "d", "H", "M", "S"))


def _build(names: tuple[str, ...], groups: tuple[str | None, ...]) -> datetime:
    get = dict(zip(names, groups, strict=True)).get
    year_text = get("Y")
    if year_text is None:
        short = int(get("y") or 0)
        year = 2000 + short if short < 69 else 1900 + short
    else:
        year = int(year_text)
    micro = get("f")
    offset = get("z")
    zone: tzinfo | None = None
    if offset is not None:
        if offset == "Z":
            zone = UTC
        else:
            digits = offset[1:].replace(":", "")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            zone = timezone(-delta if offset[0] == "-" else delta)
    return datetime(
        year,
        int(get("m") or 0),
        int(get("d") or 0),
        int(get("H") or 0),
        int(get("M") or 0),
        int(get("S") or 0),
        int(micro.ljust(6, "0")) if micro else 0,
        tzinfo=zone,
    )
