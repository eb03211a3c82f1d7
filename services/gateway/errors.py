"""Errors of the webhook gateway; each refusal maps to one HTTP problem (RFC 9457).

Exception tree::

    SchakelError                      (services.errors)
    └── GatewayError                  base of the gateway's own errors
        └── WebhookRefused            a webhook the gateway does not put on Kafka
            ├── SupplierNotFound      404  no supplier with the id in the path
            ├── MissingCredentials    401  no signature, bearer token or signed JWT
            ├── InvalidCredentials    403  a signature, token or JWT that does not verify
            ├── MalformedRequest      400  body not JSON, bad X-Schakel-Key or Content-Length
            ├── BodyTooLarge          413  above the supplier's max_payload_bytes
            ├── BodyTimeout           408  the body did not arrive in time
            ├── Replayed              409  a signed request (signature or JWT jti) seen before
            ├── SupplierNotConfigured 503  the supplier's secret is not configured
            └── WebhookNotStored      503  the broker did not acknowledge (Retry-After)
                └── Overloaded        503  too many webhooks already wait for the broker

``detail`` is sent to the caller: it is always text the gateway wrote, never part of the
request, so nothing a supplier sends is echoed back.
"""

from __future__ import annotations

from services.errors import SchakelError

__all__ = [
    "BodyTimeout",
    "BodyTooLarge",
    "GatewayError",
    "InvalidCredentials",
    "MalformedRequest",
    "MissingCredentials",
    "Overloaded",
    "Replayed",
    "SupplierNotConfigured",
    "SupplierNotFound",
    "WebhookNotStored",
    "WebhookRefused",
]


class GatewayError(SchakelError):
    """Base of the webhook gateway's own errors."""


class WebhookRefused(GatewayError):
    """A webhook refused with ``status``; ``slug`` names the problem type."""

    status: int = 400
    slug: str = "refused"
    title: str = "Webhook refused"

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class SupplierNotFound(WebhookRefused):
    status = 404
    slug = "unknown-supplier"
    title = "Unknown supplier"


class MissingCredentials(WebhookRefused):
    status = 401
    slug = "missing-credentials"
    title = "Credentials required"


class InvalidCredentials(WebhookRefused):
    status = 403
    slug = "invalid-credentials"
    title = "Credentials do not verify"


class MalformedRequest(WebhookRefused):
    status = 400
    slug = "malformed-request"
    title = "Malformed webhook"


class BodyTooLarge(WebhookRefused):
    status = 413
    slug = "body-too-large"
    title = "Webhook body too large"


class BodyTimeout(WebhookRefused):
    status = 408
    slug = "body-timeout"
    title = "Webhook body not received in time"


class Replayed(WebhookRefused):
    status = 409
    slug = "replayed"
    title = "Webhook already received"


class SupplierNotConfigured(WebhookRefused):
    status = 503
    slug = "supplier-not-configured"
    title = "Supplier cannot post webhooks"


class WebhookNotStored(WebhookRefused):
    status = 503
    slug = "broker-unavailable"
    title = "Webhook not stored"


class Overloaded(WebhookNotStored):
    slug = "overloaded"
    title = "Gateway overloaded"
