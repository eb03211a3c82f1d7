"""Xurrent's native shapes: the webhook body (plain or JWT-signed) and typed field readers.

A webhook body is ``{webhook_id, account_id, account, name, event, object_id, person_id,
person_name, instance_name, payload{...}}``. With a webhook policy, Xurrent signs it: the body
becomes ``{"jwt": "<token>"}`` (or the bare token text) and the webhook fields are the
token's claims, or its ``data`` claim. The gateway verifies the signature and marks the record
with the header ``schakel-verified: jwt``; only such records are decoded here, without
verifying again.

The readers below accept what Xurrent sends (strings, integers, booleans, ``{id, name}``
references) and raise :class:`~connectors.errors.InvalidValue` for anything else, so arbitrary
JSON never escapes as a ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import jwt
import orjson

from connectors._time import parse_datetime
from connectors.errors import AuthenticationFailed, InvalidValue, MalformedPayload
from schemas.wire import VERIFIED

__all__ = [
    "NO_TARGET",
    "VERIFIED_HEADER",
    "Body",
    "code",
    "flag",
    "header",
    "ident",
    "read_body",
    "ref_id",
    "ref_name",
    "text",
    "timestamp",
    "whole_number",
]

Body = dict[str, Any]

#: Set by the gateway on a record whose JWT signature it verified (``jwt``).
VERIFIED_HEADER = VERIFIED

#: resolution_target_at / response_target_at may hold one of these instead of a datetime.
NO_TARGET = frozenset({"best_effort", "no_target", "clock_stopped"})

_MAX_BARE_TOKEN = 1_000_000


def read_body(value: bytes, headers: Mapping[str, bytes]) -> Body:
    """The webhook body as a dict: plain JSON, ``{"jwt": ...}`` or a bare token."""
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        token = _bare_token(value)
        if token is None:
            raise MalformedPayload(f"not valid JSON: {exc}") from None
        return _from_jwt(token, headers)
    if not isinstance(document, dict):
        raise MalformedPayload("a Xurrent webhook body is a JSON object")
    if "jwt" in document and "event" not in document:
        token = document["jwt"]
        if not isinstance(token, str) or not token.strip():
            raise MalformedPayload("'jwt' of a signed Xurrent webhook is not a token text")
        return _from_jwt(token.strip(), headers)
    return document


def _bare_token(value: bytes) -> str | None:
    stripped = value.strip()
    if (
        not stripped.startswith(b"eyJ")
        or stripped.count(b".") != 2
        or len(stripped) > _MAX_BARE_TOKEN
        or not stripped.isascii()
    ):
        return None
    return stripped.decode("ascii")


def _from_jwt(token: str, headers: Mapping[str, bytes]) -> Body:
    if (header(headers, VERIFIED_HEADER) or "").casefold() != "jwt":
        raise AuthenticationFailed(
            "unverified JWT body: a signed Xurrent webhook must be verified by the gateway "
            f"(header '{VERIFIED_HEADER}: jwt') before it is translated"
        )
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise MalformedPayload(f"signed Xurrent webhook: cannot decode the JWT: {exc}") from None
    data = claims.get("data")
    if isinstance(data, str):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            data = None
    if isinstance(data, dict):
        return data
    if "event" in claims:
        return claims
    raise MalformedPayload("signed Xurrent webhook: the JWT holds no webhook ('data' or 'event')")


def header(headers: Mapping[str, bytes], name: str) -> str | None:
    """A header's text (``name`` in lower case; the record's may be in any case)."""
    value: object = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == name:
                value = candidate
                break
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    return value.strip() or None


def ident(value: object, field: str) -> str | None:
    """An identifier (Xurrent sends integers) as text; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidValue(field, value, "an identifier")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    raise InvalidValue(field, value, "an identifier")


def text(obj: Mapping[str, Any], field: str) -> str | None:
    """Free text as sent (not stripped); None when absent or empty."""
    value = obj.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidValue(field, value, "a text")
    return value


def code(obj: Mapping[str, Any], field: str) -> str | None:
    """A code or name, stripped; None when absent or empty."""
    value = obj.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(field, value, "a text code")
    return value.strip() or None


def flag(obj: Mapping[str, Any], field: str) -> bool:
    """A checkbox: absent or null is False."""
    value = obj.get(field)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in ("true", "false"):
        return value.strip().casefold() == "true"
    raise InvalidValue(field, value, "true or false")


def whole_number(obj: Mapping[str, Any], field: str) -> int:
    """A counter: absent or null is 0."""
    value = obj.get(field)
    if value is None or value == "":
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidValue(field, value, "a whole number")


def ref_name(obj: Mapping[str, Any], field: str) -> str | None:
    """The name of a reference ``{id, name, ...}`` (or a bare name); None when absent."""
    value = obj.get(field)
    if value is None:
        return None
    if isinstance(value, dict):
        name = value.get("name")
        if name is None:
            return None
        if not isinstance(name, str):
            raise InvalidValue(f"{field}.name", name, "a name")
        return name.strip() or None
    if isinstance(value, str):
        return value.strip() or None
    raise InvalidValue(field, value, "a reference {id, name}")


def ref_id(obj: Mapping[str, Any], field: str) -> str | None:
    """The id of a reference ``{id, name, ...}``; None when absent."""
    value = obj.get(field)
    if not isinstance(value, dict):
        return None
    return ident(value.get("id"), f"{field}.id")


def timestamp(
    obj: Mapping[str, Any], field: str, naive_tz: tzinfo = UTC, *, tokens: bool = False
) -> datetime | None:
    """A UTC datetime; None when absent (or, with ``tokens``, best_effort etc.)."""
    value = obj.get(field)
    if tokens and isinstance(value, str) and value.strip() in NO_TARGET:
        return None
    try:
        return parse_datetime(value, field=field, naive_tz=naive_tz)
    except (OverflowError, ValueError):
        raise InvalidValue(field, value, "a datetime in range") from None
