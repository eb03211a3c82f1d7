"""Building blocks for the feed's tests: outcome records of every topic the feed projects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from schemas import IncidentStatus, Priority, Reply, ReplyAction, ReplyEvent
from schemas.audit import AuditEntry
from schemas.tickets import Incident
from schemas.topics import AUDIT, DEADLETTER, REPLIES, SLA
from services.audit import audit_message
from services.feed.store import ReadModel
from services.messaging import dead_letter
from tests.delivery_kit import routed_event
from tests.fakes import FakeRecord
from tests.router_kit import incident, ticket_record

__all__ = [
    "T0",
    "audit_record",
    "dead_letter_record",
    "open_read_model",
    "reply_record",
    "routed_record",
    "sla_record",
    "version",
    "version_record",
]

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def version(
    record_id: str,
    n: int,
    *,
    supplier: str = "kpn",
    status: IncidentStatus = IncidentStatus.NEW,
    title: str = "Zaaksysteem reageert traag",
    group: str | None = None,
    priority: Priority = Priority.P2,
) -> Incident:
    base = incident(record_id, supplier=supplier, title=title, priority=priority, version=n)
    resolved = T0 + timedelta(hours=n) if status is IncidentStatus.RESOLVED else None
    return base.model_copy(
        update={
            "status": status,
            "assignment_group": group,
            "opened_at": T0,
            "updated_at": T0 + timedelta(minutes=n),
            "resolved_at": resolved,
        }
    )


def version_record(ticket: Incident, offset: int = 0) -> FakeRecord:
    rec = ticket_record(ticket, offset)
    return FakeRecord(rec.topic, rec.partition, rec.offset, rec.key, rec.value, ())


def routed_record(
    gemeente: str,
    team: str,
    record_id: str,
    *,
    supplier: str = "kpn",
    n: int = 1,
    offset: int = 0,
    explanation: str = "Regel zaaksysteem-gedeeld: het zaaksysteem is van uw gemeente.",
    title: str = "Zaaksysteem reageert traag",
) -> FakeRecord:
    routed = routed_event(
        gemeente,
        [team],
        record_id=record_id,
        supplier=supplier,
        version=n,
        explanation=explanation,
        title=title,
    )
    return routed.as_record(offset)


def sla_record(
    hub: str, name: str, at: datetime, *, offset: int = 0, due: datetime | None = None
) -> FakeRecord:
    event = {
        "specversion": "1.0",
        "id": f"sla-{hub}-{name}-{at.isoformat()}",
        "source": "urn:nld:kvk:00000000:systeem:schakel-sla",
        "type": f"nl.schakel.sla.{name}.v1",
        "subject": hub,
        "time": at.isoformat(),
        "data": {"hub_id": hub, "clock": "resolve", "due_at": due.isoformat() if due else None},
    }
    return FakeRecord(SLA, 0, offset, hub.encode(), orjson.dumps(event), ())


def audit_record(entry: AuditEntry, *identity: str, offset: int = 0) -> FakeRecord:
    message = audit_message(entry, *identity)
    return FakeRecord(AUDIT, 0, offset, message.key, message.value, message.headers)


def delivery_entry(
    hub: str, gemeente: str = "GM0505", team: str = "fb-zaken", ok: bool = True
) -> AuditEntry:
    return AuditEntry(
        action="delivery.delivered" if ok else "delivery.failed",
        outcome="ok" if ok else "failed",
        actor="delivery",
        hub_id=hub,
        at=T0 + timedelta(minutes=5),
        summary=f"afgeleverd aan {team} via webhook" if ok else "mislukt",
        gemeente=gemeente,
        team=team,
        channel="webhook",
        attempts=1,
    )


def reply_record(hub: str, *, offset: int = 0, body: str = "Graag een update") -> FakeRecord:
    reply = Reply(
        reply_id=f"r-{hub[:8]}-{offset}",
        hub_id=hub,
        gemeente="GM0505",
        team="fb-zaken",
        action=ReplyAction.COMMENT,
        body=body,
        created_at=T0 + timedelta(minutes=30),
    )
    event = ReplyEvent.of(reply, "urn:nld:kvk:00000000:systeem:schakel-replies")
    return FakeRecord(REPLIES, 0, offset, hub.encode(), event.model_dump_json().encode(), ())


def dead_letter_record(
    source_topic: str, value: bytes, *, offset: int, key: bytes | None = b"k"
) -> FakeRecord:
    message = dead_letter(
        value=value,
        key=key,
        headers=[("trace", b"\xff\x00bin")],
        topic=source_topic,
        partition=0,
        offset=7,
        error=ValueError("bad"),
        reason="not JSON",
        service="normaliser",
        now=T0,
    )
    return FakeRecord(DEADLETTER, 0, offset, message.key, message.value, message.headers)


async def open_read_model(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> ReadModel:
    """An empty, migrated read model on SQLite (a file in ``tmp_path``) or PostgreSQL (a
    fresh database on the session's server)."""
    if backend == "sqlite":
        return await ReadModel.open(f"sqlite+aiosqlite:///{tmp_path / 'feed.db'}")
    base: str = request.getfixturevalue("postgres_url")
    import uuid

    import psycopg

    name = "feed_" + uuid.uuid4().hex[:12]
    server = base.rsplit("/", 1)[0]
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return await ReadModel.open(f"{server}/{name}")
