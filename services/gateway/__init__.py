"""Webhook gateway: suppliers that cannot produce to Kafka POST their native webhooks here.

Each supplier authenticates with its own secret (HMAC signature, bearer token, or Xurrent's
ES256-signed JWT); the body goes unchanged onto that supplier's ``schakel.inbound.<id>``
topic, with metadata headers, and the request is answered only after the broker has it.

Run it with ``schakel gateway`` (or ``schakel serve gateway``): :class:`GatewayService`.
"""

from services.gateway.api import create_app
from services.gateway.auth import verify_bearer, verify_hmac, verify_xurrent_jwt
from services.gateway.batcher import Batcher
from services.gateway.errors import GatewayError, WebhookRefused
from services.gateway.service import GatewayService

__all__ = [
    "Batcher",
    "GatewayError",
    "GatewayService",
    "WebhookRefused",
    "create_app",
    "verify_bearer",
    "verify_hmac",
    "verify_xurrent_jwt",
]
