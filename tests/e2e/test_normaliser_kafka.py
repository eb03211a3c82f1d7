"""End to end on the real broker: a supplier (Kafka's own console producer) publishes native
ServiceNow payloads; the normaliser emits CloudEvents or dead letters, and commits only then."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import orjson
import pytest

from schemas import CloudEvent, Incident, IncidentStatus, Priority
from schemas.topics import DEADLETTER, INCIDENTS, inbound_topic
from services.demo.traffic import servicenow_incident
from services.messaging import DLQ_ERROR, DLQ_ERROR_CLASS, DLQ_OFFSET, DLQ_PARTITION, DLQ_TOPIC
from services.normaliser import GROUP_ID
from tests.conftest import KafkaBroker, config_with_suppliers, unique_supplier
from tests.e2e._io import collect, committed, end_offsets, running_hub

pytestmark = [pytest.mark.kafka]


async def test_servicenow_incidents_and_bad_input_end_to_end(kafka: KafkaBroker, example_config):
    supplier = unique_supplier(example_config, "kpn")
    config = config_with_suppliers(example_config, supplier)
    topic = inbound_topic(supplier.id)
    rng = random.Random(42)
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    good = []
    for serial in range(3):
        _, key, value = servicenow_incident(rng, serial, now)
        good.append((key.decode(), value))
    hostile = orjson.loads(good[0][1])
    hostile.update(
        sys_id="f" * 32,
        number="INC0666666",
        short_description="<script>alert(1)</script>\u202e\u0000 ' OR 1=1 --",
        description="BSN 111222333 van burger; zie ook 123.45.6782",
    )
    bad = [
        ("INC-trunc", b'{"sys_id": "abc", "state": '),  # malformed JSON
        ("INC-nosys", orjson.dumps({"number": "INC0000001", "sys_class_name": "incident"})),
        ("INC-list", b"[1, 2, 3]"),
    ]

    async with running_hub(kafka.bootstrap, config, ["normaliser"]):
        incidents_from = await end_offsets(kafka.bootstrap, INCIDENTS)
        dead_from = await end_offsets(kafka.bootstrap, DEADLETTER)
        kafka.console_produce(topic, [*good, ("INC0666666", orjson.dumps(hostile)), *bad])

        events = await collect(
            kafka.bootstrap,
            INCIDENTS,
            incidents_from,
            lambda r: orjson.loads(r.value)["supplierid"] == supplier.id,
            count=4,
        )
        dead = await collect(
            kafka.bootstrap,
            DEADLETTER,
            dead_from,
            lambda r: dict(r.headers).get(DLQ_TOPIC) == topic.encode(),
            count=3,
        )
        inbound_end = await end_offsets(kafka.bootstrap, topic)
        offsets: dict[int, int] = {}
        for _ in range(50):  # the group commits right after the acks of each batch
            offsets = await committed(kafka.bootstrap, GROUP_ID, topic)
            if offsets == inbound_end:
                break
            await asyncio.sleep(0.2)
        assert offsets == inbound_end, "offsets are committed once the results are acknowledged"
        # where each record sits on the supplier's own topic (unique to this test)
        inbound = await collect(kafka.bootstrap, topic, {}, lambda r: True, count=7)
    position = {r.value: (r.partition, r.offset) for r in inbound}

    assert len(events) == 4
    numbers = set()
    for record in events:
        event = CloudEvent[Incident].model_validate_json(record.value)
        assert record.key == event.subject.encode() == event.data.hub_id.encode()
        assert event.source == supplier.source_urn
        assert event.type in ("nl.itsm.incident.created.v1", "nl.itsm.incident.updated.v1")
        assert isinstance(event.data.status, IncidentStatus)
        assert isinstance(event.data.priority, Priority)
        numbers.add(event.data.supplier_ref.number)
        if event.data.supplier_ref.number == "INC0666666":
            assert "111222333" not in event.data.description  # BSN removed (11-proef)
            assert "123.45.6782" not in event.data.description
            assert event.data.title.startswith("<script>")  # text kept as text, not executed
    assert numbers == {orjson.loads(v)["number"] for _, v in good} | {"INC0666666"}

    assert len(dead) == 3
    originals = {v for _, v in bad}
    for record in dead:
        headers = dict(record.headers)
        assert record.value in originals, "a dead letter carries the original bytes unchanged"
        assert headers[DLQ_ERROR]
        assert headers[DLQ_ERROR_CLASS] in {b"MalformedPayload", b"MissingField"}
        partition, offset = position[record.value]
        assert headers[DLQ_PARTITION] == str(partition).encode()
        assert headers[DLQ_OFFSET] == str(offset).encode(), "the offset of the source record"
