"""SLA watch benchmark: recompute over 1,000,000 normalised events, and the live path's rate.

``python -m bench.sla [--tickets 100000] [--events 10] [--live-tickets 20000]``

1. **ingest**: N tickets x E normalised incident CloudEvents (the bytes the normaliser
   writes: an all-supplier mix of the example config, P1-P5, holds for the caller and for
   the supplier's vendor, reopens, cancels) are read and added to ticket histories
   (:meth:`SlaWatch.read` + :meth:`SlaWatch.ingest`), then saved in a fresh SQLite SLA store.
2. **recompute**: ``schakel sla recompute`` 's work (:func:`services.sla.reports.recompute`):
   every stored history evaluated under the contracts and written as a new run.
3. **live**: the SLA service's batch handler (:meth:`SlaService.handle`: decode, load the
   histories from the store, evaluate, save, publish) on batches of 2,000 records, the
   publisher a no-op, so the figure is the service's own rate, to compare with the
   normaliser's (bench/RESULTS.md).

The events are generated before the clock starts (not timed). Results are appended to
``bench/sla_results.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
from faststream.kafka import KafkaBroker

from schemas import (
    EntityKind,
    HoldReason,
    Incident,
    IncidentStatus,
    Priority,
    SupplierRef,
    SupplierSystem,
    event_id,
    event_type,
    hub_id,
)
from schemas.envelope import DATASCHEMA, encode_event
from schemas.topics import INCIDENTS
from services.config import Settings, load_config
from services.contract import Runtime
from services.messaging import OutboundMessage
from services.sla import SlaService, SlaStore, SlaWatch, TicketHistory
from services.sla.reports import contracts_digest, recompute

RESULTS = Path(__file__).parent / "sla_results.jsonl"
SUPPLIERS = [
    ("kpn", SupplierSystem.SERVICENOW),
    ("centric", SupplierSystem.TOPDESK),
    ("zaakplatform", SupplierSystem.JIRA),
    ("werkplekdienst", SupplierSystem.XURRENT),
]
START = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)


class Record:
    __slots__ = ("headers", "key", "offset", "partition", "topic", "value")

    def __init__(self, value: bytes, key: bytes, offset: int) -> None:
        self.topic = INCIDENTS
        self.partition = 0
        self.offset = offset
        self.key = key
        self.value = value
        self.headers: tuple[tuple[str, bytes], ...] = ()


def _ticket_events(rng: random.Random, n: int, events: int) -> list[Incident]:
    supplier, system = SUPPLIERS[n % len(SUPPLIERS)]
    record = f"rec-{n}"
    opened = START + timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
    priority = Priority(f"P{rng.choice([1, 2, 2, 3, 3, 3, 3, 4, 4, 5])}")
    base = Incident(
        hub_id=hub_id(supplier, EntityKind.INCIDENT, record),
        supplier_ref=SupplierRef(
            supplier=supplier, system=system, record_id=record, number=f"INC{n:07d}"
        ),
        title="Storing",
        status=IncidentStatus.NEW,
        priority=priority,
        opened_at=opened,
        updated_at=opened,
        version=1,
    )
    out = [base]
    at = opened
    status = IncidentStatus.IN_PROGRESS
    for version in range(2, events + 1):
        at += timedelta(minutes=rng.randrange(5, 600))
        hold = None
        if version == events:
            status = rng.choice([IncidentStatus.RESOLVED] * 9 + [IncidentStatus.CANCELLED])
        elif rng.random() < 0.25:
            status = IncidentStatus.ON_HOLD
            hold = rng.choice([HoldReason.AWAITING_CALLER, HoldReason.AWAITING_SUPPLIER])
        elif status is IncidentStatus.RESOLVED or rng.random() < 0.05:
            status = (
                IncidentStatus.RESOLVED
                if status is not IncidentStatus.RESOLVED
                else (IncidentStatus.IN_PROGRESS)
            )
        else:
            status = IncidentStatus.IN_PROGRESS
        if rng.random() < 0.03:
            priority = Priority(f"P{rng.randint(1, 5)}")
        out.append(
            base.model_copy(
                update={
                    "status": status,
                    "hold_reason": hold,
                    "priority": priority,
                    "updated_at": at,
                    "resolved_at": at if status is IncidentStatus.RESOLVED else None,
                    "version": version,
                }
            )
        )
    return out


def _encode(ticket: Incident) -> bytes:
    supplier = ticket.supplier_ref.supplier
    return encode_event(
        id=event_id(supplier, f"{ticket.hub_id}:{ticket.version}"),
        source="urn:nld:kvk:90000011:systeem:bench",
        type=event_type(EntityKind.INCIDENT, "updated"),
        subject=ticket.hub_id,
        time=ticket.updated_at,
        dataschema=DATASCHEMA[EntityKind.INCIDENT],
        sequence=ticket.version,
        supplierid=supplier,
        data=ticket,
    )


def _chunks(tickets: int, events: int, seed: int, size: int = 5000) -> Iterator[list[bytes]]:
    """Normalised events in chunks of ``size`` tickets, in ticket-event order per chunk."""
    rng = random.Random(seed)
    for first in range(0, tickets, size):
        chunk: list[tuple[datetime, bytes]] = []
        for n in range(first, min(tickets, first + size)):
            for ticket in _ticket_events(rng, n, events):
                chunk.append((ticket.updated_at, _encode(ticket)))
        chunk.sort(key=lambda item: item[0])
        yield [value for _, value in chunk]


class NullPublisher:
    def __init__(self) -> None:
        self.sent = 0

    async def send_all(self, messages: Sequence[OutboundMessage]) -> None:
        self.sent += len(messages)


async def run(tickets: int, events: int, live_tickets: int) -> dict[str, object]:
    config = load_config("config/schakel.yaml")
    watch = SlaWatch(config)
    workdir = Path(tempfile.mkdtemp(prefix="schakel-sla-bench-"))
    figures: dict[str, object] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tickets": tickets,
        "events": tickets * events,
    }

    # 1. ingest (generation is not timed)
    histories: dict[str, TicketHistory] = {}
    ingest_s = ingest_cpu = 0.0
    generated = 0
    for chunk in _chunks(tickets, events, seed=11):
        generated += len(chunk)
        began, cpu = time.perf_counter(), time.process_time()
        read = (watch.read(INCIDENTS, value) for value in chunk)
        watch.ingest(histories, (ticket for ticket in read if ticket is not None))
        ingest_s += time.perf_counter() - began
        ingest_cpu += time.process_time() - cpu
    store = await SlaStore.open(f"sqlite+aiosqlite:///{workdir / 'sla.db'}")
    began = time.perf_counter()
    values = list(histories.values())
    for start in range(0, len(values), 10_000):
        await store.save([(h, None) for h in values[start : start + 10_000]])
    save_s = time.perf_counter() - began
    del histories, values
    figures |= {
        "ingest_s": round(ingest_s, 2),
        "ingest_per_s": round(generated / ingest_s),
        "save_s": round(save_s, 2),
    }
    print(
        f"ingest: {generated:,} events in {ingest_s:.1f} s ({generated / ingest_s:,.0f}/s); "
        f"saved {tickets:,} histories in {save_s:.1f} s"
    )

    # 2. recompute
    began, cpu = time.perf_counter(), time.process_time()
    result = await recompute(
        store, watch, watch, since=date(2026, 1, 1), contracts=contracts_digest(config)
    )
    recompute_s = time.perf_counter() - began
    recompute_cpu = time.process_time() - cpu
    await store.close()
    figures |= {
        "recompute_cpu_s": round(recompute_cpu, 2),
        "recompute_s": round(recompute_s, 2),
        "recompute_clocks": len(result.clocks),
    }
    print(
        f"recompute: {tickets:,} tickets ({len(result.clocks):,} clocks) in {recompute_s:.1f} s"
        f" (run {result.run}, {len(result.flips)} flips against the current contracts)"
    )

    # 3. live: the service's handler, batches of 2,000
    publisher = NullPublisher()
    live_store = await SlaStore.open(f"sqlite+aiosqlite:///{workdir / 'live.db'}")
    now = START + timedelta(days=200)
    runtime = Runtime(
        KafkaBroker("127.0.0.1:1"),
        publisher,
        Settings(),
        config,
        clock=lambda: now,
        overrides={"sla.store": live_store, "sla.published": set()},
    )
    service = SlaService()
    service.bind(runtime)
    await service.start()
    handled = 0
    live_s = live_cpu = 0.0
    offset = 0
    for chunk in _chunks(live_tickets, events, seed=12):
        records = [
            Record(v, orjson.loads(v)["subject"].encode(), offset + i) for i, v in enumerate(chunk)
        ]
        offset += len(records)
        for start in range(0, len(records), 2000):
            batch = records[start : start + 2000]
            began, cpu = time.perf_counter(), time.process_time()
            await service.handle(batch)
            live_s += time.perf_counter() - began
            live_cpu += time.process_time() - cpu
            handled += len(batch)
    await service.stop()
    await live_store.close()
    figures |= {
        "live_events": handled,
        "live_s": round(live_s, 2),
        "live_per_s": round(handled / live_s),
        "live_sla_events": publisher.sent,
    }
    print(
        f"live: {handled:,} events in {live_s:.1f} s ({handled / live_s:,.0f}/s), "
        f"{publisher.sent:,} SLA events published"
    )
    with RESULTS.open("a") as out:
        out.write(orjson.dumps(figures).decode() + "\n")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10, help="events per ticket")
    parser.add_argument("--live-tickets", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(run(args.tickets, args.events, args.live_tickets))


if __name__ == "__main__":
    main()
