"""The webhook gateway's HTTP behaviour, in process: httpx against the ASGI app, with a fake
publisher standing in for Kafka. The same paths run against the real broker in tests/e2e."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import orjson
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from connectors.xurrent._native import read_body
from schemas.topics import inbound_topic
from services.config import SchakelConfig, Settings, SupplierConfig, SupplierCredentials
from services.demo.gen_jira import jira_incident
from services.gateway import Batcher, create_app
from services.gateway.api import PROBLEM_BASE
from services.gateway.errors import Overloaded, WebhookNotStored
from services.messaging import OutboundMessage
from tests.conftest import config_with_suppliers
from tests.fakes import MemoryPublisher

JIRA_SECRET = "jira-webhook-secret-0123456789abcdef"
TOPDESK_SECRET = "topdesk-bearer-token-0123456789abcdef"
XURRENT_KEY = ec.generate_private_key(ec.SECP256R1())
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


XURRENT_AUD = "schakel-gateway"


def _with_env(
    supplier: SupplierConfig, env: str, credentials: dict[str, Any] | None = None, **update: Any
) -> SupplierConfig:
    return supplier.model_copy(
        update={
            "credentials": SupplierCredentials(webhook_secret_env=env, **(credentials or {})),
            **update,
        }
    )


def _xurrent_token(claims: dict[str, Any]) -> str:
    """A token of the supplier's webhook policy: aud, exp in 5 minutes, a fresh jti."""
    now = datetime.now(UTC).timestamp()
    base = {"aud": XURRENT_AUD, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    return jwt.encode({**base, **claims}, XURRENT_KEY, algorithm="ES256")


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def config(example_config: SchakelConfig, monkeypatch: pytest.MonkeyPatch) -> SchakelConfig:
    monkeypatch.setenv("GWTEST_JIRA", JIRA_SECRET)
    monkeypatch.setenv("GWTEST_TOPDESK", TOPDESK_SECRET)
    monkeypatch.setenv("GWTEST_XURRENT", _pem(XURRENT_KEY))
    monkeypatch.delenv("GWTEST_UNSET", raising=False)
    return config_with_suppliers(
        example_config,
        _with_env(example_config.supplier("zaakplatform"), "GWTEST_JIRA", max_payload_bytes=4096),
        _with_env(example_config.supplier("centric"), "GWTEST_TOPDESK", {"webhook_auth": "bearer"}),
        _with_env(
            example_config.supplier("werkplekdienst"),
            "GWTEST_XURRENT",
            {"webhook_jwt_audience": XURRENT_AUD},
        ),
        _with_env(example_config.supplier("kpn"), "GWTEST_UNSET"),
    )


class Gateway:
    def __init__(self, client: httpx.AsyncClient, publisher: MemoryPublisher, ready: list[bool]):
        self.client = client
        self.publisher = publisher
        self.ready = ready


@pytest.fixture
async def gw(config: SchakelConfig) -> AsyncIterator[Gateway]:
    publisher = MemoryPublisher()
    ready = [True]

    async def readiness() -> bool:
        return ready[0]

    app = create_app(
        Settings(kafka_bootstrap="127.0.0.1:1"), config, publisher, readiness=readiness
    )
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield Gateway(client, publisher, ready)
    await app.state.batcher.close()


def _jira(serial: int = 1) -> tuple[str, bytes]:
    _, key, body = jira_incident(random.Random(serial), serial, NOW)
    return key.decode(), body


def _sign(body: bytes, secret: str = JIRA_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"] == "about:blank" or problem["type"].startswith(PROBLEM_BASE)
    assert problem["title"] and problem["detail"]
    return problem


# -- accepted webhooks -------------------------------------------------------------------


async def test_signed_jira_webhook_lands_unchanged_on_its_inbound_topic(gw: Gateway) -> None:
    key, body = _jira()
    response = await gw.client.post(
        "/webhooks/zaakplatform",
        content=body,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Hub-Signature": _sign(body),
            "X-Atlassian-Webhook-Identifier": "d8a0c3e6-1111",
            "X-Atlassian-Webhook-Retry": "2",
            "X-Request-Id": "req-42",
            "X-Unrelated": "not copied",
            "schakel-verified": "jwt",  # a caller cannot set the hub's own headers
        },
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted", "request_id": "req-42"}
    assert response.headers["x-request-id"] == "req-42"
    (record,) = gw.publisher.messages
    assert record.topic == inbound_topic("zaakplatform")
    assert record.value == body
    assert record.key == key.encode()
    headers = dict(record.headers)
    assert len(headers) == len(record.headers), "no header twice"
    received = datetime.fromisoformat(headers.pop("schakel-received-at").decode())
    assert received.tzinfo is not None and received.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert headers == {
        "schakel-gateway-supplier": b"zaakplatform",
        "schakel-verified": b"hmac",
        "schakel-request-id": b"req-42",
        "schakel-content-type": b"application/json; charset=utf-8",
        "schakel-remote-addr": b"203.0.113.7",
        "x-atlassian-webhook-identifier": b"d8a0c3e6-1111",
        "x-atlassian-webhook-retry": b"2",
        "x-request-id": b"req-42",
    }


async def test_plain_hex_and_base64_signatures_and_bearer_tokens(gw: Gateway) -> None:
    for serial, encode in ((2, bytes.hex), (12, lambda d: base64.b64encode(d).decode())):
        _, body = _jira(serial)
        signature = encode(hmac.new(JIRA_SECRET.encode(), body, hashlib.sha256).digest())
        response = await gw.client.post(
            "/webhooks/zaakplatform", content=body, headers={"X-Schakel-Signature": signature}
        )
        assert response.status_code == 202, response.text
    topdesk = orjson.dumps({"number": "I2603 017", "briefDescription": "Printer stuk"})
    response = await gw.client.post(
        "/webhooks/centric",
        content=topdesk,
        headers={"Authorization": f"Bearer {TOPDESK_SECRET}", "X-Schakel-Key": "I2603-017"},
    )
    assert response.status_code == 202, response.text
    assert [m.topic for m in gw.publisher.messages] == [
        inbound_topic("zaakplatform"),
        inbound_topic("zaakplatform"),
        inbound_topic("centric"),
    ]
    assert gw.publisher.messages[-1].key == b"I2603-017"  # the explicit key wins
    assert dict(gw.publisher.messages[-1].headers)["schakel-verified"] == b"bearer"
    assert "x-request-id" in {k.lower() for k in response.headers}


async def test_signed_xurrent_webhook_is_published_verified(gw: Gateway) -> None:
    webhook = {"event": "request.update", "object_id": 70112, "payload": {"id": 70112}}
    bodies = (
        orjson.dumps({"jwt": _xurrent_token({"data": webhook})}),
        _xurrent_token({"data": webhook}).encode(),
    )
    for body in bodies:
        response = await gw.client.post(
            "/webhooks/werkplekdienst", content=body, headers={"x-xurrent-delivery": "5f0c-aa"}
        )
        assert response.status_code == 202, response.text
    for record, body in zip(gw.publisher.messages, bodies, strict=True):
        assert record.topic == inbound_topic("werkplekdienst")
        assert record.value == body
        assert record.key == b"70112"
        headers = dict(record.headers)
        assert headers["schakel-verified"] == b"jwt"
        assert headers["x-xurrent-delivery"] == b"5f0c-aa"
        # the Xurrent translator reads exactly what the gateway published
        assert read_body(record.value, headers) == webhook


# -- refusals ----------------------------------------------------------------------------


async def test_missing_credentials_are_401_and_wrong_ones_403(gw: Gateway) -> None:
    _, body = _jira(3)
    missing = await gw.client.post("/webhooks/zaakplatform", content=body)
    assert "detail" in _problem(missing, 401)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    for wrong_kind in ({"Authorization": "Basic eDp5"}, {"Authorization": "Bearer guessed"}):
        response = await gw.client.post("/webhooks/zaakplatform", content=body, headers=wrong_kind)
        _problem(response, 401)
    for headers in (
        {"X-Hub-Signature": _sign(body, "guessed-secret")},
        {"X-Hub-Signature": _sign(body + b" ")},
        {"X-Hub-Signature": "sha256=nonsense"},
    ):
        response = await gw.client.post("/webhooks/zaakplatform", content=body, headers=headers)
        _problem(response, 403)
    assert not gw.publisher.messages


async def test_a_supplier_cannot_write_into_another_suppliers_topic(gw: Gateway) -> None:
    _, body = _jira(4)
    # the zaakplatform's valid signature, posted as centric (a bearer-token supplier): refused
    response = await gw.client.post(
        "/webhooks/centric", content=body, headers={"X-Hub-Signature": _sign(body)}
    )
    _problem(response, 401)
    response = await gw.client.post(
        "/webhooks/centric",
        content=body,
        headers={"Authorization": f"Bearer {JIRA_SECRET}"},
    )
    _problem(response, 403)
    # a body naming another supplier and topic still lands on the sender's own topic
    claims = orjson.dumps(
        {
            "supplier": "centric",
            "topic": inbound_topic("centric"),
            "issue": {"key": "ZAAK-9"},
        }
    )
    response = await gw.client.post(
        "/webhooks/zaakplatform",
        content=claims,
        headers={"X-Hub-Signature": _sign(claims), "X-Schakel-Key": "centric"},
    )
    assert response.status_code == 202
    assert [(m.topic, m.key) for m in gw.publisher.messages] == [
        (inbound_topic("zaakplatform"), b"centric")
    ]
    assert dict(gw.publisher.messages[0].headers)["schakel-gateway-supplier"] == b"zaakplatform"


async def test_a_public_key_is_never_accepted_as_a_shared_secret(gw: Gateway) -> None:
    body = orjson.dumps({"event": "request.update", "object_id": 1})
    pem = _pem(XURRENT_KEY)
    for headers in (
        {"X-Hub-Signature": _sign(body, pem.strip())},
        {"X-Hub-Signature": _sign(body, pem)},
        {"Authorization": f"Bearer {pem.strip()}"},
    ):
        response = await gw.client.post("/webhooks/werkplekdienst", content=body, headers=headers)
        _problem(response, 401)  # this supplier must send a signed JWT
    forged = jwt.encode({"event": "x"}, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    response = await gw.client.post("/webhooks/werkplekdienst", content=forged.encode())
    _problem(response, 403)
    assert not gw.publisher.messages


async def test_unknown_supplier_is_404_without_echo(gw: Gateway) -> None:
    for path in ("/webhooks/%3Cscript%3Eevil", "/webhooks/nobody", "/webhooks/a/b"):
        response = await gw.client.post(
            path, content=b"{}", headers={"X-Hub-Signature": _sign(b"{}")}
        )
        problem = _problem(response, 404)
        assert "script" not in response.text and "nobody" not in response.text
        assert problem["type"] in (PROBLEM_BASE + "unknown-supplier", "about:blank")
    assert not gw.publisher.messages


async def test_supplier_without_its_secret_is_503_and_every_refusal_logged(
    config: SchakelConfig,
) -> None:
    with structlog.testing.capture_logs() as logs:
        app = create_app(Settings(), config, MemoryPublisher(), readiness=_always)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            responses = [
                await client.post(
                    "/webhooks/kpn", content=b"{}", headers={"Authorization": "Bearer x"}
                )
                for _ in range(35)
            ]
    for response in responses:
        problem = _problem(response, 503)
        assert "not configured" in problem["detail"]
        assert "GWTEST_UNSET" not in problem["detail"], "operators' details stay in the log"
        assert int(response.headers["retry-after"]) > 0
    startup = [e for e in logs if e["event"] == "supplier cannot post webhooks"]
    assert [(e["supplier"], e["log_level"]) for e in startup] == [("kpn", "warning")]
    assert "GWTEST_UNSET" in startup[0]["reason"]
    refused = [e for e in logs if e["event"] == "webhook refused"]
    assert len(refused) == 30, "every refusal is logged, up to 30 a minute per supplier+reason"
    assert all(e["supplier"] == "kpn" and e["remote_addr"] for e in refused)


async def _always() -> bool:
    return True


async def test_oversized_body_is_413_by_declared_length_or_while_streaming(gw: Gateway) -> None:
    big = b'{"pad": "' + b"x" * 5000 + b'"}'
    declared = await gw.client.post(
        "/webhooks/zaakplatform", content=big, headers={"X-Hub-Signature": _sign(big)}
    )
    _problem(declared, 413)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    streamed = await gw.client.post(
        "/webhooks/zaakplatform", content=chunks(), headers={"X-Hub-Signature": _sign(big)}
    )
    _problem(streamed, 413)
    exactly = b'{"pad": "' + b"x" * (4096 - 11) + b'"}'
    assert len(exactly) == 4096
    response = await gw.client.post(
        "/webhooks/zaakplatform", content=exactly, headers={"X-Hub-Signature": _sign(exactly)}
    )
    assert response.status_code == 202
    assert len(gw.publisher.messages) == 1


async def test_declared_oversize_is_refused_before_the_body_is_read(
    config: SchakelConfig,
) -> None:
    app = create_app(Settings(), config, MemoryPublisher(), readiness=_always)
    received: list[object] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        received.append(1)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/webhooks/zaakplatform",
        "raw_path": b"/webhooks/zaakplatform",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", b"10000000"), (b"x-hub-signature", b"sha256=00")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8080),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert not received, "not one byte of the body was read"


async def test_body_that_is_not_json_is_400_without_echo(gw: Gateway) -> None:
    for body in (b"<script>alert('x')</script>", b'{"issue": ', b"\xff\xfe", b""):
        response = await gw.client.post(
            "/webhooks/zaakplatform", content=body, headers={"X-Hub-Signature": _sign(body)}
        )
        problem = _problem(response, 400)
        assert "script" not in response.text and "alert" not in response.text
        assert problem["type"].endswith("malformed-request")
    bad_key = await gw.client.post(
        "/webhooks/zaakplatform",
        content=b"{}",
        headers={"X-Hub-Signature": _sign(b"{}"), "X-Schakel-Key": " "},
    )
    _problem(bad_key, 400)
    bad_length = await gw.client.post(
        "/webhooks/zaakplatform",
        content=b"{}",
        headers={"X-Hub-Signature": _sign(b"{}"), "Content-Length": "-1"},
    )
    assert bad_length.status_code == 400
    assert not gw.publisher.messages


# -- acknowledgement and batching ----------------------------------------------------------


async def test_requests_are_answered_only_after_the_broker_acknowledged(gw: Gateway) -> None:
    gw.publisher.release.clear()
    bodies = [_jira(10 + i)[1] for i in range(40)]
    tasks = [
        asyncio.create_task(
            gw.client.post(
                "/webhooks/zaakplatform", content=body, headers={"X-Hub-Signature": _sign(body)}
            )
        )
        for body in bodies
    ]
    await asyncio.sleep(0.1)
    assert not any(t.done() for t in tasks), "no answer before the acknowledgement"
    gw.publisher.release.set()
    responses = await asyncio.gather(*tasks)
    assert all(r.status_code == 202 for r in responses)
    assert sorted(m.value for m in gw.publisher.messages) == sorted(bodies)
    assert len(gw.publisher.batches) < 10, "concurrent requests share produce requests"


async def test_broker_failure_is_503_with_retry_after_for_every_request(gw: Gateway) -> None:
    gw.publisher.error = RuntimeError("NotEnoughReplicas")
    bodies = [_jira(60 + i)[1] for i in range(5)]
    responses = await asyncio.gather(
        *(
            gw.client.post(
                "/webhooks/zaakplatform", content=b, headers={"X-Hub-Signature": _sign(b)}
            )
            for b in bodies
        )
    )
    for response in responses:
        problem = _problem(response, 503)
        assert "NotEnoughReplicas" not in response.text
        assert problem["type"].endswith("broker-unavailable")
        assert int(response.headers["retry-after"]) > 0


async def test_batcher_groups_times_out_and_refuses_when_full() -> None:
    publisher = MemoryPublisher()
    batcher = Batcher(publisher, max_messages=3, max_delay_s=10.0, max_waiting=4, timeout_s=0.2)
    message = OutboundMessage(topic="t", value=b"{}")
    # three arrive: sent at once as one batch, without waiting for the delay
    await asyncio.wait_for(asyncio.gather(*(batcher.publish(message) for _ in range(3))), 1.0)
    assert [len(b) for b in publisher.batches] == [3]
    # held acknowledgements: a timeout is a WebhookNotStored, a full gateway is Overloaded
    publisher.release.clear()
    waiting = [asyncio.create_task(batcher.publish(message)) for _ in range(4)]
    await asyncio.sleep(0)
    with pytest.raises(Overloaded):
        await batcher.publish(message)
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, WebhookNotStored) for r in results)
    publisher.release.set()
    await batcher.close()
    assert batcher.waiting == 0
    with pytest.raises(WebhookNotStored):
        await batcher.publish(message)


# -- health --------------------------------------------------------------------------------


async def test_health_and_readiness(gw: Gateway) -> None:
    assert (await gw.client.get("/healthz")).status_code == 200
    assert (await gw.client.get("/readyz")).json() == {"status": "ready"}
    gw.ready[0] = False
    _problem(await gw.client.get("/readyz"), 503)
    assert (await gw.client.get("/healthz")).status_code == 200
    wrong_method = await gw.client.get("/webhooks/zaakplatform")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"
    assert wrong_method.headers["allow"] == "POST"
    nowhere = await gw.client.post("/elsewhere", content=b"{}")
    assert nowhere.status_code == 404
    assert nowhere.headers["content-type"] == "application/problem+json"


# -- replay, lifetimes, one use per secret --------------------------------------------------


async def test_a_signing_secret_is_never_accepted_as_a_bearer_token(gw: Gateway) -> None:
    _, body = _jira(21)
    with structlog.testing.capture_logs() as logs:
        response = await gw.client.post(
            "/webhooks/zaakplatform",
            content=body,
            headers={"Authorization": f"Bearer {JIRA_SECRET}"},
        )
    assert "never accepted as a bearer token" in _problem(response, 401)["detail"]
    assert not gw.publisher.messages
    refused = [e for e in logs if e["event"] == "webhook refused"]
    assert refused and refused[0]["supplier"] == "zaakplatform"
    assert refused[0]["remote_addr"] == "203.0.113.7"
    assert refused[0]["problem"] == "missing-credentials"


async def test_an_exact_replay_of_a_signed_request_is_recognised(gw: Gateway) -> None:
    _, body = _jira(22)
    headers = {"X-Hub-Signature": _sign(body)}
    first = await gw.client.post("/webhooks/zaakplatform", content=body, headers=headers)
    assert first.status_code == 202, first.text
    for _ in range(2):
        again = await gw.client.post("/webhooks/zaakplatform", content=body, headers=headers)
        assert _problem(again, 409)["type"] == PROBLEM_BASE + "replayed"
    assert len(gw.publisher.messages) == 1


async def test_a_retry_after_a_failed_store_is_no_replay(gw: Gateway) -> None:
    _, body = _jira(23)
    headers = {"X-Hub-Signature": _sign(body)}
    gw.publisher.error = RuntimeError("broker down")
    failed = await gw.client.post("/webhooks/zaakplatform", content=body, headers=headers)
    _problem(failed, 503)
    gw.publisher.error = None
    retried = await gw.client.post("/webhooks/zaakplatform", content=body, headers=headers)
    assert retried.status_code == 202, retried.text
    assert [m.value for m in gw.publisher.messages] == [body]


async def test_xurrent_tokens_need_a_bounded_life_the_audience_and_a_fresh_jti(
    gw: Gateway,
) -> None:
    now = datetime.now(UTC).timestamp()
    webhook = {"data": {"event": "request.update", "object_id": 70113}}
    refused = {
        "year old": {"iat": now - 366 * 86400, "exp": now + 60},
        "valid for a year": {"iat": now, "exp": now + 366 * 86400},
        "no exp": {"exp": None},
        "other audience": {"aud": "someone-else"},
        "no jti": {"jti": None},
    }
    for name, claims in refused.items():
        token = _xurrent_token({**webhook, **claims})
        if None in claims.values():  # drop the claim the case names
            payload = jwt.decode(token, options={"verify_signature": False})
            payload = {k: v for k, v in payload.items() if v is not None}
            token = jwt.encode(payload, XURRENT_KEY, algorithm="ES256")
        response = await gw.client.post("/webhooks/werkplekdienst", content=token.encode())
        assert response.status_code == 403, (name, response.text)
    token = _xurrent_token(webhook)
    first = await gw.client.post("/webhooks/werkplekdienst", content=token.encode())
    assert first.status_code == 202, first.text
    # the same jti again, even wrapped differently or re-signed: a replay
    wrapped = await gw.client.post("/webhooks/werkplekdienst", content=orjson.dumps({"jwt": token}))
    _problem(wrapped, 409)
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    resigned = _xurrent_token({**webhook, "jti": jti, "exp": now + 200})
    _problem(await gw.client.post("/webhooks/werkplekdienst", content=resigned.encode()), 409)
    assert len(gw.publisher.messages) == 1


async def test_a_supplier_with_a_timestamp_window_signs_the_time_with_the_body(
    example_config: SchakelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GWTEST_JIRA", JIRA_SECRET)
    supplier = _with_env(
        example_config.supplier("zaakplatform"),
        "GWTEST_JIRA",
        {"webhook_timestamp_window_s": 300},
    )
    publisher = MemoryPublisher()
    app = create_app(
        Settings(), config_with_suppliers(example_config, supplier), publisher, readiness=_always
    )
    transport = httpx.ASGITransport(app=app)
    _, body = _jira(24)
    now = int(datetime.now(UTC).timestamp())

    def signed(ts: int) -> dict[str, str]:
        mac = hmac.new(JIRA_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256)
        return {"X-Hub-Signature": "sha256=" + mac.hexdigest(), "X-Schakel-Timestamp": str(ts)}

    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        _problem(
            await client.post("/webhooks/zaakplatform", content=body, headers=signed(now - 900)),
            403,
        )
        no_stamp = {"X-Hub-Signature": _sign(body)}
        _problem(await client.post("/webhooks/zaakplatform", content=body, headers=no_stamp), 401)
        restamped = {**signed(now - 900), "X-Schakel-Timestamp": str(now)}
        _problem(await client.post("/webhooks/zaakplatform", content=body, headers=restamped), 403)
        fresh = await client.post("/webhooks/zaakplatform", content=body, headers=signed(now))
        assert fresh.status_code == 202, fresh.text
        _problem(
            await client.post("/webhooks/zaakplatform", content=body, headers=signed(now)), 409
        )
    await app.state.batcher.close()
    assert [m.value for m in publisher.messages] == [body]
