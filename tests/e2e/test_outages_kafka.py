"""Riding out outages end to end on the real broker, with every service that takes part.

Tickets flow from a supplier (the local ServiceNow fake's webhooks on the inbound topic) to an
FB team's webhook receiver, and the team's replies flow back through the replies API to the
supplier's Table API. Then, during live traffic, both far ends go down for a long stretch
(delays shortened by configuration): the FB receiver answers 503, the supplier's API refuses
connections. The supplier keeps changing its tickets and the team keeps replying. Circuits
open, work is parked, nothing is dead-lettered. Halfway, the whole hub is stopped and a new
one started on the same store (parked work survives it). When both ends come back, every
ticket reaches the team in its newest version, in order per ticket, and every reply reaches
the supplier, in order per ticket, once per idempotency key.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import orjson
import pytest

from schemas.topics import DEADLETTER, REPLIES, gemeente_topic
from services.bootstrap import specs_for
from services.config import SchakelConfig
from services.demo.supplier_apis import ServiceNowApi
from services.kafka import ensure_topics
from services.messaging import DLQ_TOPIC
from services.parking import ParkingPolicy
from tests.conftest import KafkaBroker
from tests.e2e._io import collect, end_offsets
from tests.e2e.test_sync_kafka import (
    API_TOKEN,
    FB_SECRET,
    FB_TOKEN,
    e2e_config,
    fresh_gemeente,
    poll,
    routed_status,
    running_hub,
    settled,
)
from tests.integration._peers import WebhookReceiver, serve

pytestmark = [pytest.mark.kafka]

TICKETS = 4
REPLIES_PER_TICKET = 3
#: retried every 0.2-1 s instead of minutes; circuits open after 3 failures, probe every 1 s;
#: the horizon stays 24 hours: nothing may be given up
SHORT = ParkingPolicy(
    initial_delay_s=0.2, max_delay_s=1.0, circuit_failures=3, probe_interval_s=1.0, tick_s=0.2
)
OUTAGE_S = 12.0


def versions_by_ticket(hooks: WebhookReceiver) -> dict[str, list[tuple[str, int]]]:
    """Per hub id, the (status, sequence) of every delivery the receiver accepted, in order."""
    seen: dict[str, list[tuple[str, int]]] = {}
    for attempt in hooks.attempts_of("fb"):
        if attempt.status != 202:
            continue
        event = orjson.loads(attempt.body)
        hub, status = routed_status(attempt.body)
        seen.setdefault(hub, []).append((status, int(event["data"]["ticket"]["version"])))
    return seen


async def test_receiver_and_supplier_down_for_a_long_stretch_lose_nothing(
    kafka: KafkaBroker,
    example_config: SchakelConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bootstrap = kafka.bootstrap
    monkeypatch.setenv("SCHAKEL_E2E_FB_SECRET", FB_SECRET)
    monkeypatch.setenv("SCHAKEL_E2E_FB_TOKEN", FB_TOKEN)
    monkeypatch.setenv("SCHAKEL_E2E_API_TOKEN", API_TOKEN)
    code = await fresh_gemeente(bootstrap)
    hooks = WebhookReceiver({"fb": FB_SECRET})
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'schakel.db'}"
    fake = ServiceNowApi("unset", {API_TOKEN: "schakel-integration"})
    sys_ids = [uuid.uuid4().hex for _ in range(TICKETS)]

    async with serve(hooks.app) as hooks_url, fake.serving() as fake_url:
        config = e2e_config(example_config, "kpn", fake_url + "/", hooks_url, code)
        supplier = config.suppliers[0]
        fake.supplier = supplier.id
        await ensure_topics(bootstrap, specs_for(config))
        dead_from = await end_offsets(bootstrap, DEADLETTER)
        hubs = [fake.hub_id(s) for s in sys_ids]
        replies: dict[str, list[str]] = {hub: [] for hub in hubs}

        async def reply(hub_api: object, hub: str, n: int) -> None:
            body = {"action": "comment", "body": f"Reactie {n} op {hub[:8]}", "author": "FB"}
            response = await hub_api.post(f"/api/v1/tickets/{hub}/replies", json=body)  # type: ignore[attr-defined]
            assert response.status_code == 202, response.text
            replies[hub].append(response.json()["reply_id"])

        async with running_hub(
            bootstrap, config, store_url, parking=SHORT, inline_attempts=2
        ) as hub:
            # 1. normal service: every ticket reaches the team, and it can answer
            for n, sys_id in enumerate(sys_ids):
                fake.create_incident(sys_id, f"INC09{n:05d}")
                await fake.emit(bootstrap, sys_id)
            await settled(lambda: len(hooks.accepted["fb"]) == TICKETS, "the first deliveries")
            for h in hubs:
                await poll(hub.api, f"/api/v1/tickets/{h}", lambda t: t["status"] == "new")
            await reply(hub.api, hubs[0], 0)
            await settled(lambda: len(fake.accepted()) == 1, "the first reply")

            # 2. both ends go down; live traffic goes on in both directions
            hooks.close("fb", 503)
            await fake.go_down("refused")
            for sys_id in sys_ids:
                fake.supplier_update(sys_id, state="2")  # in progress
                await fake.emit(bootstrap, sys_id)
            for n in range(1, REPLIES_PER_TICKET + 1):
                for h in hubs:
                    await reply(hub.api, h, n)
            for sys_id in sys_ids:
                fake.supplier_update(sys_id, state="3", hold_reason="1")  # awaiting caller
                await fake.emit(bootstrap, sys_id)
            await asyncio.sleep(OUTAGE_S / 2)
            last = replies[hubs[-1]][-1]
            status = await poll(
                hub.api, f"/api/v1/tickets/{hubs[-1]}/replies/{last}", lambda r: True
            )
            assert status["status"] in ("accepted", "parked")  # waiting, not failed

        # 3. the hub is stopped and started again while both ends are still down
        async with running_hub(
            bootstrap, config, store_url, parking=SHORT, inline_attempts=2
        ) as hub:
            await asyncio.sleep(OUTAGE_S / 2)
            assert len(fake.accepted()) == 1 and len(hooks.accepted["fb"]) == TICKETS

            # 4. both ends come back: the backlog drains by itself
            hooks.open("fb")
            await fake.come_back()
            total = 1 + TICKETS * REPLIES_PER_TICKET
            await settled(lambda: len(fake.accepted()) == total, "every reply", 90)
            await settled(
                lambda: (
                    all(v and v[-1][0] == "on_hold" for v in versions_by_ticket(hooks).values())
                    and len(versions_by_ticket(hooks)) == TICKETS
                ),
                "the newest version of every ticket",
                90,
            )
            for h in hubs:
                await poll(
                    hub.api,
                    f"/api/v1/tickets/{h}",
                    lambda t: (
                        [r["status"] for r in t["replies"]] == ["applied"] * len(replies_of(t))
                    ),
                )

    # every reply once, in order per ticket, one Idempotency-Key each
    written = fake.accepted()
    keys = [w.headers["idempotency-key"] for w in written]
    assert len(keys) == len(set(keys)) == 1 + TICKETS * REPLIES_PER_TICKET
    for n, (h, sys_id) in enumerate(zip(hubs, sys_ids, strict=True)):
        texts = [w.body["comments"] for w in written if w.sys_id == sys_id]
        wanted = [f"Reactie {i} op {h[:8]}" for i in range(0 if n == 0 else 1, 4)]
        assert [next(t for t in wanted if t in text) for text in texts] == wanted
    # every ticket in order, newest last, each delivery once per idempotency key
    accepted = [a for a in hooks.attempts_of("fb") if a.status == 202]
    assert len(accepted) == len({a.headers["idempotency-key"] for a in accepted})
    for h, seen in versions_by_ticket(hooks).items():
        assert h in hubs
        assert [v for _, v in seen] == sorted({v for _, v in seen})  # increasing
        assert seen[0][0] == "new" and seen[-1][0] == "on_hold"
    # and nothing of this test on the dead-letter topic
    mine = {gemeente_topic(code).encode(), REPLIES.encode()}
    dead = await collect(
        bootstrap,
        DEADLETTER,
        dead_from,
        lambda r: dict(r.headers).get(DLQ_TOPIC) in mine and (r.key or b"").decode() in hubs,
        count=0,
        settle_s=2.0,
    )
    assert dead == []


def replies_of(ticket: dict[str, object]) -> list[object]:
    found = ticket["replies"]
    assert isinstance(found, list)
    return found
