"""The replies API in-process (httpx ASGI transport), with its store and a recording publisher:
authentication per team, tenant isolation, validation as problem+json, idempotency keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from schemas.replies import ReplyEvent
from schemas.topics import REPLIES
from services.config import SchakelConfig
from services.replies import create_app
from services.replies.intake import MAX_BODY_BYTES
from services.tickets import CorrelationStore, ReplyRecord
from tests._postgres import postgres_url  # noqa: F401  (session fixture)
from tests.fakes import MemoryPublisher
from tests.sync_kit import BACKENDS, backend_url, correlation, empty_store, route


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


ZAKEN = "token-gm0505-zaken-0123456789abcdef"
BELASTINGEN = "token-gm0505-belastingen-0123456789"
ALBLASSERDAM = "token-gm0482-zaken-0123456789abcdef"
ENV = {
    "SCHAKEL_TOKEN_FB_GM0505_ZAKEN": ZAKEN,
    "SCHAKEL_TOKEN_FB_GM0505_BELASTINGEN": BELASTINGEN,
    "SCHAKEL_TOKEN_FB_GM0482_ZAKEN": ALBLASSERDAM,
}
OPEN = "11111111-1111-5111-8111-111111111111"
RESOLVED = "22222222-2222-5222-8222-222222222222"
CHANGE = "33333333-3333-5333-8333-333333333333"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
async def api(
    example_config: SchakelConfig, store_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, MemoryPublisher, CorrelationStore]]:
    store = await empty_store(store_url)
    await store.record(
        [
            correlation(OPEN, status="in_progress", priority="P3"),
            correlation(RESOLVED, status="resolved", record_id="b" * 32),
            correlation(CHANGE, kind="change", status="new", record_id="c" * 32),
        ],
        [route(OPEN), route(RESOLVED), route(CHANGE), route(OPEN, "GM0482", "fb-zaken")],
    )
    publisher = MemoryPublisher()
    app = create_app(example_config, store, publisher, env=ENV, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://replies.test") as client:
        yield client, publisher, store
    await store.close()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post(
    client: httpx.AsyncClient, hub: str, body: dict[str, Any], token: str = ZAKEN, **headers: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/tickets/{hub}/replies", json=body, headers={**auth(token), **headers}
    )


COMMENT = {"action": "comment", "body": "Graag een update.", "author": "Fatma Yilmaz"}


async def test_accepted_reply_is_on_the_replies_topic(api: Any) -> None:
    client, publisher, _ = api
    response = await post(client, OPEN, COMMENT, **{"X-Request-Id": "req-42"})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted" and body["hub_id"] == OPEN
    assert response.headers["location"] == f"/api/v1/tickets/{OPEN}/replies/{body['reply_id']}"
    [message] = publisher.sent
    assert message.topic == REPLIES and message.key == OPEN.encode()
    headers = dict(message.headers)
    assert headers["schakel-correlation-id"] == b"req-42"
    event = ReplyEvent.model_validate_json(message.value)
    assert event.id == body["reply_id"] and event.type == "nl.itsm.reply.comment.v1"
    assert (event.data.gemeente, event.data.team) == ("GM0505", "fb-zaken")
    assert event.data.created_at == NOW


async def test_idempotency_key_gives_the_same_reply_id_per_team(api: Any) -> None:
    client, _, _ = api
    first = await post(client, OPEN, COMMENT, **{"Idempotency-Key": "k-1"})
    retry = await post(client, OPEN, COMMENT, **{"Idempotency-Key": "k-1"})
    other = await post(client, OPEN, COMMENT, ALBLASSERDAM, **{"Idempotency-Key": "k-1"})
    assert first.json()["reply_id"] == retry.json()["reply_id"] != other.json()["reply_id"]
    same_text = await post(client, OPEN, COMMENT)
    again = await post(client, OPEN, COMMENT)
    assert same_text.json()["reply_id"] == again.json()["reply_id"]
    bad = await post(client, OPEN, COMMENT, **{"Idempotency-Key": "met spatie"})
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("nope-not-a-token-at-all", 401), (BELASTINGEN, 404), (ZAKEN, 202)],
)
async def test_authentication_and_tenant_isolation(
    api: Any, token: str | None, status: int
) -> None:
    client, publisher, _ = api
    headers = auth(token) if token else {}
    response = await client.post(f"/api/v1/tickets/{OPEN}/replies", json=COMMENT, headers=headers)
    assert response.status_code == status
    if status != 202:
        assert response.headers["content-type"] == "application/problem+json"
        assert not publisher.sent
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_ticket_is_404_like_another_teams(api: Any) -> None:
    client, _, _ = api
    unknown = await post(client, "99999999-9999-5999-8999-999999999999", COMMENT)
    foreign = await post(client, RESOLVED, COMMENT, ALBLASSERDAM)
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json()["type"] == foreign.json()["type"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"body": "zonder actie"}, "action"),
        ({"action": "comment", "body": "  "}, "needs a body"),
        ({"action": "raise_priority", "reason": "x"}, "needs the new priority"),
        ({"action": "comment", "body": "x", "priority": "P1"}, "only allowed with raise_priority"),
        ({"action": "comment", "body": "x", "onbekend": 1}, "Extra inputs"),
        ({"action": "shout", "body": "x"}, "action"),
    ],
)
async def test_validation_errors_are_422_problems(
    api: Any, body: dict[str, Any], fragment: str
) -> None:
    client, publisher, _ = api
    response = await post(client, OPEN, body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422 and problem["type"].endswith("/invalid-reply")
    assert fragment in str(problem)
    assert not publisher.sent


async def test_state_checks_are_409(api: Any) -> None:
    client, _, _ = api
    reject_open = await post(client, OPEN, {"action": "reject_resolution", "reason": "nee"})
    assert reject_open.status_code == 409
    assert "needs a resolved incident" in reject_open.json()["detail"]
    lower = await post(client, OPEN, {"action": "raise_priority", "priority": "P4", "reason": "x"})
    assert lower.status_code == 409
    on_change = await post(client, CHANGE, {"action": "accept_resolution"})
    assert on_change.status_code == 422
    assert (
        await post(client, RESOLVED, {"action": "reject_resolution", "reason": "nee"})
    ).status_code == 202
    assert (
        await post(client, OPEN, {"action": "raise_priority", "priority": "P2", "reason": "x"})
    ).status_code == 202


async def test_broker_down_is_503_with_retry_after(api: Any) -> None:
    client, publisher, _ = api
    publisher.error = ConnectionError("broker down")
    response = await post(client, OPEN, COMMENT)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


async def test_ticket_summary_shows_only_the_teams_own_replies(api: Any) -> None:
    client, _, store = api
    mine = (await post(client, OPEN, COMMENT)).json()["reply_id"]
    await store.save_reply(
        ReplyRecord(mine, OPEN, "GM0505", "fb-zaken", "comment", "d", "applied", "kpn", 1, 1, 1)
    )
    await store.save_reply(
        ReplyRecord("theirs", OPEN, "GM0482", "fb-zaken", "comment", "d", "applied", "kpn")
    )
    response = await client.get(f"/api/v1/tickets/{OPEN}", headers=auth(ZAKEN))
    assert response.status_code == 200
    summary = response.json()
    assert (summary["status"], summary["supplier"]["number"]) == ("in_progress", "INC0000046")
    assert [r["reply_id"] for r in summary["replies"]] == [mine]
    assert summary["replies"][0]["status"] == "applied"
    one = await client.get(f"/api/v1/tickets/{OPEN}/replies/{mine}", headers=auth(ZAKEN))
    assert one.json()["status"] == "applied"
    theirs = await client.get(f"/api/v1/tickets/{OPEN}/replies/theirs", headers=auth(ZAKEN))
    assert theirs.json()["status"] == "accepted"  # not told: another team's
    assert (
        await client.get(f"/api/v1/tickets/{RESOLVED}", headers=auth(ALBLASSERDAM))
    ).status_code == 404


async def test_an_idempotency_key_reused_with_another_body_is_refused(api: Any) -> None:
    client, publisher, _ = api
    first = await post(client, OPEN, COMMENT, **{"Idempotency-Key": "k-2"})
    assert first.status_code == 202
    with structlog.testing.capture_logs() as logs:
        changed = await post(
            client, OPEN, {**COMMENT, "body": "iets anders"}, **{"Idempotency-Key": "k-2"}
        )
    assert changed.status_code == 422
    assert changed.json()["type"].endswith("/idempotency-key-reused")
    assert len(publisher.sent) == 1  # the first reply only
    [line] = [e for e in logs if e["event"] == "replies request refused"]
    assert (line["gemeente"], line["team"], line["status"]) == ("GM0505", "fb-zaken", 422)
    # the same key on another ticket is another reply id: no conflict
    other_ticket = await post(
        client, RESOLVED, {"action": "accept_resolution"}, **{"Idempotency-Key": "k-2"}
    )
    assert other_ticket.status_code == 202, other_ticket.text


async def test_an_oversized_body_is_refused_without_being_read_whole(api: Any) -> None:
    client, publisher, _ = api
    sent = [0]

    async def endless() -> AsyncIterator[bytes]:
        chunk = b'{"action": "comment", "body": "' + b"x" * 65_536
        while sent[0] < 50 * 1024 * 1024:  # 50 MiB if nobody stops reading
            sent[0] += len(chunk)
            yield chunk

    response = await client.post(
        f"/api/v1/tickets/{OPEN}/replies", content=endless(), headers=auth(ZAKEN)
    )
    assert response.status_code == 413
    assert sent[0] <= MAX_BODY_BYTES + 2 * 65_600  # stopped at the limit, not at the end
    declared = await client.post(
        f"/api/v1/tickets/{OPEN}/replies",
        content=b"{}",
        headers={**auth(ZAKEN), "Content-Length": str(100 * 1024 * 1024)},
    )
    assert declared.status_code == 413
    assert not publisher.sent


async def test_no_openapi_document_or_docs_for_strangers(api: Any) -> None:
    client, _, _ = api
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert (await client.get(path)).status_code == 404
        assert (await client.get(path, headers=auth(ZAKEN))).status_code == 404


async def test_every_refusal_is_logged_with_team_reason_and_address(api: Any) -> None:
    client, _, _ = api
    with structlog.testing.capture_logs() as logs:
        await post(client, OPEN, COMMENT, token=BELASTINGEN)  # not routed to this team
        await post(client, OPEN, COMMENT, token="nope-not-a-token-at-all")
        await client.get(f"/api/v1/tickets/{OPEN}", headers=auth(BELASTINGEN))
    lines = [e for e in logs if e["event"] == "replies request refused"]
    assert [(e["team"], e["status"], e["problem"]) for e in lines] == [
        ("fb-belastingen", 404, "ticket-not-found"),
        (None, 401, "unauthenticated"),
        ("fb-belastingen", 404, "ticket-not-found"),
    ]
    assert all(e["remote_addr"] == "127.0.0.1" and e["reason"] for e in lines)
    assert "nope-not-a-token" not in str(lines)  # the token never reaches the log
