"""Errors raised by :mod:`services.changes`.

Exception tree::

    SchakelError                         (services.errors)
    ├── ChangesError                     base of the change calendar's own errors
    │   └── UnsupportedStore             a store URL that is neither SQLite nor PostgreSQL
    └── RejectedRecord                   (services.errors) goes to the dead-letter channel
        └── UnreadableChange             a record on schakel.changes.v1 that is no Change event

A record the calendar cannot read is a dead letter with the reason (original bytes), like
the router's; it never blocks the partition.
"""

from __future__ import annotations

from services.errors import RejectedRecord, SchakelError

__all__ = ["ChangesError", "UnreadableChange", "UnsupportedStore"]


class ChangesError(SchakelError):
    """Base of the change calendar's own errors."""


class UnsupportedStore(ChangesError):
    """The calendar's store runs on SQLite or PostgreSQL only."""


class UnreadableChange(RejectedRecord):
    """A record on ``schakel.changes.v1`` that is not a normalised Change CloudEvent."""
