"""Router benchmarks: the pure routing function, the CMDB table load, and ``cmdb import``.

(a) route: :meth:`Router.route_batch` on pre-encoded normalised incident events (decode,
    decide, encode routed events and decisions) against a CMDB of ``--cmdb-size`` CIs, the
    rules of the example config; no Kafka, one process;
(b) cmdb load: the CMDB feed applying ``--cis`` encoded CI events (what a router does at
    start while reading schakel.cis.v1), no Kafka;
(c) cmdb import (``--import``): generate a CSV export of ``--cis`` CIs, then ``cmdb_import``
    it onto a fresh topic of the broker at ``SCHAKEL_KAFKA_BOOTSTRAP`` (deleted afterwards,
    so the shared schakel.cis.v1 is not filled with benchmark CIs).

The pure parts report wall and CPU time (this process only): the development VM is shared,
and CPU time is the fairer figure there.

Usage: ``python -m bench.router [--events 50000] [--cis 100000] [--import]``. Results print
and are appended to ``bench/router_results.jsonl``. ``--write-cmdb FILE`` only writes the
generated export (for ``schakel cmdb import FILE --supplier kpn`` by hand).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.console import Console

from schemas import (
    CiRef,
    CiRelation,
    ConfigurationItem,
    EntityKind,
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
from schemas.topics import CIS, INCIDENTS
from services.cmdb import CiTable, CmdbFeed, cmdb_import
from services.config import SchakelConfig, load_config
from services.logs import configure_logging
from services.router import Router

__all__ = ["BenchRecord", "cmdb_items", "incident_events", "write_cmdb_csv"]

console = Console()
REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "router_results.jsonl"
BOOTSTRAP = os.environ.get("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
GEMEENTEN = ["GM0482", "GM0505", "GM0523", "GM0531", "GM0590", "GM0610", "GM0642"]
COMPONENTS = [
    "Zaakregistratiecomponent",
    "Zaakafhandelcomponent",
    "Burgerzakencomponent",
    "Afsprakenbeheercomponent",
    "Belastingencomponent",
    None,
]
TEAMS = ["fb-zaken", "fb-burgerzaken", "fb-algemeen", None, None]
TITLES = [
    "Zaaksysteem reageert traag bij openen van zaken",
    "Inloggen op de werkplek lukt niet voor afdeling Burgerzaken",
    "Koppeling met BRP geeft foutmelding 500",
    "Afsprakenplanner toont geen beschikbare tijdsloten",
    "Aanslagen WOZ worden niet gegenereerd",
    "Storing e-mail: berichten blijven in de wachtrij staan",
]
DETAILS = (
    "Gebruikers in het stadskantoor melden dat het probleem sinds vanochtend optreedt. "
    "Na herstart van de applicatie keert de storing binnen een uur terug."
)


@dataclass(frozen=True, slots=True)
class BenchRecord:
    """A consumed record, as the router reads it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


def _gemeenten(rng: random.Random) -> list[str]:
    roll = rng.random()
    if roll < 0.1:
        return list(GEMEENTEN)  # shared by all seven
    if roll < 0.2:
        return []  # infrastructure without owner
    return sorted(rng.sample(GEMEENTEN, rng.randint(1, 3)))


def cmdb_rows(count: int, seed: int = 11) -> Iterator[dict[str, str]]:
    """``count`` CI rows of the documented CSV export: 1 in 5 a server that applications
    run on, applications with 1-3 owners (1 in 10 shared by all seven)."""
    rng = random.Random(seed)
    servers: list[str] = []
    for index in range(count):
        record = f"ci-{index:07d}"
        if index % 5 == 0:
            servers.append(record)
            yield {
                "record_id": record,
                "name": f"SRV-{index:07d}",
                "ci_class": "cmdb_ci_linux_server",
                "gemeenten": "",
                "relations": "",
            }
            continue
        relations = f"runs_on:{rng.choice(servers)}" if servers else ""
        yield {
            "record_id": record,
            "name": f"Applicatie {index:07d}",
            "ci_class": "cmdb_ci_appl",
            "gemeenten": ";".join(_gemeenten(rng)),
            "fb_team": rng.choice(TEAMS) or "",
            "gemma_component": rng.choice(COMPONENTS) or "",
            "relations": relations,
        }


