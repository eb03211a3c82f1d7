"""Errors of the delivery service.

Exception tree::

    DeliveryError                    base: one delivery to one channel of one FB team failed
    ├── TransientDeliveryError       may work later: retried with backoff, then dead letter
    │   ├── ReceiverUnavailable      HTTP 5xx or 408, timeout, connection error, SMTP 4xx
    │   └── Backpressure             HTTP 429: slow down; carries ``retry_after`` (seconds)
    └── PermanentDeliveryError       retrying will not help: dead letter at once
        ├── ReceiverRejected         HTTP 4xx other than 408/409/429, SMTP 5xx, bad answer
        ├── ChannelMisconfigured     a secret or credential variable is missing or empty
        └── ChannelFault             an unexpected error inside a channel (a bug)

    RejectedRecord (services.errors) a routed event the service cannot deliver at all
    ├── InvalidRoutedEvent           not a RoutedTicket CloudEvent
    ├── UnknownGemeente              the topic names a gemeente the configuration lacks
    └── UndeliverableEvent           no recipient of this gemeente, or a team it lacks

Every ``DeliveryError`` names the channel it happened on (``channel``), so the dead letter's
reason says which receiver failed. The other channels of the same event are unaffected: a
replay skips what was delivered already.
"""

from __future__ import annotations

from services.errors import RejectedRecord, SchakelError

__all__ = [
    "Backpressure",
    "ChannelFault",
    "ChannelMisconfigured",
    "DeliveryError",
    "InvalidRoutedEvent",
    "PermanentDeliveryError",
    "ReceiverRejected",
    "ReceiverUnavailable",
    "TransientDeliveryError",
    "UndeliverableEvent",
    "UnknownGemeente",
]


class DeliveryError(SchakelError):
    """A delivery to one channel failed; ``reason`` is safe to log and to put in a header.

    ``status`` is the receiver's HTTP or SMTP code when there was one; ``attempts`` is set by
    the retry loop to the number of attempts made.
    """

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.attempts = 1


class TransientDeliveryError(DeliveryError):
    """The receiver may accept later: retry with exponential backoff."""


class ReceiverUnavailable(TransientDeliveryError):
    """5xx, 408, a timeout or a connection error; SMTP 4xx."""


class Backpressure(TransientDeliveryError):
    """The receiver asked us to slow down (HTTP 429).

    ``retry_after`` is how long it asked us to wait, in seconds (None when it did not say);
    the retry waits that long, capped by the service's ``retry_after_cap_s``.
    """

    def __init__(self, reason: str, *, retry_after: float | None, status: int | None = 429) -> None:
        super().__init__(reason, status=status)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: the event goes to the dead-letter channel at once."""


class ReceiverRejected(PermanentDeliveryError):
    """The receiver refused the delivery (4xx other than 408/409/429, SMTP 5xx)."""


class ChannelMisconfigured(PermanentDeliveryError):
    """A secret or credential the channel needs is missing (an environment variable)."""


class ChannelFault(PermanentDeliveryError):
    """A channel raised something that is not a DeliveryError: a bug, logged with traceback."""


class InvalidRoutedEvent(RejectedRecord):
    """The record on a gemeente topic is not a RoutedTicket CloudEvent."""


class UnknownGemeente(RejectedRecord):
    """The topic names a gemeente that is not in the configuration."""


class UndeliverableEvent(RejectedRecord):
    """The event names no recipient team of this gemeente that the configuration knows."""
