"""The read model: projection of every outcome topic, idempotency, order independence,
hash chains and their verification, retention; on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from schemas import IncidentStatus
from services.feed._tables import chains, timeline
from services.feed.store import ReadModel, Scope, TicketQuery
from tests._postgres import postgres_url  # noqa: F401  (session fixture)
from tests.feed_kit import (
    T0,
    audit_record,
    dead_letter_record,
    delivery_entry,
    open_read_model,
    reply_record,
    routed_record,
    sla_record,
    version,
    version_record,
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def model(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ReadModel]:
    read_model = await open_read_model(request.param, tmp_path, request)
    try:
        yield read_model
    finally:
        await read_model.close()


def story(record_id: str = "inc-42", supplier: str = "kpn") -> list[Any]:
    """One ticket's outcomes across the topics, in the order the hub makes them."""
    v1 = version(record_id, 1, supplier=supplier, group="Servicedesk")
    v2 = version(
        record_id, 2, supplier=supplier, status=IncidentStatus.IN_PROGRESS, group="Applicatiebeheer"
    )
    v3 = version(
        record_id, 3, supplier=supplier, status=IncidentStatus.RESOLVED, group="Applicatiebeheer"
    )
    v4 = version(
        record_id, 4, supplier=supplier, status=IncidentStatus.IN_PROGRESS, group="Applicatiebeheer"
    )
    hub = v1.hub_id
    return [
        version_record(v1, 0),
        routed_record("GM0505", "fb-zaken", record_id, supplier=supplier, offset=0),
        sla_record(
            hub, "started", T0 + timedelta(minutes=1), offset=0, due=T0 + timedelta(hours=8)
        ),
        audit_record(delivery_entry(hub), hub, "delivered", offset=0),
        version_record(v2, 1),
        reply_record(hub, offset=0),
        sla_record(hub, "warning", T0 + timedelta(hours=6), offset=1, due=T0 + timedelta(hours=8)),
        version_record(v3, 2),
        version_record(v4, 3),
        sla_record(hub, "breached", T0 + timedelta(hours=8), offset=2),
    ]


async def test_every_outcome_lands_on_the_ticket_and_its_timeline(model: ReadModel) -> None:
    records = story()
    hub = version("inc-42", 1).hub_id
    result = await model.apply(records)
    assert result.facts == len(records) and not result.unreadable
    ticket = await model.ticket(hub)
    assert ticket is not None
    assert ticket["status"] == "in_progress" and ticket["open"] is True
    assert ticket["version"] == 4 and ticket["reopen_count"] == 1
    assert ticket["handoffs"] == 1  # Servicedesk -> Applicatiebeheer
    assert ticket["routed_to"] == "GM0505" and ticket["teams"] == ["GM0505/fb-zaken"]
    assert ticket["sla_state"] == "breached" and ticket["sla_breached_at"] == T0 + timedelta(
        hours=8
    )
    assert ticket["deliveries_ok"] == 1
    entries = await model.timeline(hub)
    assert [e["kind"] for e in entries] == [
        "version",
        "routed",
        "sla",
        "audit",
        "version",
        "reply",
        "sla",
        "version",
        "version",
        "sla",
    ]
    assert entries[1]["summary"] == "Gerouteerd naar GM0505 (fb-zaken)"
    assert entries[1]["detail"]["explanation"].startswith("Regel zaaksysteem-gedeeld")
    assert "status nieuw → in behandeling" in entries[4]["summary"]
    assert entries[4]["detail"]["changes"]["assignment_group"] == [
        "Servicedesk",
        "Applicatiebeheer",
    ]
    assert [e["seq"] for e in entries] == list(range(1, 11))
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(entries))
    checked, problems = await model.verify(hub)
    assert checked == 1 and problems == []


async def test_the_same_batch_twice_gives_the_same_rows(model: ReadModel) -> None:
    records = story("inc-7")
    await model.apply(records)
    first = await model.snapshot()
    again = await model.apply(records)
    assert again.duplicates == len(records) - 0 or again.duplicates > 0
    assert await model.snapshot() == first
    await model.apply(records[3:6])  # a partly redelivered batch
    assert await model.snapshot() == first


