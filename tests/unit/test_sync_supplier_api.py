"""Calling the supplier's API: retries with backoff, Retry-After on 429, the limit, auth."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from schemas import SupplierRef, SupplierSystem
from schemas.replies import OutboundCommand, ReplyAction
from services.config import SupplierConfig
from services.http import parse_retry_after
from services.retrying import RetryPolicy
from services.sync import SupplierApi, SupplierRejected, SupplierUnavailable, authorization

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    max_attempts=4, backoff_initial_s=0.5, backoff_max_s=4, max_elapsed_s=60, retry_after_cap_s=30
)


def supplier(**credentials: Any) -> SupplierConfig:
    return SupplierConfig.model_validate(
        {
            "id": "kpn",
            "name": "KPN",
            "system": "servicenow",
            "kvk": "90000011",
            "system_name": "servicenow-prod",
            "credentials": {
                "api_base_url": "https://kpn.example/",
                "api_token_env": "SCHAKEL_TEST_KPN_API",
                **credentials,
            },
        }
    )


COMMAND = OutboundCommand(
    command_id="c-1",
    reply_id="r-1",
    hub_id="h-1",
    supplier="kpn",
    system=SupplierSystem.SERVICENOW,
    action=ReplyAction.COMMENT,
    step=0,
    steps=1,
    method="PATCH",
    path="api/now/table/incident/abc",
    body={"comments": "[schakel] hallo"},
    headers={"Content-Type": "application/json"},
    supplier_ref=SupplierRef(supplier="kpn", system=SupplierSystem.SERVICENOW, record_id="abc"),
    created_at=NOW,
)


class Script:
    """A transport answering from a list of (status, headers) or exceptions; records calls."""

    def __init__(self, *answers: tuple[int, dict[str, str]] | Exception) -> None:
        self._answers: Iterator[tuple[int, dict[str, str]] | Exception] = iter(answers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = next(self._answers)
        if isinstance(answer, Exception):
            raise answer
        status, headers = answer
        return httpx.Response(status, headers=headers, json={"result": {}})

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def api(self, secret: str = "tok-kpn-0123456789", policy: RetryPolicy = POLICY) -> SupplierApi:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        return SupplierApi(
            policy=policy, client=client, env={"SCHAKEL_TEST_KPN_API": secret}, sleep=self.sleep
        )


async def test_success_sends_the_command_with_the_integration_account() -> None:
    script = Script((200, {}))
    result = await script.api().send(supplier(), COMMAND)
    assert (result.status, result.attempts) == (200, 1)
    [request] = script.requests
    assert request.method == "PATCH"
    assert str(request.url) == "https://kpn.example/api/now/table/incident/abc"
    assert request.headers["authorization"] == "Bearer tok-kpn-0123456789"
    assert request.headers["idempotency-key"] == "c-1"
    assert request.read() == b'{"comments":"[schakel] hallo"}'


async def test_basic_auth_for_user_and_password() -> None:
    script = Script((204, {}))
    await script.api(secret="schakel-integration:geheim").send(supplier(), COMMAND)
    expected = base64.b64encode(b"schakel-integration:geheim").decode()
    assert script.requests[0].headers["authorization"] == f"Basic {expected}"
    assert authorization("abc") == "Bearer abc"


async def test_5xx_and_timeouts_are_retried_with_backoff() -> None:
    script = Script((503, {}), httpx.ConnectTimeout("slow"), (502, {}), (200, {}))
    result = await script.api().send(supplier(), COMMAND)
    assert result.attempts == 4
    assert len(script.sleeps) == 3
    assert all(0 < s <= 4 for s in script.sleeps)


async def test_429_waits_what_retry_after_says() -> None:
    script = Script((429, {"Retry-After": "7"}), (200, {}))
    result = await script.api().send(supplier(), COMMAND)
    assert result.attempts == 2
    assert script.sleeps == [7.0]


async def test_429_beyond_the_cap_is_unavailable_at_once_with_the_wait_it_asked() -> None:
    script = Script((429, {"Retry-After": "3600"}))
    with pytest.raises(SupplierUnavailable, match=r"Retry-After 3600 s \(longer than") as caught:
        await script.api().send(supplier(), COMMAND)
    assert caught.value.attempts == 1 and script.sleeps == []
    assert caught.value.retry_after == 3600.0  # the sync service parks it that long


async def test_limit_then_unavailable_with_the_reason() -> None:
    script = Script(*[(503, {})] * 4)
    with pytest.raises(SupplierUnavailable) as caught:
        await script.api().send(supplier(), COMMAND)
    assert caught.value.attempts == 4
    assert caught.value.reason == ("PATCH api/now/table/incident/abc: HTTP 503, after 4 attempt(s)")
    assert len(script.requests) == 4


async def test_4xx_is_permanent() -> None:
    script = Script((403, {}))
    with pytest.raises(SupplierRejected, match="HTTP 403") as caught:
        await script.api().send(supplier(), COMMAND)
    assert caught.value.status == 403 and len(script.requests) == 1


async def test_missing_secret_is_permanent_and_names_the_variable() -> None:
    script = Script()
    api = SupplierApi(policy=POLICY, client=httpx.AsyncClient(), env={}, sleep=script.sleep)
    with pytest.raises(SupplierRejected, match="SCHAKEL_TEST_KPN_API"):
        await api.send(supplier(), COMMAND)


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    date = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(date, now=NOW) == 30.0
    assert parse_retry_after(format_datetime(NOW - timedelta(hours=1), usegmt=True), NOW) == 0.0
