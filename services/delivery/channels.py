"""The channel contract: a sink that takes one :class:`Delivery` and returns a :class:`Receipt`.

A channel is an adapter in the Kafka Connect sink sense: it knows one receiver's protocol
(signed webhook, SMTP, TOPdesk's incident API) and nothing of Kafka, retries or the store.
It raises :class:`~services.delivery.errors.TransientDeliveryError` for what may work later
and :class:`~services.delivery.errors.PermanentDeliveryError` for what will not; the service
does the retrying, the idempotency bookkeeping and the dead-lettering.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, Protocol

from schemas import RoutedTicket, derived_id
from services.config.models import EmailChannel, TopdeskChannel, WebhookChannel

__all__ = [
    "Channel",
    "ChannelConfig",
    "Delivery",
    "Receipt",
    "channel_id",
    "channel_target",
    "idempotency_key",
]

ChannelConfig = WebhookChannel | EmailChannel | TopdeskChannel


@dataclass(frozen=True, slots=True)
class Delivery:
    """One routed event for one channel of one FB team.

    ``body`` is the routed CloudEvent exactly as consumed (what a webhook signs and sends).
    ``receiver_ref`` is the receiver's reference for this ticket from an earlier delivery on
    the same channel (TOPdesk incident id, first Message-ID), None for the first delivery.
    """

    event_id: str
    hub_id: str
    gemeente: str
    team: str
    channel: str
    kind: Literal["incident", "change"]
    routed: RoutedTicket
    idempotency_key: str
    body: bytes
    receiver_ref: str | None = None

    @property
    def version(self) -> int:
        return self.routed.ticket.version

    @property
    def is_update(self) -> bool:
        """The receiver already has a ticket (or mail thread) for this hub id."""
        return self.receiver_ref is not None


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the receiver made of a delivery.

    ``receiver_ref`` is the receiver's own id of the ticket (TOPdesk incident id, Message-ID
    of the mail), when it has one; ``receiver_number`` a human one (TOPdesk ``number``).
    ``status``: created, updated, adopted (found after a crash), accepted, duplicate, sent.
    """

    status: str
    receiver_ref: str | None = None
    receiver_number: str | None = None


class Channel(Protocol):
    """A sink for deliveries; raises a DeliveryError subclass when the receiver fails."""

    async def deliver(self, delivery: Delivery) -> Receipt: ...


def channel_target(config: ChannelConfig) -> str:
    """Where the channel delivers (URL or addresses): for logs and dead-letter reasons."""
    if isinstance(config, EmailChannel):
        return "mailto:" + ",".join(config.to)
    return str(config.url if isinstance(config, WebhookChannel) else config.base_url)


def channel_id(config: ChannelConfig) -> str:
    """A stable short id of a channel: its type and a digest of where it delivers.

    It survives reordering the team's channels in the YAML; pointing a channel somewhere
    else makes it a new receiver (which gets its own tickets), as it should.
    """
    target = channel_target(config)
    if isinstance(config, EmailChannel):
        target = "mailto:" + ",".join(sorted(a.lower() for a in config.to))
    digest = hashlib.sha256(target.encode()).hexdigest()[:10]
    return f"{config.type}-{digest}"


def idempotency_key(event_id: str, gemeente: str, team: str, channel: str) -> str:
    """The key of one delivery: the same routed event to the same channel gets the same key."""
    return derived_id("delivery", event_id, gemeente, team, channel)
