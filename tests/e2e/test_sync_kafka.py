"""Two-way sync end to end on the real broker, with every service that takes part, for each
of the four supplier systems against its local API fake (services.demo.supplier_apis):

supplier incident (the tool's webhook on the inbound topic)
-> normaliser -> router -> delivery -> the FB team's webhook receiver
-> the FB comments through the replies API (twice: a client retry)
-> sync -> the supplier's API receives exactly one write, marked (and correlated where the
   tool has a field for it)
-> the supplier's webhook of that change (the echo) produces no event and reaches no one
-> the supplier resolves -> the FB receives it -> the FB rejects through the API
-> the incident is reopened in the supplier's tool; its echo is ignored too.

The shared topics (incidents, replies) are read by consumer groups of this test's own,
started at their current end; everything is filtered by this test's supplier and hub id.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from schemas import SupplierSystem
from schemas.replies import OutboundCommand
from schemas.topics import (
    CHANGES,
    INCIDENTS,
    REPLIES,
    gemeente_topic,
    inbound_topic,
    outbound_topic,
)
from services import delivery, normaliser, router, sync
from services.bootstrap import specs_for
from services.config import SchakelConfig, Settings
from services.config.models import FbTeam, Gemeente, RoutingConfig, RoutingRule
from services.demo.supplier_apis import FakeSupplierApi, fake_for
from services.kafka import ensure_topics
from services.parking import ParkingPolicy
from services.retrying import RetryPolicy
from services.topics_io import topic_partitions
from tests.conftest import KafkaBroker, unique_supplier
from tests.delivery_kit import random_code, webhook
from tests.e2e._io import collect, committed, end_offsets, wait_until
from tests.e2e._io import running_hub as running_hub_of
from tests.integration._peers import WebhookReceiver, serve

pytestmark = [pytest.mark.kafka]

FB_SECRET = "e2e-fb-webhook-geheim-0123456789"
FB_TOKEN = "e2e-fb-api-token-0123456789abcdef"
API_TOKEN = "e2e-supplier-integration-token-01"
TEAM = "fb-e2e"


async def start_at_end(bootstrap: str, group: str, topics: list[str]) -> None:
    """A new group starts from now, not from the history other tests left on shared topics."""
    partitions = [tp for topic in topics for tp in await topic_partitions(bootstrap, topic)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def fresh_gemeente(bootstrap: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    while gemeente_topic(code := random_code()) in existing:
        pass
    return code


@dataclass
class Hub:
    settings: Settings
    config: SchakelConfig
    suffix: str
    api: httpx.AsyncClient


@asynccontextmanager
async def running_hub(
    bootstrap: str,
    config: SchakelConfig,
    store_url: str,
    *,
    parking: ParkingPolicy | None = None,
    inline_attempts: int = 4,
) -> AsyncIterator[Hub]:
    """normaliser + router + delivery + sync + the replies API (on a free port) in one app,
    built by the composition root, with fast retries, ``parking`` for what still fails (the
    drainers start with the services) and this test's consumer groups."""
    parking = parking or ParkingPolicy()
    suffix = f"-e2e-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        store_url=store_url, group_suffix=suffix, http_host="127.0.0.1", replies_port=0
    )
    await ensure_topics(bootstrap, specs_for(config))
    await start_at_end(bootstrap, router.GROUP_ID + suffix, [INCIDENTS, CHANGES])
    await start_at_end(bootstrap, sync.CORRELATION_GROUP + suffix, [INCIDENTS, CHANGES])
    await start_at_end(bootstrap, sync.GROUP_ID + suffix, [REPLIES])

    async def no_cmdb_wait() -> dict[int, int]:
        return {}  # routed by a rule: no need to wait for the shared CMDB topic

    fast = {"backoff_initial_s": 0.05, "backoff_max_s": 0.5}
    overrides = {
        "router.cmdb_end_offsets": no_cmdb_wait,
        "delivery.options": delivery.DeliveryOptions(
            **fast, default_max_attempts=inline_attempts, parking=parking
        ),
        "delivery.pattern": "|".join(re.escape(gemeente_topic(g.code)) for g in config.gemeenten),
        "sync.api": sync.SupplierApi(policy=RetryPolicy(max_attempts=inline_attempts, **fast)),
        "sync.parking": parking,
    }
    services = ["normaliser", "router", "delivery", "sync", "replies"]
    async with running_hub_of(
        bootstrap, config, services, settings=settings, overrides=overrides
    ) as running:
        port = running.services["replies"].port  # type: ignore[attr-defined]
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {FB_TOKEN}"},
        ) as api:
            yield Hub(running.runtime.settings, config, suffix, api)


