"""Benchmark of the cockpit's read model (SQLite, this machine).

(a) projector: a mix of outcome records (normalised versions, routed events, SLA events,
    delivery audit events) projected by ``ReadModel.apply`` in consumed-size batches of
    2,000, one transaction each; events per second, decoding and hashing included (the
    records are built before the clock starts; Kafka is not involved: the consumer's side is
    measured in bench/run.py);
(b) queries with 1,000,000 tickets in the read model: the overview (key figures per
    supplier, at-risk list, breaches today, open dead letters, triage queue: what the
    overview page runs) and filtered ticket lists (supplier + status; gemeente scope +
    SLA state; free text), p50/p95 over repeated runs. The million rows are written with
    bulk inserts of projector-shaped rows (projecting them one by one would take minutes
    and measures (a) again).

Usage: ``python -m bench.feed [--events 60000] [--tickets 1000000] [--runs 40]``; results
are appended to ``bench/feed_results.jsonl``; copy the summary into ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from schemas.audit import AuditEntry
from schemas.topics import AUDIT, INCIDENTS, SLA, gemeente_topic
from services.audit import audit_message
from services.feed._tables import tickets
from services.feed.store import ReadModel, Scope, TicketQuery

REGIE = Scope()

GEMEENTEN = ("GM0505", "GM0482", "GM0590", "GM0642", "GM0523", "GM0531", "GM0610")
SUPPLIERS = ("kpn", "centric", "zaakplatform", "werkplekdienst", "leverancier-x")
STATUSES = ("new", "in_progress", "on_hold", "resolved", "closed")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class _Record:
    __slots__ = ("headers", "key", "offset", "partition", "topic", "value")

    def __init__(self, topic: str, offset: int, key: bytes, value: bytes) -> None:
        self.topic, self.partition, self.offset = topic, 0, offset
        self.key, self.value, self.headers = key, value, ()


def _records(events: int) -> list[_Record]:
    """Per ticket: three versions, a routed event, an SLA event and a delivery audit event."""
    from tests.delivery_kit import routed_event
    from tests.router_kit import incident, ticket_event

    out: list[_Record] = []
    n = 0
    while len(out) < events:
        rid = f"bench-{n}"
        gemeente = GEMEENTEN[n % len(GEMEENTEN)]
        base = incident(rid, supplier=SUPPLIERS[n % len(SUPPLIERS)], title=f"Storing {n}")
        hub = base.hub_id
        for v in (1, 2, 3):
            ticket = base.model_copy(
                update={"version": v, "updated_at": T0 + timedelta(minutes=n + v), "opened_at": T0}
            )
            out.append(_Record(INCIDENTS, len(out), hub.encode(), ticket_event(ticket)))
        routed = routed_event(
            gemeente, ["fb-zaken"], record_id=rid, supplier=base.supplier_ref.supplier
        )
        out.append(_Record(gemeente_topic(gemeente), len(out), hub.encode(), routed.value))
        sla = {
            "specversion": "1.0",
            "id": f"sla-{hub}",
            "type": "nl.itsm.sla.warning.v1",
            "source": "urn:nld:kvk:00000000:systeem:schakel-sla",
            "subject": hub,
            "time": (T0 + timedelta(hours=1)).isoformat(),
            "data": {
                "hub_id": hub,
                "clock": "resolution",
                "due_at": (T0 + timedelta(hours=4)).isoformat(),
            },
        }
        out.append(_Record(SLA, len(out), hub.encode(), orjson.dumps(sla)))
        entry = AuditEntry(
            action="delivery.delivered",
            outcome="ok",
            actor="delivery",
            hub_id=hub,
            at=T0 + timedelta(minutes=n),
            summary="afgeleverd",
            gemeente=gemeente,
            team="fb-zaken",
            channel="webhook",
            attempts=1,
        )
        message = audit_message(entry, hub, "delivered")
        out.append(_Record(AUDIT, len(out), hub.encode(), message.value))
        n += 1
    return out[:events]


async def projector(events: int, batch: int) -> dict[str, Any]:
    records = _records(events)
    with tempfile.TemporaryDirectory() as root:
        model = await ReadModel.open(f"sqlite+aiosqlite:///{Path(root) / 'bench.db'}")
        started = time.perf_counter()
        for start in range(0, len(records), batch):
            await model.apply(records[start : start + batch])
        seconds = time.perf_counter() - started
        again = time.perf_counter()
        await model.apply(records[:batch])  # a redelivered batch: nothing new
        redelivered = time.perf_counter() - again
        await model.close()
    return {
        "events": len(records),
        "batch": batch,
        "seconds": round(seconds, 2),
        "events_per_s": round(len(records) / seconds),
        "redelivered_batch_ms": round(redelivered * 1000, 1),
    }


def _fill_sqlite(path: Path, count: int) -> None:
    """``count`` projector-shaped ticket rows (and their gemeente rows), bulk-inserted."""
    import sqlite3

    rng = random.Random(12)
    columns = [c.name for c in tickets.columns]
    now = datetime.now(UTC)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    rows, links = [], []

    def flush() -> None:
        conn.executemany(
            f"INSERT INTO feed_tickets ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            rows,
        )
        conn.executemany(
            "INSERT INTO feed_ticket_gemeenten (hub_id, gemeente, team, updated_at) "
            "VALUES (?,?,?,?)",
            links,
        )
        rows.clear()
        links.clear()

    for i in range(count):
        status = rng.choices(STATUSES, weights=(5, 8, 2, 25, 60))[0]
        is_open = status in ("new", "in_progress", "on_hold")
        opened = now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        updated = opened + timedelta(minutes=rng.randrange(1, 5000))
        resolved = None if is_open else updated
        sla = rng.choices(
            (None, "running", "at_risk", "breached", "met"), weights=(10, 40, 5, 5, 40)
        )[0]
        gemeente = GEMEENTEN[i % len(GEMEENTEN)]
        values = {
            "hub_id": f"{i:08d}-bench",
            "kind": "incident",
            "supplier": SUPPLIERS[i % len(SUPPLIERS)],
            "source": "urn:nld:kvk:90000011:systeem:bench",
            "number": f"INC{i:07d}",
            "title": f"Storing {i} in zaaksysteem",
            "status": status,
            "open": is_open,
            "priority": f"P{rng.randrange(1, 6)}",
            "assignment_group": "Applicatiebeheer",
            "ci_name": "Zaaksysteem",
            "version": 3,
            "opened_at": opened.isoformat(" "),
            "updated_at": updated.isoformat(" "),
            "resolved_at": resolved.isoformat(" ") if resolved else None,
            "closed_at": None,
            "planned_start": None,
            "planned_end": None,
            "resolve_seconds": int((updated - opened).total_seconds()) if resolved else None,
            "reopen_count": 1 if rng.random() < 0.03 else 0,
            "handoffs": rng.randrange(0, 3),
            "routed_to": gemeente,
            "triage": rng.random() < 0.001,
            "sla_state": sla,
            "sla_due_at": (updated + timedelta(hours=2)).isoformat(" ") if sla else None,
            "sla_breached_at": updated.isoformat(" ") if sla == "breached" else None,
            "sla_at": updated.isoformat(" ") if sla else None,
            "deliveries_ok": 1,
            "deliveries_failed": 0,
            "search": f"storing {i} in zaaksysteem inc{i:07d}",
            "snapshot": None,
        }
        rows.append(tuple(values[c] for c in columns))
        links.append((values["hub_id"], gemeente, "fb-zaken", values["updated_at"]))
        if len(rows) >= 20_000:
            flush()
    flush()
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def _timed(runs: int, call: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    await call()  # warm the page cache and the statement cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }


async def queries(count: int, runs: int, keep: Path | None) -> dict[str, Any]:
    root = keep or Path(tempfile.mkdtemp(prefix="feed-bench-"))
    path = root / "million.db"
    fresh = not path.exists()
    if fresh:
        model = await ReadModel.open(f"sqlite+aiosqlite:///{path}")
        await model.close()
        started = time.perf_counter()
        _fill_sqlite(path, count)
        filled = time.perf_counter() - started
    else:
        filled = 0.0
    model = await ReadModel.open(f"sqlite+aiosqlite:///{path}")
    now = datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)

    async def overview(scope: Scope = REGIE) -> None:
        await model.figures(scope)
        await model.at_risk(scope, limit=15)
        await model.breached_since(today, scope, limit=15)
        if scope.is_regie:
            await model.dead_letters(limit=5, open_only=True)
            await model.count_open_dead_letters()
            await model.triage_queue(limit=10)

    results = {
        "tickets": await model.count_tickets(),
        "fill_seconds": round(filled, 1),
        "overview_regie": await _timed(runs, overview),
        "overview_fb": await _timed(runs, lambda: overview(Scope("GM0505"))),
        "list_supplier_status": await _timed(
            runs,
            lambda: model.tickets(TicketQuery(supplier="centric", status="in_progress", limit=50)),
        ),
        "list_fb_sla": await _timed(
            runs, lambda: model.tickets(TicketQuery(sla="at_risk", limit=50), Scope("GM0482"))
        ),
        "list_text": await _timed(
            runs, lambda: model.tickets(TicketQuery(text="inc0777", limit=50))
        ),
        "list_page_20": await _timed(
            runs, lambda: model.tickets(TicketQuery(open=True, limit=50, offset=1000))
        ),
    }
    await model.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keep", type=Path, default=None, help="Directory to keep the 1M db in.")
    parser.add_argument("--skip-projector", action="store_true")
    args = parser.parse_args()
    out: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpu, "
        f"Python {platform.python_version()}",
    }
    if not args.skip_projector:
        out["projector"] = asyncio.run(projector(args.events, args.batch))
        print("projector", out["projector"], flush=True)
    if args.tickets:
        out["queries"] = asyncio.run(queries(args.tickets, args.runs, args.keep))
        print("queries", out["queries"], flush=True)
    with (Path(__file__).parent / "feed_results.jsonl").open("a") as f:
        f.write(orjson.dumps(out).decode() + "\n")


if __name__ == "__main__":
    main()
