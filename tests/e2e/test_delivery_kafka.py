"""End to end on the real broker: routed events on a gemeente topic are delivered to real
local receivers (webhook and TOPdesk served by uvicorn, SMTP by aiosmtpd).

- a webhook that fails twice (500, then 429 with Retry-After) and then accepts: delivered
  once, with the same idempotency key on every attempt;
- a webhook that is down (503): the delivery is parked, not dead-lettered; once the receiver
  accepts, a restarted delivery service (same store) delivers it by itself, with the same
  idempotency key, and the channels that had it already (TOPdesk, e-mail) are not repeated;
- a webhook that refuses (400): the event is dead-lettered at once with the reason; once the
  receiver accepts, replaying the dead letter delivers it;
- a crash and redelivery: the service restarted re-consumes everything; with its store
  nothing is sent again; with the store lost as well, TOPdesk still gets no second incident
  (found by external number), webhooks answer 409 to the known idempotency key, and mails
  carry the same Message-ID; a later update PATCHes the same TOPdesk incident.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from schemas import IncidentStatus
from schemas.topics import DEADLETTER, TopicSpec, gemeente_topic
from services.config import SchakelConfig, Settings
from services.delivery import GROUP_ID, DeliveryOptions
from services.kafka import ensure_topics
from services.messaging import (
    DLQ_ERROR,
    DLQ_ERROR_CLASS,
    DLQ_OFFSET,
    DLQ_PARTITION,
    DLQ_TOPIC,
    KafkaBatchPublisher,
    OutboundMessage,
)
from services.parking import ParkingPolicy
from services.topics_io import ConsumedRecord, replay_dead_letters
from tests.conftest import KafkaBroker
from tests.delivery_kit import (
    RoutedRecord,
    config_with_gemeenten,
    email,
    gemeente,
    random_code,
    routed_event,
    team,
    topdesk,
    webhook,
)
from tests.e2e._io import collect, committed, end_offsets, running_hub, wait_until
from tests.integration._peers import FakeTopdesk, WebhookReceiver, serve, smtp_server

pytestmark = [pytest.mark.kafka]

FAST = DeliveryOptions(
    backoff_initial_s=0.05,
    backoff_max_s=0.5,
    retry_after_cap_s=2.0,
    parking=ParkingPolicy(initial_delay_s=0.2, max_delay_s=1.0, probe_interval_s=1.0, tick_s=0.2),
)
SECRET = "e2e-fb-geheim"


async def fresh_gemeente(bootstrap: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    while (code := random_code()) and gemeente_topic(code) in existing:
        pass
    return code


@asynccontextmanager
async def running_delivery(
    bootstrap: str, config: SchakelConfig, store_url: str, topic: str, group: str | None = None
) -> AsyncIterator[str]:
    """The delivery service alone, built by the composition root, subscribed to this test's
    topic only (other tests share the broker); in ``group`` (one this yielded before), else a
    fresh consumer group (which reads from the start). Yields the group id."""
    group = group or f"{GROUP_ID}-e2e-{uuid.uuid4().hex[:8]}"
    settings = Settings(store_url=store_url, group_suffix=group.removeprefix(GROUP_ID))
    overrides = {"delivery.options": FAST, "delivery.pattern": re.escape(topic)}
    async with running_hub(
        bootstrap, config, ["delivery"], settings=settings, overrides=overrides
    ) as hub:
        assert hub.runtime.group(GROUP_ID) == group
        yield group


async def produce(bootstrap: str, *events: RoutedRecord) -> None:
    publisher = KafkaBatchPublisher(bootstrap, client_id="schakel-router-stand-in")
    await publisher.start()
    try:
        await publisher.send_all(
            [OutboundMessage(e.topic, e.value, e.key, e.headers) for e in events]
        )
    finally:
        await publisher.stop()


async def settled(check, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    assert await wait_until(check, timeout_s), "timed out"


async def test_delivery_end_to_end(
    kafka: KafkaBroker, example_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap = kafka.bootstrap
    code = await fresh_gemeente(bootstrap)
    topic = gemeente_topic(code)
    await ensure_topics(bootstrap, [TopicSpec(topic, 3), TopicSpec(DEADLETTER, 1)])
    monkeypatch.setenv("SCHAKEL_E2E_FB_SECRET", SECRET)
    monkeypatch.setenv("SCHAKEL_E2E_TD_USER", "schakel")
    monkeypatch.setenv("SCHAKEL_E2E_TD_PASSWORD", "td-geheim")

    hooks = WebhookReceiver({"flaky": SECRET, "dicht": SECRET, "weigert": SECRET})
    hooks.fail("flaky", 1, status=500)
    hooks.fail("flaky", 1, status=429, retry_after="1")
    hooks.close("dicht", 503)
    hooks.close("weigert", 400)
    td = FakeTopdesk("schakel", "td-geheim")

    async with serve(hooks.app) as hooks_url, serve(td.app) as td_url:
        with smtp_server() as (mails, smtp_port):
            config = config_with_gemeenten(
                example_config,
                gemeente(
                    code,
                    team(
                        "fb-flaky",
                        webhook(f"{hooks_url}/hook/flaky", "SCHAKEL_E2E_FB_SECRET", max_attempts=4),
                    ),
                    team(
                        "fb-dicht",
                        webhook(f"{hooks_url}/hook/dicht", "SCHAKEL_E2E_FB_SECRET", max_attempts=2),
                    ),
                    team(
                        "fb-weigert",
                        webhook(f"{hooks_url}/hook/weigert", "SCHAKEL_E2E_FB_SECRET"),
                    ),
                    team(
                        "fb-zaken",
                        topdesk(
                            f"{td_url}/tas/api/",
                            user_env="SCHAKEL_E2E_TD_USER",
                            password_env="SCHAKEL_E2E_TD_PASSWORD",
                        ),
                        email(smtp_port, "fb-zaken@e2e.example"),
                    ),
                ),
            )
            a = routed_event(code, ["fb-flaky"], record_id="A")
            b = routed_event(code, ["fb-dicht", "fb-zaken"], record_id="B")
            d = routed_event(code, ["fb-weigert"], record_id="D")
            c1 = routed_event(code, ["fb-zaken"], record_id="C", version=1)
            c2 = routed_event(
                code, ["fb-zaken"], record_id="C", version=2, status=IncidentStatus.IN_PROGRESS
            )
            store = f"sqlite+aiosqlite:///{tmp_path / 'delivery.db'}"
            dead_from = await end_offsets(bootstrap, DEADLETTER)

            # --- 1: flaky receiver, receiver down, refusing receiver, TOPdesk and mail -------
            async with running_delivery(bootstrap, config, store, topic) as group:
                await produce(bootstrap, a, b, c1, d)
                await settled(
                    lambda: len(hooks.accepted["flaky"]) == 1 and len(mails.messages) == 2
                )
                dead = await collect(
                    bootstrap,
                    DEADLETTER,
                    dead_from,
                    lambda r: dict(r.headers).get(DLQ_TOPIC) == topic.encode(),
                    count=1,
                )
                await _consumed_all(bootstrap, group, topic)  # B parked, D dead-lettered
                await settled(lambda: len(hooks.attempts_of("dicht")) >= 3)  # the drainer

            flaky = hooks.attempts_of("flaky")
            assert [x.status for x in flaky] == [500, 429, 202]
            assert len({x.headers["idempotency-key"] for x in flaky}) == 1
            assert flaky[2].body == a.value
            down = hooks.attempts_of("dicht")
            assert {x.status for x in down} == {503} and not hooks.accepted["dicht"]
            assert len(dead) == 1  # only the refusal: the receiver that is down waits
            letter = dead[0]
            headers = dict(letter.headers)
            assert letter.value == d.value and letter.key == d.key
            assert headers[DLQ_ERROR_CLASS] == b"ReceiverRejected"
            reason = headers[DLQ_ERROR].decode()
            assert "fb-weigert/webhook-" in reason and "HTTP 400" in reason
            assert "after 1 attempt(s)" in reason
            (source,) = await collect(bootstrap, topic, {}, lambda r: r.value == d.value, count=1)
            assert headers[DLQ_PARTITION] == str(source.partition).encode()
            assert headers[DLQ_OFFSET] == str(source.offset).encode(), "the source record's offset"
            assert len(td.incidents) == 2  # B and C
            assert len(mails.messages) == 2
            first_ids = {m["X-Schakel-Hub-Id"]: m["Message-ID"] for m in mails.messages}

            # --- 2: both receivers are fixed; the parked delivery goes out by itself after a
            # restart (same store and group); the refused one is replayed ------------------
            hooks.open("dicht")
            hooks.open("weigert")
            replay = ConsumedRecord(
                letter.topic,
                letter.partition,
                letter.offset,
                letter.timestamp,
                letter.key,
                letter.value,
                dict(letter.headers),
            )
            async with running_delivery(bootstrap, config, store, topic, group):
                await settled(lambda: len(hooks.accepted["dicht"]) == 1)
                assert await replay_dead_letters(bootstrap, [replay]) == [(letter.offset, topic)]
                await settled(lambda: len(hooks.accepted["weigert"]) == 1)
                await _consumed_all(bootstrap, group, topic)
            assert hooks.accepted["dicht"][_key_of(hooks, "dicht")] == b.value
            attempts = hooks.attempts_of("dicht")
            assert [x.status for x in attempts][-1] == 202
            assert {x.headers["idempotency-key"] for x in attempts} == {
                attempts[0].headers["idempotency-key"]
            }
            assert hooks.accepted["weigert"][_key_of(hooks, "weigert")] == d.value
            assert len(td.incidents) == 2, "TOPdesk had B already: not again"
            assert len(mails.messages) == 2, "the mail of B went out already: not again"
            assert len(hooks.attempts_of("flaky")) == 3

            # --- 3a: restart and re-consume everything, store intact: nothing again ----------
            before = len(hooks.attempts)
            async with running_delivery(bootstrap, config, store, topic) as group:
                await _consumed_all(bootstrap, group, topic)
            assert len(hooks.attempts) == before
            assert len(td.incidents) == 2 and not td.actions
            assert len(mails.messages) == 2

            # --- 3b: crash that lost the store too: receivers recognise the repeats -----------
            lost = f"sqlite+aiosqlite:///{tmp_path / 'lost.db'}"
            async with running_delivery(bootstrap, config, lost, topic) as group:
                await _consumed_all(bootstrap, group, topic)
                await settled(lambda: len(mails.messages) >= 4)
                assert len(td.incidents) == 2, "found by external number, not created again"
                assert {x.status for x in hooks.attempts[before:]} == {409}
                resent = mails.messages[2:]
                assert {m["X-Schakel-Hub-Id"]: m["Message-ID"] for m in resent} == first_ids

                # --- a later update goes to the same receiver ticket -------------------------
                await produce(bootstrap, c2)
                await settled(lambda: bool(td.actions) and len(mails.messages) == 5)
            [incident_id] = td.actions
            assert td.incidents[incident_id]["externalNumber"].endswith(c1.hub_id)
            assert "In behandeling (in_progress)" in td.actions[incident_id][0]["memoText"]
            assert len(td.incidents) == 2
            update_mail = mails.messages[4]
            assert update_mail["In-Reply-To"] == first_ids[c1.hub_id]


def _key_of(hooks: WebhookReceiver, name: str) -> str:
    [key] = hooks.accepted[name]
    return key


async def _consumed_all(bootstrap: str, group: str, topic: str) -> None:
    """Wait until ``group`` committed the topic's end offsets (all delivered or dead-lettered)."""
    end = await end_offsets(bootstrap, topic)
    for _ in range(150):
        if await committed(bootstrap, group, topic) == end:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{group} did not commit the end of {topic}")
