"""What an HTTP answer or failure means for a delivery (shared by webhook and TOPdesk)."""

from __future__ import annotations

import os

import httpx

from services.delivery.errors import (
    Backpressure,
    ChannelMisconfigured,
    DeliveryError,
    ReceiverRejected,
    ReceiverUnavailable,
)
from services.http import parse_retry_after

__all__ = ["check_response", "env_secret", "transport_error"]

_SNIPPET = 200


def _snippet(response: httpx.Response) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    text = " ".join(text.split())
    return f": {text[:_SNIPPET]}" if text else ""


def check_response(response: httpx.Response, what: str, *, conflict_ok: bool = False) -> bool:
    """Return normally for 2xx (True) and, when ``conflict_ok``, for 409 (False); else raise.

    5xx and 408 are :class:`ReceiverUnavailable`, 429 is :class:`Backpressure` with the
    Retry-After in seconds, anything else (4xx, 3xx, 1xx) :class:`ReceiverRejected`.
    """
    status = response.status_code
    if 200 <= status < 300:
        return True
    if status == 409 and conflict_ok:
        return False
    reason = f"{what}: HTTP {status}{_snippet(response)}"
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise Backpressure(reason, retry_after=retry_after, status=status)
    if status >= 500 or status == 408:
        raise ReceiverUnavailable(reason, status=status)
    raise ReceiverRejected(reason, status=status)


def transport_error(error: httpx.HTTPError, what: str) -> DeliveryError:
    """Timeouts and connection errors may pass; redirects loops and bad URLs will not."""
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if isinstance(error, httpx.TransportError) and not isinstance(error, httpx.UnsupportedProtocol):
        return ReceiverUnavailable(f"{what}: {detail}")
    return ReceiverRejected(f"{what}: {detail}")


def env_secret(name: str, what: str) -> str:
    """The value of environment variable ``name``; ChannelMisconfigured when unset or empty."""
    value = os.environ.get(name, "")
    if not value:
        raise ChannelMisconfigured(f"{what}: environment variable {name} is not set")
    return value
