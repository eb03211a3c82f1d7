"""Hostile-input fuzzing of the two HTTP doors (hypothesis, bounded in count and time).

Each door runs in process (httpx against the ASGI app, app exceptions raised into the test)
with a recording publisher standing in for Kafka. Whatever arrives: no 5xx, no crash, and
nothing published that should not be: the gateway publishes only correctly signed bodies,
unchanged, on the signing supplier's own topic; the replies API only replies of a team on a
ticket routed to it, on schakel.replies.v1.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.replies import ReplyEvent
from schemas.topics import REPLIES, inbound_topic
from services.config import SchakelConfig, Settings, SupplierConfig, SupplierCredentials
from services.gateway import create_app as gateway_app
from services.messaging import OutboundMessage
from services.replies import create_app as replies_app
from tests.conftest import config_with_suppliers
from tests.sync_kit import correlation, empty_store, route

EXAMPLES = 250
JIRA_SECRET = "fuzz-jira-secret-0123456789abcdef"
TOPDESK_TOKEN = "fuzz-topdesk-token-0123456789abcdef"
ZAKEN = "fuzz-token-gm0505-zaken-0123456789"
OTHER_TEAM = "fuzz-token-gm0482-zaken-0123456789"
ROUTED = "11111111-1111-5111-8111-111111111111"
NOT_ROUTED = "33333333-3333-5333-8333-333333333333"

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Header values as UTF-8 bytes: non-ASCII and control characters reach the app."""
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class Recorder:
    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send_all(self, messages: Sequence[OutboundMessage]) -> None:
        self.sent.extend(messages)


_text = st.text(max_size=80)
_header_value = st.one_of(
    _text,
    st.sampled_from(["", " ", "sha256=", "Bearer ", "Bearer x", "-1", "99999999999999999999"]),
)
_int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_bodies = st.one_of(
    st.binary(max_size=2048),
    st.recursive(
        st.none() | st.booleans() | _int64 | st.floats(allow_nan=False) | _text,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
        max_leaves=12,
    ).map(orjson.dumps),
)


