"""One end-to-end test per supplier system on the real broker: Kafka's own console producer
plays the supplier and publishes native payloads (taken from the contract fixtures), an
independent consumer checks schakel.incidents.v1, schakel.changes.v1 and schakel.cis.v1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas import Change, CloudEvent, ConfigurationItem, Incident, SupplierSystem
from schemas.topics import CHANGES, CIS, INCIDENTS, inbound_topic
from services.config import SchakelConfig
from tests.conftest import KafkaBroker, config_with_suppliers, unique_supplier
from tests.contract._support import SUPPLIER_OF, fixture_files, load_fixture
from tests.e2e._io import collect, end_offsets, running_hub

pytestmark = [pytest.mark.kafka]

TOPIC_OF = {"incident": INCIDENTS, "change": CHANGES, "ci": CIS}
MODEL_OF = {"incident": Incident, "change": Change, "ci": ConfigurationItem}


def _cases(system: SupplierSystem) -> list[tuple[Path, dict[str, Any]]]:
    """Per entity, up to two header-less fixtures that emit (no echo), distinct tickets."""
    chosen: list[tuple[Path, dict[str, Any]]] = []
    seen_records: set[str] = set()
    per_entity: dict[str, int] = {}
    for path in fixture_files(system.value):
        _, spec = load_fixture(path)
        entity = path.parent.name
        expected = spec.get("expected") or []
        if spec.get("headers") or len(expected) != 1 or "payload" not in spec:
            continue
        data = expected[0]["entity"]
        if data["origin"]["by_schakel"] or data["supplier_ref"]["record_id"] in seen_records:
            continue
        if per_entity.get(entity, 0) >= 2:
            continue
        per_entity[entity] = per_entity.get(entity, 0) + 1
        seen_records.add(data["supplier_ref"]["record_id"])
        chosen.append((path, spec))
    return chosen


@pytest.mark.parametrize("system", list(SupplierSystem), ids=[s.value for s in SupplierSystem])
async def test_supplier_system_end_to_end(
    kafka: KafkaBroker, example_config: SchakelConfig, system: SupplierSystem
) -> None:
    supplier = unique_supplier(example_config, SUPPLIER_OF[system])
    config = config_with_suppliers(example_config, supplier)
    cases = _cases(system)
    assert cases, f"no usable fixtures for {system}"
    async with running_hub(kafka.bootstrap, config, ["normaliser"]):
        since = {t: await end_offsets(kafka.bootstrap, t) for t in TOPIC_OF.values()}
        lines = [(f"k{i}", orjson.dumps(spec["payload"])) for i, (_, spec) in enumerate(cases)]
        kafka.console_produce(inbound_topic(supplier.id), lines)
        wanted: dict[str, list[dict[str, Any]]] = {}
        for path, spec in cases:
            wanted.setdefault(path.parent.name, []).append(spec["expected"][0]["entity"])
        for entity, expected in wanted.items():
            found = await collect(
                kafka.bootstrap,
                TOPIC_OF[entity],
                since[TOPIC_OF[entity]],
                lambda r: orjson.loads(r.value)["supplierid"] == supplier.id,
                count=len(expected),
            )
            events = [CloudEvent[MODEL_OF[entity]].model_validate_json(r.value) for r in found]
            assert len(events) == len(expected), entity
            for record, event in zip(found, events, strict=True):
                assert record.key == event.subject.encode()
                assert event.source == supplier.source_urn
            # the fixture's supplier is the example one; compare what does not depend on the id
            got = {
                (
                    e.data.supplier_ref.record_id,
                    e.data.title if hasattr(e.data, "title") else e.data.name,
                )
                for e in events
            }
            want = {
                (x["supplier_ref"]["record_id"], x.get("title", x.get("name"))) for x in expected
            }
            assert got == want, entity
