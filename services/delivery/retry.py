"""Retrying one delivery: exponential backoff with jitter, Retry-After honoured, bounded.

A :class:`RetryPolicy` says how often and how long; :func:`deliver_with_retries` runs a
channel under it with tenacity. Transient failures (5xx, 408, timeouts, connection errors)
wait ``backoff_initial_s * 2**n`` plus up to ``backoff_initial_s`` of random jitter, at most
``backoff_max_s``; a 429 waits what the receiver's Retry-After asked, at most
``retry_after_cap_s``. The attempts stop at ``max_attempts`` or when the next wait would end
after ``max_elapsed_s`` (so a batch stays well inside Kafka's max poll interval); the last
error is raised, carrying the number of attempts.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
)

from services.delivery.channels import Delivery, Receipt
from services.delivery.errors import Backpressure, DeliveryError, TransientDeliveryError
from services.http import parse_retry_after

__all__ = [
    "Attempted",
    "RetryPolicy",
    "backoff_wait",
    "deliver_with_retries",
    "parse_retry_after",
]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one delivery is retried; the service builds one per channel."""

    max_attempts: int = 5
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_cap_s: float = 60.0
    max_elapsed_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.backoff_initial_s, self.backoff_max_s, self.retry_after_cap_s) < 0:
            raise ValueError("waits must not be negative")


@dataclass(frozen=True, slots=True)
class Attempted:
    """A successful delivery and how many attempts it took."""

    receipt: Receipt
    attempts: int


def backoff_wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """tenacity wait: Retry-After for backpressure (capped), else exponential with jitter.

    The n-th retry waits ``initial * 2**(n-1)`` plus a uniform jitter of up to ``initial``,
    at most ``backoff_max_s``: spread out, so receivers coming back are not stampeded.
    """

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, Backpressure) and error.retry_after is not None:
            return min(error.retry_after, policy.retry_after_cap_s)
        exponent = min(state.attempt_number - 1, 60)
        base = policy.backoff_initial_s * 2.0**exponent
        return min(base + random.uniform(0, policy.backoff_initial_s), policy.backoff_max_s)

    return wait


async def deliver_with_retries(
    attempt: Callable[[Delivery], Awaitable[Receipt]],
    delivery: Delivery,
    policy: RetryPolicy,
    *,
    on_retry: Callable[[Delivery, DeliveryError, int, float], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Attempted:
    """Deliver under ``policy``; raise the last DeliveryError with ``attempts`` set on it.

    Only :class:`TransientDeliveryError` is retried; a permanent error ends at once.
    ``on_retry(delivery, error, attempt, wait_s)`` is called before each wait (for logs).
    """

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if on_retry is not None and isinstance(error, DeliveryError):
            wait_s = state.next_action.sleep if state.next_action is not None else 0.0
            on_retry(delivery, error, state.attempt_number, wait_s)

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(TransientDeliveryError),
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_elapsed_s),
        wait=backoff_wait(policy),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    attempts = 0
    receipt: Receipt | None = None
    try:
        async for try_ in retrying:
            with try_:
                attempts += 1
                receipt = await attempt(delivery)
    except DeliveryError as error:
        error.attempts = attempts
        raise
    assert receipt is not None  # tenacity re-raises every failure (reraise=True)
    return Attempted(receipt, attempts)