#: Per system: the example supplier, the API root under the fake's address, a record id
#: and number, how many writes a rejection takes, and the field that carries the hub id.
SYSTEMS: dict[SupplierSystem, tuple[str, str, str, str, int, str | None]] = {
    SupplierSystem.SERVICENOW: ("kpn", "/", uuid.uuid4().hex, "INC0424242", 1, "correlation_id"),
    SupplierSystem.TOPDESK: (
        "centric",
        "/tas/api/",
        str(uuid.uuid4()),
        "I2611 042",
        1,
        "externalNumber",
    ),
    SupplierSystem.JIRA: ("zaakplatform", "/rest/api/3/", "24242", "ZP-4242", 2, None),
    SupplierSystem.XURRENT: ("werkplekdienst", "/v1/", "74242", "74242", 1, None),
}


def e2e_config(
    base: SchakelConfig, like: str, api_url: str, hooks_url: str, code: str
) -> SchakelConfig:
    original = unique_supplier(base, like)
    supplier = original.model_copy(
        update={
            "credentials": original.credentials.model_copy(
                update={"api_base_url": api_url, "api_token_env": "SCHAKEL_E2E_API_TOKEN"}
            )
        }
    )
    team = FbTeam.model_validate(
        {
            "id": TEAM,
            "name": "Functioneel beheer e2e",
            "channels": [webhook(f"{hooks_url}/hook/fb", "SCHAKEL_E2E_FB_SECRET")],
            "api_token_env": "SCHAKEL_E2E_FB_TOKEN",
        }
    )
    rule = RoutingRule.model_validate(
        {
            "id": "e2e-supplier",
            "description": "Alles van de e2e-leverancier naar het e2e-team",
            "match": {"supplier": [supplier.id]},
            "recipients": [{"gemeente": code, "team": TEAM}],
        }
    )
    return SchakelConfig(
        suppliers=[supplier],
        gemeenten=[Gemeente(code=code, name="E2E-gemeente", teams=[team], default_team=TEAM)],
        routing=RoutingConfig(rules=[rule]),
    )


async def settled(check: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    assert await wait_until(check, timeout_s), f"timed out waiting for {what}"


async def poll(api: httpx.AsyncClient, path: str, want: Callable[[Any], bool]) -> Any:
    """GET ``path`` until the JSON satisfies ``want`` (the correlation feed is asynchronous)."""
    last: Any = None

    async def ok() -> bool:
        nonlocal last
        response = await api.get(path)
        last = response.json() if response.status_code == 200 else response.status_code
        return response.status_code == 200 and want(last)

    for _ in range(300):
        if await ok():
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"{path}: still {last!r}")


async def normaliser_caught_up(bootstrap: str, suffix: str, topic: str) -> None:
    end = await end_offsets(bootstrap, topic)

    async def done() -> bool:
        return await committed(bootstrap, normaliser.GROUP_ID + suffix, topic) == end

    for _ in range(150):
        if await done():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the normaliser did not commit the echo")


def routed_status(body: bytes) -> tuple[str, str]:
    event = orjson.loads(body)
    return event["subject"], event["data"]["ticket"]["status"]


