"""Errors raised by :mod:`services.router`.

Exception tree::

    SchakelError                         (services.errors)
    ├── RouterError                      base of the router's own errors
    └── RejectedRecord                   (services.errors) goes to the dead-letter channel
        └── UnreadableEvent              a record on a normalised topic the router cannot read

A normalised event the router cannot read (not a CloudEvent, not an incident or change) is a
dead letter with the reason, like the normaliser's rejects; it never blocks the partition.
The CMDB import's errors are in :mod:`services.cmdb.errors`.
"""

from __future__ import annotations

from services.errors import RejectedRecord, SchakelError

__all__ = ["RouterError", "UnreadableEvent"]


class RouterError(SchakelError):
    """Base of the router's own errors."""


class UnreadableEvent(RejectedRecord):
    """A record on schakel.incidents.v1 / schakel.changes.v1 that is not a valid normalised
    incident or change event."""
