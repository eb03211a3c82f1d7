"""Retrying an outbound call: exponential backoff with jitter, Retry-After honoured, bounded.

The one retry helper of the hub's outbound HTTP calls: delivery to the FB teams' channels
(:mod:`services.delivery`) and sync to the suppliers' APIs (:mod:`services.sync`). A caller
says which errors are transient (``retry_on``); everything else ends at once.

The n-th retry waits ``backoff_initial_s * 2**(n-1)`` plus a uniform jitter of up to
``backoff_initial_s``, at most ``backoff_max_s``: spread out, so receivers coming back are not
stampeded. A transient error that carries ``retry_after`` (seconds: the receiver's
Retry-After, :func:`services.http.parse_retry_after`) waits that long instead, at most
``retry_after_cap_s``. The attempts stop at ``max_attempts`` or when the next wait would end
after ``max_elapsed_s`` (so a batch stays well inside Kafka's max poll interval); then the
last error is raised as it was.

>>> result = await call_with_retries(lambda n: send(n), RetryPolicy(), retry_on=Transient)
... # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
)

__all__ = ["OnRetry", "RetryPolicy", "Sleep", "backoff_wait", "call_with_retries"]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
#: ``on_retry(error, attempt, wait_s)``: called before each wait (for logs)
OnRetry = Callable[[BaseException, int, float], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long one call is retried."""

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


def _retry_after(error: BaseException | None) -> float | None:
    value = getattr(error, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


def backoff_wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """tenacity wait: the error's Retry-After (capped), else exponential with jitter."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        asked = _retry_after(error)
        if asked is not None:
            return min(asked, policy.retry_after_cap_s)
        exponent = min(state.attempt_number - 1, 60)
        base = policy.backoff_initial_s * 2.0**exponent
        return min(base + random.uniform(0, policy.backoff_initial_s), policy.backoff_max_s)

    return wait


async def call_with_retries(
    call: Callable[[int], Awaitable[T]],
    policy: RetryPolicy,
    *,
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    on_retry: OnRetry | None = None,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """``await call(attempt)`` (attempt counts from 1) under ``policy``: what it returns, or
    the last error. Only errors of ``retry_on`` are retried."""

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if on_retry is not None and error is not None:
            wait_s = state.next_action.sleep if state.next_action is not None else 0.0
            on_retry(error, state.attempt_number, wait_s)

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(retry_on),
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_elapsed_s),
        wait=backoff_wait(policy),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    async for try_ in retrying:
        with try_:
            return await call(try_.retry_state.attempt_number)
    raise AssertionError("unreachable: tenacity either returns or re-raises")
