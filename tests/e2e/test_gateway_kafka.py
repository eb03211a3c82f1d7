"""End to end on the real broker: the webhook gateway served by uvicorn on a loopback socket,
suppliers POSTing over HTTP, an independent consumer reading what landed on Kafka."""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from schemas.topics import INCIDENTS, inbound_topic
from services.bootstrap import specs_for
from services.config import SchakelConfig, Settings, SupplierConfig, SupplierCredentials
from services.demo.gen_jira import jira_incident
from services.kafka import ensure_topics
from tests.conftest import KafkaBroker, config_with_suppliers, unique_supplier
from tests.e2e._io import collect, end_offsets, running_hub

pytestmark = [pytest.mark.kafka]

NOW = datetime.now(UTC).replace(microsecond=0)


def _own_secret(
    supplier: SupplierConfig,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    credentials: dict[str, Any] | None = None,
    **update: Any,
) -> SupplierConfig:
    env = "SCHAKEL_SECRET_" + supplier.id.upper().replace("-", "_")
    monkeypatch.setenv(env, value)
    given = SupplierCredentials(webhook_secret_env=env, **(credentials or {}))
    return supplier.model_copy(update={"credentials": given, **update})


def _sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@asynccontextmanager
async def served(bootstrap: str, config: SchakelConfig) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway behind uvicorn on a free loopback port, and a client for it."""
    settings = Settings(http_host="127.0.0.1", gateway_port=0)
    async with running_hub(bootstrap, config, ["gateway"], settings=settings) as hub:
        port = hub.services["gateway"].port  # type: ignore[attr-defined]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client


async def test_webhooks_through_the_gateway_onto_the_suppliers_topic(
    kafka: KafkaBroker, example_config: SchakelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    jira_secret, topdesk_secret = "zaak-" + "a1" * 20, "centric-" + "b2" * 20
    jira = _own_secret(
        unique_supplier(example_config, "zaakplatform"),
        monkeypatch,
        jira_secret,
        max_payload_bytes=16_384,
    )
    topdesk = _own_secret(
        unique_supplier(example_config, "centric"),
        monkeypatch,
        topdesk_secret,
        {"webhook_auth": "bearer"},
    )
    config = config_with_suppliers(example_config, jira, topdesk)
    jira_topic, topdesk_topic = inbound_topic(jira.id), inbound_topic(topdesk.id)
    _, key, body = jira_incident(random.Random(7), 7, NOW)

    async with served(kafka.bootstrap, config) as client:
        jira_from = await end_offsets(kafka.bootstrap, jira_topic)
        topdesk_from = await end_offsets(kafka.bootstrap, topdesk_topic)
        assert (await client.get("/readyz")).status_code == 200

        accepted = await client.post(
            f"/webhooks/{jira.id}",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature": _sign(body, jira_secret),
                "X-Atlassian-Webhook-Identifier": "e2e-delivery-1",
                "X-Atlassian-Webhook-Retry": "0",
            },
        )
        assert accepted.status_code == 202, accepted.text
        # Acknowledged means on the broker: it is there the moment the answer arrives.
        assert await end_offsets(kafka.bootstrap, jira_topic) != jira_from

        refusals = {
            "wrong signature": await client.post(
                f"/webhooks/{jira.id}",
                content=body,
                headers={"X-Hub-Signature": _sign(body, "guessed")},
            ),
            "no credentials": await client.post(f"/webhooks/{jira.id}", content=body),
            "oversized": await client.post(
                f"/webhooks/{jira.id}",
                content=b'{"pad":"' + b"x" * 40_000 + b'"}',
                headers={"X-Hub-Signature": "sha256=" + "0" * 64},
            ),
            "not JSON": await client.post(
                f"/webhooks/{jira.id}",
                content=b"<xml>not json</xml>",
                headers={"X-Hub-Signature": _sign(b"<xml>not json</xml>", jira_secret)},
            ),
            "A's signature on B's path": await client.post(
                f"/webhooks/{topdesk.id}",
                content=body,
                headers={"X-Hub-Signature": _sign(body, jira_secret)},
            ),
            "A's token on B's path": await client.post(
                f"/webhooks/{topdesk.id}",
                content=body,
                headers={"Authorization": f"Bearer {jira_secret}"},
            ),
            "unknown supplier": await client.post(
                "/webhooks/nobody", content=body, headers={"Authorization": "Bearer x"}
            ),
        }
        assert {name: r.status_code for name, r in refusals.items()} == {
            "wrong signature": 403,
            "no credentials": 401,
            "oversized": 413,
            "not JSON": 400,
            "A's signature on B's path": 401,
            "A's token on B's path": 403,
            "unknown supplier": 404,
        }
        for response in refusals.values():
            assert response.headers["content-type"] == "application/problem+json"

        # A's body naming B's topic still goes to A's own topic.
        claims_b = orjson.dumps(
            {"topic": topdesk_topic, "supplier": topdesk.id, "issue": {"key": "ZAAK-77"}}
        )
        own = await client.post(
            f"/webhooks/{jira.id}",
            content=claims_b,
            headers={"X-Hub-Signature": _sign(claims_b, jira_secret)},
        )
        assert own.status_code == 202
        topdesk_body = orjson.dumps({"number": "I2603 101", "briefDescription": "Balie"})
        bearer = await client.post(
            f"/webhooks/{topdesk.id}",
            content=topdesk_body,
            headers={"Authorization": f"Bearer {topdesk_secret}"},
        )
        assert bearer.status_code == 202

        on_jira = await collect(kafka.bootstrap, jira_topic, jira_from, lambda r: True, count=2)
        on_topdesk = await collect(
            kafka.bootstrap, topdesk_topic, topdesk_from, lambda r: True, count=1
        )

    by_value = {r.value: r for r in on_jira}  # two keys, two partitions: no order between them
    assert len(on_jira) == 2
    assert set(by_value) == {body, claims_b}
    first = by_value[body]
    assert first.key == key
    headers = dict(first.headers)
    assert headers["schakel-gateway-supplier"] == jira.id.encode()
    assert headers["schakel-verified"] == b"hmac"
    assert headers["schakel-content-type"] == b"application/json"
    assert headers["schakel-remote-addr"] == b"127.0.0.1"
    assert headers["x-atlassian-webhook-identifier"] == b"e2e-delivery-1"
    assert headers["x-atlassian-webhook-retry"] == b"0"
    received = datetime.fromisoformat(headers["schakel-received-at"].decode())
    assert abs((received - datetime.now(UTC)).total_seconds()) < 120
    assert by_value[claims_b].key == b"ZAAK-77"
    assert [r.value for r in on_topdesk] == [topdesk_body], "nothing else reached B's topic"
    assert dict(on_topdesk[0].headers)["schakel-verified"] == b"bearer"


async def test_signed_xurrent_and_jira_webhooks_become_incidents(
    kafka: KafkaBroker, example_config: SchakelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gateway, Kafka and normaliser together: the Xurrent translator accepts the JWT body
    because the gateway verified it (``schakel-verified: jwt``)."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    xurrent = _own_secret(
        unique_supplier(example_config, "werkplekdienst"),
        monkeypatch,
        pem,
        {"webhook_jwt_audience": "schakel-gateway"},
    )
    jira_secret = "zaak-" + "c3" * 20
    jira = _own_secret(unique_supplier(example_config, "zaakplatform"), monkeypatch, jira_secret)
    config = config_with_suppliers(example_config, xurrent, jira)
    webhook = {
        "webhook_id": 945,
        "account_id": "werkplekdienst-drechtsteden",
        "event": "request.update",
        "object_id": 70999,
        "person_id": 8531,
        "person_name": "Noël Çelik",
        "instance_name": "werkplekdienst-drechtsteden",
        "payload": {
            "id": 70999,
            "subject": "Outlook start niet op",
            "category": "incident",
            "impact": "medium",
            "urgent": False,
            "status": "in_progress",
            "team": {"id": 372, "name": "Servicedesk Werkplek"},
            "created_at": "2026-03-10T09:15:00+01:00",
            "updated_at": "2026-03-10T09:20:00+01:00",
        },
    }
    now = int(time.time())
    claims = {"aud": "schakel-gateway", "iat": now, "exp": now + 300, "jti": "e2e-xurrent-1"}
    token = jwt.encode({"data": webhook, **claims}, private, algorithm="ES256")
    _, _, jira_body = jira_incident(random.Random(8), 8, NOW)

    async with served(kafka.bootstrap, config) as client:
        inbound_from = await end_offsets(kafka.bootstrap, inbound_topic(xurrent.id))
        signed = await client.post(
            f"/webhooks/{xurrent.id}",
            content=orjson.dumps({"jwt": token}),
            headers={"x-xurrent-delivery": "e2e-xurrent-1"},
        )
        assert signed.status_code == 202, signed.text
        forged = jwt.encode(
            {"data": {**webhook, "object_id": 666}},
            ec.generate_private_key(ec.SECP256R1()),
            algorithm="ES256",
        )
        refused = await client.post(
            f"/webhooks/{xurrent.id}", content=orjson.dumps({"jwt": forged})
        )
        assert refused.status_code == 403
        unsigned = await client.post(f"/webhooks/{xurrent.id}", content=orjson.dumps(webhook))
        assert unsigned.status_code == 401
        jira_post = await client.post(
            f"/webhooks/{jira.id}",
            content=jira_body,
            headers={"X-Hub-Signature": _sign(jira_body, jira_secret)},
        )
        assert jira_post.status_code == 202
        (inbound,) = await collect(
            kafka.bootstrap, inbound_topic(xurrent.id), inbound_from, lambda r: True, count=1
        )
        assert inbound.value == orjson.dumps({"jwt": token})
        assert inbound.key == b"70999"
        assert dict(inbound.headers)["schakel-verified"] == b"jwt"

    await ensure_topics(kafka.bootstrap, specs_for(config))  # as the hub does on start
    incidents_from = await end_offsets(kafka.bootstrap, INCIDENTS)
    async with running_hub(kafka.bootstrap, config, ["normaliser"]):
        events = await collect(
            kafka.bootstrap,
            INCIDENTS,
            incidents_from,
            lambda r: orjson.loads(r.value)["supplierid"] in {xurrent.id, jira.id},
            count=2,
        )
    by_supplier = {orjson.loads(e.value)["supplierid"]: orjson.loads(e.value) for e in events}
    assert set(by_supplier) == {xurrent.id, jira.id}
    assert by_supplier[xurrent.id]["data"]["supplier_ref"]["number"] == "70999"
