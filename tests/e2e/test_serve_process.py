"""`schakel serve normaliser` as its own process, the way it runs in production."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import yaml

from schemas.topics import INCIDENTS, inbound_topic
from services.bootstrap import specs_for
from services.config import SchakelConfig
from services.demo.traffic import servicenow_incident
from services.kafka import ensure_topics
from tests.conftest import KafkaBroker, config_with_suppliers, unique_supplier
from tests.e2e._io import collect, end_offsets

pytestmark = [pytest.mark.kafka]


def _write(config: SchakelConfig, path: Path) -> None:
    document = config.model_dump(mode="json")
    for supplier in document["suppliers"]:
        if supplier.get("mapping"):
            supplier["mapping"] = os.path.abspath(config.mapping_path(supplier["id"]) or "")
    path.write_text(yaml.safe_dump(document, allow_unicode=True))


async def test_serve_normaliser_process_normalises_and_stops_cleanly(
    kafka: KafkaBroker, example_config: SchakelConfig, tmp_path: Path
) -> None:
    supplier = unique_supplier(example_config, "kpn")
    config = config_with_suppliers(example_config, supplier)
    _write(config, tmp_path / "schakel.yaml")
    await ensure_topics(kafka.bootstrap, specs_for(config))
    since = await end_offsets(kafka.bootstrap, INCIDENTS)
    _, key, value = servicenow_incident(random.Random(9), 9, datetime(2026, 3, 1, tzinfo=UTC))
    kafka.console_produce(inbound_topic(supplier.id), [(key.decode(), value)])
    env = {
        **os.environ,
        "SCHAKEL_CONFIG": str(tmp_path / "schakel.yaml"),
        "SCHAKEL_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "SCHAKEL_GROUP_SUFFIX": f"-{supplier.id}",
        "SCHAKEL_LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "schakel"),
        "serve",
        "normaliser",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        found = await collect(
            kafka.bootstrap,
            INCIDENTS,
            since,
            lambda r: orjson.loads(r.value)["supplierid"] == supplier.id,
            count=1,
            timeout_s=90,
        )
    finally:
        process.terminate()
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert len(found) == 1, output.decode(errors="replace")[-3000:]
    assert process.returncode in (0, -15), output.decode(errors="replace")[-3000:]
    lines = [orjson.loads(line) for line in output.splitlines() if line.strip()]  # all JSON
    assert any(line.get("event") == "services starting" for line in lines)
    started = [line for line in lines if "FastStream app started" in line.get("event", "")]
    assert started and started[0]["level"] == "info"  # the framework's lines are JSON too
