"""Delivery: routed tickets to the FB teams' channels (signed webhook, e-mail, TOPdesk).

Consumes ``schakel.gemeente.<GMxxxx>.v1``; delivers each event to the channels of the teams
it names (only teams of that gemeente); retries with backoff; records every delivery and the
receiver's reference of each ticket, so redeliveries never duplicate and updates land on the
same receiver ticket; dead-letters what failed, replayable with ``schakel deadletter replay``.
"""

from services.delivery._mail import EmailSink, compose_message
from services.delivery._signing import sign_body, verify_signature
from services.delivery._topdesk import TopdeskSink, external_number, incident_request
from services.delivery._webhook import WebhookSink
from services.delivery.channels import (
    Channel,
    ChannelConfig,
    Delivery,
    Receipt,
    channel_id,
    idempotency_key,
)
from services.delivery.deliverer import (
    BatchResult,
    ChannelFactory,
    Deliverer,
    DeliveryOptions,
    Sinks,
    build_deliverer,
)
from services.delivery.retry import deliver_with_retries
from services.delivery.service import GROUP_ID, DeliveryService
from services.delivery.store import DeliveryStore, Thread

__all__ = [
    "GROUP_ID",
    "BatchResult",
    "Channel",
    "ChannelConfig",
    "ChannelFactory",
    "Deliverer",
    "Delivery",
    "DeliveryOptions",
    "DeliveryService",
    "DeliveryStore",
    "EmailSink",
    "Receipt",
    "Sinks",
    "Thread",
    "TopdeskSink",
    "WebhookSink",
    "build_deliverer",
    "channel_id",
    "compose_message",
    "deliver_with_retries",
    "external_number",
    "idempotency_key",
    "incident_request",
    "sign_body",
    "verify_signature",
]
