"""The signed webhook sink: POST the routed CloudEvent to the FB team's HTTPS endpoint.

The body is the routed CloudEvent exactly as it was on the gemeente topic; the receiver
checks ``X-Schakel-Signature`` (HMAC-SHA256 of those bytes with the team's shared secret)
and de-duplicates on ``Idempotency-Key``, which is the same on every attempt and every
redelivery of this event to this channel. 2xx is accepted, 409 means "already have it".
"""

from __future__ import annotations

import httpx

from schemas.wire import CLOUDEVENTS_JSON
from services.config.models import WebhookChannel
from services.delivery._http import check_response, env_secret, transport_error
from services.delivery._signing import sign_body
from services.delivery.channels import Delivery, Receipt

__all__ = ["WebhookSink"]

_CONTENT_TYPE = CLOUDEVENTS_JSON.decode()


class WebhookSink:
    """Delivers to one webhook endpoint through a shared ``httpx.AsyncClient``."""

    def __init__(self, config: WebhookChannel, client: httpx.AsyncClient) -> None:
        self._config = config
        self._client = client
        self._url = str(config.url)
        self._timeout = httpx.Timeout(config.timeout_s)

    def headers(self, delivery: Delivery) -> dict[str, str]:
        """The request headers of ``delivery``, signature included."""
        secret = env_secret(self._config.secret_env, f"webhook {self._url}")
        return {
            "Content-Type": _CONTENT_TYPE,
            "X-Schakel-Signature": sign_body(delivery.body, secret),
            "Idempotency-Key": delivery.idempotency_key,
            "X-Schakel-Event-Id": delivery.event_id,
            "X-Schakel-Hub-Id": delivery.hub_id,
        }

    async def deliver(self, delivery: Delivery) -> Receipt:
        headers = self.headers(delivery)
        what = f"webhook {self._url}"
        try:
            response = await self._client.post(
                self._url, content=delivery.body, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as error:
            raise transport_error(error, what) from error
        accepted = check_response(response, what, conflict_ok=True)
        return Receipt(
            status="accepted" if accepted else "duplicate",
            receiver_ref=response.headers.get("location"),
        )
