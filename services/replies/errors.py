"""Errors of the replies API; each refusal maps to one HTTP problem (RFC 9457).

Exception tree::

    SchakelError                       (services.errors)
    └── RepliesError                   base of the replies API's own errors
        └── ReplyRequestRefused        a request the API does not take
            ├── Unauthenticated        401  no bearer token, or one no team has
            ├── TicketNotFound         404  unknown hub id, or not routed to this team
            ├── InvalidReply           422  the body is not a valid reply
            ├── IdempotencyKeyReused   422  an Idempotency-Key sent before with another body
            ├── BodyTooLarge           413  the body is above the API's limit (never read whole)
            ├── BodyTimeout            408  the body did not arrive in time
            ├── NotApplicable          409  the ticket's state does not allow it (accepting
            │                               an open ticket, "raising" to a lower priority)
            └── ReplyNotStored         503  the broker did not acknowledge (Retry-After)

``detail`` is sent to the caller: text the API wrote. A team never learns whether a ticket
that was not routed to it exists (404 either way).
"""

from __future__ import annotations

from typing import Any

from services.errors import SchakelError

__all__ = [
    "BodyTimeout",
    "BodyTooLarge",
    "IdempotencyKeyReused",
    "InvalidReply",
    "NotApplicable",
    "RepliesError",
    "ReplyNotStored",
    "ReplyRequestRefused",
    "TicketNotFound",
    "Unauthenticated",
]


class RepliesError(SchakelError):
    """Base of the replies API's own errors."""


class ReplyRequestRefused(RepliesError):
    """A request refused with ``status``; ``slug`` names the problem type."""

    status: int = 400
    slug: str = "refused"
    title: str = "Request refused"

    def __init__(
        self,
        detail: str,
        *,
        retry_after: int | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        self.errors = errors


class Unauthenticated(ReplyRequestRefused):
    status = 401
    slug = "unauthenticated"
    title = "Not authenticated"


class TicketNotFound(ReplyRequestRefused):
    status = 404
    slug = "ticket-not-found"
    title = "Ticket not found"


class InvalidReply(ReplyRequestRefused):
    status = 422
    slug = "invalid-reply"
    title = "Invalid reply"


class IdempotencyKeyReused(InvalidReply):
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with another request"


class BodyTooLarge(ReplyRequestRefused):
    status = 413
    slug = "body-too-large"
    title = "Request body too large"


class BodyTimeout(ReplyRequestRefused):
    status = 408
    slug = "body-timeout"
    title = "Request body not received in time"


class NotApplicable(ReplyRequestRefused):
    status = 409
    slug = "not-applicable"
    title = "Not applicable to the ticket's state"


class ReplyNotStored(ReplyRequestRefused):
    status = 503
    slug = "publish-failed"
    title = "Reply not accepted, try again"
