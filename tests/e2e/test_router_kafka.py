"""End to end on the real broker: a CMDB imported onto schakel.cis.v1, native ServiceNow
incidents from a supplier, the normaliser and the router in one app; the gemeente topics and
the triage topic hold exactly the routed events they should, decisions are in the store and
the router commits once its results are acknowledged.

The topics are shared with other tests and benchmarks, so everything here is filtered by this
test's own supplier (its own inbound topic, hub ids and CI ids); the router's consumer group is
this test's own, started at the current end of the ticket topics.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas import CloudEvent, EntityKind, Incident, RoutedTicket, hub_id
from schemas.topics import CHANGES, INCIDENTS, TRIAGE, gemeente_topic, inbound_topic
from services.bootstrap import specs_for
from services.cmdb import cmdb_import
from services.config import SchakelConfig, Settings, SupplierConfig
from services.demo.traffic import servicenow_incident
from services.kafka import ensure_topics
from services.router import GROUP_ID, RouterService, decision_history
from services.topics_io import topic_partitions
from tests.conftest import KafkaBroker, config_with_suppliers, unique_supplier
from tests.e2e._io import Record, collect, committed, end_offsets, running_hub, wait_until
from tests.router_kit import DRECHTSTEDEN

pytestmark = [pytest.mark.kafka]


async def start_at_end(bootstrap: str, group: str, topics: list[str]) -> None:
    """Commit the current end offsets for a new group: it starts from now, not from the
    history other tests left on the shared topics."""
    partitions = [tp for topic in topics for tp in await topic_partitions(bootstrap, topic)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


@asynccontextmanager
async def running_router(
    bootstrap: str, config: SchakelConfig, store_url: str, suffix: str
) -> AsyncIterator[RouterService]:
    """The normaliser and the router in one app, built by the composition root (with the
    router's own consumer group, started at the end of the shared ticket topics)."""
    settings = Settings(kafka_bootstrap=bootstrap, store_url=store_url, group_suffix=suffix)
    async with running_hub(bootstrap, config, ["normaliser", "router"], settings=settings) as hub:
        service = hub.services["router"]
        assert isinstance(service, RouterService)
        yield service


def native_incident(
    supplier: SupplierConfig, serial: int, *, ci_record: str, title: str
) -> tuple[bytes, bytes]:
    """A ServiceNow incident webhook on ``ci_record`` with this title."""
    _, _, value = servicenow_incident(random.Random(serial), serial, datetime.now(UTC))
    record = orjson.loads(value)
    record.update(
        sys_id=uuid.uuid4().hex,
        number=f"INC{9_000_000 + serial:07d}",
        short_description=title,
        description="Gemeld door de servicedesk.",
        category="software",
        impact="2",
        urgency="2",
        cmdb_ci={"value": ci_record, "link": f"https://x.example/cmdb_ci/{ci_record}"},
    )
    return record["number"].encode(), orjson.dumps(record)


def write_cmdb(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_bytes(orjson.dumps(rows))
    return path


async def test_cmdb_rules_and_triage_end_to_end(
    kafka: KafkaBroker, example_config: SchakelConfig, tmp_path: Path
) -> None:
    supplier = unique_supplier(example_config, "kpn")
    config = config_with_suppliers(example_config, supplier)
    suffix = f"-{supplier.id}"
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'schakel.db'}"
    await ensure_topics(kafka.bootstrap, specs_for(config))
    await start_at_end(kafka.bootstrap, GROUP_ID + suffix, [INCIDENTS, CHANGES])

    # the CMDB, imported before the router starts: it must be loaded before routing
    shared, single, live = "ci-gedeeld", "ci-hardinxveld", "ci-papendrecht"
    report = await cmdb_import(
        write_cmdb(
            tmp_path / "cmdb.json",
            [
                {
                    "record_id": shared,
                    "name": f"Gedeeld zaaksysteem {supplier.id}",
                    "gemeenten": list(DRECHTSTEDEN),
                    "gemma_component": "Zaakregistratiecomponent",
                },
                {
                    "record_id": single,
                    "name": f"Burgerzaken {supplier.id}",
                    "gemeenten": ["GM0523"],
                    "gemma_component": "Burgerzakencomponent",
                },
            ],
        ),
        supplier=supplier,
        bootstrap=kafka.bootstrap,
    )
    assert report.published == 2

    topics = [*(gemeente_topic(c) for c in DRECHTSTEDEN), TRIAGE]
    since = {t: await end_offsets(kafka.bootstrap, t) for t in [*topics, INCIDENTS]}
    tickets = {
        "shared": native_incident(supplier, 1, ci_record=shared, title="Zaken openen traag"),
        "single": native_incident(supplier, 2, ci_record=single, title="Reisdocument fout"),
        "rule": native_incident(
            supplier, 3, ci_record="niet-in-cmdb", title="WOZ-beschikking niet verstuurd"
        ),
        "miss": native_incident(supplier, 4, ci_record="niet-in-cmdb", title="Scherm bevriest"),
        "live": native_incident(supplier, 5, ci_record=live, title="Koppeling hapert"),
    }
    hubs = {
        name: hub_id(supplier.id, EntityKind.INCIDENT, orjson.loads(value)["sys_id"])
        for name, (_, value) in tickets.items()
    }
    expected: dict[str, set[str]] = {t: set() for t in topics}
    for code in DRECHTSTEDEN:
        expected[gemeente_topic(code)].add(hubs["shared"])
    expected[gemeente_topic("GM0523")].add(hubs["single"])
    expected[gemeente_topic("GM0505")].add(hubs["rule"])
    expected[gemeente_topic("GM0590")].add(hubs["live"])
    expected[TRIAGE].add(hubs["miss"])
    ours = set(hubs.values())

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()
    try:
        async with running_router(kafka.bootstrap, config, store_url, suffix) as service:
            for name in ("shared", "single", "rule", "miss"):
                key, value = tickets[name]
                await producer.send_and_wait(inbound_topic(supplier.id), value, key=key)
            # a CI that arrives while the router runs: kept live by the same consumer
            await cmdb_import(
                write_cmdb(
                    tmp_path / "live.json",
                    [{"record_id": live, "name": "Live", "gemeenten": ["GM0590"]}],
                ),
                supplier=supplier,
                bootstrap=kafka.bootstrap,
            )
            live_hub = hub_id(supplier.id, EntityKind.CI, live)
            assert await wait_until(lambda: live_hub in service.router.cmdb, 10.0), (
                "the CI imported while the router runs reaches its table"
            )
            key, value = tickets["live"]
            await producer.send_and_wait(inbound_topic(supplier.id), value, key=key)

            found = await asyncio.gather(
                *(
                    collect(
                        kafka.bootstrap,
                        topic,
                        since[topic],
                        lambda r: r.key is not None and r.key.decode() in ours,
                        count=len(expected[topic]),
                        timeout_s=60,
                        settle_s=1.5,
                    )
                    for topic in topics
                )
            )
            normalised: list[Record] = await collect(
                kafka.bootstrap,
                INCIDENTS,
                since[INCIDENTS],
                lambda r: r.key is not None and r.key.decode() in ours,
                count=len(ours),
            )
            wanted = {}
            for record in normalised:
                tp = record.partition
                wanted[tp] = max(wanted.get(tp, 0), record.offset + 1)
            offsets: dict[int, int] = {}
            for _ in range(50):  # the router commits after its results are acknowledged
                offsets = await committed(kafka.bootstrap, GROUP_ID + suffix, INCIDENTS)
                if all(offsets.get(p, 0) >= o for p, o in wanted.items()):
                    break
                await asyncio.sleep(0.2)
            assert all(offsets.get(p, 0) >= o for p, o in wanted.items()), (offsets, wanted)
            assert service.feed.loaded and len(service.router.cmdb) >= 3
    finally:
        await producer.stop()

    by_topic = dict(zip(topics, found, strict=True))
    for topic, records in by_topic.items():
        events = [CloudEvent[RoutedTicket].model_validate_json(r.value) for r in records]
        assert sorted(e.subject for e in events) == sorted(expected[topic]), topic
        for record, event in zip(records, events, strict=True):
            decision = event.data.decision
            assert record.key == event.subject.encode()
            assert event.type == "nl.itsm.incident.routed.v1"
            assert event.source == supplier.source_urn
            assert isinstance(event.data.ticket, Incident)
            if topic == TRIAGE:
                assert decision.basis == "triage"
                assert [(r.gemeente, r.team) for r in decision.recipients] == [
                    (None, "regie-triage")
                ]
                continue
            code = topic.split(".")[2]
            assert {r.gemeente for r in decision.recipients} == {code}
            if event.subject == hubs["rule"]:
                assert decision.rule_id == "belastingen"
                assert [r.team for r in decision.recipients] == ["fb-belastingen"]
            else:
                assert decision.basis == "ci-owner"
    shared_teams = {
        r.topic.split(".")[2]: CloudEvent[RoutedTicket]
        .model_validate_json(r.value)
        .data.decision.recipients[0]
        .team
        for t in topics[:-1]
        for r in by_topic[t]
        if r.key == hubs["shared"].encode()
    }
    assert shared_teams == {
        "GM0482": "fb-zaken",
        "GM0505": "fb-zaken",
        "GM0523": "fb-algemeen",
        "GM0531": "fb-zaken",
        "GM0590": "fb-zaken",
        "GM0610": "fb-algemeen",
        "GM0642": "fb-zaken",
    }
    single_team = CloudEvent[RoutedTicket].model_validate_json(
        next(
            r.value for r in by_topic[gemeente_topic("GM0523")] if r.key == hubs["single"].encode()
        )
    )
    assert [r.team for r in single_team.data.decision.recipients] == ["fb-algemeen"]

    from services.store import open_store

    engine = await open_store(store_url)
    try:
        history = await decision_history(engine, hubs["shared"])
    finally:
        await engine.dispose()
    assert sorted(h.destination for h in history) == sorted(DRECHTSTEDEN)
