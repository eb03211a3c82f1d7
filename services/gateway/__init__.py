"""Webhook gateway: suppliers that cannot produce to Kafka POST their native webhooks here.

Each supplier authenticates with its own secret (HMAC signature, bearer token, or Xurrent's
ES256-signed JWT); the body goes unchanged onto that supplier's ``schakel.inbound.<id>``
topic, with metadata headers, and the request is answered only after the broker has it.

>>> from services.gateway import serve
>>> asyncio.run(serve(settings, config, port=8088))  # doctest: +SKIP
"""

from services.gateway.app import create_app
from services.gateway.auth import verify_bearer, verify_hmac, verify_xurrent_jwt
from services.gateway.batcher import Batcher
from services.gateway.errors import GatewayError, WebhookRefused
from services.gateway.server import running_gateway, serve, serving

__all__ = [
    "Batcher",
    "GatewayError",
    "WebhookRefused",
    "create_app",
    "running_gateway",
    "serve",
    "serving",
    "verify_bearer",
    "verify_hmac",
    "verify_xurrent_jwt",
]
