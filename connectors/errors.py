"""Errors a connector raises when a supplier payload cannot be translated.

Every one of them sends the record to the dead-letter channel with its original bytes;
``reason`` is the sentence an operator reads there.

Exception tree::

    ConnectorError                   the payload cannot be translated
    ├── MalformedPayload             not JSON, not UTF-8, not an object, or not the system's shape
    ├── UnsupportedPayload           valid for the system, but not an entity Schakel handles
    ├── MissingField                 a field the common model needs is absent or empty
    ├── InvalidValue                 a code, number or datetime the mapping cannot read
    └── AuthenticationFailed         a signed payload (JWT, HMAC) does not verify
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "ConnectorError",
    "InvalidValue",
    "MalformedPayload",
    "MissingField",
    "UnsupportedPayload",
]


class ConnectorError(Exception):
    """A supplier payload that cannot be translated into the common model."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedPayload(ConnectorError):
    """Not JSON, not UTF-8, not a JSON object, or not the shape the system sends."""


class UnsupportedPayload(ConnectorError):
    """Well-formed, but not an incident, change or CI event Schakel handles."""


class MissingField(ConnectorError):
    """A field the common model needs is absent or empty."""

    def __init__(self, field: str, entity: str = "record") -> None:
        super().__init__(f"{entity} has no value for required field '{field}'")
        self.field = field


class InvalidValue(ConnectorError):
    """A value the mapping cannot read (unknown code, bad datetime, bad number)."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"field '{field}' has {shown}; expected {expected}")
        self.field = field


class AuthenticationFailed(ConnectorError):
    """A signed payload whose signature or token does not verify."""
