"""Retrying one delivery under the hub's retry helper (:mod:`services.retrying`).

Transient failures (:class:`~services.delivery.errors.TransientDeliveryError`: 5xx, 408,
timeouts, connection errors, and 429 :class:`~services.delivery.errors.Backpressure`, which
waits what the receiver's Retry-After asked) are retried under the channel's
:class:`~services.retrying.RetryPolicy`; a permanent error ends at once. The last error is
raised, carrying the number of attempts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.delivery.channels import Delivery, Receipt
from services.delivery.errors import DeliveryError, TransientDeliveryError
from services.retrying import RetryPolicy, Sleep, call_with_retries

__all__ = ["Attempted", "deliver_with_retries"]


@dataclass(frozen=True, slots=True)
class Attempted:
    """A successful delivery and how many attempts it took."""

    receipt: Receipt
    attempts: int


async def deliver_with_retries(
    attempt: Callable[[Delivery], Awaitable[Receipt]],
    delivery: Delivery,
    policy: RetryPolicy,
    *,
    on_retry: Callable[[Delivery, DeliveryError, int, float], None] | None = None,
    sleep: Sleep = asyncio.sleep,
) -> Attempted:
    """Deliver under ``policy``; raise the last DeliveryError with ``attempts`` set on it.

    ``on_retry(delivery, error, attempt, wait_s)`` is called before each wait (for logs).
    """

    def retrying(error: BaseException, number: int, wait_s: float) -> None:
        if on_retry is not None and isinstance(error, DeliveryError):
            on_retry(delivery, error, number, wait_s)

    attempts = 0

    async def once(number: int) -> Receipt:
        nonlocal attempts
        attempts = number
        return await attempt(delivery)

    try:
        receipt = await call_with_retries(
            once, policy, retry_on=TransientDeliveryError, on_retry=retrying, sleep=sleep
        )
    except DeliveryError as error:
        error.attempts = attempts
        raise
    return Attempted(receipt, attempts)