def write_cmdb_csv(path: Path, count: int, seed: int = 11) -> Path:
    """Write a CSV export of ``count`` CIs (the documented header) to ``path``."""
    columns = ["record_id", "name", "ci_class", "gemeenten", "fb_team", "gemma_component"]
    columns.append("relations")
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for row in cmdb_rows(count, seed):
            writer.writerow(row)
    return path


def cmdb_items(count: int, supplier: str = "kpn", seed: int = 11) -> list[ConfigurationItem]:
    """The CIs of :func:`cmdb_rows` as common-model objects."""
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    items = []
    for row in cmdb_rows(count, seed):
        relations = tuple(
            CiRelation(kind=k, target_record_id=t)
            for k, _, t in (p.partition(":") for p in row["relations"].split(";") if p)
        )
        items.append(
            ConfigurationItem(
                hub_id=hub_id(supplier, EntityKind.CI, row["record_id"]),
                supplier_ref=SupplierRef(
                    supplier=supplier, system=SupplierSystem.SERVICENOW, record_id=row["record_id"]
                ),
                name=row["name"],
                ci_class=row["ci_class"],
                gemeenten=tuple(g for g in row["gemeenten"].split(";") if g),
                fb_team=row.get("fb_team") or None,
                gemma_component=row.get("gemma_component") or None,
                relations=relations,
                updated_at=now,
                version=1,
            )
        )
    return items


def ci_events(items: list[ConfigurationItem], source: str) -> list[BenchRecord]:
    out = []
    for offset, ci in enumerate(items):
        value = encode_event(
            id=event_id(ci.supplier_ref.supplier, f"bench:{ci.hub_id}"),
            source=source,
            type=event_type(EntityKind.CI, "updated"),
            subject=ci.hub_id,
            time=ci.updated_at,
            dataschema=DATASCHEMA[EntityKind.CI],
            sequence=ci.version,
            supplierid=ci.supplier_ref.supplier,
            data=ci,
        )
        out.append(BenchRecord(CIS, 0, offset, ci.hub_id.encode(), value))
    return out


