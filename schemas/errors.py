"""Errors of the common data model.

Exception tree::

    SchemaError                      anything the common model refuses
    ├── InvalidTimestamp             a datetime that cannot be read or is not UTC-convertible
    └── InvalidCode                  a code outside a controlled vocabulary (status, priority, ...)
"""

from __future__ import annotations

__all__ = ["InvalidCode", "InvalidTimestamp", "SchemaError"]


class SchemaError(ValueError):
    """The common model refuses a value."""


class InvalidTimestamp(SchemaError):
    """A datetime could not be read, or carries no usable zone."""


class InvalidCode(SchemaError):
    """A code is outside its controlled vocabulary."""