@pytest.mark.parametrize("system", list(SYSTEMS), ids=lambda s: s.value)
async def test_two_way_sync_end_to_end(
    system: SupplierSystem,
    kafka: KafkaBroker,
    example_config: SchakelConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bootstrap = kafka.bootstrap
    like, root, record_id, number, reject_writes, correlation_field = SYSTEMS[system]
    monkeypatch.setenv("SCHAKEL_E2E_FB_SECRET", FB_SECRET)
    monkeypatch.setenv("SCHAKEL_E2E_FB_TOKEN", FB_TOKEN)
    monkeypatch.setenv("SCHAKEL_E2E_API_TOKEN", API_TOKEN)
    code = await fresh_gemeente(bootstrap)
    hooks = WebhookReceiver({"fb": FB_SECRET})
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'schakel.db'}"
    fake: FakeSupplierApi = fake_for(system)("unset", {API_TOKEN: "schakel-integration"})

    async with serve(hooks.app) as hooks_url, fake.serving() as fake_url:
        config = e2e_config(example_config, like, fake_url + root, hooks_url, code)
        supplier = config.suppliers[0]
        fake.supplier = supplier.id  # the supplier id is unique to this test
        await ensure_topics(bootstrap, specs_for(config))
        incidents_from = await end_offsets(bootstrap, INCIDENTS)
        outbound_from = await end_offsets(bootstrap, outbound_topic(supplier.id))

        async with running_hub(bootstrap, config, store_url) as hub:
            # 1. the supplier's incident reaches the FB team's webhook
            fake.create_incident(record_id, number)
            assert await fake.emit(bootstrap, record_id) == 1
            await settled(lambda: len(hooks.accepted["fb"]) == 1, "the first delivery")
            hub_id, status = routed_status(next(iter(hooks.accepted["fb"].values())))
            assert hub_id == fake.hub_id(record_id)
            assert status in ("new", "in_progress")
            ticket = f"/api/v1/tickets/{hub_id}"
            await poll(hub.api, ticket, lambda t: t["status"] == status)

            # 2. the FB comments; its client retries the same request
            comment = {
                "action": "comment",
                "body": "Bij ons kan niemand zaken opslaan. Graag met spoed kijken.",
                "author": "Fatma Yilmaz",
            }
            key = {"Idempotency-Key": "e2e-comment-1"}
            first = await hub.api.post(f"{ticket}/replies", json=comment, headers=key)
            retry = await hub.api.post(f"{ticket}/replies", json=comment, headers=key)
            assert first.status_code == retry.status_code == 202
            comment_id = first.json()["reply_id"]
            assert retry.json()["reply_id"] == comment_id
            await poll(
                hub.api, f"{ticket}/replies/{comment_id}", lambda r: r["status"] == "applied"
            )

            # 3. exactly one native update at the supplier, marked (and correlated)
            [write] = fake.accepted(record_id)
            assert write.account == "schakel-integration"
            assert write.headers["authorization"] == f"Bearer {API_TOKEN}"
            text = fake.written_text(write)
            assert text.startswith("[schakel] Reactie van functioneel beheer"), text
            assert "Bij ons kan niemand zaken opslaan." in text
            assert write.headers["idempotency-key"]
            if correlation_field is not None:
                assert write.body[correlation_field] == hub_id

            # 4. the supplier's webhook of that change is an echo: no event, no delivery
            assert await fake.emit(bootstrap, record_id) == 1
            await normaliser_caught_up(bootstrap, hub.suffix, inbound_topic(supplier.id))

            # 5. the supplier resolves; the FB receives it
            fake.resolve(record_id)
            assert await fake.emit(bootstrap, record_id) == 1
            await settled(lambda: len(hooks.accepted["fb"]) == 2, "the resolved delivery")
            statuses = [routed_status(b)[1] for b in hooks.accepted["fb"].values()]
            assert statuses == [status, "resolved"]  # nothing in between: the echo was ignored
            await poll(hub.api, ticket, lambda t: t["status"] == "resolved")
            assert not fake.reopened(record_id)

            # 6. the FB rejects the resolution: the incident reopens at the supplier
            reject = {"action": "reject_resolution", "reason": "Opslaan faalt nog steeds."}
            rejected = await hub.api.post(f"{ticket}/replies", json=reject)
            assert rejected.status_code == 202
            reject_id = rejected.json()["reply_id"]
            await poll(hub.api, f"{ticket}/replies/{reject_id}", lambda r: r["status"] == "applied")
            writes = fake.accepted(record_id)
            assert len(writes) == 1 + reject_writes
            assert fake.written_text(writes[1]).startswith("[schakel] Oplossing afgewezen")
            assert fake.reopened(record_id)

            # 7. and the echo of the reopen is ignored as well
            assert await fake.emit(bootstrap, record_id) == reject_writes
            await normaliser_caught_up(bootstrap, hub.suffix, inbound_topic(supplier.id))
            summary = await poll(hub.api, ticket, lambda t: len(t["replies"]) == 2)
            assert [r["status"] for r in summary["replies"]] == ["applied", "applied"]
            assert summary["status"] == "in_progress"  # what Schakel wrote, not echoed

            events = await collect(
                bootstrap,
                INCIDENTS,
                incidents_from,
                lambda r: r.key == hub_id.encode(),
                count=2,
                settle_s=2.0,
            )
            assert [orjson.loads(e.value)["data"]["status"] for e in events] == [
                status,
                "resolved",
            ]
            assert len(hooks.accepted["fb"]) == 2
            commands = await collect(
                bootstrap,
                outbound_topic(supplier.id),
                outbound_from,
                lambda r: r.key == hub_id.encode(),
                count=1 + reject_writes,
                settle_s=1.0,
            )
            actions = [OutboundCommand.model_validate_json(c.value).action for c in commands]
            # one command per native request: a Jira rejection is a comment and a transition
            assert [a.value for a in actions] == ["comment"] + ["reject_resolution"] * reject_writes
