"""Errors of the feed (the regie's cockpit).

::

    FeedError
    ├── UnreadableOutcome     a consumed record is not the event its topic carries (dead letter)
    ├── NotFound              no such ticket or dead letter (HTTP 404)
    ├── Forbidden             the caller's role or gemeente does not allow it (HTTP 403)
    ├── Unauthenticated       no valid token or session (HTTP 401, or the login page)
    └── ActionRefused         a replay or manual route that cannot be done (HTTP 409/422)
"""

from __future__ import annotations

__all__ = [
    "ActionRefused",
    "FeedError",
    "Forbidden",
    "NotFound",
    "Unauthenticated",
    "UnreadableOutcome",
]


class FeedError(Exception):
    """Base of the feed's errors; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnreadableOutcome(FeedError):
    pass


class NotFound(FeedError):
    pass


class Forbidden(FeedError):
    pass


class Unauthenticated(FeedError):
    pass


class ActionRefused(FeedError):
    pass
