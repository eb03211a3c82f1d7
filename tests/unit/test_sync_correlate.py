"""Reading correlations and routes from the ticket and gemeente topics; planning commands."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from connectors import SupplierContext
from schemas import SupplierSystem
from schemas.replies import Reply, ReplyAction
from schemas.topics import INCIDENTS, TRIAGE
from services.sync import plan_commands, read_batch, reply_digest
from tests.delivery_kit import routed_event
from tests.fakes import FakeRecord
from tests.sync_kit import correlation


def test_routed_event_gives_correlation_and_the_topics_own_teams_only() -> None:
    event = routed_event("GM0505", ["fb-zaken", ("GM0482", "fb-zaken")], record_id="r1")
    batch = read_batch([event.as_record()])
    [ticket] = batch.tickets
    assert (ticket.hub_id, ticket.supplier, ticket.record_id, ticket.kind) == (
        event.hub_id,
        "kpn",
        "r1",
        "incident",
    )
    assert [(r.gemeente, r.team) for r in batch.routes] == [("GM0505", "fb-zaken")]
    assert batch.routes[0].event_id == event.event_id


def test_normalised_event_and_garbage() -> None:
    routed = orjson.loads(routed_event("GM0505", ["fb-zaken"], version=4).value)
    normalised = {**routed, "data": routed["data"]["ticket"]}
    records = [
        FakeRecord(INCIDENTS, 0, 1, b"k", orjson.dumps(normalised), ()),
        FakeRecord(INCIDENTS, 0, 2, b"k", b"not json", ()),
        FakeRecord(INCIDENTS, 0, 3, b"k", None, ()),
        FakeRecord(TRIAGE, 0, 4, b"k", orjson.dumps(routed), ()),
    ]
    batch = read_batch(records)
    assert [t.version for t in batch.tickets] == [4]
    assert batch.routes == [] and batch.skipped == 3


def test_plan_commands_are_deterministic_and_carry_the_correlation() -> None:
    hub = "h-1"
    reply = Reply(
        reply_id="r-9",
        hub_id=hub,
        gemeente="GM0505",
        team="fb-zaken",
        action=ReplyAction.COMMENT,
        body="Graag status.",
        created_at=datetime(2026, 11, 24, tzinfo=UTC),
    )
    ctx = SupplierContext(
        supplier="kpn", system=SupplierSystem.SERVICENOW, source="urn:nld:kvk:1:systeem:x"
    )
    first = plan_commands(reply, correlation(hub), ctx)
    again = plan_commands(reply, correlation(hub), ctx)
    assert first == again and len(first) == 1
    command = first[0]
    assert (command.step, command.steps, command.supplier) == (0, 1, "kpn")
    assert command.supplier_ref.record_id == "a" * 32
    assert command.created_at == reply.created_at
    later = reply.model_copy(update={"created_at": datetime(2026, 11, 25, tzinfo=UTC)})
    assert reply_digest(later) == reply_digest(reply)  # a retry is the same reply
    assert reply_digest(reply.model_copy(update={"body": "Anders"})) != reply_digest(reply)
