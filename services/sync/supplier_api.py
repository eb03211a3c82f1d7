"""Sending an :class:`~schemas.replies.OutboundCommand` to the supplier's API (httpx + tenacity).

* The write is made with the supplier's integration account: the secret in the variable
  ``credentials.api_token_env`` names. A secret ``user:password`` is sent as HTTP Basic
  (TOPdesk application passwords, Jira Cloud e-mail and API token, ServiceNow basic), any
  other as a Bearer token (ServiceNow OAuth, Xurrent personal access tokens).
* Retried a few times in one go under the hub's retry helper (:mod:`services.retrying`,
  policy :data:`SUPPLIER_POLICY` unless given; seconds, not minutes): timeouts, connection
  errors, 408, 5xx with exponential backoff and jitter. A 429 waits what ``Retry-After`` says
  (seconds or an HTTP date), up to ``retry_after_cap_s``. Limits: ``max_attempts`` and
  ``max_elapsed_s``; then, or when a supplier asks to wait longer than the cap,
  :class:`~services.sync.errors.SupplierUnavailable` (with ``retry_after``): the sync service
  parks the reply and retries it later (:mod:`services.parking`).
* Any other 4xx (and a missing secret) is permanent: :class:`SupplierRejected`, no retry.
* ``Idempotency-Key`` carries the command id, for APIs that honour it.

Reasons name status codes and attempts, never the supplier's response body.
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from schemas.replies import OutboundCommand
from services.config import SupplierConfig
from services.http import parse_retry_after
from services.logs import get_logger
from services.observability import SUPPLIER_CALLS
from services.retrying import RetryPolicy, Sleep, call_with_retries
from services.sync.errors import SupplierRejected, SupplierUnavailable, TransientCallError

__all__ = [
    "SUPPLIER_POLICY",
    "CallResult",
    "SupplierApi",
    "authorization",
    "command_url",
]

log = get_logger(__name__)

USER_AGENT = "Schakel-eBonding/1"
#: how a supplier's API is retried in one go unless the service is given another policy;
#: what still fails is parked by the sync service and retried later (services.parking)
SUPPLIER_POLICY = RetryPolicy(
    max_attempts=3, backoff_max_s=5.0, retry_after_cap_s=10.0, max_elapsed_s=10.0
)


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
        timeout_s: float = 10.0,
    ) -> None:
        self.policy = policy or SUPPLIER_POLICY
        self._client = client or httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
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

        def retrying(error: BaseException, attempt: int, wait_s: float) -> None:
            log.warning(
                "supplier call failed, retrying",
                supplier=supplier.id,
                hub_id=command.hub_id,
                reply_id=command.reply_id,
                command_id=command.command_id,
                attempt=attempt,
                reason=getattr(error, "reason", repr(error)),
                wait_s=round(wait_s, 3),
            )

        attempts = 0

        async def once(attempt: int) -> CallResult:
            nonlocal attempts
            attempts = attempt
            try:
                status = await self._attempt(command, url, headers, attempt)
            except TransientCallError:
                SUPPLIER_CALLS.labels(supplier.id, "transient").inc()
                raise
            except Exception:
                SUPPLIER_CALLS.labels(supplier.id, "rejected").inc()
                raise
            SUPPLIER_CALLS.labels(supplier.id, "ok").inc()
            return CallResult(status, attempt)

        try:
            return await call_with_retries(
                once,
                self.policy,
                retry_on=TransientCallError,
                on_retry=retrying,
                sleep=self._sleep,
            )
        except TransientCallError as exc:
            raise SupplierUnavailable(
                f"{command.method} {command.path}: {exc.reason}, after {attempts} attempt(s)",
                attempts=attempts,
                status=exc.status,
                retry_after=exc.retry_after,
            ) from None

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
                    f"(longer than {cap:g} s: parked), after {attempt} attempt(s)",
                    attempts=attempt,
                    status=status,
                    retry_after=wait,
                )
            raise TransientCallError("HTTP 429 (rate limited)", status=status, retry_after=wait)
        if status == 408 or status >= 500:
            raise TransientCallError(f"HTTP {status}", status=status)
        raise SupplierRejected(
            f"{command.method} {command.path}: HTTP {status}, after {attempt} attempt(s)",
            attempts=attempt,
            status=status,
        )
