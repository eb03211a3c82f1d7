"""Errors shared by the hub's services.

Exception tree::

    SchakelError                     base of the services' own errors
    ├── BrokerUnavailable            Kafka did not answer within the retry budget
    └── RejectedRecord               a record that goes to the dead-letter channel
        ├── UnknownSupplier          an inbound topic no configured supplier owns
        └── PayloadTooLarge          above the supplier's max_payload_bytes

Connector errors (:mod:`connectors.errors`) and pydantic ``ValidationError`` also send a
record to the dead-letter channel; ``RejectedRecord`` covers what the services themselves refuse.
"""

from __future__ import annotations

__all__ = [
    "BrokerUnavailable",
    "PayloadTooLarge",
    "RejectedRecord",
    "SchakelError",
    "UnknownSupplier",
]


class SchakelError(Exception):
    """Base of the services' own errors."""


class BrokerUnavailable(SchakelError):
    """Kafka did not answer within the retry budget."""


class RejectedRecord(SchakelError):
    """A record the hub refuses; it goes to the dead-letter channel with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownSupplier(RejectedRecord):
    """A record on an inbound topic that no configured supplier owns."""


class PayloadTooLarge(RejectedRecord):
    """A record larger than its supplier may send."""