@st.composite
def webhook_requests(draw: st.DrawFn) -> dict[str, Any]:
    supplier = draw(st.sampled_from(["zaakplatform", "centric", "nobody", "%2e%2e", "a/b", ""]))
    body = draw(_bodies)
    headers = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "X-Hub-Signature",
                    "X-Schakel-Signature",
                    "X-Schakel-Timestamp",
                    "Authorization",
                    "Content-Type",
                    "X-Schakel-Key",
                    "X-Request-Id",
                    "X-Forwarded-For",
                ]
            ),
            _header_value,
            max_size=5,
        )
    )
    how = draw(st.sampled_from(["hostile", "signed", "bearer", "signing secret as bearer"]))
    if how == "signed":
        mac = hmac.new(JIRA_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature"] = "sha256=" + mac
    elif how == "bearer":
        headers["Authorization"] = f"Bearer {TOPDESK_TOKEN}"
    elif how == "signing secret as bearer":
        headers = {"Authorization": f"Bearer {JIRA_SECRET}"}
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE"]))
    return {"method": method, "supplier": supplier, "body": body, "headers": headers}


def _with(supplier: SupplierConfig, env: str, **credentials: Any) -> SupplierConfig:
    given = SupplierCredentials(webhook_secret_env=env, **credentials)
    return supplier.model_copy(update={"credentials": given, "max_payload_bytes": 1024})


def test_the_gateway_under_hostile_requests(
    example_config: SchakelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUZZ_JIRA", JIRA_SECRET)
    monkeypatch.setenv("FUZZ_TOPDESK", TOPDESK_TOKEN)
    config = config_with_suppliers(
        example_config,
        _with(example_config.supplier("zaakplatform"), "FUZZ_JIRA"),
        _with(example_config.supplier("centric"), "FUZZ_TOPDESK", webhook_auth="bearer"),
    )
    publisher = Recorder()

    async def ready() -> bool:
        return True

    app = gateway_app(Settings(), config, publisher, readiness=ready)
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")

    statuses: list[int] = []

    @FUZZ
    @given(request=webhook_requests())
    def one(request: dict[str, Any]) -> None:
        before = len(publisher.sent)
        response = loop.run_until_complete(
            client.request(
                request["method"],
                f"/webhooks/{request['supplier']}",
                content=request["body"],
                headers=_raw(request["headers"]),
            )
        )
        assert response.status_code < 500, response.text
        statuses.append(response.status_code)
        published = publisher.sent[before:]
        if response.status_code != 202:
            assert not published, (request, response.text)
            return
        [message] = published
        assert message.value == request["body"]
        headers = request["headers"]
        if request["supplier"] == "zaakplatform":
            mac = hmac.new(JIRA_SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
            assert headers.get("X-Hub-Signature") == "sha256=" + mac or (
                headers.get("X-Schakel-Signature") is not None
            )
        else:
            assert request["supplier"] == "centric"
            assert headers.get("Authorization") == f"Bearer {TOPDESK_TOKEN}"
        assert message.topic == inbound_topic(request["supplier"])

    try:
        one()
    finally:
        loop.run_until_complete(app.state.batcher.close())
        loop.run_until_complete(client.aclose())
        loop.close()
    # both sides were exercised: some requests stored, many refused
    assert 202 in statuses and {401, 403, 404} <= set(statuses), sorted(set(statuses))


@st.composite
def reply_requests(draw: st.DrawFn) -> dict[str, Any]:
    hub = draw(st.sampled_from([ROUTED, NOT_ROUTED, "x", "..%2f..", "a" * 300]))
    token = draw(st.sampled_from([ZAKEN, OTHER_TEAM, "", "nope", ZAKEN + " ", JIRA_SECRET]))
    action = draw(
        st.sampled_from(
            ["comment", "request_info", "accept_resolution", "raise_priority", "bogus", None]
        )
    )
    document: dict[str, Any] = draw(
        st.dictionaries(
            st.sampled_from(["body", "visibility", "priority", "reason", "author", "extra"]),
            st.one_of(_text, _int64, st.none(), st.sampled_from(["P1", "P5", "public"])),
            max_size=4,
        )
    )
    if action is not None:
        document["action"] = action
    if draw(st.integers(0, 2)) == 0:  # a well-formed reply, with hostile text
        document = {"action": "comment", "body": draw(_text), "author": draw(_text)}
    body = draw(st.one_of(st.just(orjson.dumps(document)), st.binary(max_size=512)))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(st.sampled_from(["k-1", "k 2", "é", "x" * 300, "k-3"]))
    path = draw(
        st.sampled_from(
            [
                f"/api/v1/tickets/{hub}/replies",
                f"/api/v1/tickets/{hub}/replies",
                f"/api/v1/tickets/{hub}",
                f"/api/v1/tickets/{hub}/replies/abc",
                "/openapi.json",
                "/docs",
            ]
        )
    )
    method = draw(st.sampled_from(["POST", "POST", "GET", "PATCH"]))
    if draw(st.integers(0, 3)) == 0:  # the right team on its ticket, hostile text inside
        method, path = "POST", f"/api/v1/tickets/{ROUTED}/replies"
        headers["Authorization"] = f"Bearer {ZAKEN}"
        body = orjson.dumps({"action": "comment", "body": draw(_text), "author": draw(_text)})
    return {"method": method, "path": path, "body": body, "headers": headers}


def test_the_replies_api_under_hostile_requests(
    example_config: SchakelConfig, tmp_path: Path
) -> None:
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(empty_store(f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"))
    loop.run_until_complete(
        store.record(
            [correlation(ROUTED, status="resolved", priority="P3")],
            [route(ROUTED)],  # routed to GM0505 fb-zaken only
        )
    )
    publisher = Recorder()
    env = {"SCHAKEL_TOKEN_FB_GM0505_ZAKEN": ZAKEN, "SCHAKEL_TOKEN_FB_GM0482_ZAKEN": OTHER_TEAM}
    app = replies_app(example_config, store, publisher, env=env)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r")

    statuses: list[int] = []

    @FUZZ
    @given(request=reply_requests())
    def one(request: dict[str, Any]) -> None:
        before = len(publisher.sent)
        response = loop.run_until_complete(
            client.request(
                request["method"],
                request["path"],
                content=request["body"],
                headers=_raw(request["headers"]),
            )
        )
        assert response.status_code < 500, response.text
        statuses.append(response.status_code)
        assert request["path"] not in ("/openapi.json", "/docs") or response.status_code == 404
        published = publisher.sent[before:]
        if response.status_code != 202:
            assert not published, (request, response.text)
            return
        [message] = published
        assert message.topic == REPLIES
        event = ReplyEvent.model_validate_json(message.value)
        assert event.subject == ROUTED == request["path"].split("/")[4]
        assert (event.data.gemeente, event.data.team) == ("GM0505", "fb-zaken")
        assert request["headers"]["Authorization"].strip() == f"Bearer {ZAKEN}"

    try:
        one()
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(store.close())
        loop.close()
    assert 202 in statuses and {401, 404, 422} <= set(statuses), sorted(set(statuses))
