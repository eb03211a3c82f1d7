"""Errors of the sync service (eBonding: replies from FB -> the supplier's tool).

Exception tree::

    SchakelError                        (services.errors)
    └── SyncError                       base of the sync service's own errors; ``reason``
        ├── ReplyRefused                the reply is not applied; it is dead-lettered
        │   ├── UnreadableReply         not a reply CloudEvent of schakel.replies.v1
        │   ├── UnknownTicket           no correlation for the hub id (not seen normalised)
        │   ├── NotRoutedToTeam         the ticket was never routed to the replying team
        │   └── Untranslatable          the supplier's system cannot take this reply
        ├── SupplierCallFailed          the supplier's API did not take a command
        │   ├── SupplierRejected        a permanent refusal (4xx, no credentials): no retry
        │   └── SupplierUnavailable     transient failures (the reply is parked and retried
        │                               later; ``retry_after`` when the supplier said)
        └── TransientCallError          one failed attempt that may work later (5xx, 408,
                                        429, timeout); ``retry_after`` when the supplier
                                        said how long to wait. Retried, never dead-lettered
                                        as such.

Every ``reason`` is text the hub wrote (status codes, field names), never the supplier's
response body, so a dead letter header cannot carry what a supplier echoed back.
"""

from __future__ import annotations

from services.errors import SchakelError

__all__ = [
    "NotRoutedToTeam",
    "ReplyRefused",
    "SupplierCallFailed",
    "SupplierRejected",
    "SupplierUnavailable",
    "SyncError",
    "TransientCallError",
    "UnknownTicket",
    "UnreadableReply",
    "Untranslatable",
]


class SyncError(SchakelError):
    """Base of the sync service's errors; ``reason`` is the sentence an operator reads."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplyRefused(SyncError):
    """The reply is not applied; it goes to the dead-letter channel with the reason."""


class UnreadableReply(ReplyRefused):
    """Not a reply CloudEvent (bad JSON, wrong shape, inconsistent id/subject/type)."""


class UnknownTicket(ReplyRefused):
    """No correlation is known for the hub id."""


class NotRoutedToTeam(ReplyRefused):
    """The replying team never received this ticket (tenant isolation)."""


class Untranslatable(ReplyRefused):
    """The supplier's system cannot take this reply (the connector says why)."""


class SupplierCallFailed(SyncError):
    """The supplier's API did not take a command."""

    def __init__(self, reason: str, *, attempts: int = 1, status: int | None = None) -> None:
        super().__init__(reason)
        self.attempts = attempts
        self.status = status


class SupplierRejected(SupplierCallFailed):
    """A permanent refusal: a 4xx other than 408/429, or no credentials configured."""


class SupplierUnavailable(SupplierCallFailed):
    """Transient failures (5xx, 408, 429, timeouts, connection errors) after the attempts made
    in one go; the reply is parked and retried later (``retry_after``: what the supplier
    asked for, in seconds)."""

    def __init__(
        self,
        reason: str,
        *,
        attempts: int = 1,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason, attempts=attempts, status=status)
        self.retry_after = retry_after


class TransientCallError(SyncError):
    """One failed attempt that may succeed later; ``retry_after`` in seconds if told."""

    def __init__(
        self, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after
