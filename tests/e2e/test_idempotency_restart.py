"""A supplier redelivers an event after the normaliser restarted: emitted once, because the
new process rebuilds its version gate from the tail of the normalised topics."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import orjson
import pytest

from schemas.topics import INCIDENTS, inbound_topic
from services.config import SchakelConfig
from services.demo.traffic import servicenow_incident
from tests.conftest import KafkaBroker, config_with_suppliers, unique_supplier
from tests.e2e._io import collect, end_offsets, running_hub

pytestmark = [pytest.mark.kafka]


async def test_redelivery_after_restart_is_emitted_once(
    kafka: KafkaBroker, example_config: SchakelConfig
) -> None:
    supplier = unique_supplier(example_config, "kpn")
    config = config_with_suppliers(example_config, supplier)
    topic = inbound_topic(supplier.id)
    _, key, value = servicenow_incident(random.Random(4), 4, datetime(2026, 5, 1, tzinfo=UTC))
    newer = orjson.loads(value)
    newer.update(
        sys_mod_count=str(int(newer["sys_mod_count"]) + 1), sys_updated_on="2026-05-01 10:00:00"
    )

    def mine(record: object) -> bool:
        return bool(orjson.loads(record.value)["supplierid"] == supplier.id)  # type: ignore[attr-defined]

    async with running_hub(kafka.bootstrap, config, ["normaliser"]):
        since = await end_offsets(kafka.bootstrap, INCIDENTS)
        kafka.console_produce(topic, [(key.decode(), value)])
        first = await collect(kafka.bootstrap, INCIDENTS, since, mine, count=1)
    assert len(first) == 1

    async with running_hub(kafka.bootstrap, config, ["normaliser"]):  # a new process's state
        since = await end_offsets(kafka.bootstrap, INCIDENTS)
        kafka.console_produce(topic, [(key.decode(), value), (key.decode(), orjson.dumps(newer))])
        after = await collect(kafka.bootstrap, INCIDENTS, since, mine, count=2, settle_s=3)
    versions = [orjson.loads(r.value)["data"]["version"] for r in after]
    assert versions == [int(newer["sys_mod_count"])], "the redelivery is not emitted again"
