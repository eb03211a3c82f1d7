"""The sync service's flow without a broker: replies in, native commands published, the fake
ServiceNow (served in-process through httpx's ASGI transport) receives them; idempotency,
retries, dead letters, echoes, tenant checks."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from faststream.kafka import TestKafkaBroker

from schemas import IncidentStatus, Priority, Visibility
from schemas.replies import OutboundCommand, Reply, ReplyAction, ReplyEvent
from schemas.topics import DEADLETTER, INCIDENTS, outbound_topic
from services.config import SchakelConfig, Settings
from services.messaging import DLQ_ERROR_CLASS
from services.normaliser import build_normaliser
from services.parking import ParkingPolicy
from services.replies import reply_message
from services.retrying import RetryPolicy
from services.sync import (
    SupplierApi,
    Syncer,
    SyncService,
    read_batch,
)
from services.tickets import CorrelationStore
from tests._postgres import postgres_url  # noqa: F401  (session fixture)
from tests.conftest import config_with_suppliers
from tests.delivery_kit import routed_event
from tests.fakes import FakeRecord, MemoryPublisher, flow_hub
from tests.sync_kit import (
    BACKENDS,
    FakeServiceNow,
    backend_url,
    correlation,
    empty_store,
    route,
)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


SOURCE = "urn:nld:kvk:00000000:systeem:schakel-replies"
SECRET = "schakel-integration-token-0123456789"
SYS_ID = "9d385017c611228701d22104cc95c371"
FAST = RetryPolicy(max_attempts=3, backoff_initial_s=0.01, backoff_max_s=0.05, retry_after_cap_s=5)
_offsets = itertools.count()
#: parked replies are due at once (the tests drive the drainer themselves)
PARKED_NOW = ParkingPolicy(initial_delay_s=1e-6, max_delay_s=1e-6)


@dataclasses.dataclass
class Flow:
    config: SchakelConfig
    servicenow: FakeServiceNow
    store: CorrelationStore
    publisher: MemoryPublisher
    syncer: Syncer
    sleeps: list[float]
    hub: str

    async def reply(self, reply: Reply) -> Any:
        return await self.syncer.sync_batch([as_record(reply)])


def as_record(reply: Reply) -> FakeRecord:
    message = reply_message(ReplyEvent.of(reply, SOURCE), "req-1")
    return FakeRecord(message.topic, 0, next(_offsets), message.key, message.value, message.headers)


def make_reply(hub: str, action: ReplyAction = ReplyAction.COMMENT, **fields: Any) -> Reply:
    values: dict[str, Any] = {
        "reply_id": f"reply-{next(_offsets)}",
        "hub_id": hub,
        "gemeente": "GM0505",
        "team": "fb-zaken",
        "action": action,
        "body": "Kunnen jullie de logging van vanochtend bekijken?",
        "created_at": datetime(2026, 11, 24, 10, tzinfo=UTC),
        "author": "Fatma Yilmaz",
    }
    return Reply(**{**values, **fields})


@pytest.fixture
async def flow(example_config: SchakelConfig, store_url: str) -> Any:
    kpn = example_config.supplier("kpn")
    supplier = kpn.model_copy(
        update={
            "credentials": kpn.credentials.model_copy(
                update={"api_base_url": "http://servicenow.test/"}
            )
        }
    )
    config = config_with_suppliers(example_config, supplier)
    servicenow = FakeServiceNow("kpn", {SECRET: "schakel-integration"})
    servicenow.create_incident(SYS_ID, "INC0000046")
    store = await empty_store(store_url)
    publisher = MemoryPublisher()
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=servicenow.app))
    api = SupplierApi(
        policy=FAST, client=client, env={"SCHAKEL_SECRET_KPN_API": SECRET}, sleep=sleep
    )
    syncer = Syncer(config, store, publisher, api, parking=PARKED_NOW)
    hub = servicenow.hub_id(SYS_ID)
    routed = routed_event("GM0505", ["fb-zaken"], record_id=SYS_ID, status=IncidentStatus.NEW)
    assert routed.hub_id == hub
    batch = read_batch([routed.as_record()])
    await store.record(batch.tickets, batch.routes)
    yield Flow(config, servicenow, store, publisher, syncer, sleeps, hub)
    await client.aclose()
    await store.close()


async def test_comment_reaches_servicenow_once_and_its_echo_is_ignored(flow: Flow) -> None:
    reply = make_reply(flow.hub)
    result = await flow.reply(reply)
    assert (result.applied, result.dead_lettered, result.commands) == (1, 0, 1)

    [patch] = flow.servicenow.accepted(SYS_ID)
    assert patch.account == "schakel-integration"
    assert patch.body["comments"].startswith("[schakel] Reactie van functioneel beheer GM0505")
    assert patch.body["correlation_id"] == flow.hub
    assert patch.body["correlation_display"] == "Schakel"

    [published] = flow.publisher.on(outbound_topic("kpn"))
    assert published.key == flow.hub.encode()
    assert dict(published.headers)["schakel-sent-by"] == b"hub"
    command = OutboundCommand.model_validate_json(published.value)
    assert (command.reply_id, command.method) == (reply.reply_id, "PATCH")
    assert "Authorization" not in command.headers  # no secrets on the topic

    # delivered twice (same batch and a later one): the supplier gets it once
    again = await flow.syncer.sync_batch([as_record(reply), as_record(reply)])
    assert again.duplicates == 2 and again.applied == 0
    assert len(flow.servicenow.accepted()) == 1

    # the supplier's webhook of the record Schakel just changed is an echo: no event
    normaliser = build_normaliser(flow.config)
    echo = FakeRecord(
        "schakel.inbound.kpn", 0, 1, b"INC0000046", flow.servicenow.webhook(SYS_ID), ()
    )
    out = normaliser.normalise_batch([echo])
    assert (out.echoes, out.normalised, out.messages) == (1, 0, [])

    # a change by the supplier's own agent afterwards is an event, with the FB comment in it
    flow.servicenow.supplier_update(SYS_ID, work_notes="Logging bekeken, fix volgt.")
    own = FakeRecord(
        "schakel.inbound.kpn", 0, 2, b"INC0000046", flow.servicenow.webhook(SYS_ID), ()
    )
    out = normaliser.normalise_batch([own])
    [event] = [m for m in out.messages if m.topic == INCIDENTS]
    comments = orjson.loads(event.value)["data"]["comments"]
    assert [c["by_schakel"] for c in comments] == [True, False]


async def test_resolution_rejected_reopens_and_priority_raised(flow: Flow) -> None:
    flow.servicenow.supplier_update(
        SYS_ID, state="6", close_code="Solved (Permanently)", close_notes="Herstart"
    )
    reject = make_reply(
        flow.hub, ReplyAction.REJECT_RESOLUTION, body="", reason="Opslaan faalt nog steeds"
    )
    await flow.reply(reject)
    record = flow.servicenow.record(SYS_ID)
    assert (record["state"], record["reopen_count"]) == ("2", "1")
    assert (await flow.store.correlation(flow.hub)).status == "in_progress"  # type: ignore[union-attr]

    raise_p1 = make_reply(
        flow.hub,
        ReplyAction.RAISE_PRIORITY,
        body="",
        priority=Priority.P1,
        reason="Balie kan geen paspoorten uitgeven",
        visibility=Visibility.INTERNAL,
    )
    await flow.reply(raise_p1)
    record = flow.servicenow.record(SYS_ID)
    assert (record["impact"], record["urgency"], record["priority"]) == ("1", "1", "1")
    assert "Prioriteit verhoogd naar P1" in record["work_notes"]


async def test_rate_limit_then_success(flow: Flow) -> None:
    flow.servicenow.fail(1, status=429, retry_after="2")
    result = await flow.reply(make_reply(flow.hub))
    assert result.applied == 1
    assert [p.status for p in flow.servicenow.patches] == [429, 200]
    assert flow.sleeps == [2.0]
    stored = (await flow.store.replies_of(flow.hub, "GM0505", "fb-zaken"))[0]
    assert (stored.status, stored.attempts) == ("applied", 2)


async def test_unavailable_supplier_parks_and_the_replies_drain_in_order_once(
    flow: Flow,
) -> None:
    first, second = make_reply(flow.hub, body="Eerste reactie"), make_reply(flow.hub)
    flow.servicenow.fail(3, status=503)
    result = await flow.syncer.sync_batch([as_record(first)])
    assert (result.applied, result.dead_lettered, result.parked) == (0, 0, 1)
    assert flow.publisher.on(DEADLETTER) == []
    stored = (await flow.store.replies([first.reply_id]))[first.reply_id]
    assert stored.status == "parked" and "HTTP 503, after 3 attempt(s)" in (stored.error or "")

    later = await flow.syncer.sync_batch([as_record(second)])  # the supplier is back now,
    assert (later.applied, later.parked) == (0, 1)  # but the second waits behind the first
    assert flow.servicenow.accepted() == []

    assert await flow.syncer.drain_once() == 1  # one head per ticket per round: in order
    assert await flow.syncer.drain_once() == 1
    texts = [p.body["comments"] for p in flow.servicenow.accepted()]
    assert "Eerste reactie" in texts[0] and "logging van vanochtend" in texts[1]
    for reply in (first, second):
        stored = (await flow.store.replies([reply.reply_id]))[reply.reply_id]
        assert stored.status == "applied"
    again = await flow.syncer.sync_batch([as_record(first), as_record(second)])  # redelivered
    assert again.duplicates == 2 and len(flow.servicenow.accepted()) == 2
    assert await flow.syncer.drain_once() == 0


async def test_refusals_are_dead_letters(flow: Flow) -> None:
    other_team = make_reply(flow.hub, team="fb-belastingen")
    other_gemeente = make_reply(flow.hub, gemeente="GM0482")
    unknown = make_reply("00000000-0000-5000-8000-000000000000")
    garbage = FakeRecord("schakel.replies.v1", 0, 9, b"k", b'{"specversion": "1.0"}', ())
    result = await flow.syncer.sync_batch(
        [as_record(other_team), as_record(other_gemeente), as_record(unknown), garbage]
    )
    assert result.dead_lettered == 4
    classes = sorted(dict(m.headers)[DLQ_ERROR_CLASS] for m in flow.publisher.on(DEADLETTER))
    assert classes == sorted(
        [b"NotRoutedToTeam", b"NotRoutedToTeam", b"UnknownTicket", b"UnreadableReply"]
    )
    assert flow.servicenow.patches == []


async def test_supplier_without_api_gets_the_command_on_its_topic_only(
    flow: Flow, tmp_path: Path
) -> None:
    kpn = flow.config.supplier("kpn")
    no_api = kpn.model_copy(
        update={"credentials": kpn.credentials.model_copy(update={"api_base_url": None})}
    )
    config = config_with_suppliers(flow.config, no_api)
    syncer = Syncer(config, flow.store, flow.publisher, SupplierApi(policy=FAST, env={}))
    result = await syncer.sync_batch([as_record(make_reply(flow.hub))])
    assert (result.published, result.applied) == (1, 0)
    [published] = flow.publisher.on(outbound_topic("kpn"))
    assert dict(published.headers)["schakel-sent-by"] == b"supplier"
    assert flow.servicenow.patches == []


async def test_multi_step_reply_continues_after_the_steps_that_landed(
    example_config: SchakelConfig, store_url: str
) -> None:
    jira = example_config.supplier("zaakplatform")
    supplier = jira.model_copy(update={"options": {"reopen_transition": "31"}})
    config = config_with_suppliers(example_config, supplier)
    calls: list[tuple[str, str]] = []
    transitions_down = [3]

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.url.path.endswith("/transitions") and transitions_down[0] > 0:
            transitions_down[0] -= 1
            return httpx.Response(503)
        return httpx.Response(201 if request.url.path.endswith("/comment") else 204)

    store = await empty_store(store_url)
    hub = "5d8f0c1e-2b3a-5c4d-9e8f-7a6b5c4d3e2f"
    await store.record(
        [
            correlation(
                hub, supplier="zaakplatform", system="jira", record_id="10021", status="resolved"
            )
        ],
        [route(hub)],
    )
    api = SupplierApi(
        policy=FAST,
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        env={"SCHAKEL_SECRET_ZAAKPLATFORM_API": "fb@example.org:api-token"},
        sleep=_no_sleep,
    )
    publisher = MemoryPublisher()
    syncer = Syncer(config, store, publisher, api, parking=PARKED_NOW)
    record = as_record(make_reply(hub, ReplyAction.REJECT_RESOLUTION, reason="Niet opgelost"))
    try:
        first = await syncer.sync_batch([record])
        assert (first.parked, first.dead_lettered) == (1, 0)
        assert await syncer.drain_once() == 1  # the parked reply, retried
        assert publisher.on(DEADLETTER) == []
    finally:
        await store.close()
    comments = [c for c in calls if c[1].endswith("/comment")]
    assert comments == [("POST", "/rest/api/3/issue/10021/comment")]  # once, not per retry
    assert calls.count(("POST", "/rest/api/3/issue/10021/transitions")) == 4


async def _no_sleep(_: float) -> None:
    return None


async def test_wiring_on_the_in_memory_broker(
    example_config: SchakelConfig, tmp_path: Path
) -> None:
    """The sync service built by the root: the correlation feed reads a routed event, the
    sync a reply; the command is published on the supplier's outbound topic and PATCHed into
    ServiceNow."""
    kpn = example_config.supplier("kpn")
    supplier = kpn.model_copy(
        update={
            "credentials": kpn.credentials.model_copy(
                update={"api_base_url": "http://servicenow.test/"}
            )
        }
    )
    config = config_with_suppliers(example_config, supplier)
    servicenow = FakeServiceNow("kpn", {SECRET: "schakel-integration"})
    servicenow.create_incident(SYS_ID, "INC0000046")
    settings = Settings(store_url=f"sqlite+aiosqlite:///{tmp_path / 'wired.db'}")
    api = SupplierApi(
        policy=FAST,
        client=httpx.AsyncClient(transport=httpx.ASGITransport(app=servicenow.app)),
        env={"SCHAKEL_SECRET_KPN_API": SECRET},
    )
    broker, hub = flow_hub(config, ["sync"], settings=settings, overrides={"sync.api": api})
    service = hub.services["sync"]
    assert isinstance(service, SyncService)
    assert service.api is api and service.syncer.api is api  # the handed-in adapter is used
    commands: list[dict[str, Any]] = []

    @broker.subscriber(outbound_topic("kpn"))
    async def seen(body: dict[str, Any]) -> None:
        commands.append(body)

    routed = routed_event("GM0505", ["fb-zaken"], record_id=SYS_ID)
    reply = make_reply(routed.hub_id)
    message = reply_message(ReplyEvent.of(reply, SOURCE), "req-7")
    try:
        async with TestKafkaBroker(broker) as test_broker:
            await test_broker.publish(routed.value, routed.topic, key=routed.key)
            await test_broker.publish(message.value, message.topic, key=message.key)
    finally:
        await service.stop()
    assert len(servicenow.accepted(SYS_ID)) == 1
    [command] = [OutboundCommand.model_validate(c) for c in commands]
    assert command.reply_id == reply.reply_id