def incident_events(
    count: int,
    cmdb_size: int,
    source: str,
    *,
    updates: int = 1,
    supplier: str = "kpn",
    seed: int = 5,
) -> list[BenchRecord]:
    """``count`` normalised incident events on CIs of a ``cmdb_size`` CMDB, ``updates``
    events per ticket (status changes, comments), shuffled; 1 ticket in 20 names an unknown
    CI (triage, unless a keyword rule catches it)."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    out = []
    tickets = max(1, count // updates)
    for serial in range(tickets):
        record = uuid.UUID(int=rng.getrandbits(128)).hex
        ci_record = f"ci-{rng.randrange(cmdb_size):07d}" if rng.random() > 0.05 else "onbekend-ci"
        base = Incident(
            hub_id=hub_id(supplier, EntityKind.INCIDENT, record),
            supplier_ref=SupplierRef(
                supplier=supplier,
                system=SupplierSystem.SERVICENOW,
                record_id=record,
                number=f"INC{serial:07d}",
            ),
            title=rng.choice(TITLES),
            description=DETAILS,
            status=IncidentStatus.NEW,
            priority=rng.choice(list(Priority)),
            category=rng.choice(["software", "hardware", "Datacenter", None]),
            ci=CiRef(record_id=ci_record),
            updated_at=now,
            version=0,
        )
        for version in range(updates):
            updated = now + timedelta(minutes=version)
            incident = base.model_copy(
                update={
                    "version": version,
                    "updated_at": updated,
                    "status": IncidentStatus.IN_PROGRESS if version else IncidentStatus.NEW,
                }
            )
            value = encode_event(
                id=event_id(supplier, f"bench:{record}:{version}"),
                source=source,
                type=event_type(EntityKind.INCIDENT, "updated" if version else "created"),
                subject=incident.hub_id,
                time=updated,
                dataschema=DATASCHEMA[EntityKind.INCIDENT],
                sequence=version,
                supplierid=supplier,
                data=incident,
            )
            out.append(BenchRecord(INCIDENTS, 0, 0, incident.hub_id.encode(), value))
    rng.shuffle(out)
    return [BenchRecord(r.topic, i % 6, i, r.key, r.value) for i, r in enumerate(out[:count])]


def bench_route(
    config: SchakelConfig, events: int, cmdb_size: int, updates: int
) -> dict[str, float]:
    source = config.supplier("kpn").source_urn
    router = Router(config, CiTable(cmdb_items(cmdb_size)))
    records = incident_events(events, cmdb_size, source, updates=updates)
    started, cpu = time.perf_counter(), time.process_time()
    routed = 0
    messages = 0
    for start in range(0, len(records), 2000):  # the subscriber's max_records
        result = router.route_batch(records[start : start + 2000])
        routed += result.routed
        messages += len(result.messages)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    return {
        "cpu_seconds": cpu_seconds,
        "events_per_cpu_s": routed / cpu_seconds,
        "events": events,
        "cmdb_size": cmdb_size,
        "updates_per_ticket": updates,
        "routed_events_out": messages,
        "seconds": seconds,
        "events_per_s": routed / seconds,
    }


def bench_cmdb_load(config: SchakelConfig, count: int) -> dict[str, float]:
    records = ci_events(cmdb_items(count), config.supplier("kpn").source_urn)
    table = CiTable()

    async def no_targets() -> dict[int, int]:
        return {}

    feed = CmdbFeed(table, no_targets)
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(records), 5000):  # the feed subscriber's max_records
        feed.apply_batch(records[start : start + 5000])
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    return {
        "cis": len(table),
        "seconds": seconds,
        "cis_per_s": count / seconds,
        "cpu_seconds": cpu_seconds,
        "cis_per_cpu_s": count / cpu_seconds,
    }


async def bench_import(config: SchakelConfig, count: int) -> dict[str, float]:
    topic = f"bench.cis.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 6, 1)])
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "cmdb.csv"
            started = time.perf_counter()
            write_cmdb_csv(path, count)
            generate_s = time.perf_counter() - started
            file_mb = round(path.stat().st_size / 1e6, 1)
            report = await cmdb_import(
                path,
                supplier=config.supplier("kpn"),
                bootstrap=BOOTSTRAP,
                topic=topic,
                console=console,
            )
        return {
            "cis": report.published,
            "file_mb": file_mb,
            "generate_s": generate_s,
            "read_s": report.read_seconds,
            "publish_s": report.publish_seconds,
            "total_s": report.seconds,
            "cis_per_s": report.published / report.seconds,
        }
    finally:
        await admin.delete_topics([topic])
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--cmdb-size", type=int, default=10_000)
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--import", dest="do_import", action="store_true")
    parser.add_argument(
        "--write-cmdb", type=Path, help="only write a CSV export of --cis CIs to this file"
    )
    args = parser.parse_args()
    if args.write_cmdb:
        write_cmdb_csv(args.write_cmdb, args.cis)
        console.print(f"{args.cis:,} CIs written to {args.write_cmdb}")
        return
    configure_logging("console", "WARNING")
    config = load_config(REPO / "config" / "schakel.yaml")
    result: dict[str, object] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "python": platform.python_version(),
    }
    routes = []
    for updates in (1, 5):
        route = bench_route(config, args.events, args.cmdb_size, updates)
        routes.append(route)
        console.print(
            f"route ({updates} event(s) per ticket): {route['events']:,.0f} incidents in "
            f"{route['seconds']:.2f}s = {route['events_per_s']:,.0f} events/s "
            f"(CPU {route['cpu_seconds']:.2f}s = {route['events_per_cpu_s']:,.0f} events/CPU-s; "
            f"{route['routed_events_out']:,.0f} routed events out)"
        )
    load = bench_cmdb_load(config, args.cis)
    console.print(
        f"cmdb load: {load['cis']:,.0f} CIs in {load['seconds']:.2f}s = "
        f"{load['cis_per_s']:,.0f} CIs/s (CPU {load['cpu_seconds']:.2f}s)"
    )
    result |= {"route": routes, "cmdb_load": load}
    if args.do_import:
        imported = asyncio.run(bench_import(config, args.cis))
        console.print(
            f"cmdb import: {imported['cis']:,.0f} CIs ({imported['file_mb']} MB CSV) in "
            f"{imported['total_s']:.2f}s "
            f"(read {imported['read_s']:.2f}s, publish {imported['publish_s']:.2f}s) = "
            f"{imported['cis_per_s']:,.0f} CIs/s"
        )
        result["cmdb_import"] = imported
    with RESULTS.open("ab") as out:
        out.write(orjson.dumps(result) + b"\n")


if __name__ == "__main__":
    main()
