"""Correlations from the topics: pure functions, no Kafka, no store.

The sync service follows ``schakel.incidents.v1``, ``schakel.changes.v1`` and the gemeente
topics ``schakel.gemeente.<GMxxxx>.v1``. Every ticket event says where the ticket lives at
the supplier (a :class:`~services.tickets.Correlation`); every routed event also says which
teams of that gemeente received it (a :class:`~services.tickets.Route`). Only teams of the
topic's own gemeente are taken from a routed event (tenant isolation, whatever the event says).

Reading is tolerant and cheap (orjson, the few fields needed): an event that lacks them is
counted and skipped, never dead-lettered here (the topics' own consumers judge them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas.topics import CHANGES, INCIDENTS, gemeente_of_topic
from services.messaging import RawRecord
from services.tickets import Correlation, Route

__all__ = ["CorrelationBatch", "read_batch"]

_KIND_OF_TOPIC = {INCIDENTS: "incident", CHANGES: "change"}


@dataclass(slots=True)
class CorrelationBatch:
    tickets: list[Correlation] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    skipped: int = 0


def read_batch(records: Iterable[RawRecord]) -> CorrelationBatch:
    """The correlations and routes in consumed records of the ticket and gemeente topics."""
    batch = CorrelationBatch()
    for record in records:
        try:
            _read(record, batch)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            batch.skipped += 1
    return batch


def _read(record: RawRecord, batch: CorrelationBatch) -> None:
    if not record.value:
        batch.skipped += 1
        return
    event = orjson.loads(record.value)
    data = event["data"]
    kind = _KIND_OF_TOPIC.get(record.topic)
    if kind is not None:
        batch.tickets.append(_correlation(kind, data))
        return
    gemeente = gemeente_of_topic(record.topic)
    if gemeente is None:
        batch.skipped += 1
        return
    ticket = _correlation(str(data["kind"]), data["ticket"])
    batch.tickets.append(ticket)
    routed_at = _when(data["decision"].get("decided_at")) or datetime.now(UTC)
    for recipient in data["decision"]["recipients"]:
        if recipient.get("gemeente") == gemeente and isinstance(recipient.get("team"), str):
            batch.routes.append(
                Route(ticket.hub_id, gemeente, recipient["team"], str(event["id"]), routed_at)
            )


def _correlation(kind: str, ticket: dict[str, Any]) -> Correlation:
    ref = ticket["supplier_ref"]
    if kind not in ("incident", "change"):
        raise ValueError(kind)
    return Correlation(
        hub_id=str(ticket["hub_id"]),
        kind=kind,
        supplier=str(ref["supplier"]),
        system=str(ref["system"]),
        record_id=str(ref["record_id"]),
        number=ref.get("number"),
        supplier_correlation_id=ref.get("correlation_id"),
        status=str(ticket["status"]),
        priority=ticket.get("priority"),
        title=(ticket.get("title") or "")[:400] or None,
        version=int(ticket["version"]),
        ticket_updated_at=_when(ticket.get("updated_at")),
    )


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
