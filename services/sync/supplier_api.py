"""Sending an :class:`~schemas.replies.OutboundCommand` to the supplier's API (httpx + tenacity).

* The write is made with the supplier's integration account: the secret in the variable
  ``credentials.api_token_env`` names. A secret ``user:password`` is sent as HTTP Basic
  (TOPdesk application passwords, Jira Cloud e-mail and API token, ServiceNow basic), any
  other as a Bearer token (ServiceNow OAuth, Xurrent personal access tokens).
* Retried with exponential backoff and jitter: timeouts, connection errors, 408, 5xx. A 429
  waits what ``Retry-After`` says (seconds or an HTTP date), up to ``retry_after_cap_s``;
  a supplier that asks for longer is given up on at once. Limits: ``max_attempts`` and
  ``max_elapsed_s``; then :class:`~services.sync.errors.SupplierUnavailable`.
* Any other 4xx (and a missing secret) is permanent: :class:`SupplierRejected`, no retry.
* ``Idempotency-Key`` carries the command id, for APIs that honour it.

Reasons name status codes and attempts, never the supplier's response body.
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from schemas.replies import OutboundCommand
from services.config import SupplierConfig
from services.http import parse_retry_after
from services.logs import get_logger
from services.sync.errors import SupplierRejected, SupplierUnavailable, TransientCallError

__all__ = [
    "CallResult",
    "RetryPolicy",
    "SupplierApi",
    "authorization",
    "command_url",
    "parse_retry_after",
]

log = get_logger(__name__)

USER_AGENT = "Schakel-eBonding/1"
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    max_elapsed_s: float = 120.0
    retry_after_cap_s: float = 120.0
    timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class CallResult:
    status: int
    attempts: int


def authorization(secret: str) -> str:
    """The ``Authorization`` header for the integration account's secret."""
    if ":" in secret:
        return "Basic " + base64.b64encode(secret.encode()).decode("ascii")
    return f"Bearer {secret}"


def command_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


class SupplierApi:
    """Calls suppliers' APIs; one shared connection pool."""

    def __init__(
        self,
        *,
        policy: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        env: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._client = client or httpx.AsyncClient(
            timeout=self.policy.timeout_s, follow_redirects=False
        )
        self._owned = client is None
        self._env = os.environ if env is None else env
        self._sleep = sleep

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()

    async def send(self, supplier: SupplierConfig, command: OutboundCommand) -> CallResult:
        """Send ``command``; SupplierRejected or SupplierUnavailable when it did not land."""
        base = supplier.credentials.api_base_url
        if base is None:
            raise SupplierRejected(f"supplier '{supplier.id}' has no api_base_url", attempts=0)
        env_name = supplier.credentials.api_token_env
        secret = self._env.get(env_name) if env_name else None
        if not secret:
            where = f"the variable {env_name}" if env_name else "credentials.api_token_env"
            raise SupplierRejected(
                f"no API secret for supplier '{supplier.id}': set {where}", attempts=0
            )
        url = command_url(str(base), command.path)
        headers = {
            **command.headers,
            "Authorization": authorization(secret),
            "User-Agent": USER_AGENT,
            "Idempotency-Key": command.command_id,
        }
        policy = self.policy
        backoff = wait_exponential_jitter(
            multiplier=policy.backoff_initial_s,
            max=policy.backoff_max_s,
            jitter=policy.backoff_initial_s,
        )

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, TransientCallError) and error.retry_after is not None:
                return error.retry_after
            return float(backoff(state))

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning(
                "supplier call failed, retrying",
                supplier=supplier.id,
                hub_id=command.hub_id,
                reply_id=command.reply_id,
                command_id=command.command_id,
                attempt=state.attempt_number,
                reason=getattr(error, "reason", repr(error)),
                wait_s=round(state.upcoming_sleep, 3),
            )

        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.max_elapsed_s),
            wait=wait,
            retry=retry_if_exception_type(TransientCallError),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    status = await self._attempt(command, url, headers, attempts)
                    return CallResult(status, attempts)
        except TransientCallError as exc:
            raise SupplierUnavailable(
                f"{command.method} {command.path}: {exc.reason}, after {attempts} attempt(s)",
                attempts=attempts,
                status=exc.status,
            ) from None
        raise AssertionError("unreachable: tenacity either returns or reraises")

    async def _attempt(
        self, command: OutboundCommand, url: str, headers: Mapping[str, str], attempt: int
    ) -> int:
        try:
            response = await self._client.request(
                command.method, url, json=command.body, headers=dict(headers)
            )
        except httpx.TimeoutException:
            raise TransientCallError("timed out") from None
        except httpx.TransportError as exc:
            raise TransientCallError(f"connection failed ({type(exc).__name__})") from None
        status = response.status_code
        if 200 <= status < 300:
            return status
        if status == 429:
            wait = parse_retry_after(response.headers.get("retry-after"))
            cap = self.policy.retry_after_cap_s
            if wait is not None and wait > cap:
                raise SupplierUnavailable(
                    f"{command.method} {command.path}: HTTP 429, Retry-After {math.ceil(wait)} s "
                    f"is beyond the limit of {cap:g} s, after {attempt} attempt(s)",
                    attempts=attempt,
                    status=status,
                )
            raise TransientCallError("HTTP 429 (rate limited)", status=status, retry_after=wait)
        if status == 408 or status >= 500:
            raise TransientCallError(f"HTTP {status}", status=status)
        raise SupplierRejected(
            f"{command.method} {command.path}: HTTP {status}, after {attempt} attempt(s)",
            attempts=attempt,
            status=status,
        )
