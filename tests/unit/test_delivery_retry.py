"""Delivery retries: Retry-After parsing, backoff with jitter, the retry loop, signatures and
what an HTTP answer means."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from tenacity import RetryCallState

from services.delivery import (
    Delivery,
    Receipt,
    deliver_with_retries,
    sign_body,
    verify_signature,
)
from services.delivery._http import check_response, transport_error
from services.delivery.errors import (
    Backpressure,
    ReceiverRejected,
    ReceiverUnavailable,
    TransientDeliveryError,
)
from services.http import parse_retry_after
from services.retrying import RetryPolicy, backoff_wait

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


# --- Retry-After -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (None, None),
        ("", None),
        ("soon", None),
        ("-3", None),
        ("nan", None),
    ],
)
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_after_http_date() -> None:
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert later.endswith("GMT")
    assert parse_retry_after(later, now=NOW) == pytest.approx(90.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 0.0  # past: now


# --- backoff -----------------------------------------------------------------------------


def _state_after(error: BaseException, attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


def test_backoff_is_exponential_with_bounded_jitter() -> None:
    policy = RetryPolicy(backoff_initial_s=1.0, backoff_max_s=10.0)
    wait = backoff_wait(policy)
    for attempt, base in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)]:
        samples = [wait(_state_after(ReceiverUnavailable("x"), attempt)) for _ in range(200)]
        assert all(base <= s <= min(base + 1.0, 10.0) for s in samples), (attempt, samples[:5])
        assert len(set(samples)) > 1, "jitter spreads the retries of many senders"
    assert wait(_state_after(ReceiverUnavailable("x"), 12)) == 10.0  # capped


def test_retry_after_is_honoured_and_capped() -> None:
    wait = backoff_wait(RetryPolicy(backoff_initial_s=0.1, retry_after_cap_s=30.0))
    assert wait(_state_after(Backpressure("429", retry_after=12.0), 1)) == 12.0
    assert wait(_state_after(Backpressure("429", retry_after=3600.0), 1)) == 30.0
    without = wait(_state_after(Backpressure("429", retry_after=None), 1))
    assert 0.1 <= without <= 0.2  # no Retry-After: ordinary backoff


# --- the retry loop ----------------------------------------------------------------------


class Flaky:
    """A channel failing with the given errors first, then accepting."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.keys: list[str] = []

    async def __call__(self, delivery: Delivery) -> Receipt:
        self.keys.append(delivery.idempotency_key)
        if self.errors:
            raise self.errors.pop(0)
        return Receipt("accepted", "ref-1")


@pytest.fixture
def delivery() -> Delivery:
    from services.delivery.deliverer import _ROUTED
    from tests.delivery_kit import routed_event

    event = routed_event("GM0505", ["fb-zaken"])
    routed = _ROUTED.model_validate_json(event.value).data
    return Delivery(
        event_id=event.event_id,
        hub_id=event.hub_id,
        gemeente="GM0505",
        team="fb-zaken",
        channel="webhook-x",
        kind="incident",
        routed=routed,
        idempotency_key="key-1",
        body=event.value,
    )


async def test_fails_twice_then_accepts_with_the_same_key(delivery: Delivery) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    channel = Flaky(ReceiverUnavailable("500"), Backpressure("429", retry_after=2.0))
    seen: list[int] = []
    done = await deliver_with_retries(
        channel,
        delivery,
        RetryPolicy(max_attempts=5, backoff_initial_s=0.5),
        on_retry=lambda d, e, n, w: seen.append(n),
        sleep=sleep,
    )
    assert done.attempts == 3
    assert done.receipt.receiver_ref == "ref-1"
    assert channel.keys == ["key-1"] * 3
    assert 0.5 <= sleeps[0] <= 1.0
    assert sleeps[1] == 2.0  # Retry-After
    assert seen == [1, 2]


async def test_permanent_error_is_not_retried(delivery: Delivery) -> None:
    channel = Flaky(ReceiverRejected("400"))
    with pytest.raises(ReceiverRejected) as caught:
        await deliver_with_retries(channel, delivery, RetryPolicy(max_attempts=5), sleep=_no_sleep)
    assert caught.value.attempts == 1


async def test_gives_up_after_max_attempts_with_the_last_error(delivery: Delivery) -> None:
    channel = Flaky(*[ReceiverUnavailable(f"503 #{i}") for i in range(10)])
    with pytest.raises(TransientDeliveryError) as caught:
        await deliver_with_retries(channel, delivery, RetryPolicy(max_attempts=4), sleep=_no_sleep)
    assert caught.value.attempts == 4
    assert caught.value.reason == "503 #3"


async def test_stops_before_the_elapsed_budget_is_spent(delivery: Delivery) -> None:
    channel = Flaky(*[Backpressure("429", retry_after=50.0) for _ in range(10)])
    policy = RetryPolicy(max_attempts=10, retry_after_cap_s=60.0, max_elapsed_s=30.0)
    with pytest.raises(Backpressure) as caught:
        await deliver_with_retries(channel, delivery, policy, sleep=_no_sleep)
    assert caught.value.attempts == 1  # waiting 50 s would end past the 30 s budget


async def _no_sleep(_: float) -> None:
    return None


# --- signatures --------------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    # RFC 4231 test case 2
    assert sign_body(b"what do ya want for nothing?", "Jefe") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    body = b'{"specversion":"1.0","id":"x"}'
    header = sign_body(body, "geheim")
    assert header == "sha256=" + hmac.new(b"geheim", body, hashlib.sha256).hexdigest()
    assert verify_signature(body, "geheim", header)
    assert not verify_signature(body + b" ", "geheim", header)
    assert not verify_signature(body, "anders", header)
    assert not verify_signature(body, "geheim", None)
    assert not verify_signature(body, "geheim", header.removeprefix("sha256="))


# --- what an HTTP answer means -------------------------------------------------------------


def _response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, headers=headers, request=httpx.Request("POST", "https://fb.example/hook")
    )


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_accepted(status: int) -> None:
    assert check_response(_response(status), "hook") is True


def test_409_is_already_delivered_only_where_allowed() -> None:
    assert check_response(_response(409), "hook", conflict_ok=True) is False
    with pytest.raises(ReceiverRejected):
        check_response(_response(409), "hook")


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_5xx_and_408_are_transient(status: int) -> None:
    with pytest.raises(ReceiverUnavailable) as caught:
        check_response(_response(status), "hook")
    assert caught.value.status == status


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422, 301, 302])
def test_other_4xx_and_redirects_are_permanent(status: int) -> None:
    with pytest.raises(ReceiverRejected):
        check_response(_response(status), "hook")


def test_429_carries_retry_after() -> None:
    with pytest.raises(Backpressure) as caught:
        check_response(_response(429, {"Retry-After": "7"}), "hook")
    assert caught.value.retry_after == 7.0
    with pytest.raises(Backpressure) as caught:
        check_response(_response(429), "hook")
    assert caught.value.retry_after is None


def test_transport_errors() -> None:
    request = httpx.Request("POST", "https://fb.example/hook")
    assert isinstance(transport_error(httpx.ConnectError("refused"), "h"), ReceiverUnavailable)
    assert isinstance(
        transport_error(httpx.ReadTimeout("slow", request=request), "h"), ReceiverUnavailable
    )
    assert isinstance(transport_error(httpx.UnsupportedProtocol("ftp"), "h"), ReceiverRejected)
    assert isinstance(transport_error(httpx.TooManyRedirects("loop"), "h"), ReceiverRejected)