def _content(snapshot: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """What must not depend on how the topics interleave: all rows, except that timeline
    entries compare as a set (their position in the chain is the order they arrived in)."""
    keep = dict(snapshot)
    keep["feed_timeline"] = sorted(
        (e["entry_id"], e["hub_id"], e["kind"], e["at"], e["summary"], repr(e["detail"]))
        for e in snapshot["feed_timeline"]
    )
    keep["feed_chains"] = sorted((c["hub_id"], c["entries"]) for c in snapshot["feed_chains"])
    return keep


async def test_another_interleaving_of_the_topics_gives_the_same_model(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    records = story("inc-1") + story("inc-2", supplier="centric")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    live = await open_read_model("sqlite", tmp_path / "a", request)
    rebuilt = await open_read_model("sqlite", tmp_path / "b", request)
    try:
        for start in range(0, len(records), 3):
            await live.apply(records[start : start + 3])
        # per topic the order stays (Kafka keeps it per partition); across topics it differs
        by_topic: dict[str, list[Any]] = {}
        for rec in records:
            by_topic.setdefault(rec.topic, []).append(rec)
        shuffled: list[Any] = []
        rng = random.Random(7)
        queues = list(by_topic.values())
        while any(queues):
            queue = rng.choice([q for q in queues if q])
            shuffled.append(queue.pop(0))
        await rebuilt.apply(shuffled)
        assert _content(await rebuilt.snapshot()) == _content(await live.snapshot())
        assert (await rebuilt.verify())[1] == []
    finally:
        await live.close()
        await rebuilt.close()


async def test_verify_finds_a_changed_an_inserted_and_a_missing_entry(model: ReadModel) -> None:
    await model.apply(story("inc-a") + story("inc-b") + story("inc-c") + story("inc-d"))
    a, b, c, d = (version(r, 1).hub_id for r in ("inc-a", "inc-b", "inc-c", "inc-d"))
    assert (await model.verify())[1] == []
    async with model.engine.begin() as conn:
        await conn.execute(
            update(timeline)
            .where(timeline.c.hub_id == a, timeline.c.seq == 5)
            .values(summary="Versie 2: niets")
        )
        await conn.execute(delete(timeline).where(timeline.c.hub_id == b, timeline.c.seq == 3))
        row = (
            (
                await conn.execute(
                    select(timeline).where(timeline.c.hub_id == c, timeline.c.seq == 2)
                )
            )
            .mappings()
            .one()
        )
        forged = {**row, "entry_id": "forged", "seq": 11, "summary": "Gerouteerd naar GM9999"}
        await conn.execute(insert(timeline).values(**forged))
        await conn.execute(delete(timeline).where(timeline.c.hub_id == d, timeline.c.seq == 10))
    checked, problems = await model.verify()
    assert checked == 4
    found = {p.hub_id: p for p in problems}
    assert set(found) == {a, b, c, d}
    assert "content changed" in found[a].problem and found[a].seq == 5
    assert "missing" in found[b].problem and found[b].seq == 3
    assert found[c].seq == 11  # an entry beyond the recorded chain
    assert "chain records 10 entries, found 9" in found[d].problem
    one, only_a = await model.verify(a)
    assert one == 1 and [p.hub_id for p in only_a] == [a]
    async with model.engine.begin() as conn:
        await conn.execute(delete(chains).where(chains.c.hub_id == b))
    assert any(p.hub_id == b for p in (await model.verify(b))[1])


async def test_dead_letters_keep_their_original_bytes(model: ReadModel) -> None:
    raw = b"\x00not json at all \xff"
    await model.apply([dead_letter_record("schakel.inbound.kpn", raw, offset=12)])
    await model.apply([dead_letter_record("schakel.inbound.kpn", raw, offset=12)])
    rows = await model.dead_letters()
    assert len(rows) == 1 and rows[0]["source_topic"] == "schakel.inbound.kpn"
    assert rows[0]["reason"] == "not JSON" and rows[0]["source_offset"] == 7
    stored = await model.dead_letter(0, 12)
    assert stored is not None and stored["value"] == raw and stored["key"] == b"k"
    assert await model.count_open_dead_letters() == 1


async def test_unreadable_records_are_returned_not_projected(model: ReadModel) -> None:
    good = version_record(version("inc-9", 1), 0)
    bad = type(good)(good.topic, 0, 1, b"x", b"{not json", ())
    wrong = type(good)("schakel.gemeente.GM0505.v1", 0, 1, b"x", b'{"id": 1}', ())
    result = await model.apply([good, bad, wrong])
    assert result.facts == 1 and [r.offset for r, _ in result.unreadable] == [1, 1]
    assert "Invalid JSON" in result.unreadable[0][1].reason


async def test_filters_paging_and_the_gemeente_scope(model: ReadModel) -> None:
    records = []
    for i in range(30):
        supplier = "kpn" if i % 2 else "centric"
        gemeente = "GM0505" if i % 3 else "GM0482"
        records.append(
            version_record(version(f"t{i}", 1, supplier=supplier, title=f"Melding {i}"), i)
        )
        records.append(
            routed_record(
                gemeente, "fb-zaken", f"t{i}", supplier=supplier, offset=i, title=f"Melding {i}"
            )
        )
    await model.apply(records)
    rows, more = await model.tickets(TicketQuery(supplier="kpn", limit=100))
    assert len(rows) == 15 and not more and {r["supplier"] for r in rows} == {"kpn"}
    page1, more1 = await model.tickets(TicketQuery(limit=20))
    page2, more2 = await model.tickets(TicketQuery(limit=20, offset=20))
    assert more1 and not more2 and len(page1) + len(page2) == 30
    assert not {r["hub_id"] for r in page1} & {r["hub_id"] for r in page2}
    own, _ = await model.tickets(TicketQuery(limit=100), Scope("GM0482"))
    assert len(own) == 10 and all(r["routed_to"] == "GM0482" for r in own)
    text, _ = await model.tickets(TicketQuery(text="MELDING 1", limit=100))
    assert {r["title"] for r in text} == {"Melding 1", *(f"Melding {i}" for i in range(10, 20))}
    none, _ = await model.tickets(TicketQuery(text="100%_", limit=100))
    assert none == []
    other = version("t0", 1, supplier="centric").hub_id
    assert await model.ticket(other, Scope("GM0505")) is None
    assert await model.ticket(other, Scope("GM0482")) is not None
    figures = {f["supplier"]: f for f in await model.figures()}
    assert figures["kpn"]["open"] == 15 and figures["centric"]["total"] == 15


async def test_purge_removes_what_is_past_retention(model: ReadModel) -> None:
    closed = version("old", 1, status=IncidentStatus.CLOSED)
    await model.apply([version_record(closed, 0), version_record(version("new", 1), 1)])
    removed = await model.purge({"tickets": 1}, now=T0 + timedelta(days=800))
    assert removed["feed_tickets"] == 1
    assert await model.ticket(closed.hub_id) is None
    assert await model.ticket(version("new", 1).hub_id) is not None  # open: kept
    assert await model.timeline(closed.hub_id) == []


async def test_sla_events_of_the_sla_service_model(model: ReadModel) -> None:
    from schemas.sla import SlaClock, SlaEvent, SlaEventKind, SlaState
    from schemas.vocab import EntityKind, Priority
    from tests.fakes import FakeRecord

    ticket = version("inc-sla", 1)
    due = T0 + timedelta(hours=4)
    event = SlaEvent(
        hub_id=ticket.hub_id,
        entity=EntityKind.INCIDENT,
        supplier="kpn",
        contract="DAP-2025",
        clock=SlaClock.RESOLUTION,
        event=SlaEventKind.WARNING,
        state=SlaState.RUNNING,
        at=T0 + timedelta(hours=3),
        priority=Priority.P2,
        calendar="24x7",
        target_minutes=240,
        business_minutes=180,
        paused_minutes=0,
        percent_used=75,
        due_at=due,
        threshold_percent=75,
        ticket_version=1,
    )
    envelope = {
        "specversion": "1.0",
        "id": "sla-model-1",
        "source": "urn:nld:kvk:00000000:systeem:schakel-sla",
        "type": "nl.itsm.sla.warning.v1",
        "subject": ticket.hub_id,
        "time": event.at.isoformat(),
        "data": event.model_dump(mode="json"),
    }
    import orjson

    record = FakeRecord("schakel.sla.v1", 0, 0, ticket.hub_id.encode(), orjson.dumps(envelope), ())
    await model.apply([version_record(ticket, 0), record])
    row = await model.ticket(ticket.hub_id)
    assert row is not None and row["sla_state"] == "at_risk" and row["sla_due_at"] == due
    [_, entry] = await model.timeline(ticket.hub_id)
    assert entry["summary"] == "SLA dreigt te verlopen (oplostijd): 75% van 240 min gebruikt"
    assert entry["detail"]["contract"] == "DAP-2025"
    assert [r["hub_id"] for r in await model.at_risk()] == [ticket.hub_id]
